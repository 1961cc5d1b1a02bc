"""The reads of a campaign's dry run (outbound.campaigns.preview): its contacts, a Query page at
a time with only the attributes a verdict needs, and their recipients' frequency counters. Reads
only: a preview writes nothing."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any, Iterator

from ..dynamodb_json import from_item, to_item
from .base import client, get_items, table
from .keys import CONTACT_PREFIX, campaign_partition, dial_counter_key, suppression_key

PARALLEL_READS = 8  # BatchGetItems in flight at once
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


def recipients(organization_id: str, numbers: list[str]) -> tuple[set[str], dict[str, dict[str, Any]]]:
    """Which numbers are on the do-not-call list, and each number's frequency counter (those that
    have one): BatchGetItems of 100 keys, several at once (a page of 1,000 contacts is 20 of
    them; in sequence they would cost more than the Query itself)."""
    unique = list(dict.fromkeys(numbers))
    keys = {}
    for number in unique:
        keys[tuple(suppression_key(organization_id, number).values())] = ("suppressed", number)
        keys[tuple(dial_counter_key(organization_id, number).values())] = ("counter", number)
    ordered = list(keys)
    chunks = [ordered[i:i + 100] for i in range(0, len(ordered), 100)]
    with ThreadPoolExecutor(max_workers=PARALLEL_READS) as pool:
        found = pool.map(lambda chunk: get_items(dict(zip(("pk", "sk"), key)) for key in chunk), chunks)
    suppressed: set[str] = set()
    counters: dict[str, dict[str, Any]] = {}
    for items in found:
        for key, item in items.items():
            kind, number = keys[key]
            if kind == "suppressed":
                suppressed.add(number)
            else:
                counters[number] = item
    return suppressed, counters
