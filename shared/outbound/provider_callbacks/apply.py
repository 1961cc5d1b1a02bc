"""A provider's status webhook: verify it, then move the call forward and settle it once.

Steps (DynamoDB round trips in brackets):
1. Refuse at once a request without the provider's signature headers (403), then one no provider
   would send (outbound.provider_callbacks.precheck: size, media type, a JSON body's shape): no read yet.
2. Find the call the event points at: our call_id from the signed URL / body [GetItem], else the
   provider's call id [Query ByCallSid]. The organization is the call record's, never the
   webhook's: its credentials (Secrets Manager, cached) verify the signature (403 otherwise).
3. Map the event to our status model (outbound.calls.lifecycle), and prove it is this call's: its
   provider call id is the call's own, or the part the provider signed names the call (Twilio's
   URL, Telnyx's client_state, the SIP bridge's body) and that id is no other call's [Query
   ByCallSid, only while the call has no provider id yet]. The URL's ?call_id= alone proves
   nothing where the provider does not sign it (Vonage, Telnyx): such an event is recorded
   [PutItem] and answered 200 without being applied; the call is then resolved from the
   provider's own records (outbound.money.provider_reconcile).
   Nothing moves backwards: an event of the same or a lower rank, or for a call already final,
   is answered 200 and changes nothing.
4. A non-final status: one conditional UpdateItem [UpdateItem].
   A final status: one TransactWriteItems (at the rate the call record carries since it was
   placed; only records without one read the organization's rate [GetItem]) that records
   the final status and settles the balance, conditional on the call not being settled yet
   [TransactWriteItems]. A repeat, even concurrent, cancels as a whole: settled exactly once.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from aws_lambda_powertools import Logger

from outbound import metrics, store
from outbound.calls.lifecycle import (
    StatusEvent,
    charge_cents,
    is_final,
    moves_forward,
    normalize_answered_by,
    statuses_below,
)
from outbound.config import settings
from outbound.credentials import CredentialsMissing, credentials_for
from outbound.errors import BadRequest, Forbidden
from outbound.provider_callbacks import (
    BadPayload,
    InvalidSignature,
    WebhookRequest,
    module,
    precheck,
)

logger = Logger(child=True)

INVALID_SIGNATURE = "Invalid or missing webhook signature"


def handle_status_webhook(request: WebhookRequest) -> dict[str, Any]:
    provider = module(request.provider)
    if not provider.has_signature(request):
        raise rejected(request.provider)
    precheck(request)
    call_id, provider_call_id = provider.references(request)
    call = find_call(call_id, provider_call_id)
    if call is None or call.get("provider") != request.provider:
        logger.info("Webhook for an unknown call", extra={"provider": request.provider, "call_id": call_id})
        raise rejected(request.provider)  # same answer: no oracle for which call ids exist
    try:
        credentials = credentials_for(call["organization_id"], request.provider)
        provider.verify(request, credentials)
    except (InvalidSignature, CredentialsMissing) as exc:
        logger.warning("Webhook signature refused", extra={"provider": request.provider,
                                                          "call_id": call["call_id"], "reason": str(exc)})
        raise rejected(request.provider) from None
    try:
        event = provider.parse(request)
    except BadPayload as exc:
        raise BadRequest(f"Unreadable {request.provider} status event: {exc}") from None
    doubt = unproven(call, event, provider.signed_call_id(request))
    if doubt:
        return record_unproven(request, call, event, doubt)
    return apply_event(call, event)


def unproven(call: dict[str, Any], event: StatusEvent, signed_call_id: str | None) -> str | None:
    """Why ``event`` cannot be proven to be ``call``'s; None when it can. Its provider call id
    against the call's known one proves (or disproves: apply_event then refuses "another call
    leg") it; before that id is known, only a signature that covers our call_id does, and only
    if the provider call id it carries is not another call's."""
    sid, known = event.provider_call_id, call.get("call_sid")
    if sid and known:
        return None
    if signed_call_id != call["call_id"]:
        return ("nothing the provider signed names this call, and its provider call id is not known yet"
                if not known else "the event carries no provider call id and nothing signed names this call")
    if sid and any(other["call_id"] != call["call_id"] for other in store.find_calls_by_sid(sid)):
        return "its provider call id is another call's"
    return None


def record_unproven(request: WebhookRequest, call: dict[str, Any], event: StatusEvent,
                    reason: str) -> dict[str, Any]:
    """Keep the event (once per body) for the record; apply nothing, charge nothing."""
    store.record_unproven_event(request.provider, call["organization_id"], call["call_id"], request.body, {
        "provider_call_id": event.provider_call_id, "status": event.status, "duration_seconds": event.duration_s,
        "occurred_at": event.occurred_at}, reason)
    logger.warning("Webhook not proven to be this call's: recorded, not applied", extra={
        "provider": request.provider, "call_id": call["call_id"], "reason": reason})
    metrics.count(metrics.UNPROVEN_EVENTS, request.provider)
    return _answer(call, False, f"not proven to be this call's ({reason}): recorded, not applied")


def rejected(provider: str) -> Forbidden:
    metrics.count(metrics.WEBHOOK_REJECTIONS, provider)
    return Forbidden(INVALID_SIGNATURE)


def find_call(call_id: str | None, provider_call_id: str | None) -> dict[str, Any] | None:
    if call_id:
        return store.get_item(store.call_key(call_id)) if call_id.startswith("call_") and store.is_call_ref(call_id) \
            else None
    if provider_call_id:
        matches = store.find_calls_by_sid(provider_call_id)
        return matches[0] if len(matches) == 1 else None
    return None


