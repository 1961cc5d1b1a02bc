"""A campaign's calls, read for its statistics (GET /campaigns/{id}/stats).

Its attempts are ordinary call records in the organization's ByOrganization partition, which sorts
them by creation: one Query from the campaign's creation on, newest first, filtered to the
campaign and projected to the few fields the statistics need. Bounded: at most ``max_calls``
calls and ``max_reads`` pages (1 MB each), so a campaign of 100,000 attempts costs the same as one
of 5,000 (the newest are read, and the answer says it is not complete)."""
from __future__ import annotations

from typing import Any

from ..dynamodb_json import from_item, to_item
from .base import client, table
from .keys import BY_ORGANIZATION_INDEX, organization_calls_partition

STATS_FIELDS = ("call_id", "status", "created_at", "answered_at", "ended_at", "settled_at", "recipient_timezone",
                "attempt", "duration_seconds", "charged_cents")


def campaign_calls(organization_id: str, campaign_id: str, since: str, max_calls: int = 5000,
                   max_reads: int = 10) -> tuple[list[dict[str, Any]], bool]:
    """(the campaign's calls created since ``since``, newest first; whether that is all of them)."""
    names = {f"#p{i}": name for i, name in enumerate(STATS_FIELDS)}
    request: dict[str, Any] = {
        "TableName": table(), "IndexName": BY_ORGANIZATION_INDEX, "ScanIndexForward": False,
        "KeyConditionExpression": "gsi1pk = :pk AND gsi1sk >= :since", "FilterExpression": "campaign_id = :c",
        "ProjectionExpression": ", ".join(names), "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": to_item({":pk": organization_calls_partition(organization_id),
                                              ":since": since, ":c": campaign_id})}
    found: list[dict[str, Any]] = []
    for _ in range(max_reads):
        page = client().query(**request)
        found += [from_item(item) for item in page.get("Items", [])]
        if len(found) >= max_calls:
            return found[:max_calls], False
        if not page.get("LastEvaluatedKey"):
            return found, True
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return found, False
