"""An organization's webhook endpoints (keys: store.keys.webhook_endpoint_key).

Every read is addressed by the caller's organization: another organization's endpoint id simply
has no item under this organization's partition, so it answers "not found" like an unknown id.
How many an organization may have is held by a counter written with each create and delete
(store.limits), so concurrent creates can never pass the cap.
"""
from __future__ import annotations

from typing import Any

from ..dynamodb_json import from_item, to_item
from . import limits
from .base import client, get_item, query_all, table
from .keys import WEBHOOK_ENDPOINT_PREFIX, WEBHOOK_ENDPOINTS_LIMIT, organization_key, webhook_endpoint_key

LimitReached, LimitBusy = limits.LimitReached, limits.LimitBusy


class EndpointNotFound(Exception):
    pass


def create_endpoint(organization_id: str, endpoint: dict[str, Any], cap: int) -> None:
    """Creates it if the organization has fewer than ``cap`` endpoints (LimitReached if not)."""
    item = {**webhook_endpoint_key(organization_id, endpoint["id"]), **endpoint, "organization_id": organization_id}
    put = {"TableName": table(), "Item": to_item(item), "ConditionExpression": "attribute_not_exists(pk)"}
    limits.create_counted(organization_id, WEBHOOK_ENDPOINTS_LIMIT, cap, put, lambda: len(list_endpoints(organization_id)))


def endpoints_in_use(organization_id: str) -> int | None:
    """The counter (None for an organization that has none yet): an early refusal, not the check."""
    return limits.in_use(organization_id, WEBHOOK_ENDPOINTS_LIMIT)


def get_endpoint(organization_id: str, endpoint_id: str) -> dict[str, Any] | None:
    return get_item(webhook_endpoint_key(organization_id, endpoint_id))


def list_endpoints(organization_id: str) -> list[dict[str, Any]]:
    """Every endpoint of the organization (a bounded number: see usecases.webhook_endpoints),
    oldest first; one strongly consistent Query per page."""
    found = query_all(
        TableName=table(), ConsistentRead=True, KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
        ExpressionAttributeValues=to_item({":pk": organization_key(organization_id)["pk"],
                                           ":prefix": WEBHOOK_ENDPOINT_PREFIX}))
    return sorted(found, key=lambda e: (e.get("created_at", ""), e["id"]))


def delete_endpoint(organization_id: str, endpoint_id: str) -> None:
    """Deletes it, freeing its slot; EndpointNotFound when there was none."""
    delete = {"TableName": table(), "Key": to_item(webhook_endpoint_key(organization_id, endpoint_id))}
    try:
        limits.delete_counted(organization_id, WEBHOOK_ENDPOINTS_LIMIT, delete,
                              lambda: len(list_endpoints(organization_id)))
    except limits.NotThere:
        raise EndpointNotFound(endpoint_id) from None


def next_secret_version(organization_id: str, endpoint_id: str, now: str) -> dict[str, Any]:
    """A rotation: the endpoint's secret_version + 1 (deliverers then re-read its secret)."""
    try:
        response = client().update_item(
            TableName=table(), Key=to_item(webhook_endpoint_key(organization_id, endpoint_id)),
            UpdateExpression="SET secret_version = secret_version + :one, secret_rotated_at = :now, updated_at = :now",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues=to_item({":one": 1, ":now": now}), ReturnValues="ALL_NEW")
    except client().exceptions.ConditionalCheckFailedException:
        raise EndpointNotFound(endpoint_id) from None
    return from_item(response["Attributes"])
