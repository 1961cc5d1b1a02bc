"""A campaign's rules, as pure functions: when a recipient may be called, and what happens after
an attempt. No I/O here; the dispatcher and the API apply them.

Calling window: ``days`` and ``start``-``end`` in the RECIPIENT's local time, always inside the
legal floor of 08:00-21:00 local that no campaign can widen. A recipient's zone is their own
``timezone`` if given, else their number's zone when phonenumbers knows exactly one, else the
campaign's ``timezone``.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

UTC = timezone.utc
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # datetime.weekday() order
LEGAL_START, LEGAL_END = time(8, 0), time(21, 0)

CONTACT_STATUSES = ("pending", "waiting_window", "dialing", "in_progress", "retry_scheduled", "completed", "busy",
                    "no_answer", "failed", "suppressed", "invalid", "canceled", "unknown")
WAITING_STATUSES = ("pending", "waiting_window", "retry_scheduled")  # a due entry says when
IN_FLIGHT_STATUSES = ("dialing", "in_progress")  # a slot is held
FINAL_CONTACT_STATUSES = ("completed", "busy", "no_answer", "failed", "suppressed", "invalid", "canceled", "unknown")
RETRYABLE = ("busy", "no-answer", "failed")  # retry_on's default
# "unknown": the provider may have rung the person (its answer was lost and its records never
# said otherwise): retried only by a campaign that asks for it.
RETRY_ON_CHOICES = (*RETRYABLE, "unknown")
# The call's final status -> the contact's final status when no retry follows.
CONTACT_STATUS_FOR_CALL = {"completed": "completed", "busy": "busy", "no-answer": "no_answer",
                           "failed": "failed", "canceled": "failed", "unknown": "unknown"}


@dataclass(frozen=True)
class CallingWindow:
    days: tuple[str, ...]
    start: time
    end: time

    @property
    def hours(self) -> tuple[time, time]:
        """The window actually used: never outside the legal floor."""
        return max(self.start, LEGAL_START), min(self.end, LEGAL_END)

    def allowed_on(self, day: datetime) -> bool:
        return DAYS[day.weekday()] in self.days


def _at(day: datetime, clock: time, tz: ZoneInfo) -> datetime:
    """``clock`` on ``day``'s date in ``tz``, as a UTC instant (a skipped local time maps to the
    instant just after the change; a repeated one to its first occurrence)."""
    return datetime.combine(day.date(), clock).replace(tzinfo=tz).astimezone(UTC)


def next_allowed(at: datetime, tz: ZoneInfo, window: CallingWindow) -> datetime | None:
    """The earliest instant at or after ``at`` when a call to someone in ``tz`` is inside the
    window; None if the window allows no time at all."""
    start, end = window.hours
    if start >= end or not window.days:
        return None
    local = at.astimezone(tz)
    for offset in range(8):
        day = local + timedelta(days=offset)
        if not window.allowed_on(day):
            continue
        opens, closes = _at(day, start, tz), _at(day, end, tz)
        candidate = max(at, opens)
        if candidate < closes:
            return candidate
    return None


def in_window(at: datetime, tz: ZoneInfo, window: CallingWindow) -> bool:
    return next_allowed(at, tz, window) == at


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


def after_call(call_status: str, attempt: int, policy: RetryPolicy, ended_at: datetime, tz: ZoneInfo,
               window: CallingWindow, dialing_allowed: bool = True, end_at: datetime | None = None) -> AttemptOutcome:
    """A completed call is final; busy / no-answer / failed (and unknown, only if the policy names
    it) retry while the policy allows it, at the delay's end moved into the recipient's window. ``dialing_allowed`` False (campaign
    canceled or ended) turns a would-be retry into ``canceled``."""
    final = CONTACT_STATUS_FOR_CALL.get(call_status, "failed")
    if call_status == "completed" or call_status not in policy.retry_on or attempt >= policy.max_attempts:
        return AttemptOutcome(final)
    if not dialing_allowed:
        return AttemptOutcome("canceled")
    wanted = ended_at + policy.delay_after(attempt)
    at = next_allowed(wanted, tz, window)
    if at is None or (end_at is not None and at >= end_at):
        return AttemptOutcome(final)  # no allowed time left for another attempt
    return AttemptOutcome(None, at, waits_for_window=at > wanted)


def recipient_zone(number: str, contact_timezone: str | None, campaign_timezone: str) -> str:
    """The contact's own zone, else the number's only zone, else the campaign's."""
    if contact_timezone:
        return contact_timezone
    import phonenumbers
    from phonenumbers import timezone as number_zones

    try:
        zones = number_zones.time_zones_for_number(phonenumbers.parse(number, None))
    except phonenumbers.NumberParseException:
        zones = ()
    if len(zones) == 1 and zones[0] != "Etc/Unknown":
        return zones[0]
    return campaign_timezone


def contact_id_for(campaign_id: str, phone_number: str) -> str:
    """One contact per number per campaign: a second row with the same number is a duplicate."""
    return "ct_" + hashlib.sha256(f"{campaign_id}|{phone_number}".encode()).hexdigest()[:20]


def attempt_call_id(campaign_id: str, contact_id: str, attempt: int) -> str:
    """The call record id of one attempt: however often its dial message is delivered, the
    reserve transaction's conditional create lets it be placed once."""
    return "call_" + hashlib.sha256(f"campaign|{campaign_id}|{contact_id}|{attempt}".encode()).hexdigest()[:24]
