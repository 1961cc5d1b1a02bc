"""Webhook endpoints and their deliveries, as the API exposes them (organization-scoped).

Another organization's endpoint, call or delivery answers 404 like an unknown one. The signing
secret is returned once, when an endpoint is created or its secret rotated, and is never stored
outside Secrets Manager (see outbound.outcome_events.secrets).
"""
from __future__ import annotations

import re
import secrets
from typing import Any

from aws_lambda_powertools import Logger

from outbound import store
from outbound.errors import BadRequest, Conflict, NotFound, ServiceUnavailable
from outbound.outcome_events import guard as webhook_guard
from outbound.outcome_events import secrets as webhook_secrets
from outbound.outcome_events.publish import enqueue, parse_delivery_id, queue_message

logger = Logger(child=True)

MAX_ENDPOINTS = 20  # per organization: each status change is one delivery per subscribed endpoint
ENDPOINT_FIELDS = ("id", "url", "events", "description", "created_at", "updated_at", "secret_rotated_at")
ATTEMPT_FIELDS = ("attempt", "at", "status_code", "latency_ms", "error")
ENDPOINT_ID = re.compile(r"we_[0-9a-f]{24}")
SUBJECT = re.compile(r"[A-Za-z0-9_-]{1,200}")
# A call's events are sequenced by status rank, campaign events by the DynamoDB stream record's
# SequenceNumber (21 to 40 digits): a sequence is a positive integer of at most 40 digits.
MAX_SEQUENCE_DIGITS = 40


def endpoint_view(item: dict[str, Any]) -> dict[str, Any]:
    return {name: item.get(name) for name in ENDPOINT_FIELDS}


def create_endpoint(organization_id: str, url: str, events: list[str], description: str | None) -> dict[str, Any]:
    try:
        webhook_guard.resolve_checked(url)
    except webhook_guard.UnsafeUrl as exc:
        raise BadRequest(str(exc)) from None
    if (store.endpoints_in_use(organization_id) or 0) >= MAX_ENDPOINTS:
        raise _at_the_cap()  # early, sparing a secret made for nothing; the write below is the check
    now = store.now_iso()
    endpoint = {"id": f"we_{secrets.token_hex(12)}", "url": url, "events": list(dict.fromkeys(events)),
                "description": description, "created_at": now, "updated_at": now, "secret_version": 1}
    secret = webhook_secrets.create(endpoint["id"])
    try:
        store.create_endpoint(organization_id, endpoint, MAX_ENDPOINTS)
    except Exception as exc:
        webhook_secrets.delete(endpoint["id"])  # nothing half-made is left behind
        if isinstance(exc, store.LimitReached):
            raise _at_the_cap() from None
        if isinstance(exc, store.LimitBusy):
            raise _busy() from None
        raise
    logger.info("Webhook endpoint created", extra={"endpoint_id": endpoint["id"], "events": endpoint["events"]})
    return {**endpoint_view(endpoint), "secret": secret}


def list_endpoints(organization_id: str) -> dict[str, Any]:
    return {"webhook_endpoints": [endpoint_view(e) for e in store.list_endpoints(organization_id)]}


def get_endpoint(organization_id: str, endpoint_id: str) -> dict[str, Any]:
    return endpoint_view(_endpoint(organization_id, endpoint_id))


def delete_endpoint(organization_id: str, endpoint_id: str) -> dict[str, Any]:
    if not ENDPOINT_ID.fullmatch(endpoint_id):
        raise _not_found(endpoint_id)
    try:
        store.delete_endpoint(organization_id, endpoint_id)
    except store.EndpointNotFound:
        raise _not_found(endpoint_id) from None
    except store.LimitBusy:
        raise _busy() from None
    webhook_secrets.delete(endpoint_id)
    logger.info("Webhook endpoint deleted", extra={"endpoint_id": endpoint_id})
    return {"message": "Webhook endpoint deleted", "id": endpoint_id}


def rotate_secret(organization_id: str, endpoint_id: str) -> dict[str, Any]:
    _endpoint(organization_id, endpoint_id)
    secret, previous_until = webhook_secrets.rotate(endpoint_id)
    try:
        store.next_secret_version(organization_id, endpoint_id, store.now_iso())
    except store.EndpointNotFound:  # deleted meanwhile
        raise _not_found(endpoint_id) from None
    logger.info("Webhook endpoint secret rotated", extra={"endpoint_id": endpoint_id})
    return {"id": endpoint_id, "secret": secret, "previous_secret_expires_at": previous_until}


