"""Every DynamoDB key, query and write of the service (single-table design).

| entity        | pk                    | sk          | notes                                     |
|---------------|-----------------------|-------------|-------------------------------------------|
| organization  | ORG#<id>              | ORG         | balance_cents, reserved_cents, available_cents, sip_trunks |
| API key       | APIKEY#<sha256(key)>  | APIKEY      | organization_id, revoked                  |
| assistant     | ASSISTANT#<id>        | ASSISTANT   | organization_id, welcome_message, agenda  |
| graph         | GRAPH#<id>            | GRAPH       | organization_id, entry_assistant_id       |
| phone number  | PHONE#<e164>          | PHONE       | organization_id, provider, assistant_id or graph_id (+ entry hint) |
| call          | CALL#<call_id>        | CALL        | gsi1 (org calls by time), call_sid (index ByCallSid) |
|               |                       |             | initiating_shard/_since (sparse index ByInitiating) while "initiating" |

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
BY_INITIATING_INDEX = "ByInitiating"  # sparse: only calls still "initiating" (see reserve sweeper)
INITIATING_SHARDS = 8
# Every status write after the reserve transaction removes these: the call leaves ByInitiating.
LEAVE_INITIATING = "initiating_shard, initiating_since"


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


class CallAlreadyExists(Exception):
    """A call record with this call_id exists already: a repeated delivery of the same scheduled
    fire (whose call_id is derived from the fire). ``existing`` is that record, as it was."""

    def __init__(self, existing: dict[str, Any] | None):
        super().__init__("call already exists")
        self.existing = existing


def reserve_and_create_call(record: dict[str, Any], reserve_cents: int) -> None:
    """Hold the reserve and create the call record in ONE transaction: neither exists without
    the other, and concurrent calls can never overdraw (the condition is checked atomically).
    The record's own ``attribute_not_exists(pk)`` makes a repeated call_id fail the whole
    transaction (no reserve held): ``CallAlreadyExists`` carries the existing record (ALL_OLD),
    so a duplicate delivery costs no extra read."""
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
                "TableName": table(),
                "Item": to_item({**call_key(record["call_id"]), **initiating_keys(record), **record}),
                "ConditionExpression": "attribute_not_exists(pk)",
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }},
        ])
    except client().exceptions.TransactionCanceledException as exc:
        reasons = exc.response.get("CancellationReasons") or []
        # The record first: a duplicate is a duplicate whatever the balance says now.
        if len(reasons) > 1 and reasons[1].get("Code") == "ConditionalCheckFailed":
            raise CallAlreadyExists(from_item(reasons[1].get("Item"))) from None
        if reasons and reasons[0].get("Code") == "ConditionalCheckFailed":
            raise ReserveRefused() from None
        raise


def initiating_keys(record: dict[str, Any]) -> dict[str, str]:
    """The sparse ByInitiating index's keys, written with the record in the reserve transaction
    and removed by every later status write: the index holds exactly the calls whose reserve is
    held while nobody has heard from the provider. Sharded (call_id hash) so that one partition
    does not take every call's create + remove at high call rates."""
    shard = int(hashlib.sha256(record["call_id"].encode()).hexdigest()[:8], 16) % INITIATING_SHARDS
    return {"initiating_shard": f"INITIATING#{shard}", "initiating_since": record["created_at"]}


def mark_call_placed(call_id: str, call_sid: str, status: str = "queued") -> str:
    """Record the provider's call id; only a call still initiating moves (webhooks may be first)."""
    updated_at = now_iso()
    try:
        client().update_item(
            TableName=table(), Key=to_item(call_key(call_id)),
            UpdateExpression="SET call_sid = :sid, #s = :status, updated_at = :now REMOVE " + LEAVE_INITIATING,
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
                                    "reserve_cents = :zero REMOVE " + LEAVE_INITIATING,
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
            UpdateExpression="SET #s = :unconfirmed, failure_reason = :reason, updated_at = :now "
                             "REMOVE " + LEAVE_INITIATING,
            ConditionExpression="#s = :initiating",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues=to_item({":unconfirmed": "unconfirmed", ":reason": reason[:500],
                                               ":now": updated_at, ":initiating": "initiating"}),
        )
    except client().exceptions.ConditionalCheckFailedException:
        pass  # a webhook already told us what happened
    return updated_at


ABANDONED_REASON = "Abandoned before the provider answered (released by the reserve sweeper)"


