"""Reconcile what calls were charged with the providers' own records of them, as telephone
billing does with call detail records.

Why: an organization holds its own provider credentials, so it can sign status webhooks itself
(a ``completed`` with ``CallDuration=0`` after ``in-progress`` would be charged 0, and the
provider's real event then be a duplicate); webhooks can also be lost or altered. The provider's
record of the call, read with the organization's credentials (outbound.provider_records), is what
the provider bills the organization for: it is what we charge.

Per call (one provider read; none for SIP, whose bridge is the organization's own and trusted):
1. Find the provider's record: by the call's provider id, or, for a call whose id we never
   learned (a create-call that timed out, a crash before our write), among the provider's calls
   between the same numbers placed when ours was, unless another call of ours has it. Not
   exactly one candidate: nothing is guessed.
2. No record, or the provider does not report the call as finished: the call is flagged
   (``provider_flag``), never charged from a guess; a call still open moves forward to what the
   provider reports (which binds the provider's id). It is checked again on later runs.
3. Finished, and the call was never settled (its final webhook lost, refused as unproven, or the
   reserve sweeper gave it up): it is settled from the record, exactly as a final webhook would
   (usecases.status_webhook), once.
4. Finished and settled: the charge the record implies (its answered seconds, per started minute
   at the call's rate) is compared with ``charged_cents``; a difference becomes one ledger entry
   (``extra_charge`` or ``refund``) in the same transaction as the balance change and the call's
   corrected ``charged_cents``, ``status`` and ``duration_seconds`` (store.adjust_call_charge: a
   re-run writes nothing twice).

Two ways in: ``reconcile_organization`` (``outbound admin reconcile-provider ORG_ID [--since]``:
the organization's calls created since then, from the ByOrganization index) and ``reconcile_due``
(ProviderReconcileFunction, hourly: every organization's calls due in the sparse ByProviderCheck
index, i.e. placed through a provider and not yet matched, once no call placed then can still be
running). Metrics: ``ProviderAdjustments`` (calls whose money a check changed: adjusted or settled)
and ``ProviderCallsFlagged``.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

from outbound import metrics, provider_records, store
from outbound.calls.lifecycle import StatusEvent, charge_cents
from outbound.calls.reserve_sweeper import sweep_after_seconds
from outbound.config import settings
from outbound.credentials import CredentialsMissing, credentials_for
from outbound.phone import mask
from outbound.provider_callbacks.apply import apply_event
from outbound.store.keys import CHECKED_PROVIDERS

logger = Logger(child=True)

SEARCH_BEFORE_S = 60  # the provider's clock and ours may differ a little
SEARCH_AFTER_S = 120  # the create-call waits up to the provider timeout; the provider dials at once
KEEP_CHECKING_S = 3 * 24 * 3600  # a flagged call is checked again for this long after its creation
MAX_PER_RUN = 200
OPEN_STATUSES = ("queued", "ringing", "in-progress")
OUTCOMES = ("matched", "corrected", "adjusted", "settled", "flagged", "not checked", "not placed", "trusted")


@dataclass
class CallCheck:
    """What comparing one call with its provider's record found."""

    call_id: str
    provider: str
    outcome: str  # one of OUTCOMES
    detail: str
    charged_cents: int | None = None  # what the call had been charged (None: never settled)
    provider_cents: int | None = None  # what the provider's record says it costs
    provider_status: str | None = None  # the provider's own word
    provider_duration_seconds: int | None = None

    @property
    def adjustment_cents(self) -> int:
        if self.outcome not in ("adjusted", "settled") or self.provider_cents is None:
            return 0
        return self.provider_cents - (self.charged_cents or 0)


