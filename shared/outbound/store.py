"""Every DynamoDB key, query and write of the service (single-table design).

| entity        | pk                    | sk          | notes                                     |
|---------------|-----------------------|-------------|-------------------------------------------|
| organization  | ORG#<id>              | ORG         | balance_cents, reserved_cents, available_cents, sip_trunks |
| API key       | APIKEY#<sha256(key)>  | APIKEY      | organization_id, revoked                  |
| assistant     | ASSISTANT#<id>        | ASSISTANT   | organization_id, welcome_message, agenda  |
| graph         | GRAPH#<id>            | GRAPH       | organization_id, entry_assistant_id       |
| phone number  | PHONE#<e164>          | PHONE       | organization_id, provider, assistant_id or graph_id (+ entry hint) |
| call          | CALL#<call_id>        | CALL        | gsi1 (org calls by time), call_sid (index ByCallSid) |

``available_cents`` is kept equal to ``balance_cents - reserved_cents`` by every write, because a
DynamoDB condition cannot do arithmetic: the reserve's condition is ``available_cents >= :r``.
"""
from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from typing import Any, Iterable

from . import aws
from .config import settings
from .dynamodb_json import from_item, to_item

BY_ORGANIZATION_INDEX = "ByOrganization"
BY_CALL_SID_INDEX = "ByCallSid"


def client():
    return aws.client("dynamodb")


def table() -> str:
    return settings().table_name


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --- keys -------------------------------------------------------------------------------------

def organization_key(organization_id: str) -> dict[str, str]:
    return {"pk": f"ORG#{organization_id}", "sk": "ORG"}


def api_key_key(key_hash: str) -> dict[str, str]:
    return {"pk": f"APIKEY#{key_hash}", "sk": "APIKEY"}


def assistant_key(assistant_id: int) -> dict[str, str]:
    return {"pk": f"ASSISTANT#{assistant_id}", "sk": "ASSISTANT"}


def graph_key(graph_id: int) -> dict[str, str]:
    return {"pk": f"GRAPH#{graph_id}", "sk": "GRAPH"}


def phone_number_key(number: str) -> dict[str, str]:
    return {"pk": f"PHONE#{number}", "sk": "PHONE"}


def call_key(call_id: str) -> dict[str, str]:
    return {"pk": f"CALL#{call_id}", "sk": "CALL"}


