"""An organization's calls matching filters (statuses, assistant, destination, creation time,
answered seconds), newest first, by offset: what Burki's SDK asks (``skip``/``limit``). One Query
of the ByOrganization index per page, the creation range in its key condition (``gsi1sk`` starts
with ``created_at``), the other filters applied by DynamoDB; never a Scan. Reads are bounded: a
search that would read more than ``max_pages`` pages is refused (SearchTooWide)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..dynamodb_json import from_item, to_item
from .base import client, table
from .keys import BY_ORGANIZATION_INDEX, organization_calls_partition

MAX_PAGES = 20  # a page is up to 1 MB of calls


class SearchTooWide(Exception):
    """More calls to read than a request may: narrow the search (dates, status)."""


@dataclass(frozen=True)
class CallFilter:
    statuses: tuple[str, ...] = ()
    assistant_id: int | None = None
    to_number: str | None = None
    created_from: str | None = None  # ISO 8601 as created_at is written (UTC, "Z")
    created_to: str | None = None  # inclusive
    min_duration: int | None = None
    max_duration: int | None = None


def _query(organization_id: str, found: CallFilter) -> dict[str, Any]:
    values: dict[str, Any] = {":pk": organization_calls_partition(organization_id)}
    key = "gsi1pk = :pk"
    if found.created_from:
        values[":from"] = found.created_from
    if found.created_to:
        values[":to"] = found.created_to + "~"  # "~" sorts after "#<call_id>": that whole millisecond
    if found.created_from and found.created_to:
        key += " AND gsi1sk BETWEEN :from AND :to"
    elif found.created_from or found.created_to:
        key += " AND gsi1sk >= :from" if found.created_from else " AND gsi1sk <= :to"
    names: dict[str, str] = {}
    filters = []
    if found.statuses:
        names["#s"] = "status"
        values.update({f":s{i}": s for i, s in enumerate(found.statuses)})
        filters.append(f"#s IN ({', '.join(f':s{i}' for i in range(len(found.statuses)))})")
    for name, attribute, operator in (("assistant_id", "assistant_id", "="), ("to_number", "to_phone_number", "="),
                                      ("min_duration", "duration_seconds", ">="),
                                      ("max_duration", "duration_seconds", "<=")):
        value = getattr(found, name)
        if value is not None:
            values[f":{name}"] = value
            filters.append(f"{attribute} {operator} :{name}")
    query: dict[str, Any] = {"TableName": table(), "IndexName": BY_ORGANIZATION_INDEX, "KeyConditionExpression": key,
                             "ScanIndexForward": False, "ExpressionAttributeValues": to_item(values)}
    if filters:
        query["FilterExpression"] = " AND ".join(filters)
    if names:
        query["ExpressionAttributeNames"] = names
    return query


def search_calls(organization_id: str, found: CallFilter, skip: int, limit: int,
                 max_pages: int = MAX_PAGES) -> list[dict[str, Any]]:
    """The matches ``skip`` to ``skip + limit``, newest first."""
    query, matches, start = _query(organization_id, found), [], None
    for _ in range(max_pages):
        page = client().query(**query, **({"ExclusiveStartKey": start} if start else {}))
        matches += [from_item(item) for item in page.get("Items", [])]
        start = page.get("LastEvaluatedKey")
        if len(matches) >= skip + limit or not start:
            return matches[skip:skip + limit]
    raise SearchTooWide()


def count_calls(organization_id: str, found: CallFilter, max_pages: int = MAX_PAGES) -> int:
    query, count, start = {**_query(organization_id, found), "Select": "COUNT"}, 0, None
    for _ in range(max_pages):
        page = client().query(**query, **({"ExclusiveStartKey": start} if start else {}))
        count += int(page.get("Count", 0))
        start = page.get("LastEvaluatedKey")
        if not start:
            return count
    raise SearchTooWide()
