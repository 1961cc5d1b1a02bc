"""A campaign's dry run, the pure part: when each contact would first be dialed (or why never),
and what the whole campaign would take (attempts, finish time, cost). No I/O here;
outbound.campaigns.preview reads the contacts and hands them in.

Each contact is judged by THE calling rules (outbound.compliance.rules.evaluate, with
recipient_zones) exactly as the dialer judges it: the organization's rules narrowed by the
campaign's, in every zone the recipient may be in (the campaign's zone only when neither the
contact's nor the number's is known), its caps counted from its frequency counter, its consent.
So the preview and the engine cannot disagree.
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable
from zoneinfo import ZoneInfo

from outbound.compliance.rules import Rules, Verdict, Zone, evaluate, iso, next_allowed_at, recipient_zones

from .policy import FINAL_CONTACT_STATUSES, IN_FLIGHT_STATUSES, RetryPolicy
from .settings import Campaign

UTC = timezone.utc
ASSUMED_CALL_S = 60  # how long an answered call is assumed to hold its slot (pacing by concurrency)
PACING_SLACK_S = 1.0  # the dispatcher spaces calls_per_minute slots over 61 s (outbound.campaigns.dispatch)
# Why a contact would never be dialed (the verdict's codes that waiting cannot cure, and the rest).
NEVER = ("already_final", "in_flight", "suppressed", "invalid_destination", "consent_missing", "zone_unknown",
         "no_common_window", "no_time_before_end")


@dataclass(frozen=True)
class Forecast:
    """One contact's first dial: ``first_dial_at`` (None: never, ``reason`` says why)."""

    contact: dict[str, Any]
    first_dial_at: datetime | None
    reason: str | None
    detail: str | None
    zones: tuple[Zone, ...] = ()
    waits: bool = False  # dialed later than now: ``wait_reasons`` say what holds it
    wait_reasons: tuple[str, ...] = ()
    attempts_left: int = 0

    def view(self) -> dict[str, Any]:
        contact = self.contact
        body: dict[str, Any] = {"contact_id": contact.get("contact_id"), "phone_number": contact.get("phone_number"),
                                "external_id": contact.get("external_id"), "status": contact.get("status"),
                                "dialed": self.first_dial_at is not None}
        if self.first_dial_at is None:
            return {**body, "reason": self.reason, "detail": self.detail}
        when = self.first_dial_at
        return {**body, "now": not self.waits, "first_dial_at": iso(when),
                "local_times": [{"zone": z.name, "source": z.source,
                                 "local_time": when.astimezone(ZoneInfo(z.name)).isoformat(timespec="seconds")}
                                for z in self.zones],
                "waits_for": list(self.wait_reasons), "detail": self.detail,
                "attempts": {"min": 1, "max": self.attempts_left}}


