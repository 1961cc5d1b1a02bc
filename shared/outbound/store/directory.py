"""What operators administer: organizations, phone numbers, assistants, graphs, SIP trunks and API
keys (``outbound admin``, ``outbound seed``). Used off the request path only.

Money is out of reach here: every write names the attributes it sets, and none of them may be
``balance_cents``, ``reserved_cents`` or ``available_cents`` (``MONEY_FIELDS``). A new
organization starts at zero; funds come only through ``ledger.credit_organization``, which writes
the ledger entry with the change.
"""
from __future__ import annotations

from typing import Any

from ..dynamodb_json import from_item, to_item
from .base import client, now_iso, query_all, table
from .keys import (BY_ORGANIZATION_INDEX, api_key_key, organization_api_keys_partition, organization_key)

MONEY_FIELDS = frozenset({"balance_cents", "reserved_cents", "available_cents"})
KEY_FIELDS = frozenset({"pk", "sk", "gsi1pk", "gsi1sk"})
API_KEY_PREFIX_CHARS = 14  # "sk_live_" and 6 more: enough to tell keys apart, far too few to guess one


class AlreadyExists(Exception):
    pass


class NotFound(Exception):
    pass


class OwnedByAnother(Exception):
    """The item exists and belongs to another organization: it is not moved."""

    def __init__(self, owner: str | None):
        super().__init__(f"it belongs to {owner}")
        self.owner = owner


def _check_fields(fields: dict[str, Any]) -> None:
    touched = (MONEY_FIELDS | KEY_FIELDS) & set(fields)
    if touched:
        raise ValueError(f"not an administrable field: {', '.join(sorted(touched))}")


# --- organizations --------------------------------------------------------------------------------

def create_organization(organization_id: str, fields: dict[str, Any]) -> dict[str, Any]:
    """A new organization with a zero balance (credit it to add funds). AlreadyExists if it does."""
    _check_fields(fields)
    item = {**organization_key(organization_id), **fields, "id": organization_id,
            "balance_cents": 0, "reserved_cents": 0, "available_cents": 0, "created_at": now_iso()}
    try:
        client().put_item(TableName=table(), Item=to_item(item), ConditionExpression="attribute_not_exists(pk)")
    except client().exceptions.ConditionalCheckFailedException:
        raise AlreadyExists(organization_id) from None
    return item


def update_fields(key: dict[str, str], changes: dict[str, Any], organization_id: str | None = None) -> dict[str, Any]:
    """Set (or, for None, remove) exactly the named attributes of an existing item, in one
    UpdateItem; with ``organization_id``, only if the item is that organization's. Returns the
    item as it is now. NotFound / OwnedByAnother otherwise."""
    _check_fields(changes)
    if not changes:
        raise ValueError("nothing to change")
    names, values, sets, removes = {}, {":now": now_iso()}, ["updated_at = :now"], []
    for i, (name, value) in enumerate(sorted(changes.items())):
        names[f"#f{i}"] = name
        if value is None:
            removes.append(f"#f{i}")
        else:
            values[f":f{i}"] = value
            sets.append(f"#f{i} = :f{i}")
    condition = "attribute_exists(pk)"
    if organization_id is not None:
        names["#org"] = "organization_id"
        values[":org"] = organization_id
        condition += " AND #org = :org"
    expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
    try:
        response = client().update_item(
            TableName=table(), Key=to_item(key), UpdateExpression=expression, ConditionExpression=condition,
            ExpressionAttributeNames=names, ExpressionAttributeValues=to_item(values),
            ReturnValues="ALL_NEW", ReturnValuesOnConditionCheckFailure="ALL_OLD")
    except client().exceptions.ConditionalCheckFailedException as exc:
        current = from_item(exc.response.get("Item"))
        if current is None:
            raise NotFound(key["pk"]) from None
        raise OwnedByAnother(current.get("organization_id")) from None
    return from_item(response["Attributes"])


