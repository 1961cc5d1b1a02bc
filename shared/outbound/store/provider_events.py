"""Unproven provider events: signed status webhooks that did not prove which call they belong to
(usecases.status_webhook). Kept for the record and never applied: the call they name is resolved
from the provider's own records instead (usecases.provider_reconcile)."""
from __future__ import annotations

import hashlib
import time
from typing import Any

from ..dynamodb_json import to_item
from .base import client, now_iso, query_all, table
from .keys import BY_ORGANIZATION_INDEX, organization_provider_events_partition, provider_event_key

RETENTION_S = 90 * 24 * 3600  # DynamoDB's TTL removes them after this


def record_unproven_event(provider: str, organization_id: str, claimed_call_id: str, raw_body: bytes,
                          about: dict[str, Any], reason: str) -> bool:
    """One conditional PutItem, keyed by the provider's call id and the body's hash: the same
    event delivered again (a retry, a replay) is recorded once. Returns False for a repeat.
    ``about``: what the event says (status, duration_seconds, occurred_at...; None left out)."""
    event_hash = hashlib.sha256(raw_body).hexdigest()
    received_at = now_iso()
    item = {
        **provider_event_key(provider, about.get("provider_call_id"), event_hash),
        "provider": provider, "organization_id": organization_id, "claimed_call_id": claimed_call_id,
        "reason": reason, "received_at": received_at, "expires_at": int(time.time()) + RETENTION_S,
        "gsi1pk": organization_provider_events_partition(organization_id),
        "gsi1sk": f"{received_at}#{event_hash[:16]}",
        **{name: value for name, value in about.items() if value is not None},
    }
    try:
        client().put_item(TableName=table(), Item=to_item(item), ConditionExpression="attribute_not_exists(pk)")
    except client().exceptions.ConditionalCheckFailedException:
        return False
    return True


def list_unproven_events(organization_id: str, since: str) -> list[dict[str, Any]]:
    """The organization's unproven events received since ``since`` (ISO), oldest first."""
    return query_all(
        TableName=table(), IndexName=BY_ORGANIZATION_INDEX,
        KeyConditionExpression="gsi1pk = :pk AND gsi1sk >= :since",
        ExpressionAttributeValues=to_item({":pk": organization_provider_events_partition(organization_id),
                                           ":since": since}))