@dataclass
class ProviderReconciliation:
    checks: list[CallCheck] = field(default_factory=list)
    organization_id: str | None = None
    since: str | None = None
    unproven_events: int = 0  # signed events not proven to be a call's, received since ``since``

    def counts(self) -> dict[str, int]:
        found = Counter(check.outcome for check in self.checks)
        return {outcome: found.get(outcome, 0) for outcome in OUTCOMES}

    @property
    def adjustment_cents(self) -> int:
        return sum(check.adjustment_cents for check in self.checks)

    def needs_attention(self) -> bool:
        counts = self.counts()
        return bool(counts["flagged"] or counts["not checked"])

    def as_dict(self) -> dict[str, Any]:
        return {"organization_id": self.organization_id, "since": self.since, "checked": len(self.checks),
                **{outcome.replace(" ", "_"): n for outcome, n in self.counts().items()},
                "adjustment_cents": self.adjustment_cents, "unproven_events": self.unproven_events,
                "calls": [asdict(check) | {"adjustment_cents": check.adjustment_cents} for check in self.checks]}


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def reconcile_organization(organization_id: str, since: str, now: datetime | None = None
                           ) -> ProviderReconciliation | None:
    """Every call of the organization created at or after ``since`` (ISO). None: no such organization."""
    if store.get_item(store.organization_key(organization_id)) is None:
        return None
    now = now or datetime.now(timezone.utc)
    result = ProviderReconciliation(organization_id=organization_id, since=since)
    for call_id in store.calls_created_since(organization_id, since):
        check = check_call(call_id, now)
        if check is not None:
            result.checks.append(check)
    result.unproven_events = len(store.list_unproven_events(organization_id, since))
    return result


def reconcile_due(now: datetime | None = None, limit: int = MAX_PER_RUN) -> ProviderReconciliation:
    """Calls of any organization due in ByProviderCheck: created (or last flagged) before the
    longest a placed call can run (the reserve sweeper's horizon)."""
    now = now or datetime.now(timezone.utc)
    cutoff = iso(now - timedelta(seconds=sweep_after_seconds()))
    result = ProviderReconciliation()
    for call_id in store.calls_due_for_provider_check(cutoff, limit):
        check = check_call(call_id, now)
        if check is not None:
            result.checks.append(check)
    return result


def check_call(call_id: str, now: datetime) -> CallCheck | None:
    """Compare one call with its provider's record, and act on the difference."""
    call = store.get_item(store.call_key(call_id))  # strongly consistent: the index may lag
    if call is None:
        return None
    provider = call.get("provider") or ""
    if provider not in CHECKED_PROVIDERS:
        return CallCheck(call_id, provider, "trusted",
                         "the SIP bridge is the organization's own: its signed events are its records")
    if call.get("status") == "failed" and not call.get("call_sid") and not call.get("abandoned_at"):
        store.record_provider_check(call)
        return CallCheck(call_id, provider, "not placed", "the provider refused it: there is no call to compare")
    try:
        record, doubt = locate(call, credentials_for(call["organization_id"], provider))
        return _act(call, record, doubt, now)
    except (CredentialsMissing, provider_records.RecordsUnavailable) as exc:
        return CallCheck(call_id, provider, "not checked", str(exc))
    except ClientError as exc:  # throttled or conflicted on our side: the next run checks again
        return CallCheck(call_id, provider, "not checked", f"DynamoDB: {exc.response.get('Error', {}).get('Code')}")


def locate(call: dict[str, Any], credentials: dict[str, Any]) -> tuple[provider_records.ProviderRecord | None, str | None]:
    """(the provider's record of the call, None) or (None, why there is none to go by)."""
    provider, sid = call["provider"], call.get("call_sid")
    if sid:
        record = provider_records.fetch(provider, credentials, sid)
        return record, None if record else f"{provider} has no record of call {sid}"
    candidates = candidate_records(call, credentials)
    if len(candidates) == 1:
        return candidates[0], None
    if not candidates:
        return None, (f"{provider} reports no finished call from {mask(call['from_phone_number'])} to "
                      f"{mask(call['to_phone_number'])} placed when this one was")
    return None, f"{len(candidates)} calls at {provider} could be this one: none is taken on a guess"


def candidate_records(call: dict[str, Any], credentials: dict[str, Any]) -> list[provider_records.ProviderRecord]:
    """The provider's calls that may be this call, whose provider id we never learned: between the
    same numbers, placed when ours was, and no other call's of ours."""
    created = _parse(call["created_at"])
    found = provider_records.search(call["provider"], credentials, call["to_phone_number"], call["from_phone_number"],
                                    iso(created - timedelta(seconds=SEARCH_BEFORE_S)),
                                    iso(created + timedelta(seconds=SEARCH_AFTER_S)))
    return [r for r in found
            if all(other["call_id"] == call["call_id"] for other in store.find_calls_by_sid(r.provider_call_id))]


def settle_from_record(call: dict[str, Any], record: provider_records.ProviderRecord, now: datetime) -> CallCheck:
    """A call the provider reports finished, acted on as the reconciliation does (settled once if
    it never was, else its charge compared): the campaign engine's way out of an unknown outcome."""
    return _act(call, record, None, now)


