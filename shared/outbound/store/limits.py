"""Caps on how many of something an organization may have (keys: store.keys.limit_counter_key).

A cap is checked by the write itself, never by a count read before it: the create's Put and the
counter's ``ADD in_use 1`` under ``in_use < :cap`` are one transaction, and a delete's Delete and
``ADD in_use -1`` are another, so however many requests race, DynamoDB admits exactly the slots
that are free.

An organization whose items predate its counter (written by an earlier version) gets the counter
from a strongly consistent count of them, put only if no counter exists yet. That count is exact:
every create and delete needs the counter in its transaction, so until a counter exists nothing
is created or deleted, and of two requests that both counted, the second put finds the first's
counter and is discarded.
"""
from __future__ import annotations

import random
import time
from typing import Any, Callable

from ..dynamodb_json import from_item, to_item
from .base import client, get_item, table
from .keys import limit_counter_key

CONFLICT_RETRIES = 6  # a transaction canceled by a concurrent one on the counter is tried again


class LimitReached(Exception):
    pass


class LimitBusy(Exception):
    """Concurrent changes kept canceling this one (DynamoDB's TransactionConflict): try later."""


class NotThere(Exception):
    """A counted delete found no item to delete."""


def create_counted(organization_id: str, limit: str, cap: int, put: dict[str, Any],
                   count_existing: Callable[[], int]) -> None:
    """``put``: a TransactWriteItems Put (its own condition included). LimitReached when the
    organization has ``cap`` already."""
    counter = {"Update": {
        "TableName": table(), "Key": to_item(limit_counter_key(organization_id, limit)),
        "UpdateExpression": "ADD in_use :one", "ConditionExpression": "in_use < :cap",
        "ExpressionAttributeValues": to_item({":one": 1, ":cap": cap}),
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}}
    for attempt in range(CONFLICT_RETRIES):
        try:
            client().transact_write_items(TransactItems=[counter, {"Put": put}])
            return
        except client().exceptions.TransactionCanceledException as exc:
            reasons = _reasons(exc, 2)
            if reasons[0] == "ConditionalCheckFailed":
                if "in_use" in (from_item(exc.response["CancellationReasons"][0].get("Item")) or {}):
                    raise LimitReached(limit) from None
                start_counter(organization_id, limit, count_existing)  # none yet: an organization from before it
            elif _only_conflicts(reasons):
                _pause(attempt)
            else:
                raise
    raise LimitBusy(limit)


def delete_counted(organization_id: str, limit: str, delete: dict[str, Any],
                   count_existing: Callable[[], int]) -> None:
    """``delete``: a TransactWriteItems Delete; NotThere when its item does not exist."""
    delete = {**delete, "ConditionExpression": "attribute_exists(pk)"}
    counter = {"Update": {
        "TableName": table(), "Key": to_item(limit_counter_key(organization_id, limit)),
        "UpdateExpression": "ADD in_use :minus_one", "ConditionExpression": "attribute_exists(in_use)",
        "ExpressionAttributeValues": to_item({":minus_one": -1})}}
    for attempt in range(CONFLICT_RETRIES):
        try:
            client().transact_write_items(TransactItems=[{"Delete": delete}, counter])
            return
        except client().exceptions.TransactionCanceledException as exc:
            reasons = _reasons(exc, 2)
            if reasons[0] == "ConditionalCheckFailed":
                raise NotThere() from None
            if reasons[1] == "ConditionalCheckFailed":
                start_counter(organization_id, limit, count_existing)  # none yet: an organization from before it
            elif _only_conflicts(reasons):
                _pause(attempt)
            else:
                raise
    raise LimitBusy(limit)


def start_counter(organization_id: str, limit: str, count_existing: Callable[[], int]) -> None:
    """The counter of an organization that has none, from a count of what exists (exact: see
    the module's note). A counter that exists already is left as it is."""
    item = {**limit_counter_key(organization_id, limit), "in_use": count_existing()}
    try:
        client().put_item(TableName=table(), Item=to_item(item), ConditionExpression="attribute_not_exists(pk)")
    except client().exceptions.ConditionalCheckFailedException:
        pass  # another request started it


def in_use(organization_id: str, limit: str) -> int | None:
    """The counter's value (None before it exists): for an early refusal that spares work, never
    as the check itself."""
    item = get_item(limit_counter_key(organization_id, limit))
    return None if item is None else int(item["in_use"])


def _reasons(exc: Exception, items: int) -> list[str]:
    """The cancellation reason's code of each item, in order ("None": that item was fine)."""
    reasons = getattr(exc, "response", {}).get("CancellationReasons") or []
    codes = [str(r.get("Code") or "None") for r in reasons]
    return codes + ["Unknown"] * (items - len(codes))


def _only_conflicts(reasons: list[str]) -> bool:
    """Canceled by a concurrent transaction on one of its items, nothing else: worth another try."""
    return set(reasons) - {"None", "Unknown"} == {"TransactionConflict"}


def _pause(attempt: int) -> None:
    time.sleep(random.uniform(0, 0.05 * 2 ** attempt))  # full jitter: the racers spread out
