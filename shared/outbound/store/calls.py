"""Call records: the reserve, the provider's answer, the sweeper's release, lookups and lists."""
from __future__ import annotations

from typing import Any

from ..dynamodb_json import from_item, to_item
from .base import client, failed_condition, get_item, now_iso, table
from .int_ids import alias_put, new_int_id
from .compliance import DialCounterMoved
from .ledger import RELEASE, RESERVE, call_entries
from .keys import (BY_CALL_SID_INDEX, BY_INITIATING_INDEX, BY_ORGANIZATION_INDEX, CHECKED_PROVIDERS, INITIATING_SHARDS,
                   LEAVE_INITIATING, LEAVE_PROVIDER_CHECK, call_key, dial_evidence_key, initiating_keys,
                   organization_calls_partition, organization_key, provider_check_keys)


# Our call ids and every provider's call ids are far shorter: a longer reference names no call,
# and DynamoDB refuses a key over 2,048 bytes (ValidationException), so it is never sent.
MAX_CALL_REF_CHARS = 256


def is_call_ref(value: object) -> bool:
    return isinstance(value, str) and 0 < len(value) <= MAX_CALL_REF_CHARS and value.isprintable()


# A call's timeline: every status move appends one entry to the record's ``timeline`` list, in the
# write that makes the move (no extra round trip; statuses only move forward, so it stays short).
APPEND_TIMELINE = "timeline = list_append(if_not_exists(timeline, :tl_empty), :tl_entry)"


def timeline_entry(at: str, status: str, **about: Any) -> dict[str, Any]:
    """``about``: source ("twilio webhook", "api", "reserve sweeper"...), provider_event (the
    provider's own name for it), occurred_at (when the provider says it happened), detail,
    charged_cents; None is left out."""
    return {"at": at, "status": status, **{name: value for name, value in about.items() if value is not None}}


def find_call(organization_id: str, call_ref: str) -> dict[str, Any] | None:
    """A call of this organization by our call_id or the provider's call_sid; None otherwise
    (another organization's call is indistinguishable from an unknown one)."""
    if not is_call_ref(call_ref):
        return None
    item = get_item(call_key(call_ref)) if call_ref.startswith("call_") else None
    if item is None:
        item = next((m for m in find_calls_by_sid(call_ref) if m["organization_id"] == organization_id), None)
    if item is None or item.get("organization_id") != organization_id:
        return None
    return item



class ReserveRefused(Exception):
    """The organization's available balance does not cover the reserve."""


class CallAlreadyExists(Exception):
    """A call record with this call_id exists already: a repeated delivery of the same scheduled
    fire (whose call_id is derived from the fire). ``existing`` is that record, as it was."""

    def __init__(self, existing: dict[str, Any] | None):
        super().__init__("call already exists")
        self.existing = existing


def reserve_and_create_call(record: dict[str, Any], reserve_cents: int,
                             compliance: list[dict[str, Any]] | tuple = ()) -> None:
    """Hold the reserve, create the call record and write the reserve's ledger entry in ONE
    transaction: none exists without the others, and concurrent calls can never overdraw (the
    condition is checked atomically). The record's own ``attribute_not_exists(pk)`` makes a
    repeated call_id fail the whole transaction (no reserve held): ``CallAlreadyExists`` carries
    the existing record (ALL_OLD), so a duplicate delivery costs no extra read. A record still
    waiting for its provider's answer (every new call; fixture calls may be further on) goes into
    the sparse ByInitiating index; a call through a provider whose records we read back, into
    ByProviderCheck (its charge is compared with them once it can no longer be running).
    The call's integer alias (``int_id``, see store.int_ids) is taken in the same transaction: a
    number another call holds cancels it, and it is written again with a new number.
    ``compliance``: the dial counter's update, then the evidence record (store.compliance), in the
    same transaction; a counter changed since it was read raises ``DialCounterMoved``."""
    org_key = organization_key(record["organization_id"])
    if record.get("int_id") is None:
        record["int_id"] = new_int_id()
    item = {**call_key(record["call_id"]), **record}
    if record.get("status", "initiating") in ("initiating", "unconfirmed"):
        item.update(initiating_keys(record))
    if record.get("provider") in CHECKED_PROVIDERS:
        item.update(provider_check_keys(record))
    items = [
        {"Update": {
            "TableName": table(), "Key": to_item(org_key),
            "UpdateExpression": "SET reserved_cents = reserved_cents + :r, "
                                "available_cents = available_cents - :r",
            "ConditionExpression": "available_cents >= :r",
            "ExpressionAttributeValues": to_item({":r": reserve_cents}),
        }},
        {"Put": {
            "TableName": table(), "Item": to_item(item),
            "ConditionExpression": "attribute_not_exists(pk)",
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }},
        *compliance,
        *call_entries(record, now_iso(), "call", **{RESERVE: reserve_cents}),
    ]
    alias = len(items)
    items.append(alias_put("call", record["int_id"], record["call_id"], record["organization_id"]))
    try:
        client().transact_write_items(TransactItems=items)
    except client().exceptions.TransactionCanceledException as exc:
        reasons = exc.response.get("CancellationReasons") or []
        # The record first: a duplicate is a duplicate whatever the balance says now.
        if len(reasons) > 1 and reasons[1].get("Code") == "ConditionalCheckFailed":
            raise CallAlreadyExists(from_item(reasons[1].get("Item"))) from None
        if compliance and len(reasons) > 2 and reasons[2].get("Code") in ("ConditionalCheckFailed",
                                                                            "TransactionConflict"):
            raise DialCounterMoved(from_item(reasons[2].get("Item"))) from None
        if reasons and reasons[0].get("Code") == "ConditionalCheckFailed":
            raise ReserveRefused() from None
        if len(reasons) > alias and reasons[alias].get("Code") == "ConditionalCheckFailed":  # taken: rare
            record["int_id"] = new_int_id()
            return reserve_and_create_call(record, reserve_cents, compliance)
        raise