def put_owned(item: dict[str, Any], create_only: bool = False) -> None:
    """Write a whole non-money item (assistant, graph, phone number) for ``item["organization_id"]``:
    a new one, or a replacement of that organization's own (never another organization's:
    OwnedByAnother; with ``create_only``, never an existing one: AlreadyExists)."""
    if MONEY_FIELDS & set(item):
        raise ValueError("a directory item carries no money")
    condition, values = "attribute_not_exists(pk)", {}
    if not create_only:
        condition += " OR organization_id = :org"
        values = {":org": item["organization_id"]}
    args = {"ExpressionAttributeValues": to_item(values)} if values else {}
    try:
        client().put_item(TableName=table(), Item=to_item({**item, "updated_at": now_iso()}),
                          ConditionExpression=condition, ReturnValuesOnConditionCheckFailure="ALL_OLD", **args)
    except client().exceptions.ConditionalCheckFailedException as exc:
        current = from_item(exc.response.get("Item")) or {}
        if create_only and current.get("organization_id") == item["organization_id"]:
            raise AlreadyExists(item["pk"]) from None
        raise OwnedByAnother(current.get("organization_id")) from None


def set_sip_trunks(organization_id: str, trunks: list[dict[str, Any]], expected: list[dict[str, Any]] | None) -> None:
    """Replace an organization's trunk list, only if it is still ``expected`` (what the caller read
    and changed): two operators editing trunks at once cannot lose each other's change."""
    values: dict[str, Any] = {":trunks": trunks, ":now": now_iso()}
    condition = "attribute_exists(pk) AND "
    if expected:
        condition += "sip_trunks = :expected"
        values[":expected"] = expected
    else:
        condition += "(attribute_not_exists(sip_trunks) OR size(sip_trunks) = :zero)"
        values[":zero"] = 0
    try:
        client().update_item(
            TableName=table(), Key=to_item(organization_key(organization_id)),
            UpdateExpression="SET sip_trunks = :trunks, updated_at = :now", ConditionExpression=condition,
            ExpressionAttributeValues=to_item(values))
    except client().exceptions.ConditionalCheckFailedException:
        raise NotFound(f"organization {organization_id}, or its trunks changed meanwhile: read them again") from None


# --- API keys -------------------------------------------------------------------------------------

def api_key_prefix(api_key: str) -> str:
    return api_key[:API_KEY_PREFIX_CHARS]


def add_api_key(organization_id: str, key_hash: str, prefix: str) -> dict[str, Any] | None:
    """Store a key (its SHA-256 only) for an organization, listed by creation. Returns None when
    the key exists already for this organization (left as it is: a revoked key stays revoked);
    OwnedByAnother when it is another organization's."""
    created_at = now_iso()
    item = {**api_key_key(key_hash), "organization_id": organization_id, "prefix": prefix,
            "created_at": created_at, "gsi1pk": organization_api_keys_partition(organization_id),
            "gsi1sk": f"{created_at}#{key_hash[:16]}"}
    try:
        client().put_item(TableName=table(), Item=to_item(item), ConditionExpression="attribute_not_exists(pk)",
                          ReturnValuesOnConditionCheckFailure="ALL_OLD")
    except client().exceptions.ConditionalCheckFailedException as exc:
        owner = (from_item(exc.response.get("Item")) or {}).get("organization_id")
        if owner != organization_id:
            raise OwnedByAnother(owner) from None
        return None
    return item


def list_api_keys(organization_id: str) -> list[dict[str, Any]]:
    """An organization's keys, oldest first: ``key_hash`` (to revoke by), ``prefix``,
    ``created_at``, ``revoked_at``. Never the key itself (it is not stored)."""
    items = query_all(
        TableName=table(), IndexName=BY_ORGANIZATION_INDEX, KeyConditionExpression="gsi1pk = :pk",
        ExpressionAttributeValues=to_item({":pk": organization_api_keys_partition(organization_id)}))
    return [{"key_hash": item["pk"].removeprefix("APIKEY#"), "prefix": item.get("prefix"),
             "created_at": item.get("created_at"), "revoked_at": item.get("revoked_at")} for item in items]


def revoke_api_key(organization_id: str, key_hash: str) -> dict[str, Any]:
    """Mark a key revoked (the authorizer refuses it; API Gateway's cached answer for it lasts
    until AuthorizerCacheSeconds pass). Idempotent: the first revocation time is kept."""
    try:
        response = client().update_item(
            TableName=table(), Key=to_item(api_key_key(key_hash)),
            UpdateExpression="SET revoked = :true, revoked_at = if_not_exists(revoked_at, :now)",
            ConditionExpression="attribute_exists(pk) AND organization_id = :org",
            ExpressionAttributeValues=to_item({":true": True, ":now": now_iso(), ":org": organization_id}),
            ReturnValues="ALL_NEW")
    except client().exceptions.ConditionalCheckFailedException:
        raise NotFound(f"no such API key of {organization_id}") from None
    return from_item(response["Attributes"])
