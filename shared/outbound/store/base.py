"""The table, its client and the reads every entity shares."""
from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any, Iterable

from .. import aws
from ..config import settings
from ..dynamodb_json import from_item, to_item
from ..errors import AwsUnavailable

# BatchGetItem leaves keys unprocessed when the table is throttled: asked again after a short
# back-off, at most this many times in all (like the SDK's own retries), then the request is a
# 503 rather than a loop until the function times out.
BATCH_GET_ATTEMPTS = 3
BATCH_GET_BACKOFF_S = 0.05


def client():
    return aws.client("dynamodb")


def table() -> str:
    return settings().table_name


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")



def _key_id(key: dict[str, str]) -> tuple[str, str]:
    return key["pk"], key["sk"]


# --- reads ------------------------------------------------------------------------------------

def get_items(keys: Iterable[dict[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
    """One BatchGetItem (plus retries of unprocessed keys) -> {(pk, sk): item}."""
    unique = {_key_id(k): k for k in keys}
    if not unique:
        return {}
    found: dict[tuple[str, str], dict[str, Any]] = {}
    request = {table(): {"Keys": [to_item(k) for k in unique.values()], "ConsistentRead": True}}
    for attempt in range(BATCH_GET_ATTEMPTS):
        if attempt:
            time.sleep(BATCH_GET_BACKOFF_S * 2 ** (attempt - 1))
        response = client().batch_get_item(RequestItems=request)
        for item in response["Responses"].get(table(), []):
            data = from_item(item)
            found[(data["pk"], data["sk"])] = data
        request = response.get("UnprocessedKeys") or {}
        if not request:
            return found
    raise AwsUnavailable(f"BatchGetItem left keys unprocessed after {BATCH_GET_ATTEMPTS} attempts (throttled)")


def failed_condition(exc: Exception, index: int = 0) -> bool:
    """Whether a canceled transaction failed the condition of its item ``index``, as opposed to a
    conflict with another transaction, throttling or a validation error (worth another try)."""
    reasons = getattr(exc, "response", {}).get("CancellationReasons") or []
    return len(reasons) > index and reasons[index].get("Code") == "ConditionalCheckFailed"


def query_all(**request: Any) -> list[dict[str, Any]]:
    """Every item a Query matches, page after page (for reads bounded by design, or off the
    request path: listing an organization's keys, reconcile)."""
    items: list[dict[str, Any]] = []
    while True:
        page = client().query(**request)
        items += [from_item(item) for item in page.get("Items", [])]
        if not page.get("LastEvaluatedKey"):
            return items
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def get_item(key: dict[str, str]) -> dict[str, Any] | None:
    response = client().get_item(TableName=table(), Key=to_item(key), ConsistentRead=True)
    return from_item(response.get("Item"))
