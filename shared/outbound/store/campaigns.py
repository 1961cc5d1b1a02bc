"""Campaigns, their contacts and the dispatcher's due entries (keys: store.keys).

Every change of a contact's status is written together with the campaign's counters in one
TransactWriteItems (``write_changes``), so ``GET /campaigns/{id}``'s progress is one read and never
drifts from the contacts; the conditions on each contact (status, current call) make a repeated
event a no-op instead of a double count.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..dynamodb_json import from_item, to_item
from .base import client, get_item, table
from .keys import (BY_ORGANIZATION_INDEX, CAMPAIGN_META, CONTACT_PREFIX, DUE_PREFIX, call_key, campaign_key,
                   campaign_partition, campaigns_partition, contact_key, contacts_by_status_partition, import_key)

MAX_TRANSACTION_ITEMS = 100


class CampaignNotMoved(Exception):
    """The campaign is not this organization's, unknown, or not in a status that allows it."""

    def __init__(self, current: dict[str, Any] | None):
        super().__init__("campaign not moved")
        self.current = current


# --- campaigns ---------------------------------------------------------------------------------

def create_campaign(item: dict[str, Any]) -> None:
    client().put_item(TableName=table(), ConditionExpression="attribute_not_exists(pk)", Item=to_item({
        **campaign_key(item["campaign_id"]), **item,
        "gsi1pk": campaigns_partition(item["organization_id"]),
        "gsi1sk": f"{item['created_at']}#{item['campaign_id']}"}))


def get_campaign(campaign_id: str) -> dict[str, Any] | None:
    return get_item(campaign_key(campaign_id))


def list_campaigns(organization_id: str, limit: int,
                   start_key: dict[str, Any] | None = None) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    args: dict[str, Any] = {"TableName": table(), "IndexName": BY_ORGANIZATION_INDEX,
                            "KeyConditionExpression": "gsi1pk = :pk", "ScanIndexForward": False, "Limit": limit,
                            "ExpressionAttributeValues": {":pk": {"S": campaigns_partition(organization_id)}}}
    if start_key:
        args["ExclusiveStartKey"] = to_item(start_key)
    response = client().query(**args)
    return [from_item(i) for i in response.get("Items", [])], from_item(response.get("LastEvaluatedKey"))


def campaigns_paused_for_balance(organization_id: str) -> list[dict[str, Any]]:
    """The organization's campaigns paused because a dial met a 402 (its campaigns' partition of
    ByOrganization, filtered: an organization has few campaigns; never a Scan)."""
    found, start = [], None
    while True:
        args: dict[str, Any] = {
            "TableName": table(), "IndexName": BY_ORGANIZATION_INDEX, "KeyConditionExpression": "gsi1pk = :pk",
            "FilterExpression": "#s = :paused AND paused_reason = :why", "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": to_item({":pk": campaigns_partition(organization_id), ":paused": "paused",
                                                  ":why": "insufficient_balance"})}
        if start:
            args["ExclusiveStartKey"] = start
        response = client().query(**args)
        found += [from_item(i) for i in response.get("Items", [])]
        start = response.get("LastEvaluatedKey")
        if not start:
            return found


def move_campaign(campaign_id: str, organization_id: str, from_statuses: tuple[str, ...], status: str,
                  fields: dict[str, Any] | None = None, remove: tuple[str, ...] = (),
                  zero: tuple[str, ...] = ()) -> dict[str, Any]:
    """Move a campaign of this organization from one of ``from_statuses`` to ``status`` (and, if
    given, only while every ``zero`` counter is 0); returns the item as written, or raises
    CampaignNotMoved with the item as it was."""
    names, values = {"#s": "status"}, {":status": status, ":org": organization_id}
    sets = ["#s = :status"]
    for i, (name, value) in enumerate((fields or {}).items()):
        names[f"#f{i}"], values[f":f{i}"] = name, value
        sets.append(f"#f{i} = :f{i}")
    allowed = []
    for i, current in enumerate(from_statuses):
        values[f":from{i}"] = current
        allowed.append(f":from{i}")
    expression = "SET " + ", ".join(sets)
    if remove:
        expression += " REMOVE " + ", ".join(remove)
    condition = f"organization_id = :org AND #s IN ({', '.join(allowed)})"
    if zero:
        values[":zero"] = 0
        condition += "".join(f" AND {counter} = :zero" for counter in zero)
    try:
        response = client().update_item(
            TableName=table(), Key=to_item(campaign_key(campaign_id)), UpdateExpression=expression,
            ConditionExpression=condition,
            ExpressionAttributeNames=names, ExpressionAttributeValues=to_item(values),
            ReturnValues="ALL_NEW", ReturnValuesOnConditionCheckFailure="ALL_OLD")
    except client().exceptions.ConditionalCheckFailedException as exc:
        raise CampaignNotMoved(from_item(exc.response.get("Item"))) from None
    return from_item(response["Attributes"])