def mark_call_placed(call_id: str, call_sid: str, status: str = "queued", dynamodb: Any = None) -> str:
    """Record the provider's call id; only a call still initiating moves (webhooks may be first).
    ``dynamodb``: the client to use (after the provider step: one with short timeouts)."""
    db = dynamodb or client()
    updated_at = now_iso()
    try:
        db.update_item(
            TableName=table(), Key=to_item(call_key(call_id)),
            UpdateExpression="SET call_sid = :sid, #s = :status, updated_at = :now, " + APPEND_TIMELINE
                             + " REMOVE " + LEAVE_INITIATING,
            ConditionExpression="#s = :initiating",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues=to_item({":sid": call_sid, ":status": status, ":now": updated_at,
                                               ":initiating": "initiating", ":tl_empty": [],
                                               ":tl_entry": [timeline_entry(updated_at, status, source="api",
                                                                            detail="placed with the provider")]}),
        )
    except db.exceptions.ConditionalCheckFailedException:
        # A status webhook (or the sweeper) got there first: keep its status, only fill in the id
        # (never over one a webhook bound, e.g. the channel of a SIP failover trunk).
        db.update_item(
            TableName=table(), Key=to_item(call_key(call_id)),
            UpdateExpression="SET call_sid = if_not_exists(call_sid, :sid), updated_at = :now",
            ExpressionAttributeValues=to_item({":sid": call_sid, ":now": updated_at}),
        )
    return updated_at


def fail_call_and_release(record: dict[str, Any], reason: str, dynamodb: Any = None) -> str:
    """The provider refused: mark the record failed and give the reserve back (with its ledger
    entry), atomically and at most once (the record's status condition makes a repeat a no-op).
    ``record``: the call as the reserve transaction created it."""
    db = dynamodb or client()
    updated_at = now_iso()
    reserve_cents = record["reserve_cents"]
    try:
        db.transact_write_items(TransactItems=[
            {"Update": {
                "TableName": table(), "Key": to_item(call_key(record["call_id"])),
                # Refused: the provider has no call, so nothing of it to compare with its records.
                "UpdateExpression": "SET #s = :failed, failure_reason = :reason, updated_at = :now, "
                                    "reserve_cents = :zero, " + APPEND_TIMELINE
                                    + " REMOVE " + LEAVE_INITIATING + ", " + LEAVE_PROVIDER_CHECK,
                "ConditionExpression": "#s = :initiating",
                "ExpressionAttributeNames": {"#s": "status"},
                "ExpressionAttributeValues": to_item({":failed": "failed", ":reason": reason[:500],
                                                      ":now": updated_at, ":zero": 0,
                                                      ":initiating": "initiating", ":tl_empty": [],
                                                      ":tl_entry": [timeline_entry(updated_at, "failed", source="api",
                                                                                   detail=reason[:500])]}),
            }},
            {"Update": {
                "TableName": table(), "Key": to_item(organization_key(record["organization_id"])),
                "UpdateExpression": "SET reserved_cents = reserved_cents - :r, "
                                    "available_cents = available_cents + :r",
                "ExpressionAttributeValues": to_item({":r": reserve_cents}),
            }},
            *call_entries(record, updated_at, "refused", **{RELEASE: reserve_cents}),
        ])
    except db.exceptions.TransactionCanceledException as exc:
        if not failed_condition(exc):
            raise  # a conflict or throttling: the caller tries again
        # else already settled by someone else: releasing twice would mint money
    return updated_at


