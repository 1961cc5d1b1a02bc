"""The calling rules applied to one dial, from what initiate has read anyway (the organization
item with its rules, the recipient's frequency counter), and the reserve that commits it.

``DialCheck`` is built by ``calls.initiate.prepare_call`` for every path; a campaign's dialer
narrows it with the campaign's own rules, the contact's zone and consent (``for_campaign``).
``reserve_checked`` judges the dial, then writes the reserve, the call record, the counter's
update and the evidence in ONE transaction. When the rules apply, the counter's update is
conditional on the counter judged: a concurrent dial that got there first makes it judge again
(the cap then holds under any concurrency); a refusal raises ``CallingRulesRefused`` before
anything is written.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

from outbound import metrics, store
from outbound.errors import ApiError, ServiceUnavailable

from . import evidence
from .organization_rules import OrganizationRules
from .rules import Rules, Verdict, evaluate, iso, not_evaluated, recipient_zones

UTC = timezone.utc
MAX_COUNTER_RACES = 25  # judged again at most this often when concurrent dials move the counter
RULES_OFF_NOTE = ("The organization's calling rules are off for direct, scheduled and EventBridge calls: "
                  "nothing was checked (the dial is counted)")


@dataclass(frozen=True)
class DialOrigin:
    """Who asked for the dial: ``via`` "api" (with the key's prefix), "schedule" or "eventbridge"
    (the schedule and fire), "campaign" (the campaign, contact and attempt)."""

    via: str = "api"
    api_key_prefix: str | None = None
    schedule_id: str | None = None
    fire_id: str | None = None
    campaign_id: str | None = None
    contact_id: str | None = None
    attempt: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass(frozen=True)
class DialCheck:
    organization_id: str
    from_number: str
    to_number: str
    origin: DialOrigin
    organization: OrganizationRules
    counter: dict[str, Any] | None  # the recipient's frequency counter, as read
    contact_zone: str | None = None  # the recipient's own zone (initiate's recipient_timezone, a contact's)
    consent: dict[str, Any] | None = None
    campaign_rules: Rules | None = None  # a campaign's own rules, narrowing the organization's
    fallback_zone: str | None = None  # a campaign's zone, for recipients of no known zone
    pre_dial: dict[str, Any] | None = None  # the organization's own pre-dial check's answer, when it has one

    @property
    def applies(self) -> bool:
        """Campaigns always obey the rules; other paths when the organization turned them on."""
        return self.origin.via == "campaign" or self.organization.enabled

    @property
    def rules(self) -> Rules:
        own = self.organization.rules
        return own.narrowed(self.campaign_rules) if self.campaign_rules else own

    def verdict(self, at: datetime) -> Verdict:
        dials = store.recent_dials(self.counter)
        if not self.applies:
            return not_evaluated(self.rules, dials, self.consent, at)
        zones = recipient_zones(self.to_number, self.contact_zone,
                                self.fallback_zone or self.organization.default_timezone)
        return evaluate(self.rules, zones, dials, self.consent, at)

    def for_campaign(self, campaign_rules: Rules, contact_zone: str | None, fallback_zone: str,
                     consent: dict[str, Any] | None) -> "DialCheck":
        return replace(self, campaign_rules=campaign_rules, contact_zone=contact_zone, fallback_zone=fallback_zone,
                       consent=consent)

    def evidence(self, call_id: str, verdict: Verdict, provider: str | None, refused: bool = False) -> dict[str, Any]:
        recorded_at = iso_ms(verdict.at)
        key = store.refusal_evidence_key(call_id, recorded_at) if refused else store.dial_evidence_key(call_id)
        return evidence.seal(evidence.build(
            "refusal" if refused else "dial", key, call_id, self.organization_id, recorded_at,
            self.origin.as_dict(), self.from_number, self.to_number, provider, self.applies, verdict,
            None if self.applies else RULES_OFF_NOTE, self.pre_dial))


class CallingRulesRefused(ApiError):
    """The calling rules refuse this dial now: 409 when waiting helps (window, cap: the answer
    says when the next allowed time opens), 422 when it cannot (consent missing, zone unknown)."""

    def __init__(self, check: DialCheck, verdict: Verdict, provider: str | None = None):
        self.status = 409 if verdict.waiting_helps else 422
        super().__init__(refusal_sentence(check.to_number, verdict), reasons=verdict.codes,
                         recipient_local_times=[{"zone": z.zone, "source": z.source, "local_time": z.local_time}
                                                for z in verdict.zones],
                         next_allowed_at=iso(verdict.next_allowed_at) if verdict.next_allowed_at else None)
        self.check, self.verdict, self.provider = check, verdict, provider

    def evidence(self, call_id: str) -> dict[str, Any]:
        """The refusal's evidence record (sealed), for a dial nobody is there to be told of."""
        return self.check.evidence(call_id, self.verdict, self.provider, refused=True)


def refusal_sentence(number: str, verdict: Verdict) -> str:
    """What was refused and why, the recipient's local time(s) now, and when the next allowed time
    opens, in UTC and in each of the recipient's zones."""
    why = "; ".join(r.detail for r in verdict.reasons)
    now = ", ".join(f"{z.local_time[11:16]} in {z.zone}" for z in verdict.zones)
    sentence = f"Calling rules refuse a call to {number} now{f' ({now})' if now else ''}: {why}."
    if verdict.next_allowed_at:
        local = ", ".join(f"{verdict.next_allowed_at.astimezone(ZoneInfo(z.zone)):%H:%M} in {z.zone}"
                          for z in verdict.zones)
        return sentence + f" The next allowed time is {iso(verdict.next_allowed_at)} ({local})."
    if "consent_missing" in verdict.codes:
        return sentence + " Give consent (type, obtained_at, source, proof_reference) with the call."
    if "zone_unknown" in verdict.codes:
        return sentence + " Give recipient_timezone, or set default_timezone in your calling rules."
    return sentence


def iso_ms(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def reserve_checked(check: DialCheck, record: dict[str, Any], reserve_cents: int) -> Verdict:
    """Judge the dial now, then reserve it with its counter update and evidence in one transaction
    (store.reserve_and_create_call; ReserveRefused and CallAlreadyExists pass through). Raises
    CallingRulesRefused when the rules apply and refuse."""
    for race in range(MAX_COUNTER_RACES):
        verdict = check.verdict(datetime.now(UTC))
        if not verdict.allowed:
            metrics.count(metrics.DIALS_REFUSED, record.get("provider"))
            raise CallingRulesRefused(check, verdict, record.get("provider"))
        record_evidence = check.evidence(record["call_id"], verdict, record.get("provider"))
        counter = store.counter_update(check.organization_id, check.to_number, record["call_id"], verdict.at,
                                       check.counter, conditional=check.applies)
        try:
            store.reserve_and_create_call(record, reserve_cents, [counter, store.evidence_put(record_evidence)])
            return verdict
        except store.DialCounterMoved as moved:
            if moved.current is not None:
                check = replace(check, counter=moved.current)
            else:  # a transaction conflict: give the other a moment, then judge with the item's next state
                time.sleep(0.01 * (race + 1))
    raise ServiceUnavailable("Too many concurrent calls to this number; retry the request.",
                             headers={"Retry-After": "1"})