# --- what the dispatcher reads -------------------------------------------------------------------

def dispatch_view(campaign_id: str, now: str, due_limit: int) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The campaign and up to ``due_limit`` entries due at or before ``now``, in one strongly
    consistent Query (the meta item sorts just before the due entries)."""
    response = client().query(
        TableName=table(), ConsistentRead=True, Limit=due_limit + 1,
        KeyConditionExpression="pk = :pk AND sk BETWEEN :meta AND :until",
        ExpressionAttributeValues=to_item({":pk": campaign_partition(campaign_id), ":meta": CAMPAIGN_META,
                                           ":until": f"{DUE_PREFIX}{now}~"}))
    items = [from_item(i) for i in response.get("Items", [])]
    meta = items[0] if items and items[0]["sk"] == CAMPAIGN_META else None
    return meta, [i for i in items if i["sk"].startswith(DUE_PREFIX)]


def due_entries(campaign_id: str, after: str = "", limit: int = 1) -> list[dict[str, Any]]:
    """Due entries after ``after`` (ISO; "" = all), earliest first."""
    response = client().query(
        TableName=table(), ConsistentRead=True, Limit=limit,
        KeyConditionExpression="pk = :pk AND sk BETWEEN :from AND :to",
        ExpressionAttributeValues=to_item({":pk": campaign_partition(campaign_id),
                                           ":from": f"{DUE_PREFIX}{after}~" if after else DUE_PREFIX,
                                           ":to": DUE_PREFIX + "\uffff"}))
    return [from_item(i) for i in response.get("Items", [])]


# --- contact changes, written with the campaign's counters ---------------------------------------

@dataclass
class ContactChange:
    """One contact's move, with the conditions that make it happen at most once."""

    contact_id: str
    expect_status: tuple[str, ...]
    status: str
    expect_call_id: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    remove: tuple[str, ...] = ()
    append_call_id: str | None = None
    delete_due: str | None = None  # the sk of the due entry this change consumes
    put_due: dict[str, Any] | None = None  # a due entry this change schedules (full item, keys included)
    no_call: str | None = None  # a call id: only while that call's record does not exist (its dial placed nothing)

    def item_count(self) -> int:
        return 1 + (self.delete_due is not None) + (self.put_due is not None) + (self.no_call is not None)


@dataclass
class CampaignUpdate:
    """What one transaction does to the campaign item: counter deltas (ADD), fields (SET),
    and conditions (``condition`` with its values)."""

    add: dict[str, int] = field(default_factory=dict)
    fields: dict[str, Any] = field(default_factory=dict)
    first: dict[str, Any] = field(default_factory=dict)  # SET only if not set yet (e.g. first_dial_at)
    condition: str | None = None
    values: dict[str, Any] = field(default_factory=dict)
    names: dict[str, set[str]] = field(default_factory=dict)  # strings ADDed to a string-set attribute

    def count(self, name: str, delta: int) -> None:
        if delta:
            self.add[name] = self.add.get(name, 0) + delta

    def moved(self, old_status: str | None, new_status: str | None) -> None:
        if old_status != new_status:
            if old_status:
                self.count(f"count_{old_status}", -1)
            if new_status:
                self.count(f"count_{new_status}", 1)

    def is_empty(self) -> bool:
        return not (self.add or self.fields or self.first or self.condition or any(self.names.values()))


