"""Integer aliases: a stable integer for each call, campaign, contact and organization, for the
clients that hold ids as integers (Burki's SDK; see outbound.burki).

An alias is a random integer in [1, 2**53) (exact in JavaScript's numbers too), kept on the entity
(``int_id``) and made unique by an ``INTID#<kind>#<n>`` item (store.keys.int_id_key) written with
``attribute_not_exists`` in the SAME transaction as the entity's own write:

- a call's in its reserve transaction (``alias_put``, used by store.calls.reserve_and_create_call):
  the alias costs no round trip on the call path, and no counter item every call would contend on;
- every other entity's the first time it is shown through the facade (``assign``, one transaction
  per 25 entities), and an older call's too.

A number is taken by one entity only (two concurrent assignments: one wins the item's condition, the
other retries with a new number), and its item, which also gives the lookup from the integer back
to the entity (``find``), is never deleted: no number is ever given twice, even after its entity
is gone. A collision costs one more transaction; with random 53-bit numbers it is rare (one in
90 million after a hundred million aliases).
"""
from __future__ import annotations

import secrets
from typing import Any

from ..dynamodb_json import from_item, to_item
from .base import client, get_item, table
from .keys import int_id_key

LIMIT = 2**53
KINDS = ("call", "campaign", "contact", "organization")
BATCH = 25  # entities per transaction: two items each, under DynamoDB's 100


def new_int_id() -> int:
    return 1 + secrets.randbelow(LIMIT - 1)


def alias_put(kind: str, number: int, target: str, organization_id: str) -> dict[str, Any]:
    """The TransactWriteItems entry that takes ``number`` for ``target`` (fails if it is taken)."""
    return {"Put": {"TableName": table(), "ConditionExpression": "attribute_not_exists(pk)",
                    "Item": to_item({**int_id_key(kind, number), "kind": kind, "target": target,
                                     "organization_id": organization_id})}}


def find(kind: str, number: int) -> dict[str, Any] | None:
    """What ``number`` stands for: ``{"target", "organization_id"}``, or None."""
    if not 0 < number < LIMIT:
        return None
    return get_item(int_id_key(kind, number))


def assign(kind: str, key: dict[str, str], target: str, organization_id: str) -> int | None:
    """The alias of the entity at ``key`` (``target``: its own id): the one it has, else a new one.
    None when the entity does not exist."""
    return assign_many(kind, [(key, target)], organization_id).get(target)


def assign_many(kind: str, entities: list[tuple[dict[str, str], str]], organization_id: str) -> dict[str, int]:
    """Aliases for entities that have none yet (``(key, target)`` each): one transaction per
    ``BATCH`` entities; when one of them was given an alias meanwhile (or a number collided), that
    batch is done again entity by entity. Returns target -> alias (gone entities left out)."""
    found: dict[str, int] = {}
    for start in range(0, len(entities), BATCH):
        batch = entities[start:start + BATCH]
        numbers = [new_int_id() for _ in batch]
        items = [item for (key, target), number in zip(batch, numbers)
                 for item in _alias_items(kind, key, target, number, organization_id)]
        try:
            client().transact_write_items(TransactItems=items)
        except client().exceptions.TransactionCanceledException:
            for key, target in batch:
                number = _assign_one(kind, key, target, organization_id)
                if number is not None:
                    found[target] = number
            continue
        found.update({target: number for (_, target), number in zip(batch, numbers)})
    return found


def _alias_items(kind: str, key: dict[str, str], target: str, number: int,
                 organization_id: str) -> list[dict[str, Any]]:
    return [alias_put(kind, number, target, organization_id),
            {"Update": {"TableName": table(), "Key": to_item(key), "UpdateExpression": "SET int_id = :n",
                        "ConditionExpression": "attribute_exists(pk) AND attribute_not_exists(int_id)",
                        "ExpressionAttributeValues": to_item({":n": number}),
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}}]


def _assign_one(kind: str, key: dict[str, str], target: str, organization_id: str, tries: int = 5) -> int | None:
    for _ in range(tries):
        number = new_int_id()
        try:
            client().transact_write_items(TransactItems=_alias_items(kind, key, target, number, organization_id))
            return number
        except client().exceptions.TransactionCanceledException as exc:
            reasons = exc.response.get("CancellationReasons") or []
            if len(reasons) > 1 and reasons[1].get("Code") == "ConditionalCheckFailed":
                current = from_item(reasons[1].get("Item")) or {}
                return int(current["int_id"]) if "int_id" in current else None  # aliased meanwhile, or gone
            if not (reasons and reasons[0].get("Code") == "ConditionalCheckFailed"):
                raise  # a conflict or throttling: the request fails and may be retried
            # else the number was taken: another one
    raise RuntimeError(f"no free integer alias for {kind} {target} in {tries} tries")
