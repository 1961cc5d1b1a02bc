"""The reads an opt-out needs (keys: store.keys): everything of one organization that may still dial
one number. No index is keyed by a contact's or a schedule's number, so these read the
organization's campaigns, each campaign's waiting and in-flight contacts (the by-status partitions
of ByOrganization: never the finished ones) and the organization's schedules, filtered on the
number by DynamoDB. An opt-out is rare and off the call path; its cost grows with the contacts
still waiting, which is what it has to end anyway."""
from __future__ import annotations

from typing import Any

from ..dynamodb_json import to_item
from .base import query_all, table
from .keys import BY_ORGANIZATION_INDEX, SCHEDULES_GSI_PREFIX, campaigns_partition, contacts_by_status_partition


def organization_campaigns(organization_id: str) -> list[dict[str, Any]]:
    """Every campaign of the organization (its campaigns' partition of ByOrganization)."""
    return query_all(TableName=table(), IndexName=BY_ORGANIZATION_INDEX, KeyConditionExpression="gsi1pk = :pk",
                     ExpressionAttributeValues=to_item({":pk": campaigns_partition(organization_id)}))


def contacts_with_number(campaign_id: str, number: str, statuses: tuple[str, ...]) -> list[dict[str, Any]]:
    """The campaign's contacts of ``number`` in any of ``statuses`` (at most one: one contact per
    number per campaign). Index reads are eventually consistent: the writes that follow are
    conditional on the status read here."""
    found: list[dict[str, Any]] = []
    for status in statuses:
        found += query_all(TableName=table(), IndexName=BY_ORGANIZATION_INDEX,
                           KeyConditionExpression="gsi1pk = :pk", FilterExpression="phone_number = :number",
                           ExpressionAttributeValues=to_item({":pk": contacts_by_status_partition(campaign_id, status),
                                                              ":number": number}))
    return found


def scheduled_calls_to(organization_id: str, number: str) -> list[dict[str, Any]]:
    """The organization's schedules still ``scheduled`` whose call goes to ``number``."""
    return query_all(TableName=table(), IndexName=BY_ORGANIZATION_INDEX, KeyConditionExpression="gsi1pk = :pk",
                     FilterExpression="#s = :scheduled AND #call.to_phone_number = :number",
                     ExpressionAttributeNames={"#s": "status", "#call": "call"},
                     ExpressionAttributeValues=to_item({
                         ":pk": SCHEDULES_GSI_PREFIX.format(organization_id=organization_id),
                         ":scheduled": "scheduled", ":number": number}))
