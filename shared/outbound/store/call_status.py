"""A call's status moves (provider webhooks) and its settlement: forward only, settled once.
(status model and arithmetic: outbound.calls.lifecycle; caller: usecases.status_webhook)"""
from __future__ import annotations

from typing import Any, Iterable

from ..dynamodb_json import from_item, to_item
from .base import client, now_iso, table
from .calls import APPEND_TIMELINE, timeline_entry
from .keys import LEAVE_INITIATING, call_key, organization_key
from .ledger import CHARGE, RELEASE, call_entries


class CallNotMoved(Exception):
    """The conditional write found the call already at (or past) that status, already settled,
    or bound to another provider call id: nothing was written. ``current`` is the item as it was."""

    def __init__(self, current: dict[str, Any] | None):
        super().__init__("call not moved")
        self.current = current



def _status_update(new_status: str, from_statuses: Iterable[str], call_sid: str | None,
                   fields: dict[str, Any], now: str, note: dict[str, Any] | None = None) -> dict[str, Any]:
    """UpdateExpression parts shared by advance_call and settle_call: move the status only from
    a lower rank, fill in the provider's call id, never overwrite another call id, and append
    the move to the call's timeline (``note``: what made it, see timeline_entry)."""
    names = {"#s": "status"}
    values: dict[str, Any] = {":new": new_status, ":now": now,
                              ":tl_empty": [], ":tl_entry": [timeline_entry(now, new_status, **(note or {}))]}
    sets = ["#s = :new", "updated_at = :now", APPEND_TIMELINE]
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
                 fields: dict[str, Any], note: dict[str, Any] | None = None) -> dict[str, Any]:
    """A non-final status (queued, ringing, in-progress): one conditional UpdateItem. Returns the
    updated item; raises CallNotMoved when the call is already at or past ``new_status``."""
    parts = _status_update(new_status, from_statuses, call_sid, fields, now_iso(), note)
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
                charge_cents: int, fields: dict[str, Any], note: dict[str, Any] | None = None) -> str:
    """The final status: ONE TransactWriteItems that records it on the call, settles the
    organization (balance -= charge, reserved -= reserve, available += reserve - charge) and
    writes the charge and release ledger entries (a call the sweeper already released has no
    reserve left: only its charge is written).

    Exactly once: the call's update is conditional on a non-final status, on no ``settled_at``
    and on the reserve being the one read, so a repeated or concurrent final webhook cancels the
    whole transaction and the organization is not touched (raises CallNotMoved). The balance may
    go below zero only by the part of the charge above the reserve (see lifecycle.settlement)."""
    now = now_iso()
    reserve = int(call.get("reserve_cents") or 0)
    parts = _status_update(final_status, from_statuses, call_sid,
                           {**fields, "charged_cents": charge_cents, "settled_reserve_cents": reserve,
                            "settled_at": now, "reserve_cents": 0}, now, {**(note or {}), "charged_cents": charge_cents})
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
            *call_entries(call, now, f"settled {final_status}", **{CHARGE: charge_cents, RELEASE: reserve}),
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