def hash_api_key(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


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
    while request:
        response = client().batch_get_item(RequestItems=request)
        for item in response["Responses"].get(table(), []):
            data = from_item(item)
            found[(data["pk"], data["sk"])] = data
        request = response.get("UnprocessedKeys") or {}
    return found


def get_item(key: dict[str, str]) -> dict[str, Any] | None:
    response = client().get_item(TableName=table(), Key=to_item(key), ConsistentRead=True)
    return from_item(response.get("Item"))


def organization_for_api_key(api_key: str) -> str | None:
    item = get_item(api_key_key(hash_api_key(api_key)))
    if not item or item.get("revoked"):
        return None
    return item["organization_id"]


def find_call(organization_id: str, call_ref: str) -> dict[str, Any] | None:
    """A call of this organization by our call_id or the provider's call_sid; None otherwise
    (another organization's call is indistinguishable from an unknown one)."""
    item = get_item(call_key(call_ref)) if call_ref.startswith("call_") else None
    if item is None:
        response = client().query(
            TableName=table(), IndexName=BY_CALL_SID_INDEX,
            KeyConditionExpression="call_sid = :sid",
            ExpressionAttributeValues={":sid": {"S": call_ref}}, Limit=5,
        )
        matches = [from_item(i) for i in response.get("Items", [])]
        item = next((m for m in matches if m["organization_id"] == organization_id), None)
    if item is None or item.get("organization_id") != organization_id:
        return None
    return item


# --- call lifecycle writes --------------------------------------------------------------------

class ReserveRefused(Exception):
    """The organization's available balance does not cover the reserve."""


def reserve_and_create_call(record: dict[str, Any], reserve_cents: int) -> None:
    """Hold the reserve and create the call record in ONE transaction: neither exists without
    the other, and concurrent calls can never overdraw (the condition is checked atomically)."""
    org_key = organization_key(record["organization_id"])
    try:
        client().transact_write_items(TransactItems=[
            {"Update": {
                "TableName": table(), "Key": to_item(org_key),
                "UpdateExpression": "SET reserved_cents = reserved_cents + :r, "
                                    "available_cents = available_cents - :r",
                "ConditionExpression": "available_cents >= :r",
                "ExpressionAttributeValues": to_item({":r": reserve_cents}),
            }},
            {"Put": {
                "TableName": table(), "Item": to_item({**call_key(record["call_id"]), **record}),
                "ConditionExpression": "attribute_not_exists(pk)",
            }},
        ])
    except client().exceptions.TransactionCanceledException as exc:
        reasons = exc.response.get("CancellationReasons") or []
        if reasons and reasons[0].get("Code") == "ConditionalCheckFailed":
            raise ReserveRefused() from None
        raise


def mark_call_placed(call_id: str, call_sid: str, status: str = "queued") -> str:
    """Record the provider's call id; only a call still initiating moves (webhooks may be first)."""
    updated_at = now_iso()
    try:
        client().update_item(
            TableName=table(), Key=to_item(call_key(call_id)),
            UpdateExpression="SET call_sid = :sid, #s = :status, updated_at = :now",
            ConditionExpression="#s = :initiating",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues=to_item({":sid": call_sid, ":status": status, ":now": updated_at,
                                               ":initiating": "initiating"}),
        )
    except client().exceptions.ConditionalCheckFailedException:
        # A status webhook got there first: keep its status, only fill in the call id.
        client().update_item(
            TableName=table(), Key=to_item(call_key(call_id)),
            UpdateExpression="SET call_sid = :sid, updated_at = :now",
            ExpressionAttributeValues=to_item({":sid": call_sid, ":now": updated_at}),
        )
    return updated_at


def fail_call_and_release(call_id: str, organization_id: str, reserve_cents: int, reason: str) -> str:
    """The provider refused: mark the record failed and give the reserve back, atomically and
    at most once (the record's status condition makes a repeat a no-op)."""
    updated_at = now_iso()
    try:
        client().transact_write_items(TransactItems=[
            {"Update": {
                "TableName": table(), "Key": to_item(call_key(call_id)),
                "UpdateExpression": "SET #s = :failed, failure_reason = :reason, updated_at = :now, "
                                    "reserve_cents = :zero",
                "ConditionExpression": "#s = :initiating",
                "ExpressionAttributeNames": {"#s": "status"},
                "ExpressionAttributeValues": to_item({":failed": "failed", ":reason": reason[:500],
                                                      ":now": updated_at, ":zero": 0,
                                                      ":initiating": "initiating"}),
            }},
            {"Update": {
                "TableName": table(), "Key": to_item(organization_key(organization_id)),
                "UpdateExpression": "SET reserved_cents = reserved_cents - :r, "
                                    "available_cents = available_cents + :r",
                "ExpressionAttributeValues": to_item({":r": reserve_cents}),
            }},
        ])
    except client().exceptions.TransactionCanceledException:
        pass  # already settled by someone else: releasing twice would mint money
    return updated_at


def mark_call_unconfirmed(call_id: str, reason: str) -> str:
    """The provider did not answer in time: the call may exist. Keep the reserve; the status
    webhook (which carries our call_id) reconciles the record."""
    updated_at = now_iso()
    try:
        client().update_item(
            TableName=table(), Key=to_item(call_key(call_id)),
            UpdateExpression="SET #s = :unconfirmed, failure_reason = :reason, updated_at = :now",
            ConditionExpression="#s = :initiating",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues=to_item({":unconfirmed": "unconfirmed", ":reason": reason[:500],
                                               ":now": updated_at, ":initiating": "initiating"}),
        )
    except client().exceptions.ConditionalCheckFailedException:
        pass  # a webhook already told us what happened
    return updated_at


# --- administration (seed, api-key create) ----------------------------------------------------

def put_item(data: dict[str, Any]) -> None:
    client().put_item(TableName=table(), Item=to_item(data))
