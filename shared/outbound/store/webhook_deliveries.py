"""Webhook deliveries: one event to one endpoint, with every attempt it took.

Keyed by the event's subject (a call id), its sequence and the endpoint
(store.keys.webhook_delivery_key), so a stream record processed twice finds the delivery it made
the first time instead of making a second one, and a call's deliveries are one Query, in order.

``generation`` starts at 1 and grows with each manual retry: queue messages carry the generation
they were sent for, so a message of an earlier round (or a duplicate SQS delivery after success)
changes nothing. They also carry the attempt they are for (``attempt_count`` when queued), and an
attempt is recorded only on the count it was made on, so two copies of one message (SQS delivers
at least once) never record two attempts nor start two retry loops.
"""
from __future__ import annotations

from typing import Any

from ..dynamodb_json import from_item, to_item
from .base import client, query_all, table
from .keys import (BY_ORGANIZATION_INDEX, WEBHOOK_DELIVERY_PREFIX, endpoint_deliveries_partition, events_partition,
                   webhook_delivery_key)

PENDING, SUCCEEDED, FAILED = "pending", "succeeded", "failed"


class DeliveryNotPending(Exception):
    """Already succeeded or given up, or retried since (another generation): nothing written."""


def delivery_key(delivery: dict[str, Any]) -> dict[str, str]:
    return webhook_delivery_key(delivery["subject"], int(delivery["sequence"]), delivery["endpoint_id"])


def log_keys(delivery: dict[str, Any]) -> dict[str, str]:
    """Its place in its endpoint's delivery log (the ByOrganization index), newest first by creation."""
    return {"gsi1pk": endpoint_deliveries_partition(delivery["organization_id"], delivery["endpoint_id"]),
            "gsi1sk": f"{delivery['created_at']}#{delivery['subject']}#{int(delivery['sequence']):06d}"}


def create_delivery(delivery: dict[str, Any]) -> dict[str, Any] | None:
    """Writes a new delivery (with its place in the endpoint's log: the same PutItem); when one
    exists already (the same event, processed again), writes nothing and returns the existing one."""
    try:
        client().put_item(TableName=table(), Item=to_item({**delivery_key(delivery), **log_keys(delivery), **delivery}),
                          ConditionExpression="attribute_not_exists(pk)",
                          ReturnValuesOnConditionCheckFailure="ALL_OLD")
    except client().exceptions.ConditionalCheckFailedException as exc:
        return from_item(exc.response.get("Item")) or {}
    return None


def list_deliveries(subject: str) -> list[dict[str, Any]]:
    return query_all(
        TableName=table(), ConsistentRead=True, KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
        ExpressionAttributeValues=to_item({":pk": events_partition(subject), ":prefix": WEBHOOK_DELIVERY_PREFIX}))


def list_endpoint_deliveries(organization_id: str, endpoint_id: str, limit: int,
                             start: dict[str, Any] | None = None) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """A page of an endpoint's deliveries, newest first (one index Query), and where the next starts."""
    request: dict[str, Any] = {
        "TableName": table(), "IndexName": BY_ORGANIZATION_INDEX, "KeyConditionExpression": "gsi1pk = :pk",
        "ExpressionAttributeValues": to_item({":pk": endpoint_deliveries_partition(organization_id, endpoint_id)}),
        "ScanIndexForward": False, "Limit": limit}
    if start:
        request["ExclusiveStartKey"] = to_item(start)
    page = client().query(**request)
    last = page.get("LastEvaluatedKey")
    return [from_item(item) for item in page.get("Items", [])], (from_item(last) if last else None)


def record_attempt(delivery: dict[str, Any], attempt: dict[str, Any], status: str,
                   next_attempt_at: str | None) -> dict[str, Any]:
    """Appends one attempt and moves the delivery to ``status``, only if it is still pending in
    the same generation with the attempt count read in ``delivery`` (else DeliveryNotPending:
    another copy of the message recorded this attempt first). Returns the updated delivery."""
    count = int(delivery.get("attempt_count") or 0)
    values: dict[str, Any] = {":attempt": [attempt], ":empty": [], ":one": 1, ":zero": 0, ":status": status,
                              ":pending": PENDING, ":generation": delivery["generation"], ":now": attempt["at"],
                              ":count": count}
    same_count = "(attribute_not_exists(attempt_count) OR attempt_count = :count)" if count == 0 \
        else "attempt_count = :count"
    sets = ["attempts = list_append(if_not_exists(attempts, :empty), :attempt)",
            "attempt_count = if_not_exists(attempt_count, :zero) + :one", "#s = :status", "updated_at = :now"]
    if status == SUCCEEDED:
        sets.append("succeeded_at = :now")
    if next_attempt_at:
        sets.append("next_attempt_at = :next")
        values[":next"] = next_attempt_at
    remove = "" if next_attempt_at else " REMOVE next_attempt_at"
    try:
        response = client().update_item(
            TableName=table(), Key=to_item(delivery_key(delivery)),
            UpdateExpression="SET " + ", ".join(sets) + remove,
            ConditionExpression=f"#s = :pending AND generation = :generation AND {same_count}",
            ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues=to_item(values),
            ReturnValues="ALL_NEW")
    except client().exceptions.ConditionalCheckFailedException:
        raise DeliveryNotPending(delivery.get("delivery_id")) from None
    return from_item(response["Attributes"])


def restart_delivery(key: dict[str, str], organization_id: str, now: str) -> dict[str, Any] | None:
    """A manual retry: pending again, in a new generation, with a new retry window from now.
    None when there is no such delivery in this organization."""
    try:
        response = client().update_item(
            TableName=table(), Key=to_item(key),
            UpdateExpression="SET #s = :pending, generation = generation + :one, window_started_at = :now, "
                             "next_attempt_at = :now, updated_at = :now",
            ConditionExpression="attribute_exists(pk) AND organization_id = :org",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues=to_item({":pending": PENDING, ":one": 1, ":now": now, ":org": organization_id}),
            ReturnValues="ALL_NEW")
    except client().exceptions.ConditionalCheckFailedException:
        return None
    return from_item(response["Attributes"])