@dataclass
class Judge:
    """Everything a contact's verdict depends on besides the contact: the campaign, the rules in
    force (the organization's narrowed by the campaign's), when the preview looks (``now``), the
    suppressed numbers and the recipients' counters' dials, and the destination check."""

    campaign: Campaign
    rules: Rules
    now: datetime
    destination_problem: Callable[[str], str | None]
    _verdicts: dict[Any, Verdict] = field(default_factory=dict)

    @property
    def base(self) -> datetime:
        return max(self.now, self.campaign.start_at or self.now)

    def verdict(self, zones: tuple[Zone, ...], dials: tuple[datetime, ...], consent: Any, at: datetime) -> Verdict:
        """evaluate(), remembered for contacts that share every input (most contacts do)."""
        key = (zones, dials, bool(consent), at)
        found = self._verdicts.get(key)
        if found is None:
            found = self._verdicts[key] = evaluate(self.rules, zones, dials, consent, at)
        return found

    def contact(self, contact: dict[str, Any], suppressed: bool, dials: tuple[datetime, ...]) -> Forecast:
        status = contact.get("status") or "pending"
        number = contact.get("phone_number") or ""
        never_dialed = not int(contact.get("attempts") or 0)
        # A contact suppressed or skipped when it was added says why below (the list, the rules).
        if status in FINAL_CONTACT_STATUSES and not (never_dialed and status in ("suppressed", "skipped")):
            return self._final(contact)
        if status in IN_FLIGHT_STATUSES:
            return Forecast(contact, None, "in_flight", "An attempt of this contact is in flight")
        if suppressed or status == "suppressed":
            return Forecast(contact, None, "suppressed", "On the organization's do-not-call list")
        problem = self.destination_problem(number)
        if problem:
            return Forecast(contact, None, "invalid_destination", problem)
        zones = recipient_zones(number, contact.get("timezone"), self.campaign.timezone)
        # A retry waits for its delay; a first attempt's due time was only the window's opening
        # when it was added: judged again from now (or start_at), the rules say what holds it.
        due = _instant(contact.get("next_attempt_at")) if not never_dialed else None
        at = max(self.base, due) if due else self.base
        verdict = self.verdict(zones, dials, contact.get("consent"), at)
        when = at if verdict.allowed else verdict.next_allowed_at
        if when is None:
            code = next((c for c in ("consent_missing", "zone_unknown", "no_common_window") if c in verdict.codes),
                        "no_common_window")
            return Forecast(contact, None, code, "; ".join(r.detail for r in verdict.reasons), zones)
        if status == "skipped":  # the rules would allow it now, but the contact has ended
            return self._final(contact)
        end_at = self.campaign.end_at
        if end_at is not None and when >= end_at:
            return Forecast(contact, None, "no_time_before_end", f"Its first allowed time, {iso(when)}, is after "
                                                                 f"the campaign's end_at {iso(end_at)}", zones)
        left = max(1, self.campaign.retry_policy.max_attempts - int(contact.get("attempts") or 0))
        waits = when > self.now
        reasons = tuple(verdict.codes) + (("start_at",) if self.campaign.start_at and self.campaign.start_at > self.now
                                          else ()) + (("retry_delay",) if due and due > self.base else ())
        detail = "; ".join(r.detail for r in verdict.reasons) or None
        return Forecast(contact, when, None, detail, zones, waits, reasons if waits else (), left)

    @staticmethod
    def _final(contact: dict[str, Any]) -> Forecast:
        reason = contact.get("final_reason")
        return Forecast(contact, None, "already_final",
                        f"The contact is already {contact.get('status')}" + (f": {reason}" if reason else ""))