def write_changes(campaign_id: str, changes: list[ContactChange], update: CampaignUpdate) -> list[str | None]:
    """ONE TransactWriteItems: every change and the campaign's update. Returns [] on success, or
    the failed reasons per change (None where that change was fine, "campaign" appended when the
    campaign's own condition failed) when DynamoDB canceled it: nothing was written then."""
    items, owners = [], []
    for change in changes:
        items.append({"Update": _contact_update(campaign_id, change)})
        owners.append(change)
        if change.delete_due:
            items.append({"Delete": {"TableName": table(), "ConditionExpression": "attribute_exists(pk)",
                                     "Key": to_item({"pk": campaign_partition(campaign_id), "sk": change.delete_due})}})
            owners.append(change)
        if change.put_due:
            items.append({"Put": {"TableName": table(), "Item": to_item(change.put_due)}})
            owners.append(change)
        if change.no_call:
            items.append({"ConditionCheck": {"TableName": table(), "Key": to_item(call_key(change.no_call)),
                                             "ConditionExpression": "attribute_not_exists(pk)"}})
            owners.append(change)
    if not update.is_empty():
        items.append({"Update": _campaign_update(campaign_id, update)})
        owners.append(None)
    if not items:
        return []
    if len(items) > MAX_TRANSACTION_ITEMS:
        raise ValueError(f"{len(items)} items in one transaction (at most {MAX_TRANSACTION_ITEMS})")
    try:
        client().transact_write_items(TransactItems=items)
    except client().exceptions.TransactionCanceledException as exc:
        reasons = exc.response.get("CancellationReasons") or []
        failed: dict[int, str] = {}
        campaign_failed = None
        for owner, reason in zip(owners, reasons):
            code = reason.get("Code")
            if code in (None, "None"):
                continue
            if owner is None:
                campaign_failed = code
            else:
                failed[id(owner)] = code
        result: list[str | None] = [failed.get(id(c)) for c in changes]
        if campaign_failed:
            result.append("campaign:" + campaign_failed)
        if not any(result):  # canceled for another reason (a conflict): say so for every change
            result = ["TransactionConflict"] * len(changes) + ["campaign:TransactionConflict"]
        return result
    return []


def _contact_update(campaign_id: str, change: ContactChange) -> dict[str, Any]:
    names = {"#s": "status"}
    values: dict[str, Any] = {":status": change.status, ":gsi": contacts_by_status_partition(campaign_id, change.status)}
    sets = ["#s = :status", "gsi1pk = :gsi"]
    for i, (name, value) in enumerate(change.fields.items()):
        names[f"#f{i}"], values[f":f{i}"] = name, value
        sets.append(f"#f{i} = :f{i}")
    if change.append_call_id:
        values[":call"], values[":empty"] = [change.append_call_id], []
        sets.append("call_ids = list_append(if_not_exists(call_ids, :empty), :call)")
    allowed = []
    for i, status in enumerate(change.expect_status):
        values[f":was{i}"] = status
        allowed.append(f":was{i}")
    condition = f"#s IN ({', '.join(allowed)})"
    if change.expect_call_id:
        values[":cid"] = change.expect_call_id
        condition += " AND current_call_id = :cid"
    expression = "SET " + ", ".join(sets)
    if change.remove:
        expression += " REMOVE " + ", ".join(change.remove)
    return {"TableName": table(), "Key": to_item(contact_key(campaign_id, change.contact_id)),
            "UpdateExpression": expression, "ConditionExpression": condition,
            "ExpressionAttributeNames": names, "ExpressionAttributeValues": to_item(values)}


