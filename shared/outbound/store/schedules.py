"""Schedules (POST /calls/schedule) and the failures of their fires.
(callers: usecases.schedules for the Schedules API, usecases.scheduled_call for each fire)

A fire's call record is CALL#call_<fire_id>, fire_id = sha256("<schedule_id>|<scheduled time>")[:24]:
a repeated delivery of the same fire finds its own record (CallAlreadyExists), and a schedule's
outcome is one BatchGetItem away (schedule, call record, fire failure).
"""
from __future__ import annotations

import hashlib
from typing import Any

from ..dynamodb_json import from_item, to_item
from .base import client, now_iso, table
from .keys import BY_ORGANIZATION_INDEX, SCHEDULES_GSI_PREFIX, fire_failure_key, schedule_key


def create_schedule(record: dict[str, Any]) -> None:
    """A new schedule record (its id is new: never overwrites)."""
    organization_id = record["organization_id"]
    client().put_item(
        TableName=table(),
        Item=to_item({**schedule_key(record["schedule_id"]), **record,
                      "gsi1pk": SCHEDULES_GSI_PREFIX.format(organization_id=organization_id),
                      "gsi1sk": f"{record['created_at']}#{record['schedule_id']}"}),
        ConditionExpression="attribute_not_exists(pk)",
    )


def schedule_created(schedule_id: str) -> None:
    """An idempotent schedule's Scheduler schedule exists: a retry now replays instead of 409."""
    client().update_item(TableName=table(), Key=to_item(schedule_key(schedule_id)),
                         UpdateExpression="REMOVE creating", ConditionExpression="attribute_exists(pk)")


def delete_schedule(schedule_id: str) -> None:
    """Undo create_schedule when the Scheduler schedule could not be created (nothing half-written)."""
    client().delete_item(TableName=table(), Key=to_item(schedule_key(schedule_id)))


def list_schedules(organization_id: str, limit: int,
                   start_key: dict[str, Any] | None = None) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """An organization's schedules, newest first (ByOrganization index: never a scan).
    Returns (items, the key to continue from or None)."""
    args: dict[str, Any] = {
        "TableName": table(), "IndexName": BY_ORGANIZATION_INDEX,
        "KeyConditionExpression": "gsi1pk = :pk",
        "ExpressionAttributeValues": {":pk": {"S": SCHEDULES_GSI_PREFIX.format(organization_id=organization_id)}},
        "ScanIndexForward": False, "Limit": limit,
    }
    if start_key:
        args["ExclusiveStartKey"] = to_item(start_key)
    response = client().query(**args)
    items = [from_item(i) for i in response.get("Items", [])]
    last = from_item(response.get("LastEvaluatedKey"))
    return items, last


class ScheduleNotCancelable(Exception):
    """The schedule is not this organization's, unknown, or no longer scheduled. ``current`` is
    the item as it was (None when it does not exist)."""

    def __init__(self, current: dict[str, Any] | None):
        super().__init__("schedule not cancelable")
        self.current = current


def cancel_schedule(organization_id: str, schedule_id: str, reason: str | None = None) -> dict[str, Any]:
    """Mark the schedule canceled (conditional: only this organization's, only while scheduled),
    with ``reason`` when it was not the customer's DELETE (an opt-out). A fire that reads the
    schedule afterwards places no call."""
    now = now_iso()
    values = {":canceled": "canceled", ":now": now, ":org": organization_id, ":scheduled": "scheduled"}
    if reason:
        values[":why"] = reason
    try:
        response = client().update_item(
            TableName=table(), Key=to_item(schedule_key(schedule_id)),
            UpdateExpression="SET #s = :canceled, updated_at = :now, canceled_at = :now"
                             + (", canceled_reason = :why" if reason else ""),
            ConditionExpression="organization_id = :org AND #s = :scheduled",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues=to_item(values),
            ReturnValues="ALL_NEW", ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except client().exceptions.ConditionalCheckFailedException as exc:
        raise ScheduleNotCancelable(from_item(exc.response.get("Item"))) from None
    return from_item(response["Attributes"])


def record_fire_failure(record: dict[str, Any]) -> None:
    """Record a fire refused for good (a repeat of the same fire keeps the first record)."""
    try:
        client().put_item(
            TableName=table(), Item=to_item({**fire_failure_key(record["fire_id"]), **record}),
            ConditionExpression="attribute_not_exists(pk)",
        )
    except client().exceptions.ConditionalCheckFailedException:
        pass


def fire_id_for(schedule_id: str, scheduled_time: str) -> str:
    """The id of one fire of a schedule: the same for every delivery of that fire."""
    return hashlib.sha256(f"{schedule_id}|{scheduled_time}".encode()).hexdigest()[:24]
