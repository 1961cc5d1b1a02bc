"""Publish an outcome event: on the stack's EventBridge bus, and one delivery per subscribed
webhook endpoint of the organization (a delivery record, then a queue message for the deliverer).

Called by CallEventsFunction for every call status change read from the table's stream (so no
request path pays for it), and usable as is by anything else that has an event to tell
(``publish_event``: the campaign engine's campaign.* events).

Safe to run twice for one event (a stream batch is retried whole or from a failed record): the
delivery's key is the event's subject, sequence and endpoint, so a second run finds the first
run's delivery and only re-sends its queue message if it was never attempted (the first run may
have stopped between the two writes). EventBridge may get the event twice: its detail carries
``event_id`` to deduplicate on.

DynamoDB round trips per event: 1 Query (the organization's endpoints; cached per invocation),
plus 1 conditional PutItem per subscribed endpoint.
"""
from __future__ import annotations

import base64
import json
import time
from typing import Any

from aws_lambda_powertools import Logger

from outbound import aws, store
from outbound.config import outcome_event_settings
from outbound.outcome_events.catalog import EVENT_TYPES, Event
from outbound.store.webhook_deliveries import PENDING

logger = Logger(child=True)

DELIVERY_RETENTION_S = 30 * 24 * 3600  # delivery records (and their attempt logs) are kept 30 days


def publish_event(organization_id: str, event_type: str, subject: str, sequence: int, data: dict[str, Any],
                  timestamp: str | None = None, endpoints_by_org: dict[str, list[dict[str, Any]]] | None = None) -> int:
    """Publish one event of ``event_type`` about ``subject`` (e.g. a campaign id); ``sequence``
    must grow with each event of that subject. ``endpoints_by_org``: a cache shared by the events
    of one invocation (one Query per organization). Returns how many deliveries were queued."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {event_type}")
    return publish(Event(organization_id, event_type, subject, sequence, timestamp or store.now_iso(),
                         {**data, "sequence": sequence}), endpoints_by_org)


def publish(event: Event, endpoints_by_org: dict[str, list[dict[str, Any]]] | None = None) -> int:
    put_on_bus(event)
    cache = {} if endpoints_by_org is None else endpoints_by_org
    if event.organization_id not in cache:
        cache[event.organization_id] = store.list_endpoints(event.organization_id)
    to_send = []
    for endpoint in cache[event.organization_id]:
        if event.type not in (endpoint.get("events") or []):
            continue
        delivery = new_delivery(event, endpoint)
        existing = store.create_delivery(delivery)
        if existing is None:
            to_send.append(delivery)
        elif existing.get("status") == PENDING and not existing.get("attempt_count"):
            to_send.append(existing)  # made by an earlier run that may have stopped before sending
    enqueue([queue_message(d) for d in to_send])
    return len(to_send)


def put_on_bus(event: Event) -> None:
    detail_type, source = event.detail_type
    response = aws.client("events").put_events(Entries=[{
        "EventBusName": outcome_event_settings().event_bus_name, "Source": source, "DetailType": detail_type,
        "Detail": json.dumps({"event_id": event.id, **event.payload()}), "Resources": []}])
    if response.get("FailedEntryCount"):
        entry = response["Entries"][0]
        raise RuntimeError(f"EventBridge refused the event: {entry.get('ErrorCode')} {entry.get('ErrorMessage')}")


def delivery_id(subject: str, sequence: int, endpoint_id: str) -> str:
    """Opaque to clients; decodes back to the delivery's key (usecases.webhook_endpoints)."""
    raw = f"{subject}|{sequence}|{endpoint_id}".encode()
    return "dlv_" + base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def parse_delivery_id(value: str) -> tuple[str, int, str] | None:
    if not value.startswith("dlv_"):
        return None
    encoded = value[4:]
    try:
        subject, sequence, endpoint_id = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode().split("|")
        return subject, int(sequence), endpoint_id
    except (ValueError, UnicodeDecodeError):
        return None


def new_delivery(event: Event, endpoint: dict[str, Any]) -> dict[str, Any]:
    now = store.now_iso()
    return {
        "delivery_id": delivery_id(event.subject, event.sequence, endpoint["id"]),
        "organization_id": event.organization_id, "subject": event.subject, "sequence": event.sequence,
        "endpoint_id": endpoint["id"], "event_id": event.id, "event_type": event.type,
        "payload": json.dumps(event.payload(), separators=(",", ":")),
        "status": PENDING, "generation": 1, "attempt_count": 0, "attempts": [],
        "created_at": now, "updated_at": now, "window_started_at": now, "next_attempt_at": now,
        "expires_at": int(time.time()) + DELIVERY_RETENTION_S,
    }


def queue_message(delivery: dict[str, Any], not_before: float = 0.0) -> dict[str, Any]:
    """The message for the delivery's next attempt: ``attempt`` is how many were made already, so
    a duplicate (SQS delivers at least once) of a message already acted on is recognised."""
    return {"organization_id": delivery["organization_id"], "subject": delivery["subject"],
            "sequence": int(delivery["sequence"]), "endpoint_id": delivery["endpoint_id"],
            "generation": int(delivery["generation"]), "attempt": int(delivery.get("attempt_count") or 0),
            "not_before": not_before}


def enqueue(messages: list[dict[str, Any]], delay_s: int = 0) -> None:
    """SendMessageBatch to the delivery queue (10 per request); raises if any was refused."""
    queue_url = outcome_event_settings().delivery_queue_url
    for start in range(0, len(messages), 10):
        chunk = messages[start:start + 10]
        response = aws.client("sqs").send_message_batch(QueueUrl=queue_url, Entries=[
            {"Id": str(i), "MessageBody": json.dumps(m), "DelaySeconds": max(0, min(900, int(delay_s)))}
            for i, m in enumerate(chunk)])
        if response.get("Failed"):
            raise RuntimeError(f"SQS refused {len(response['Failed'])} delivery messages")


def publish_call_change(record: dict[str, Any], endpoints_by_org: dict[str, list[dict[str, Any]]]) -> Event | None:
    """One DynamoDB stream record of a call item: its event, published (None: no event)."""
    from outbound.dynamodb_json import from_item
    from outbound.outcome_events.catalog import call_event

    images = record.get("dynamodb") or {}
    new = from_item(images.get("NewImage"))
    if not new or not new.get("call_id"):
        return None
    event = call_event(from_item(images.get("OldImage")), new)
    if event is not None:
        publish(event, endpoints_by_org)
    return event
