"""The reads of a campaign's dry run (outbound.campaigns.preview): its contacts, a Query page at
a time with only the attributes a verdict needs, and their recipients' frequency counters. Reads
only: a preview writes nothing."""
from __future__ import annotations

from typing import Any, Iterator

from ..dynamodb_json import from_item, to_item
from .base import client, get_items, table
from .keys import CONTACT_PREFIX, campaign_partition, dial_counter_key

# What a contact's verdict needs (the rest of the item, variables and metadata, stays unread).
PREVIEW_ATTRIBUTES = ("pk", "sk", "contact_id", "phone_number", "#tz", "#st", "attempts", "consent",
                      "next_attempt_at", "external_id",
                      "final_reason")


def contact_pages(campaign_id: str, start_key: dict[str, Any] | None = None,
                  page_size: int | None = None) -> Iterator[tuple[list[dict[str, Any]], bool]]:
    """The campaign's contacts in key order, one Query page at a time (never a Scan), each with
    whether another page follows; without ``page_size``, DynamoDB's own pages (1 MB each: some
    5,000 contacts' projected attributes)."""
    request: dict[str, Any] = {
        "TableName": table(), "KeyConditionExpression": "pk = :pk AND begins_with(sk, :k)",
        "ProjectionExpression": ", ".join(PREVIEW_ATTRIBUTES),
        "ExpressionAttributeNames": {"#tz": "timezone", "#st": "status"},
        "ExpressionAttributeValues": to_item({":pk": campaign_partition(campaign_id), ":k": CONTACT_PREFIX})}
    if page_size:
        request["Limit"] = page_size
    if start_key:
        request["ExclusiveStartKey"] = to_item(start_key)
    while True:
        page = client().query(**request)
        yield [from_item(item) for item in page.get("Items", [])], bool(page.get("LastEvaluatedKey"))
        if not page.get("LastEvaluatedKey"):
            return
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def dial_counters(organization_id: str, numbers: list[str]) -> dict[str, dict[str, Any]]:
    """The frequency counter of each number that has one (BatchGetItem, 100 keys per call)."""
    unique = list(dict.fromkeys(numbers))
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(unique), 100):
        keys = {tuple(dial_counter_key(organization_id, n).values()): n for n in unique[start:start + 100]}
        for key, item in get_items(dict(zip(("pk", "sk"), k)) for k in keys).items():
            found[keys[key]] = item
    return found