def cancel_reservation(record: dict[str, Any], dynamodb: Any = None) -> None:
    """Undo the reserve transaction of a call that was never handed to the provider: the record
    goes and the reserve comes back (ledgered as a release), in one transaction, only while the
    call is still initiating (so a retry of the same idempotent request or fire starts afresh). The
    evidence of the dial goes with it: no dial happened (the counter keeps it: counted, not missed)."""
    db = dynamodb or client()
    try:
        db.transact_write_items(TransactItems=[
            {"Delete": {
                "TableName": table(), "Key": to_item(call_key(record["call_id"])),
                "ConditionExpression": "#s = :initiating",
                "ExpressionAttributeNames": {"#s": "status"},
                "ExpressionAttributeValues": to_item({":initiating": "initiating"}),
            }},
            {"Delete": {"TableName": table(), "Key": to_item(dial_evidence_key(record["call_id"]))}},
            {"Update": {
                "TableName": table(), "Key": to_item(organization_key(record["organization_id"])),
                "UpdateExpression": "SET reserved_cents = reserved_cents - :r, "
                                    "available_cents = available_cents + :r",
                "ExpressionAttributeValues": to_item({":r": record["reserve_cents"]}),
            }},
            *call_entries(record, now_iso(), "undone before the provider was asked",
                          **{RELEASE: record["reserve_cents"]}),
        ])
    except db.exceptions.TransactionCanceledException as exc:
        if not failed_condition(exc):
            raise  # a conflict or throttling: the caller tries again
        # else no longer initiating: whoever moved it owns the reserve now


def mark_call_unconfirmed(call_id: str, reason: str, dynamodb: Any = None) -> str:
    """The provider did not answer in time: the call may exist. Keep the reserve; the status
    webhook (which carries our call_id) reconciles the record. The call stays in ByInitiating:
    if no webhook ever comes, the sweeper releases it once no call could still be running."""
    db = dynamodb or client()
    updated_at = now_iso()
    try:
        db.update_item(
            TableName=table(), Key=to_item(call_key(call_id)),
            UpdateExpression="SET #s = :unconfirmed, failure_reason = :reason, updated_at = :now, " + APPEND_TIMELINE,
            ConditionExpression="#s = :initiating",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues=to_item({":unconfirmed": "unconfirmed", ":reason": reason[:500],
                                               ":now": updated_at, ":initiating": "initiating", ":tl_empty": [],
                                               ":tl_entry": [timeline_entry(updated_at, "unconfirmed", source="api",
                                                                            detail=reason[:500])]}),
        )
    except db.exceptions.ConditionalCheckFailedException:
        pass  # a webhook already told us what happened
    return updated_at


ABANDONED_REASON = "Abandoned before the provider answered (released by the reserve sweeper)"
UNCONFIRMED_RELEASED_REASON = ("The provider did not answer in time and no status webhook arrived "
                               "(released by the reserve sweeper)")