def _instant(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else None
    except ValueError:
        return None


# --- the whole campaign ----------------------------------------------------------------------------------

@dataclass
class Summary:
    """Counts and ranges over every contact, built one contact at a time (``add``)."""

    contacts: int = 0
    complete: bool = True  # False: the count stopped early (see preview), the figures cover ``contacts``
    by_reason: dict[str, int] = field(default_factory=dict)
    dialable: list[tuple[datetime, int, tuple[Zone, ...]]] = field(default_factory=list)

    def add(self, forecast: Forecast) -> None:
        self.contacts += 1
        if forecast.first_dial_at is None:
            self.by_reason[forecast.reason or "unknown"] = self.by_reason.get(forecast.reason or "unknown", 0) + 1
            return
        key = "now" if not forecast.waits else "later"
        self.by_reason[key] = self.by_reason.get(key, 0) + 1
        self.dialable.append((forecast.first_dial_at, forecast.attempts_left, forecast.zones))

    def view(self, campaign: Campaign, rules: Rules, rate_cents: int, reserve_cents: int) -> dict[str, Any]:
        first = sorted(self.dialable, key=lambda d: d[0])
        min_attempts, max_attempts = len(first), sum(d[1] for d in first)
        spacing = pacing_spacing(campaign)
        window = rules.window_only()
        earliest = _paced_finish(first, spacing, window, campaign.retry_policy, retries=False)
        latest = _paced_finish(first, spacing, window, campaign.retry_policy, retries=True)
        return {
            "complete": self.complete, **({} if self.complete else {"note": (
                f"Only the first {self.contacts:,} contacts (in the contacts' order) could be judged within the "
                "API's 29 s: every figure below covers those")}),
            "contacts": self.contacts, "dialed": len(first), "not_dialed": self.contacts - len(first),
            "by_reason": dict(sorted(self.by_reason.items())),
            "first_dial_at": iso(first[0][0]) if first else None,
            "attempts": {"min": min_attempts, "max": max_attempts,
                         "assumes": "min: each contact dialed answers its first attempt; max: every attempt the "
                                    f"retry policy allows ({campaign.retry_policy.max_attempts} per contact, less "
                                    "those already made) is placed"},
            "finish": {"earliest": iso(earliest) if earliest else None, "latest": iso(latest) if latest else None,
                       "assumes": f"pacing of {campaign.pacing.calls_per_minute} calls per minute and "
                                  f"{campaign.pacing.max_concurrent_calls} at once, each call holding its slot "
                                  f"{ASSUMED_CALL_S} s; every dial inside the recipient's window; latest: every "
                                  "retry after its delay (moved into the window); caps not counted beyond today's"},
            "cost_cents": {"min": min_attempts * rate_cents, "max": max_attempts * reserve_cents,
                           "per_minute_rate_cents": rate_cents, "reserve_cents": reserve_cents,
                           "assumes": "min: each contact dialed answers its first attempt and talks under a minute "
                                      "(one started minute at the per-minute rate; unanswered attempts cost "
                                      "nothing); max: every allowed attempt is answered and charged its whole "
                                      "reserve (a call longer than its reserve covers costs more)"},
        }


def pacing_spacing(campaign: Campaign) -> float:
    """Seconds between dials: the calls-per-minute slots, or the concurrency's, whichever is slower."""
    per_minute = (60 + PACING_SLACK_S) / campaign.pacing.calls_per_minute
    return max(per_minute, ASSUMED_CALL_S / campaign.pacing.max_concurrent_calls)


def _paced_finish(first: list[tuple[datetime, int, tuple[Zone, ...]]], spacing: float, window: Rules,
                  policy: RetryPolicy, retries: bool) -> datetime | None:
    """When the last attempt would end: dials in due order, one per ``spacing`` seconds, each
    moved into its recipient's window if pacing pushed it out; with ``retries`` every contact's
    further attempts queued after the call and the policy's delay."""
    if not first:
        return None
    queue = [(at, i, 1) for i, (at, _, _) in enumerate(first)]  # already in due order: a heap
    cursor: datetime | None = None
    step, call = timedelta(seconds=spacing), timedelta(seconds=ASSUMED_CALL_S)
    last = first[0][0]
    openings: dict[tuple[tuple[Zone, ...], datetime], datetime | None] = {}

    def opens_from(zones: tuple[Zone, ...], at: datetime) -> datetime | None:
        """next_allowed_at, remembered per zones and UTC minute: windows open and close on whole
        minutes in every zone, so within one minute an instant is allowed exactly when the
        minute's first instant is (and a closed minute opens at the same later instant)."""
        minute = at.replace(second=0, microsecond=0)
        key = (zones, minute)
        if key not in openings:
            openings[key] = next_allowed_at(window, zones, minute)
        found = openings[key]
        return None if found is None else max(found, at) if found < minute + timedelta(minutes=1) else found

    while queue:
        due, index, attempt = heapq.heappop(queue)
        slot = due if cursor is None else max(due, cursor + step)
        if slot > due:
            opens = opens_from(first[index][2], slot)
            if opens is None:
                continue
            if opens > slot:
                heapq.heappush(queue, (opens, index, attempt))
                continue
        cursor = slot
        last = max(last, slot + call)
        if retries and attempt < first[index][1]:
            heapq.heappush(queue, (slot + call + policy.delay_after(attempt), index, attempt + 1))
    return last
