"""The organization's do-not-call list (keys: store.keys). Initiate reads a destination's entry in
the BatchGetItem it already makes, so the check costs no round trip."""
from __future__ import annotations

from typing import Any

from ..dynamodb_json import from_item, to_item
from .base import client, get_items, table
from .keys import BY_ORGANIZATION_INDEX, suppression_key, suppressions_partition


def add_suppression(organization_id: str, number: str, reason: str | None, now: str) -> dict[str, Any]:
    """Idempotent: adding a suppressed number again keeps the first entry (and its date)."""
    item = {**suppression_key(organization_id, number), "organization_id": organization_id, "phone_number": number,
            "reason": reason, "created_at": now,
            "gsi1pk": suppressions_partition(organization_id), "gsi1sk": number}
    try:
        client().put_item(TableName=table(), Item=to_item(item), ConditionExpression="attribute_not_exists(pk)")
    except client().exceptions.ConditionalCheckFailedException:
        pass
    return item


def remove_suppression(organization_id: str, number: str) -> bool:
    """False when the number was not on the list."""
    response = client().delete_item(TableName=table(), Key=to_item(suppression_key(organization_id, number)),
                                    ReturnValues="ALL_OLD")
    return bool(response.get("Attributes"))


def list_suppressions(organization_id: str, limit: int, start_key: dict[str, Any] | None = None,
                      prefix: str | None = None) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """A page of the list, by number; ``prefix``: only the numbers that begin so (the index's sort
    key is the number, so this narrows the Query itself)."""
    args: dict[str, Any] = {"TableName": table(), "IndexName": BY_ORGANIZATION_INDEX, "Limit": limit,
                            "KeyConditionExpression": "gsi1pk = :pk",
                            "ExpressionAttributeValues": {":pk": {"S": suppressions_partition(organization_id)}}}
    if prefix:
        args["KeyConditionExpression"] += " AND begins_with(gsi1sk, :prefix)"
        args["ExpressionAttributeValues"][":prefix"] = {"S": prefix}
    if start_key:
        args["ExclusiveStartKey"] = to_item(start_key)
    response = client().query(**args)
    return [from_item(i) for i in response.get("Items", [])], from_item(response.get("LastEvaluatedKey"))


def suppressed_numbers(organization_id: str, numbers: list[str]) -> set[str]:
    """Which of ``numbers`` are on the list (BatchGetItem, 100 keys per call)."""
    found: set[str] = set()
    unique = list(dict.fromkeys(numbers))
    for start in range(0, len(unique), 100):
        items = get_items(suppression_key(organization_id, n) for n in unique[start:start + 100])
        found |= {item["phone_number"] for item in items.values()}
    return found