def find_stuck_initiating(older_than: str, limit: int = 100) -> list[dict[str, Any]]:
    """Calls initiating since before ``older_than`` (ISO, same format as created_at): one Query
    per shard of the sparse ByInitiating index (never a Scan). Items carry their keys plus
    organization_id, reserve_cents and status (the index's INCLUDE projection)."""
    found: list[dict[str, Any]] = []
    for shard in range(INITIATING_SHARDS):
        start = None
        while len(found) < limit:
            args: dict[str, Any] = {
                "TableName": table(), "IndexName": BY_INITIATING_INDEX,
                "KeyConditionExpression": "initiating_shard = :shard AND initiating_since < :cutoff",
                "ExpressionAttributeValues": to_item({":shard": f"INITIATING#{shard}", ":cutoff": older_than}),
                "Limit": limit - len(found),
            }
            if start:
                args["ExclusiveStartKey"] = start
            response = client().query(**args)
            found += [from_item(i) for i in response.get("Items", [])]
            start = response.get("LastEvaluatedKey")
            if not start:
                break
    return found[:limit]


def abandon_call(call: dict[str, Any], reason: str = ABANDONED_REASON) -> bool:
    """Mark a stuck initiating call failed and release its reserve, in ONE transaction
    conditional on the call still initiating with that reserve: a late mark_call_placed, a
    status webhook, a provider refusal or a second sweeper and this can never both settle it.
    No ``settled_at``: a late final webhook of a call that did happen may still charge its
    minutes (once; see usecases.status_webhook). Returns False when someone else moved it."""
    reserve = int(call.get("reserve_cents") or 0)
    now = now_iso()
    try:
        client().transact_write_items(TransactItems=[
            {"Update": {
                "TableName": table(), "Key": to_item(call_key(call["call_id"])),
                "UpdateExpression": "SET #s = :failed, failure_reason = :reason, updated_at = :now, "
                                    "reserve_cents = :zero, abandoned_at = :now, released_reserve_cents = :r "
                                    "REMOVE " + LEAVE_INITIATING,
                "ConditionExpression": "#s = :initiating AND reserve_cents = :r",
                "ExpressionAttributeNames": {"#s": "status"},
                "ExpressionAttributeValues": to_item({":failed": "failed", ":reason": reason, ":now": now,
                                                      ":zero": 0, ":r": reserve, ":initiating": "initiating"}),
            }},
            {"Update": {
                "TableName": table(), "Key": to_item(organization_key(call["organization_id"])),
                "UpdateExpression": "SET reserved_cents = reserved_cents - :r, "
                                    "available_cents = available_cents + :r",
                "ConditionExpression": "attribute_exists(pk)",
                "ExpressionAttributeValues": to_item({":r": reserve}),
            }},
        ])
    except client().exceptions.TransactionCanceledException:
        return False  # placed, refused, reconciled or swept meanwhile: nothing to release
    return True


# --- administration (seed, api-key create) ----------------------------------------------------

def put_item(data: dict[str, Any]) -> None:
    client().put_item(TableName=table(), Item=to_item(data))


# --- call lifecycle: status webhooks, settlement, listing ----------------------------------------
# (status model and arithmetic: outbound.lifecycle; callers: usecases.status_webhook, list_calls)

class CallNotMoved(Exception):
    """The conditional write found the call already at (or past) that status, already settled,
    or bound to another provider call id: nothing was written. ``current`` is the item as it was."""

    def __init__(self, current: dict[str, Any] | None):
        super().__init__("call not moved")
        self.current = current


def find_calls_by_sid(call_sid: str) -> list[dict[str, Any]]:
    """Calls carrying this provider call id (ByCallSid index; provider ids are unique per
    provider, so this is one call in practice)."""
    response = client().query(
        TableName=table(), IndexName=BY_CALL_SID_INDEX, KeyConditionExpression="call_sid = :sid",
        ExpressionAttributeValues={":sid": {"S": call_sid}}, Limit=5,
    )
    return [from_item(i) for i in response.get("Items", [])]