def _rate(call: dict[str, Any]) -> int:
    rate = call.get("per_minute_rate_cents")
    if rate is None:
        rate = (store.get_item(store.organization_key(call["organization_id"])) or {}).get("per_minute_rate_cents")
    return int(rate) if rate is not None else settings().per_minute_rate_cents


def _act(call: dict[str, Any], record: provider_records.ProviderRecord | None, doubt: str | None,
         now: datetime) -> CallCheck:
    provider = call["provider"]
    charged = int(call["charged_cents"]) if call.get("settled_at") and call.get("charged_cents") is not None else None
    if record is None or not record.finished:
        if record is not None and not call.get("settled_at") and record.status in OPEN_STATUSES:
            apply_event(call, StatusEvent(record.provider_call_id, record.status, provider_event=record.provider_status),
                        "records")  # forward only; binds the id
        reason = doubt or f"{provider} reports it {record.provider_status or 'unknown'}, not finished"
        return _flag(call, reason, now, charged, record)
    expected = charge_cents(record.duration_s, _rate(call))
    about = {"charged_cents": charged, "provider_cents": expected, "provider_status": record.provider_status,
             "provider_duration_seconds": record.duration_s}
    words = f"{provider} records it {record.status}, {record.duration_s or 0} s: {expected} cents"
    if not call.get("settled_at"):
        answer = apply_event(call, StatusEvent(
            record.provider_call_id, record.status, duration_s=record.duration_s or 0, occurred_at=record.ended_at,
            hangup_cause=None if record.status == "completed" else record.provider_status,
            provider_event=record.provider_status), "records")
        if not answer.get("applied"):
            return _flag(call, f"{provider}'s record could not be applied ({answer.get('reason')})", now, charged, record)
        store.record_provider_check(call)
        _count_adjustment(call, expected, "settled from the provider's record")
        return CallCheck(call["call_id"], provider, "settled", f"never settled by a webhook; {words}", **about)
    corrections = {name: value for name, value in (("status", record.status),
                                                    ("duration_seconds", record.duration_s or 0))
                   if call.get(name) != value}
    if charged != expected:
        cause = f"provider record: {record.status}, {record.duration_s or 0} s (charged {charged}, costs {expected})"
        if not store.adjust_call_charge(call, expected, cause, corrections):
            return CallCheck(call["call_id"], provider, "not checked", "the call changed meanwhile", **about)
        _count_adjustment(call, expected - (charged or 0), "charge corrected to the provider's record")
        return CallCheck(call["call_id"], provider, "adjusted", f"was charged {charged} cents; {words}", **about)
    if corrections:
        store.record_provider_check(call, fields=corrections, charged_cents=charged)
        return CallCheck(call["call_id"], provider, "corrected",
                         f"same charge; {', '.join(corrections)} corrected to the provider's record", **about)
    if not (call.get("provider_checked_at") and not call.get("provider_flag")
            and "provider_check_shard" not in call):
        store.record_provider_check(call)  # done: out of the index, flag cleared
    return CallCheck(call["call_id"], provider, "matched", words, **about)


def _flag(call: dict[str, Any], reason: str, now: datetime, charged: int | None,
          record: provider_records.ProviderRecord | None) -> CallCheck:
    """Flag, never charge on a guess; keep it in ByProviderCheck for later runs (a few days)."""
    young = now - _parse(call["created_at"]) < timedelta(seconds=KEEP_CHECKING_S)
    store.record_provider_check(call, flag=reason, check_again_after=iso(now) if young else None)
    metrics.count(metrics.PROVIDER_CALLS_FLAGGED, call["provider"])
    logger.warning("Call flagged by the provider reconciliation", extra={
        "call_id": call["call_id"], "provider": call["provider"], "reason": reason})
    return CallCheck(call["call_id"], call["provider"], "flagged", reason, charged_cents=charged,
                     provider_status=record.provider_status if record else None,
                     provider_duration_seconds=record.duration_s if record else None)


def _count_adjustment(call: dict[str, Any], cents: int, what: str) -> None:
    metrics.count(metrics.PROVIDER_ADJUSTMENTS, call["provider"])
    logger.warning(f"Provider reconciliation: {what}", extra={
        "call_id": call["call_id"], "organization_id": call["organization_id"], "provider": call["provider"],
        "cents": cents})
