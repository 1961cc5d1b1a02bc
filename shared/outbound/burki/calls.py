"""Burki's ``calls`` methods, each one of this service's use cases answering in the SDK's shapes."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from outbound import store
from outbound.burki import ids, views
from outbound.calls.initiate import initiate_call
from outbound.calls.models import check_metadata, parse_initiate_request
from outbound.errors import BadRequest, Conflict, NotFound, ProviderTimedOut
from outbound.phone import canonical_e164
from outbound.store.call_search import CallFilter, SearchTooWide, count_calls, search_calls
from outbound.store.calls import replace_call_metadata

MAX_SKIP = 10_000
TOO_WIDE = "Too many calls to read for one answer: narrow the search with date_from and date_to"


def initiate(organization_id: str, raw_body: str | None, public_api_url: str) -> dict[str, Any]:
    """``POST /calls/initiate``: the very use case of the native route (validation, resolution,
    reserve, provider, at most four DynamoDB round trips); its call's alias comes from the record
    the reserve transaction wrote."""
    request = parse_initiate_request(raw_body)
    record: dict[str, Any] = {}
    try:
        answer = initiate_call(organization_id, request, public_api_url, created=record.update)
    except ProviderTimedOut as exc:
        if "int_id" in record:  # the SDK holds the integer
            exc.extra["call_id"] = record["int_id"]
        raise
    return {"success": True, "message": answer["message"], "call_sid": answer["call_sid"],
            "call_id": record["int_id"], "status": answer["status"],
            "from_number": request.from_phone_number, "to_number": request.to_phone_number}


def get(organization_id: str, ref: str) -> dict[str, Any]:
    return shown(organization_id, [ids.call_or_404(organization_id, ref)])[0]


def get_by_sid(organization_id: str, call_sid: str) -> dict[str, Any]:
    call = next((c for c in store.find_calls_by_sid(call_sid) if c["organization_id"] == organization_id), None)
    if call is None:
        raise NotFound(f"Call {call_sid} not found")
    return shown(organization_id, [call])[0]


def call_filter(status: str | None = None, assistant_id: int | None = None, customer_phone: str | None = None,
                date_from: datetime | None = None, date_to: datetime | None = None,
                min_duration: int | None = None, max_duration: int | None = None) -> CallFilter | None:
    """The SDK's filters in our terms; None when no call can match (date_from after date_to)."""
    statuses: tuple[str, ...] = ()
    if status:
        statuses = views.statuses_for(status) or ()
        if not statuses:
            raise BadRequest(f"status must be one of: {', '.join(views.BURKI_CALL_STATUSES)} "
                             "(or one of this service's own statuses)")
    created_from, created_to = _instant(date_from), _instant(date_to)
    if created_from and created_to and created_from > created_to:
        return None
    return CallFilter(statuses, assistant_id, canonical_e164(customer_phone) if customer_phone else None,
                      created_from, created_to, min_duration, max_duration)


def search(organization_id: str, found: CallFilter | None, skip: int, limit: int) -> list[dict[str, Any]]:
    if found is None:
        return []
    if skip > MAX_SKIP:
        raise BadRequest(f"skip must be at most {MAX_SKIP}: narrow the search with date_from and date_to")
    try:
        return shown(organization_id, search_calls(organization_id, found, skip, limit))
    except SearchTooWide:
        raise BadRequest(TOO_WIDE) from None


def count(organization_id: str, found: CallFilter | None) -> dict[str, int]:
    try:
        return {"count": count_calls(organization_id, found) if found is not None else 0}
    except SearchTooWide:
        raise BadRequest(TOO_WIDE) from None


def update_metadata(organization_id: str, ref: str, changes: dict[str, Any]) -> dict[str, Any]:
    """Merge ``changes`` into the call's metadata (null removes a key), with the limits of the
    native ``metadata`` field; a concurrent change is merged again, never overwritten."""
    for _ in range(5):
        call = ids.call_or_404(organization_id, ref)
        current = call.get("metadata")
        merged = {k: v for k, v in {**(current or {}), **changes}.items() if v is not None}
        check_metadata(merged)
        written = replace_call_metadata(call["call_id"], current, merged)
        if written is not None:
            return shown(organization_id, [{**written, "int_id": call.get("int_id", written.get("int_id"))}])[0]
    raise Conflict("The call's metadata kept changing meanwhile: try again")


def terminate(organization_id: str, ref: str) -> dict[str, Any]:
    """The native terminate (the provider's own hang-up; the call ends with its final webhook)."""
    from outbound.calls.terminate import hang_up

    asked = hang_up(ids.call_or_404(organization_id, ref))
    return {"success": True, "message": asked["message"], "call_sid": asked["call_sid"],
            "status": views.CALL_STATUS.get(asked["status"], "pending")}


def webhook_logs(organization_id: str, ref: str, webhook_type: str | None) -> list[dict[str, Any]]:
    """The call's outcome-event deliveries to the organization's webhook endpoints, one log per
    attempt (GET /calls/{call_ref}/webhook-deliveries natively)."""
    [call] = ids.with_call_aliases(organization_id, [ids.call_or_404(organization_id, ref)])
    urls = {e["id"]: e["url"] for e in store.list_endpoints(organization_id)}
    logs = []
    for delivery in store.list_deliveries(call["call_id"]):
        if delivery.get("organization_id") != organization_id:
            continue
        if webhook_type and delivery.get("event_type") != webhook_type:
            continue
        url = urls.get(delivery["endpoint_id"], f"(deleted webhook endpoint {delivery['endpoint_id']})")
        logs += views.webhook_logs(delivery, call["int_id"], url)
    return logs


# --- plumbing ----------------------------------------------------------------------------------------

def shown(organization_id: str, calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Calls in the SDK's shape: their aliases, the organization's, the assistants' names (one read)."""
    calls = ids.with_call_aliases(organization_id, calls)
    if not calls:
        return []
    assistant_ids = {c["assistant_id"] for c in calls if c.get("assistant_id") is not None}
    assistants = store.get_items([store.assistant_key(a) for a in assistant_ids]) if assistant_ids else {}
    names = {a["id"]: a.get("name") for a in assistants.values() if a.get("organization_id") == organization_id}
    organization = ids.organization_alias(organization_id)
    return [views.call_view(c, organization, names) for c in calls]


def _instant(value: datetime | None) -> str | None:
    """As ``created_at`` is written: UTC, milliseconds, "Z" (a time without an offset is UTC)."""
    if value is None:
        return None
    aware = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    return aware.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