def find_stuck_initiating(older_than: str, limit: int = 100) -> list[dict[str, Any]]:
    """Calls initiating or unconfirmed since before ``older_than`` (ISO, created_at's format): one Query
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


def abandon_call(call: dict[str, Any], reason: str | None = None, never_placed: bool = False) -> bool:
    """Mark a stuck call (initiating or unconfirmed) failed and release its reserve, in ONE
    transaction conditional on the call still being in the status read, with that reserve: a
    late mark_call_placed, a status webhook, a provider refusal or a second sweeper and this can
    never both settle it. No ``settled_at``: a late final webhook of a call that did happen may
    still charge its minutes (once; see usecases.status_webhook). ``never_placed``: the provider
    itself has no record of the call (it never rang): released like a refusal, with no
    ``abandoned_at`` and out of the provider reconciliation's index (nothing to compare). Returns
    False when someone else moved it."""
    status = call.get("status") or "initiating"
    if status not in ("initiating", "unconfirmed"):
        return False
    reason = reason or (ABANDONED_REASON if status == "initiating" else UNCONFIRMED_RELEASED_REASON)
    reserve = int(call.get("reserve_cents") or 0)
    now = now_iso()
    released = ("REMOVE " + LEAVE_INITIATING + ", " + LEAVE_PROVIDER_CHECK if never_placed
                else "abandoned_at = :now, released_reserve_cents = :r REMOVE " + LEAVE_INITIATING)
    try:
        client().transact_write_items(TransactItems=[
            {"Update": {
                "TableName": table(), "Key": to_item(call_key(call["call_id"])),
                "UpdateExpression": "SET #s = :failed, failure_reason = :reason, updated_at = :now, "
                                    "reserve_cents = :zero, " + APPEND_TIMELINE + (" " if never_placed else ", ")
                                    + released,
                "ConditionExpression": "#s = :stuck AND reserve_cents = :r",
                "ExpressionAttributeNames": {"#s": "status"},
                "ExpressionAttributeValues": to_item({":failed": "failed", ":reason": reason, ":now": now,
                                                      ":zero": 0, ":r": reserve, ":stuck": status, ":tl_empty": [],
                                                      ":tl_entry": [timeline_entry(now, "failed", source="reserve sweeper",
                                                                                   detail=reason)]}),
            }},
            {"Update": {
                "TableName": table(), "Key": to_item(organization_key(call["organization_id"])),
                "UpdateExpression": "SET reserved_cents = reserved_cents - :r, "
                                    "available_cents = available_cents + :r",
                "ConditionExpression": "attribute_exists(pk)",
                "ExpressionAttributeValues": to_item({":r": reserve}),
            }},
            *call_entries(call, now, "never placed: the provider has no record of it" if never_placed else "abandoned",
                          **{RELEASE: reserve}),
        ])
    except client().exceptions.TransactionCanceledException as exc:
        if not failed_condition(exc):
            raise  # a conflict or throttling: the next sweep tries again
        return False  # placed, refused, reconciled or swept meanwhile: nothing to release
    return True



def find_calls_by_sid(call_sid: str) -> list[dict[str, Any]]:
    """Calls carrying this provider call id (ByCallSid index; provider ids are unique per
    provider, so this is one call in practice)."""
    if not is_call_ref(call_sid):
        return []
    response = client().query(
        TableName=table(), IndexName=BY_CALL_SID_INDEX, KeyConditionExpression="call_sid = :sid",
        ExpressionAttributeValues={":sid": {"S": call_sid}}, Limit=5,
    )
    return [from_item(i) for i in response.get("Items", [])]


def list_calls(organization_id: str, limit: int, status: str | None = None,
               start_after: dict[str, str] | None = None, max_reads: int = 5,
               filters: dict[str, str] | None = None, since: str | None = None, until: str | None = None
               ) -> tuple[list[dict[str, Any]], dict[str, str] | None]:
    """An organization's calls, newest first, from the ByOrganization index (never a Scan).

    ``start_after`` / the returned position are ``{"gsi1sk", "call_id"}`` of the last call seen;
    the partition always comes from ``organization_id``, so a position cannot reach another
    organization's calls. ``since``/``until`` (``created_at`` form) narrow the key condition:
    ``since <= created_at < until``. A status or ``filters`` (attribute -> value, e.g.
    campaign_id) are applied by DynamoDB after the key condition, so a page may need several
    Query round trips; at most ``max_reads`` are made, then the page ends early with a position
    to continue from."""
    values: dict[str, Any] = {":pk": organization_calls_partition(organization_id)}
    key_condition = "gsi1pk = :pk"
    if since and until:
        key_condition += " AND gsi1sk BETWEEN :since AND :until"
        values.update({":since": since, ":until": until})  # "<until>#<call_id>" sorts after "<until>": excluded
    elif since:
        key_condition += " AND gsi1sk >= :since"
        values[":since"] = since
    elif until:
        key_condition += " AND gsi1sk < :until"
        values[":until"] = until
    query: dict[str, Any] = {"TableName": table(), "IndexName": BY_ORGANIZATION_INDEX,
                             "KeyConditionExpression": key_condition, "ScanIndexForward": False}
    conditions, names = [], {}
    if status:
        values[":status"] = status
        names["#s"] = "status"
        conditions.append("#s = :status")
    for i, (attribute, value) in enumerate(sorted((filters or {}).items())):
        values[f":f{i}"] = value
        names[f"#f{i}"] = attribute
        conditions.append(f"#f{i} = :f{i}")
    if conditions:
        query["FilterExpression"] = " AND ".join(conditions)
        query["ExpressionAttributeNames"] = names
    query["ExpressionAttributeValues"] = to_item(values)
    start = _list_position_key(organization_id, start_after) if start_after else None
    found: list[dict[str, Any]] = []
    for _ in range(max_reads):
        wanted = limit - len(found)
        page = dict(query, Limit=max(wanted, 25) if conditions else wanted)
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



def replace_call_metadata(call_id: str, expected: dict[str, Any] | None,
                          metadata: dict[str, Any]) -> dict[str, Any] | None:
    """Set a call's metadata, only if it is still ``expected`` (what the caller read and merged
    into): the item as written, or None when it changed meanwhile (read again and merge again)."""
    condition = "attribute_not_exists(metadata)" if expected is None else "metadata = :expected"
    values = {":metadata": metadata, ":now": now_iso(), **({} if expected is None else {":expected": expected})}
    try:
        response = client().update_item(
            TableName=table(), Key=to_item(call_key(call_id)),
            UpdateExpression="SET metadata = :metadata, updated_at = :now",
            ConditionExpression=f"attribute_exists(pk) AND ({condition})", ExpressionAttributeValues=to_item(values),
            ReturnValues="ALL_NEW")
    except client().exceptions.ConditionalCheckFailedException:
        return None
    return from_item(response["Attributes"])
