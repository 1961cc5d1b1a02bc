"""Comparing calls with the providers' own records (usecases.provider_reconcile): which calls to
check, and what a check writes: its result on the call, and a settled call's corrected charge
with its ledger entry and the organization's balance, in one transaction."""
from __future__ import annotations

from typing import Any

from ..dynamodb_json import from_item, to_item
from .base import client, failed_condition, now_iso, query_all, table
from .keys import (BY_ORGANIZATION_INDEX, BY_PROVIDER_CHECK_INDEX, LEAVE_PROVIDER_CHECK, PROVIDER_CHECK_SHARDS,
                   call_adjustment_entry_id, call_key, organization_calls_partition, organization_key,
                   provider_check_keys)
from .ledger import EXTRA_CHARGE, REFUND, entry_item, put_entry, spend_items


def calls_created_since(organization_id: str, since: str) -> list[str]:
    """The ids of an organization's calls created at or after ``since`` (ISO), oldest first, from
    the ByOrganization index (never a Scan)."""
    items = query_all(
        TableName=table(), IndexName=BY_ORGANIZATION_INDEX, ProjectionExpression="call_id",
        KeyConditionExpression="gsi1pk = :pk AND gsi1sk >= :since",
        ExpressionAttributeValues=to_item({":pk": organization_calls_partition(organization_id), ":since": since}))
    return [item["call_id"] for item in items if item.get("call_id")]


def calls_due_for_provider_check(before: str, limit: int) -> list[str]:
    """Ids of calls (any organization) whose check is due before ``before`` (ISO): one Query per
    shard of the sparse ByProviderCheck index, oldest first within a shard."""
    found: list[str] = []
    for shard in range(PROVIDER_CHECK_SHARDS):
        start = None
        while len(found) < limit:
            request: dict[str, Any] = {
                "TableName": table(), "IndexName": BY_PROVIDER_CHECK_INDEX, "Limit": limit - len(found),
                "KeyConditionExpression": "provider_check_shard = :shard AND provider_check_after < :before",
                "ExpressionAttributeValues": to_item({":shard": f"PROVIDERCHECK#{shard}", ":before": before})}
            if start:
                request["ExclusiveStartKey"] = start
            response = client().query(**request)
            found += [from_item(i)["pk"].removeprefix("CALL#") for i in response.get("Items", [])]
            start = response.get("LastEvaluatedKey")
            if not start:
                break
    return found[:limit]


def _assignments(fields: dict[str, Any], names: dict[str, str], values: dict[str, Any]) -> list[str]:
    sets = []
    for i, (name, value) in enumerate(sorted(fields.items())):
        names[f"#c{i}"] = name
        values[f":c{i}"] = value
        sets.append(f"#c{i} = :c{i}")
    return sets


def record_provider_check(call: dict[str, Any], flag: str | None = None, check_again_after: str | None = None,
                          fields: dict[str, Any] | None = None, charged_cents: int | None = None) -> bool:
    """A check's result on the call: ``provider_checked_at``, the ``provider_flag`` (set, or
    removed when None), the call kept in ByProviderCheck until ``check_again_after`` (or taken
    out when None) and ``fields`` corrected from the provider's record (then only while its
    ``charged_cents`` is still the one compared). One conditional UpdateItem; False when the call
    changed meanwhile (the next check sees the change)."""
    now = now_iso()
    names: dict[str, str] = {}
    values: dict[str, Any] = {":now": now}
    sets = ["provider_checked_at = :now", "updated_at = :now", *_assignments(fields or {}, names, values)]
    removes = []
    if flag:
        values[":flag"] = flag[:500]
        sets.append("provider_flag = :flag")
    else:
        removes.append("provider_flag")
    if check_again_after:
        keys = provider_check_keys(call, check_again_after)
        values.update({":shard": keys["provider_check_shard"], ":after": keys["provider_check_after"]})
        sets += ["provider_check_shard = :shard", "provider_check_after = :after"]
    else:
        removes.append(LEAVE_PROVIDER_CHECK)
    condition = "attribute_exists(pk)"
    if charged_cents is not None:
        values[":charged"] = charged_cents
        condition += " AND charged_cents = :charged"
    request: dict[str, Any] = {
        "TableName": table(), "Key": to_item(call_key(call["call_id"])),
        "UpdateExpression": "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else ""),
        "ConditionExpression": condition, "ExpressionAttributeValues": to_item(values)}
    if names:
        request["ExpressionAttributeNames"] = names
    try:
        client().update_item(**request)
    except client().exceptions.ConditionalCheckFailedException:
        return False
    return True


def adjust_call_charge(call: dict[str, Any], charge_cents: int, cause: str, fields: dict[str, Any]) -> bool:
    """Correct a settled call's charge to ``charge_cents`` (what the provider's record says it
    cost): ONE TransactWriteItems that updates the call (``charged_cents``, the running
    ``provider_adjusted_cents``, ``fields``; the check done), moves the organization's balance and
    available by the difference and writes the ledger entry (``extra_charge`` or ``refund``).

    Exactly once: the call's update is conditional on its ``charged_cents`` still being the
    amount read and the entry's id is derived from that correction (keys.call_adjustment_entry_id),
    so a repeated or concurrent run cancels as a whole. False when the call changed meanwhile."""
    old = int(call.get("charged_cents") or 0)
    difference = charge_cents - old
    now = now_iso()
    names: dict[str, str] = {}
    values: dict[str, Any] = {":new": charge_cents, ":old": old, ":diff": difference, ":zero": 0, ":now": now}
    sets = ["charged_cents = :new", "updated_at = :now", "provider_checked_at = :now",
            "provider_adjusted_cents = if_not_exists(provider_adjusted_cents, :zero) + :diff",
            *_assignments(fields, names, values)]
    update: dict[str, Any] = {
        "TableName": table(), "Key": to_item(call_key(call["call_id"])),
        "UpdateExpression": "SET " + ", ".join(sets) + " REMOVE provider_flag, " + LEAVE_PROVIDER_CHECK,
        "ConditionExpression": "attribute_exists(settled_at) AND charged_cents = :old",
        "ExpressionAttributeValues": to_item(values)}
    if names:
        update["ExpressionAttributeNames"] = names
    entry_id = call_adjustment_entry_id(call["call_id"], call["created_at"], old, charge_cents)
    entry = entry_item(call["organization_id"], entry_id, EXTRA_CHARGE if difference > 0 else REFUND,
                       abs(difference), now, call_id=call["call_id"], cause=cause)
    try:
        client().transact_write_items(TransactItems=[
            {"Update": update},
            {"Update": {
                "TableName": table(), "Key": to_item(organization_key(call["organization_id"])),
                "UpdateExpression": "SET balance_cents = balance_cents - :d, available_cents = available_cents - :d",
                "ConditionExpression": "attribute_exists(pk)",
                "ExpressionAttributeValues": to_item({":d": difference})}},
            put_entry(entry),
            *spend_items(call["organization_id"], entry["kind"], abs(difference), now),
        ])
    except client().exceptions.TransactionCanceledException as exc:
        if failed_condition(exc, 0) or failed_condition(exc, 2):
            return False  # corrected or settled anew meanwhile: the next check compares again
        raise
    return True
