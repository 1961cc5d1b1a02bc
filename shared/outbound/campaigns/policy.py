"""A campaign's own rules, as pure functions: what happens after an attempt, and a contact's and
an attempt's ids. No I/O here; the dispatcher and the API apply them.

When a recipient may be called (the calling window in every zone they may be in, the legal
floor of 08:00-21:00 local, caps, consent) is decided in ONE place for every path that dials:
outbound.compliance.rules. A campaign's calling window and consent requirement are rules of
their own there (``Campaign.rules``), narrowing the organization's.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from outbound.compliance.rules import DAYS, LEGAL_END, LEGAL_START  # noqa: F401 - the campaign models' bounds

CONTACT_STATUSES = ("pending", "waiting_window", "dialing", "in_progress", "retry_scheduled", "completed", "busy",
                    "no_answer", "failed", "suppressed", "skipped", "invalid", "canceled", "unknown")
WAITING_STATUSES = ("pending", "waiting_window", "retry_scheduled")  # a due entry says when
IN_FLIGHT_STATUSES = ("dialing", "in_progress")  # a slot is held
# skipped: the calling rules can never allow the contact (consent required and missing, no common window)
FINAL_CONTACT_STATUSES = ("completed", "busy", "no_answer", "failed", "suppressed", "skipped", "invalid", "canceled",
                          "unknown")
RETRYABLE = ("busy", "no-answer", "failed")  # retry_on's default
# "unknown": the provider may have rung the person (its answer was lost and its records never
# said otherwise): retried only by a campaign that asks for it.
RETRY_ON_CHOICES = (*RETRYABLE, "unknown")
# The call's final status -> the contact's final status when no retry follows.
CONTACT_STATUS_FOR_CALL = {"completed": "completed", "busy": "busy", "no-answer": "no_answer",
                           "failed": "failed", "canceled": "failed", "unknown": "unknown"}


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    delays_minutes: tuple[float, ...]
    retry_on: tuple[str, ...]

    def delay_after(self, attempt: int) -> timedelta:
        """The wait after attempt ``attempt`` (1-based); the last delay repeats."""
        if not self.delays_minutes:
            return timedelta(0)
        return timedelta(minutes=self.delays_minutes[min(attempt, len(self.delays_minutes)) - 1])


@dataclass(frozen=True)
class AttemptOutcome:
    """What follows an attempt's end: a retry at ``retry_at``, or the contact's final status."""

    final_status: str | None
    retry_at: datetime | None = None
    waits_for_window: bool = False


def after_call(call_status: str, attempt: int, policy: RetryPolicy, ended_at: datetime,
               opens: Callable[[datetime], datetime | None], dialing_allowed: bool = True,
               end_at: datetime | None = None) -> AttemptOutcome:
    """A completed call is final; busy / no-answer / failed (and unknown, only if the policy names
    it) retry while the policy allows it, at the delay's end moved into the recipient's window
    (``opens``: the earliest allowed instant from a given one, Campaign.next_window).
    ``dialing_allowed`` False (campaign canceled or ended) turns a would-be retry into ``canceled``."""
    final = CONTACT_STATUS_FOR_CALL.get(call_status, "failed")
    if call_status == "completed" or call_status not in policy.retry_on or attempt >= policy.max_attempts:
        return AttemptOutcome(final)
    if not dialing_allowed:
        return AttemptOutcome("canceled")
    wanted = ended_at + policy.delay_after(attempt)
    at = opens(wanted)
    if at is None or (end_at is not None and at >= end_at):
        return AttemptOutcome(final)  # no allowed time left for another attempt
    return AttemptOutcome(None, at, waits_for_window=at > wanted)


def contact_id_for(campaign_id: str, phone_number: str) -> str:
    """One contact per number per campaign: a second row with the same number is a duplicate."""
    return "ct_" + hashlib.sha256(f"{campaign_id}|{phone_number}".encode()).hexdigest()[:20]


def attempt_call_id(campaign_id: str, contact_id: str, attempt: int) -> str:
    """The call record id of one attempt: however often its dial message is delivered, the
    reserve transaction's conditional create lets it be placed once."""
    return "call_" + hashlib.sha256(f"campaign|{campaign_id}|{contact_id}|{attempt}".encode()).hexdigest()[:24]