def _status_update(new_status: str, from_statuses: Iterable[str], call_sid: str | None,
                   fields: dict[str, Any], now: str) -> dict[str, Any]:
    """UpdateExpression parts shared by advance_call and settle_call: move the status only from
    a lower rank, fill in the provider's call id, never overwrite another call id."""
    names = {"#s": "status"}
    values: dict[str, Any] = {":new": new_status, ":now": now}
    sets = ["#s = :new", "updated_at = :now"]
    allowed = []
    for i, status in enumerate(from_statuses):
        values[f":from{i}"] = status
        allowed.append(f":from{i}")
    conditions = [f"#s IN ({', '.join(allowed)})"]
    if call_sid:
        values[":sid"] = call_sid
        sets.append("call_sid = if_not_exists(call_sid, :sid)")
        conditions.append("(attribute_not_exists(call_sid) OR call_sid = :sid)")
    for i, (name, value) in enumerate(sorted(fields.items())):
        if value is None:
            continue
        names[f"#f{i}"] = name
        values[f":f{i}"] = value
        sets.append(f"#f{i} = :f{i}")
    return {"sets": sets, "conditions": conditions, "names": names, "values": values}


def advance_call(call_id: str, new_status: str, from_statuses: Iterable[str], call_sid: str | None,
                 fields: dict[str, Any]) -> dict[str, Any]:
    """A non-final status (queued, ringing, in-progress): one conditional UpdateItem. Returns the
    updated item; raises CallNotMoved when the call is already at or past ``new_status``."""
    parts = _status_update(new_status, from_statuses, call_sid, fields, now_iso())
    remove = " REMOVE " + LEAVE_INITIATING + ("" if "failure_reason" in fields
                                              else ", failure_reason")  # e.g. "no answer in time"
    try:
        response = client().update_item(
            TableName=table(), Key=to_item(call_key(call_id)),
            UpdateExpression="SET " + ", ".join(parts["sets"]) + remove,
            ConditionExpression=" AND ".join(parts["conditions"]),
            ExpressionAttributeNames=parts["names"], ExpressionAttributeValues=to_item(parts["values"]),
            ReturnValues="ALL_NEW", ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except client().exceptions.ConditionalCheckFailedException as exc:
        raise CallNotMoved(from_item(exc.response.get("Item"))) from None
    return from_item(response["Attributes"])


def settle_call(call: dict[str, Any], final_status: str, from_statuses: Iterable[str], call_sid: str | None,
                charge_cents: int, fields: dict[str, Any]) -> str:
    """The final status: ONE TransactWriteItems that records it on the call and settles the
    organization (balance -= charge, reserved -= reserve, available += reserve - charge).

    Exactly once: the call's update is conditional on a non-final status, on no ``settled_at``
    and on the reserve being the one read, so a repeated or concurrent final webhook cancels the
    whole transaction and the organization is not touched (raises CallNotMoved). The balance may
    go below zero only by the part of the charge above the reserve (see lifecycle.settlement)."""
    now = now_iso()
    reserve = int(call.get("reserve_cents") or 0)
    parts = _status_update(final_status, from_statuses, call_sid,
                           {**fields, "charged_cents": charge_cents, "settled_reserve_cents": reserve,
                            "settled_at": now, "reserve_cents": 0}, now)
    parts["conditions"] += ["attribute_not_exists(settled_at)", "reserve_cents = :reserve"]
    parts["values"][":reserve"] = reserve
    remove = " REMOVE " + LEAVE_INITIATING + ("" if "failure_reason" in fields else ", failure_reason")
    try:
        client().transact_write_items(TransactItems=[
            {"Update": {
                "TableName": table(), "Key": to_item(call_key(call["call_id"])),
                "UpdateExpression": "SET " + ", ".join(parts["sets"]) + remove,
                "ConditionExpression": " AND ".join(parts["conditions"]),
                "ExpressionAttributeNames": parts["names"],
                "ExpressionAttributeValues": to_item(parts["values"]),
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }},
            {"Update": {
                "TableName": table(), "Key": to_item(organization_key(call["organization_id"])),
                "UpdateExpression": "SET balance_cents = balance_cents - :charge, "
                                    "reserved_cents = reserved_cents - :reserve, "
                                    "available_cents = available_cents + :delta",
                "ConditionExpression": "attribute_exists(pk)",
                "ExpressionAttributeValues": to_item({":charge": charge_cents, ":reserve": reserve,
                                                      ":delta": reserve - charge_cents}),
            }},
        ])
    except client().exceptions.TransactionCanceledException as exc:
        reasons = exc.response.get("CancellationReasons") or []
        if reasons and reasons[0].get("Code") == "ConditionalCheckFailed":
            raise CallNotMoved(from_item(reasons[0].get("Item"))) from None
        raise
    return now


def set_call_details(call_id: str, call_sid: str | None, fields: dict[str, Any]) -> None:
    """Information that moves no status (e.g. a machine-detection result), kept once: a later
    or repeated event never overwrites it."""
    names, values, sets = {}, {":now": now_iso()}, ["updated_at = :now"]
    for i, (name, value) in enumerate(sorted(fields.items())):
        if value is not None:
            names[f"#f{i}"] = name
            values[f":f{i}"] = value
            sets.append(f"#f{i} = if_not_exists(#f{i}, :f{i})")
    if not names:
        return
    condition = "attribute_exists(pk)"
    if call_sid:
        values[":sid"] = call_sid
        condition += " AND (attribute_not_exists(call_sid) OR call_sid = :sid)"
    try:
        client().update_item(
            TableName=table(), Key=to_item(call_key(call_id)), UpdateExpression="SET " + ", ".join(sets),
            ConditionExpression=condition, ExpressionAttributeNames=names,
            ExpressionAttributeValues=to_item(values),
        )
    except client().exceptions.ConditionalCheckFailedException:
        pass  # another call leg's event: nothing to record


def organization_calls_partition(organization_id: str) -> str:
    return f"ORG#{organization_id}#CALLS"


def list_calls(organization_id: str, limit: int, status: str | None = None,
               start_after: dict[str, str] | None = None, max_reads: int = 5
               ) -> tuple[list[dict[str, Any]], dict[str, str] | None]:
    """An organization's calls, newest first, from the ByOrganization index (never a Scan).

    ``start_after`` / the returned position are ``{"gsi1sk", "call_id"}`` of the last call seen;
    the partition always comes from ``organization_id``, so a position cannot reach another
    organization's calls. A status filter is applied by DynamoDB after the key condition, so a
    page may need several Query round trips; at most ``max_reads`` are made, then the page ends
    early with a position to continue from."""
    values: dict[str, Any] = {":pk": organization_calls_partition(organization_id)}
    query: dict[str, Any] = {"TableName": table(), "IndexName": BY_ORGANIZATION_INDEX,
                             "KeyConditionExpression": "gsi1pk = :pk", "ScanIndexForward": False}
    if status:
        values[":status"] = status
        query["FilterExpression"] = "#s = :status"
        query["ExpressionAttributeNames"] = {"#s": "status"}
    query["ExpressionAttributeValues"] = to_item(values)
    start = _list_position_key(organization_id, start_after) if start_after else None
    found: list[dict[str, Any]] = []
    for _ in range(max_reads):
        wanted = limit - len(found)
        page = dict(query, Limit=max(wanted, 25) if status else wanted)
        if start:
            page["ExclusiveStartKey"] = start
        response = client().query(**page)
        items = [from_item(i) for i in response.get("Items", [])]
        start = response.get("LastEvaluatedKey")
        if len(items) > wanted:  # more matches than the page needs: continue after the last kept
            found += items[:wanted]
            return found, _list_position(found[-1])
        found += items
        if start is None:
            return found, None
        if len(found) == limit:
            return found, _list_position(found[-1])
    last = from_item(start)
    return found, {"gsi1sk": last["gsi1sk"], "call_id": last["pk"].removeprefix("CALL#")}


def _list_position(item: dict[str, Any]) -> dict[str, str]:
    return {"gsi1sk": item["gsi1sk"], "call_id": item["call_id"]}


def _list_position_key(organization_id: str, position: dict[str, str]) -> dict[str, Any]:
    return to_item({**call_key(position["call_id"]), "gsi1pk": organization_calls_partition(organization_id),
                    "gsi1sk": position["gsi1sk"]})


def organization_balance(organization_id: str) -> dict[str, int] | None:
    item = get_item(organization_key(organization_id))
    if item is None:
        return None
    return {name: int(item.get(name) or 0) for name in ("balance_cents", "reserved_cents", "available_cents")}


# --- schedules: scheduled and recurring calls ----------------------------------------------------
# (callers: usecases.schedules for the Schedules API, usecases.scheduled_call for each fire)
#
# | entity        | pk                    | sk          | notes                                     |
# |---------------|-----------------------|-------------|-------------------------------------------|
# | schedule      | SCHEDULE#<id>         | SCHEDULE    | organization_id, kind, call, status; gsi1 = ORG#<org>#SCHEDULES by creation |
# | fire failure  | FIRE#<fire_id>        | FIRE        | a fire refused for good (400/401/402/403/404): status_code, detail |
#
# A fire's call record is CALL#call_<fire_id>, fire_id = sha256("<schedule_id>|<scheduled time>")[:24]:
# a repeated delivery of the same fire finds its own record (CallAlreadyExists), and a schedule's
# outcome is one BatchGetItem away (schedule, call record, fire failure).

SCHEDULES_GSI_PREFIX = "ORG#{organization_id}#SCHEDULES"


def schedule_key(schedule_id: str) -> dict[str, str]:
    return {"pk": f"SCHEDULE#{schedule_id}", "sk": "SCHEDULE"}


def fire_failure_key(fire_id: str) -> dict[str, str]:
    return {"pk": f"FIRE#{fire_id}", "sk": "FIRE"}


def create_schedule(record: dict[str, Any]) -> None:
    """A new schedule record (its id is new: never overwrites)."""
    organization_id = record["organization_id"]
    client().put_item(
        TableName=table(),
        Item=to_item({**schedule_key(record["schedule_id"]), **record,
                      "gsi1pk": SCHEDULES_GSI_PREFIX.format(organization_id=organization_id),
                      "gsi1sk": f"{record['created_at']}#{record['schedule_id']}"}),
        ConditionExpression="attribute_not_exists(pk)",
    )


def schedule_created(schedule_id: str) -> None:
    """An idempotent schedule's Scheduler schedule exists: a retry now replays instead of 409."""
    client().update_item(TableName=table(), Key=to_item(schedule_key(schedule_id)),
                         UpdateExpression="REMOVE creating", ConditionExpression="attribute_exists(pk)")


def delete_schedule(schedule_id: str) -> None:
    """Undo create_schedule when the Scheduler schedule could not be created (nothing half-written)."""
    client().delete_item(TableName=table(), Key=to_item(schedule_key(schedule_id)))


def list_schedules(organization_id: str, limit: int,
                   start_key: dict[str, Any] | None = None) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """An organization's schedules, newest first (ByOrganization index: never a scan).
    Returns (items, the key to continue from or None)."""
    args: dict[str, Any] = {
        "TableName": table(), "IndexName": BY_ORGANIZATION_INDEX,
        "KeyConditionExpression": "gsi1pk = :pk",
        "ExpressionAttributeValues": {":pk": {"S": SCHEDULES_GSI_PREFIX.format(organization_id=organization_id)}},
        "ScanIndexForward": False, "Limit": limit,
    }
    if start_key:
        args["ExclusiveStartKey"] = to_item(start_key)
    response = client().query(**args)
    items = [from_item(i) for i in response.get("Items", [])]
    last = from_item(response.get("LastEvaluatedKey"))
    return items, last


class ScheduleNotCancelable(Exception):
    """The schedule is not this organization's, unknown, or no longer scheduled. ``current`` is
    the item as it was (None when it does not exist)."""

    def __init__(self, current: dict[str, Any] | None):
        super().__init__("schedule not cancelable")
        self.current = current


def cancel_schedule(organization_id: str, schedule_id: str) -> dict[str, Any]:
    """Mark the schedule canceled (conditional: only this organization's, only while scheduled).
    A fire that reads the schedule afterwards places no call."""
    now = now_iso()
    try:
        response = client().update_item(
            TableName=table(), Key=to_item(schedule_key(schedule_id)),
            UpdateExpression="SET #s = :canceled, updated_at = :now, canceled_at = :now",
            ConditionExpression="organization_id = :org AND #s = :scheduled",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues=to_item({":canceled": "canceled", ":now": now, ":org": organization_id,
                                               ":scheduled": "scheduled"}),
            ReturnValues="ALL_NEW", ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except client().exceptions.ConditionalCheckFailedException as exc:
        raise ScheduleNotCancelable(from_item(exc.response.get("Item"))) from None
    return from_item(response["Attributes"])


def record_fire_failure(record: dict[str, Any]) -> None:
    """Record a fire refused for good (a repeat of the same fire keeps the first record)."""
    try:
        client().put_item(
            TableName=table(), Item=to_item({**fire_failure_key(record["fire_id"]), **record}),
            ConditionExpression="attribute_not_exists(pk)",
        )
    except client().exceptions.ConditionalCheckFailedException:
        pass


def fire_id_for(schedule_id: str, scheduled_time: str) -> str:
    """The id of one fire of a schedule: the same for every delivery of that fire."""
    return hashlib.sha256(f"{schedule_id}|{scheduled_time}".encode()).hexdigest()[:24]