def call_deliveries(organization_id: str, call_ref: str) -> dict[str, Any]:
    call = store.find_call(organization_id, call_ref)
    if call is None:
        raise NotFound(f"Call {call_ref} not found")
    deliveries = [d for d in store.list_deliveries(call["call_id"]) if d.get("organization_id") == organization_id]
    return {"call_id": call["call_id"], "deliveries": [delivery_view(d) for d in deliveries]}


def endpoint_deliveries(organization_id: str, endpoint_id: str, limit: Any = None,
                        next_token: str | None = None) -> dict[str, Any]:
    """An endpoint's delivery log, newest first, a page at a time."""
    from outbound import pages

    _endpoint(organization_id, endpoint_id)
    size = pages.parse_limit(limit)
    start = pages.decode(next_token, "gsi1pk", store.endpoint_deliveries_partition(organization_id, endpoint_id))
    items, last = store.list_endpoint_deliveries(organization_id, endpoint_id, size, start)
    return {"endpoint_id": endpoint_id, "deliveries": [delivery_view(item) for item in items],
            "next_token": pages.encode(last)}


def retry_delivery(organization_id: str, delivery_id: str) -> dict[str, Any]:
    """Deliver again (also one that succeeded: a replay), with a fresh retry window."""
    ref = delivery_ref(delivery_id)
    if ref is None:
        raise _delivery_not_found(delivery_id)
    subject, sequence, endpoint_id = ref
    key, endpoint_key = store.webhook_delivery_key(subject, sequence, endpoint_id), \
        store.webhook_endpoint_key(organization_id, endpoint_id)
    found = store.get_items([key, endpoint_key])
    delivery = found.get((key["pk"], key["sk"]))
    if delivery is None or delivery.get("organization_id") != organization_id:
        raise _delivery_not_found(delivery_id)
    if (endpoint_key["pk"], endpoint_key["sk"]) not in found:
        raise Conflict(f"The webhook endpoint {endpoint_id} of delivery {delivery_id} was deleted")
    restarted = store.restart_delivery(key, organization_id, store.now_iso())
    if restarted is None:
        raise _delivery_not_found(delivery_id)
    enqueue([queue_message(restarted)])
    logger.info("Webhook delivery retried", extra={"delivery_id": delivery_id, "generation": restarted["generation"]})
    return delivery_view(restarted)


def delivery_ref(delivery_id: str) -> tuple[str, int, str] | None:
    """(subject, sequence, endpoint id) of a well-formed delivery id, else None."""
    ref = parse_delivery_id(delivery_id)
    if ref is None:
        return None
    subject, sequence, endpoint_id = ref
    if not SUBJECT.fullmatch(subject) or not ENDPOINT_ID.fullmatch(endpoint_id) or not 0 < sequence < 10**MAX_SEQUENCE_DIGITS:
        return None
    return ref


def delivery_view(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": item["delivery_id"], "endpoint_id": item["endpoint_id"], "subject": item.get("subject"),
        "event_id": item["event_id"],
        "event_type": item["event_type"], "sequence": int(item["sequence"]), "status": item["status"],
        "attempt_count": int(item.get("attempt_count") or 0),
        "attempts": [{name: attempt.get(name) for name in ATTEMPT_FIELDS} for attempt in item.get("attempts") or []],
        "created_at": item.get("created_at"), "succeeded_at": item.get("succeeded_at"),
        "next_attempt_at": item.get("next_attempt_at") if item["status"] == "pending" else None,
    }


def _endpoint(organization_id: str, endpoint_id: str) -> dict[str, Any]:
    item = store.get_endpoint(organization_id, endpoint_id) if ENDPOINT_ID.fullmatch(endpoint_id) else None
    if item is None:
        raise _not_found(endpoint_id)
    return item


def _at_the_cap() -> Conflict:
    return Conflict(f"An organization may have at most {MAX_ENDPOINTS} webhook endpoints; delete one first")


def _busy() -> ServiceUnavailable:
    return ServiceUnavailable("Your webhook endpoints are being changed by other requests right now; try again",
                              headers={"Retry-After": "1"})


def _not_found(endpoint_id: str) -> NotFound:
    return NotFound(f"Webhook endpoint {endpoint_id} not found")


def _delivery_not_found(delivery_id: str) -> NotFound:
    return NotFound(f"Webhook delivery {delivery_id} not found")