def _campaign_update(campaign_id: str, update: CampaignUpdate) -> dict[str, Any]:
    names: dict[str, str] = {}
    values: dict[str, Any] = dict(update.values)
    parts = []
    adds = []
    for i, (name, delta) in enumerate(update.add.items()):
        names[f"#a{i}"], values[f":a{i}"] = name, delta
        adds.append(f"#a{i} :a{i}")
    sets_added = {}
    for i, (name, members) in enumerate((n, m) for n, m in update.names.items() if m):
        names[f"#n{i}"] = name
        sets_added[f":n{i}"] = {"SS": sorted(members)}
        adds.append(f"#n{i} :n{i}")
    sets = []
    for i, (name, value) in enumerate(update.fields.items()):
        names[f"#u{i}"], values[f":u{i}"] = name, value
        sets.append(f"#u{i} = :u{i}")
    for i, (name, value) in enumerate(update.first.items()):
        names[f"#o{i}"], values[f":o{i}"] = name, value
        sets.append(f"#o{i} = if_not_exists(#o{i}, :o{i})")
    if sets:
        parts.append("SET " + ", ".join(sets))
    if adds:
        parts.append("ADD " + ", ".join(adds))
    spec: dict[str, Any] = {"TableName": table(), "Key": to_item(campaign_key(campaign_id)),
                            "UpdateExpression": " ".join(parts) or "SET updated_at = updated_at",
                            "ConditionExpression": "attribute_exists(pk)" + (
                                f" AND ({update.condition})" if update.condition else "")}
    if "#s" in (update.condition or ""):
        names["#s"] = "status"
    if names:
        spec["ExpressionAttributeNames"] = names
    if values or sets_added:
        spec["ExpressionAttributeValues"] = {**to_item(values), **sets_added}
    return spec


# --- contacts --------------------------------------------------------------------------------------

OPEN_STATUSES = ("draft", "scheduled", "running", "paused")  # contacts can be added


