"""Compliance items (keys: store.keys): the frequency counter, the evidence of each dial, and the
organization's calling rules.

The counter is one item per organization and recipient. Each dial is an attribute of its own,
``d_<call_id>`` = when, so dials that need no check (the organization's rules off for that path)
are added without a condition and never conflict, while a dial the caps apply to is written on
condition that the item's ``version`` is still the one it was judged on: of 20 concurrent dials
to one number, only as many as the cap allows can commit; the others find the counter moved
(``DialCounterMoved``, with the item as it now is) and are judged again. Every write removes the
dials older than 7 days (the longest period a cap counts) it saw, and keeps at most KEEP_DIALS.
Both the counter's update and the evidence record ride in the reserve's TransactWriteItems
(store.calls.reserve_and_create_call): no round trip of their own.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Iterable

from ..dynamodb_json import from_item, to_item
from .base import client, get_items, query_all, table
from .keys import (
    DIAL_EVIDENCE_SK,
    dial_counter_key,
    dial_evidence_key,
    evidence_partition,
    organization_key,
)

DIAL_PREFIX = "d_"
KEEP_DIALS = 100  # the highest 7-day cap the API accepts: older dials can never decide a verdict
COUNT_FOR = timedelta(days=7)
COUNTER_TTL = timedelta(days=8)


class DialCounterMoved(Exception):
    """The reserve transaction was refused because the counter changed since it was read;
    ``current`` is the item as it is now (None: a transaction conflict, read it again)."""

    def __init__(self, current: dict[str, Any] | None):
        super().__init__("the dial counter moved")
        self.current = current


def _parse(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def dials_in(counter: dict[str, Any] | None) -> dict[str, datetime]:
    """The counter's dials: attribute name -> when."""
    found = {}
    for name, value in (counter or {}).items():
        if name.startswith(DIAL_PREFIX) and (at := _parse(value)) is not None:
            found[name] = at
    return found


def recent_dials(counter: dict[str, Any] | None) -> list[datetime]:
    return sorted(dials_in(counter).values())


def counter_update(organization_id: str, number: str, call_id: str, at: datetime,
                   read: dict[str, Any] | None, conditional: bool) -> dict[str, Any]:
    """The counter's part of the reserve transaction: this dial added, stale ones removed; with
    ``conditional``, only if the counter is still as ``read`` (absent: still absent)."""
    own = DIAL_PREFIX + call_id
    dials = sorted(((when, name) for name, when in dials_in(read).items() if name != own), reverse=True)
    stale = [name for i, (when, name) in enumerate(dials) if when <= at - COUNT_FOR or i >= KEEP_DIALS - 1]
    names = {"#d": own, **{f"#r{i}": name for i, name in enumerate(stale)}}
    values = {":at": at.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
              ":exp": int((at + COUNTER_TTL).timestamp()), ":org": organization_id, ":one": 1}
    expression = "SET #d = :at, expires_at = :exp, organization_id = :org ADD version :one"
    if stale:
        expression += " REMOVE " + ", ".join(f"#r{i}" for i in range(len(stale)))
    update: dict[str, Any] = {"TableName": table(), "Key": to_item(dial_counter_key(organization_id, number)),
                              "UpdateExpression": expression, "ExpressionAttributeNames": names}
    if conditional:
        if read is None:
            update["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            update["ConditionExpression"] = "version = :read"
            values[":read"] = read.get("version", 0)
        update["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
    update["ExpressionAttributeValues"] = to_item(values)
    return {"Update": update}


def evidence_put(item: dict[str, Any]) -> dict[str, Any]:
    """An evidence record's part of a transaction: written once, never over another."""
    return {"Put": {"TableName": table(), "Item": to_item(item), "ConditionExpression": "attribute_not_exists(pk)"}}


def put_evidence(item: dict[str, Any]) -> bool:
    """A refusal's evidence (no reserve transaction to ride in): one conditional PutItem. False
    when a record with this key exists already (a repeated delivery of the same refusal)."""
    try:
        client().put_item(**evidence_put(item)["Put"])
        return True
    except client().exceptions.ConditionalCheckFailedException:
        return False


def evidence_of_call(call_id: str) -> list[dict[str, Any]]:
    """Every evidence record of one call id, oldest first (refusals before the dial)."""
    items = query_all(TableName=table(), KeyConditionExpression="pk = :pk", ConsistentRead=True,
                      ExpressionAttributeValues={":pk": {"S": evidence_partition(call_id)}})
    return sorted(items, key=lambda i: (i.get("recorded_at") or "", i["sk"]))


def dial_evidence_of(call_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The dial evidence of each call id that has one (BatchGetItem, 100 keys per call)."""
    unique = list(dict.fromkeys(call_ids))
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(unique), 100):
        for (pk, sk), item in get_items(dial_evidence_key(c) for c in unique[start:start + 100]).items():
            if sk == DIAL_EVIDENCE_SK:
                found[pk.removeprefix("EVIDENCE#")] = item
    return found


class RulesChanged(Exception):
    """The calling rules changed since they were read (another update won): read them again."""


def set_calling_rules(organization_id: str, stored: dict[str, Any], read_version: int) -> None:
    """Replace the organization's calling rules (only that attribute: never money), if their
    version is still ``read_version``."""
    try:
        client().update_item(
            TableName=table(), Key=to_item(organization_key(organization_id)),
            UpdateExpression="SET calling_rules = :rules",
            ConditionExpression="attribute_exists(pk) AND (attribute_not_exists(calling_rules) OR "
                                "calling_rules.version = :read)" if read_version else
                                "attribute_exists(pk) AND attribute_not_exists(calling_rules.version)",
            ExpressionAttributeValues=to_item({":rules": stored, **({":read": read_version} if read_version else {})}))
    except client().exceptions.ConditionalCheckFailedException:
        raise RulesChanged() from None


class PreDialCheckMissing(Exception):
    """The organization has no pre-dial check (or the organization is gone)."""


class PreDialCheckChanged(Exception):
    """The pre-dial check was registered or replaced by another request meanwhile."""


def set_pre_dial_check(organization_id: str, config: dict[str, Any], replacing: str | None) -> None:
    """Register (``replacing`` None: none may exist) or replace the check whose id is ``replacing``
    (only that attribute of the organization item)."""
    condition = ("attribute_exists(pk) AND pre_dial_check.id = :id" if replacing
                 else "attribute_exists(pk) AND attribute_not_exists(pre_dial_check)")
    try:
        client().update_item(
            TableName=table(), Key=to_item(organization_key(organization_id)),
            UpdateExpression="SET pre_dial_check = :check", ConditionExpression=condition,
            ExpressionAttributeValues=to_item({":check": config, **({":id": replacing} if replacing else {})}))
    except client().exceptions.ConditionalCheckFailedException:
        raise PreDialCheckChanged() from None


def remove_pre_dial_check(organization_id: str) -> dict[str, Any]:
    """Remove it; returns what was registered (PreDialCheckMissing when nothing was)."""
    try:
        answer = client().update_item(
            TableName=table(), Key=to_item(organization_key(organization_id)),
            UpdateExpression="REMOVE pre_dial_check", ConditionExpression="attribute_exists(pre_dial_check)",
            ReturnValues="ALL_OLD")
    except client().exceptions.ConditionalCheckFailedException:
        raise PreDialCheckMissing() from None
    return (from_item(answer.get("Attributes")) or {}).get("pre_dial_check") or {}


def from_reason(reason: dict[str, Any]) -> dict[str, Any] | None:
    return from_item(reason.get("Item"))