def _answer(call: dict[str, Any], applied: bool, reason: str | None = None) -> dict[str, Any]:
    body = {"call_id": call["call_id"], "status": call.get("status"), "applied": applied}
    if reason:
        body["reason"] = reason
    return body


def apply_event(call: dict[str, Any], event: StatusEvent, source: str = "webhook") -> dict[str, Any]:
    """``source``: where the event came from, for the call's timeline ("webhook": the provider's
    status callback; the provider reconciliation says "provider records")."""
    sid = event.provider_call_id
    if sid and call.get("call_sid") and sid != call["call_sid"]:
        return _answer(call, False, "event of another call leg")
    if event.status is None:
        if event.answered_by:
            store.set_call_details(call["call_id"], sid, {"answered_by": normalize_answered_by(event.answered_by)})
        return _answer(call, False, "no status change in this event")
    if _abandoned_unsettled(call) and is_final(event.status):
        # The reserve sweeper released this call (no provider answer was recorded), but the
        # provider did place it: charge what it used, once; the released reserve is not touched.
        return _settle(call, event, ("failed",), source)
    if not moves_forward(call.get("status"), event.status):
        return _answer(call, False, not_forward(call.get("status"), event.status))
    if (call.get("provider") == "sip" and call.get("status") == "initiating" and is_final(event.status)
            and _sip_failover_cause(event.hangup_cause)):
        # The adapter is still trying the organization's trunks: this trunk's failure is not the
        # call's; the next trunk's channel (or the adapter's own refusal) decides.
        return _answer(call, False, "trunk failover in progress")
    if is_final(event.status):
        return _settle(call, event, statuses_below(event.status), source)
    fields = _fields(call, event)
    try:
        store.advance_call(call["call_id"], event.status, statuses_below(event.status), sid, fields,
                           _note(call, event, source))
    except store.CallNotMoved as exc:  # a concurrent or repeated webhook got there first
        return _answer(exc.current or call, False, not_forward((exc.current or call).get("status"), event.status))
    return _answer({**call, "status": event.status}, True)


def not_forward(current: str | None, reported: str) -> str:
    """Why an event that would not move the call forward changes nothing, in words that do not
    read like an error: most are the provider repeating what the record already says (its
    "initiated" comes after our own write of ``queued``)."""
    if current == reported:
        return f"already {current}"
    if current and is_final(current):
        return f"the call already ended ({current})"
    return f"out of order: the call is already {current}"


def _abandoned_unsettled(call: dict[str, Any]) -> bool:
    return call.get("status") == "failed" and bool(call.get("abandoned_at")) and not call.get("settled_at")


def _settle(call: dict[str, Any], event: StatusEvent, from_statuses: tuple[str, ...],
            source: str = "webhook") -> dict[str, Any]:
    fields = _fields(call, event)
    rate = call.get("per_minute_rate_cents")
    charge = charge_cents(fields.get("duration_seconds"), _rate(call["organization_id"]) if rate is None else rate)
    try:
        store.settle_call(call, event.status, from_statuses, event.provider_call_id, charge, fields,
                          _note(call, event, source))
    except store.CallNotMoved as exc:  # a concurrent or repeated webhook got there first
        return _answer(exc.current or call, False, not_forward((exc.current or call).get("status"), event.status))
    logger.info("Call settled", extra={"call_id": call["call_id"], "status": event.status,
                                       "charged_cents": charge, "released_cents": call.get("reserve_cents")})
    metrics.count(metrics.CALLS_SETTLED, call.get("provider"))
    metrics.count(metrics.CHARGED_CENTS, call.get("provider"), charge)
    return _answer({**call, "status": event.status}, True)


def _note(call: dict[str, Any], event: StatusEvent, source: str) -> dict[str, Any]:
    """What the call's timeline says about this move (store.timeline_entry)."""
    return {"source": f"{call.get('provider')} {source}", "provider_event": event.provider_event,
            "occurred_at": event.occurred_at, "detail": event.hangup_cause,
            "duration_seconds": event.duration_s}


def _fields(call: dict[str, Any], event: StatusEvent) -> dict[str, Any]:
    fields: dict[str, Any] = {"answered_by": normalize_answered_by(event.answered_by)}
    if event.status == "in-progress":
        fields["answered_at"] = event.occurred_at or store.now_iso()
    if is_final(event.status):
        ended_at = event.occurred_at or store.now_iso()
        fields["ended_at"] = ended_at
        duration = event.duration_s
        if duration is None:  # providers that give times, not durations (Telnyx)
            duration = _seconds_between(call.get("answered_at") or event.extra.get("start_time"), ended_at)
        fields["duration_seconds"] = duration or 0
        fields["hangup_cause"] = event.hangup_cause
        if event.status == "failed":
            fields["failure_reason"] = event.hangup_cause or "The provider reported the call failed"
    return fields


def _seconds_between(start: str | None, end: str | None) -> int | None:
    if not start or not end:
        return None
    try:
        seconds = (datetime.fromisoformat(end.replace("Z", "+00:00"))
                   - datetime.fromisoformat(start.replace("Z", "+00:00"))).total_seconds()
    except ValueError:
        return None
    return max(0, round(seconds))


def _rate(organization_id: str) -> int:
    organization = store.get_item(store.organization_key(organization_id)) or {}
    rate = organization.get("per_minute_rate_cents")
    return int(rate) if rate is not None else settings().per_minute_rate_cents


def _sip_failover_cause(cause: str | None) -> bool:
    from outbound.providers.sip import FAILOVER_CAUSES

    return cause in FAILOVER_CAUSES