def add_contacts(campaign_id: str, rows: list[tuple[dict[str, Any], dict[str, Any] | None]],
                 update: CampaignUpdate) -> set[str]:
    """Create contacts (each with its due entry, if it has one) and count them on the campaign,
    in ONE transaction (at most 33 rows), on the condition that the campaign is still open (a
    status read earlier may have changed since): CampaignNotMoved, with the campaign as it is,
    when it is not. A contact that exists already (the same number twice) fails its condition:
    the others are written in a second try; returns the duplicates' ids."""
    duplicates: set[str] = set()
    opened = [f":open{i}" for i in range(len(OPEN_STATUSES))]
    update.condition = " AND ".join(filter(None, (update.condition, f"#s IN ({', '.join(opened)})")))
    update.values.update(dict(zip(opened, OPEN_STATUSES)))
    while rows:
        items = []
        for contact, due in rows:
            items.append({"Put": {"TableName": table(), "Item": to_item(contact),
                                  "ConditionExpression": "attribute_not_exists(pk)"}})
            if due:
                items.append({"Put": {"TableName": table(), "Item": to_item(due)}})
        items.append({"Update": {**_campaign_update(campaign_id, update),
                                 "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}})
        try:
            client().transact_write_items(TransactItems=items)
            return duplicates
        except client().exceptions.TransactionCanceledException as exc:
            reasons = exc.response.get("CancellationReasons") or []
            if len(reasons) == len(items) and reasons[-1].get("Code") == "ConditionalCheckFailed":
                raise CampaignNotMoved(from_item(reasons[-1].get("Item"))) from None  # closed, or gone
            found = {item["Put"]["Item"]["contact_id"]["S"] for item, reason in zip(items, reasons)
                     if "Put" in item and "contact_id" in item["Put"]["Item"]
                     and item["Put"]["Item"]["sk"]["S"].startswith(CONTACT_PREFIX)
                     and reason.get("Code") == "ConditionalCheckFailed"}
            if not found:
                raise
            duplicates |= found
            kept = [(c, d) for c, d in rows if c["contact_id"] not in found]
            for contact, due in rows:
                if contact["contact_id"] in found:
                    update.moved(contact["status"], None)
                    update.count("contacts_total", -1)
            rows = kept
    return duplicates


def get_contact(campaign_id: str, contact_id: str) -> dict[str, Any] | None:
    return get_item(contact_key(campaign_id, contact_id))


def list_contacts(campaign_id: str, status: str | None, limit: int,
                  start_key: dict[str, Any] | None = None) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """A campaign's contacts, all of them (its partition's ``K#`` items) or those of one status
    (the ByOrganization index's ``CAMPAIGN#<id>#STATUS#<status>`` partition). Never a Scan."""
    if status:
        args: dict[str, Any] = {"TableName": table(), "IndexName": BY_ORGANIZATION_INDEX,
                                "KeyConditionExpression": "gsi1pk = :pk",
                                "ExpressionAttributeValues": {":pk": {"S": contacts_by_status_partition(campaign_id, status)}}}
    else:
        args = {"TableName": table(), "KeyConditionExpression": "pk = :pk AND begins_with(sk, :k)",
                "ExpressionAttributeValues": to_item({":pk": campaign_partition(campaign_id), ":k": CONTACT_PREFIX})}
    args["Limit"] = limit
    if start_key:
        args["ExclusiveStartKey"] = to_item(start_key)
    response = client().query(**args)
    return [from_item(i) for i in response.get("Items", [])], from_item(response.get("LastEvaluatedKey"))


# --- imports ---------------------------------------------------------------------------------------

def put_import(campaign_id: str, record: dict[str, Any]) -> None:
    client().put_item(TableName=table(), Item=to_item({**import_key(campaign_id, record["import_id"]), **record}))


def get_import(campaign_id: str, import_id: str) -> dict[str, Any] | None:
    return get_item(import_key(campaign_id, import_id))


def update_import(campaign_id: str, import_id: str, fields: dict[str, Any], add: dict[str, int] | None = None,
                  expect_status: tuple[str, ...] | None = None) -> bool:
    """Progress of an import; False when ``expect_status`` did not hold (another run owns it)."""
    update = CampaignUpdate(add=dict(add or {}), fields=fields)
    spec = _campaign_update(campaign_id, update)
    spec["Key"] = to_item(import_key(campaign_id, import_id))
    if expect_status:
        spec.setdefault("ExpressionAttributeNames", {})["#s"] = "status"
        values = {f":st{i}": s for i, s in enumerate(expect_status)}
        spec["ExpressionAttributeValues"] = {**spec.get("ExpressionAttributeValues", {}), **to_item(values)}
        spec["ConditionExpression"] += f" AND #s IN ({', '.join(values)})"
    try:
        client().update_item(**spec)
    except client().exceptions.ConditionalCheckFailedException:
        return False
    return True


# --- deletion --------------------------------------------------------------------------------------

def delete_campaign(campaign_id: str, organization_id: str, statuses: tuple[str, ...]) -> None:
    """Delete a campaign of this organization that is in one of ``statuses`` with no call in flight,
    then the rest of its partition (contacts, due entries, imports). The campaign item goes first,
    on that condition, so a concurrent start or contacts added (conditional on the campaign) find it
    gone rather than half-deleted. CampaignNotMoved, with the item as it is, when it is not so."""
    allowed = {f":st{i}": s for i, s in enumerate(statuses)}
    values: dict[str, Any] = {":org": organization_id, ":zero": 0, **allowed}
    try:
        client().delete_item(
            TableName=table(), Key=to_item(campaign_key(campaign_id)),
            ConditionExpression=f"organization_id = :org AND #s IN ({', '.join(allowed)}) "
                                "AND (attribute_not_exists(in_flight) OR in_flight = :zero)",
            ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues=to_item(values),
            ReturnValuesOnConditionCheckFailure="ALL_OLD")
    except client().exceptions.ConditionalCheckFailedException as exc:
        raise CampaignNotMoved(from_item(exc.response.get("Item"))) from None
    start = None
    while True:
        page = client().query(TableName=table(), KeyConditionExpression="pk = :pk", ProjectionExpression="pk, sk",
                              ExpressionAttributeValues=to_item({":pk": campaign_partition(campaign_id)}),
                              **({"ExclusiveStartKey": start} if start else {}))
        keys = page.get("Items", [])
        for first in range(0, len(keys), 25):  # BatchWriteItem takes 25 requests
            requests = {table(): [{"DeleteRequest": {"Key": key}} for key in keys[first:first + 25]]}
            while requests:
                requests = client().batch_write_item(RequestItems=requests).get("UnprocessedItems") or {}
        start = page.get("LastEvaluatedKey")
        if not start:
            return
