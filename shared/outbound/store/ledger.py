"""The balance ledger: one entry per money movement, written in the SAME transaction as the
balance change it records, so neither exists without the other and no extra round trip is made.

| kind      | balance_delta_cents | reserved_delta_cents | written by                                    |
|-----------|---------------------|----------------------|-----------------------------------------------|
| ``credit``  | +amount           | 0                    | ``credit_organization`` (operators, fixtures) |
| ``reserve`` | 0                 | +amount              | ``reserve_and_create_call``                   |
| ``release`` | 0                 | -amount              | refusal, undo, sweeper, settlement            |
| ``charge``  | -amount           | 0                    | ``settle_call``                               |
| ``extra_charge`` | -amount      | 0                    | ``adjust_call_charge``: the provider's record says the call cost more |
| ``refund``  | +amount           | 0                    | ``adjust_call_charge``: ... or less (a forged or altered webhook) |

``available_cents`` moves by ``balance_delta - reserved_delta``. So an organization's
``balance_cents`` is the sum of its entries' balance deltas and ``reserved_cents`` the sum of their
reserved deltas (what ``usecases.reconcile`` proves). Entry ids are derived from what they record
(keys.call_entry_id, keys.credit_entry_id, keys.call_adjustment_entry_id) and each Put is
``attribute_not_exists(pk)``: a retried transaction cannot write an entry twice.
"""
from __future__ import annotations

from typing import Any

from ..cents import MAX_BALANCE_CENTS, MAX_CREDIT_CENTS, format_cents, is_cents
from ..dynamodb_json import from_item, to_item
from .base import client, now_iso, query_all, table
from .keys import (
    BY_ORGANIZATION_INDEX,
    call_entry_id,
    credit_entry_id,
    ledger_entry_key,
    ledger_partition,
    organization_calls_partition,
    organization_key,
    organization_ledger_partition,
)

CREDIT, RESERVE, RELEASE, CHARGE = "credit", "reserve", "release", "charge"
EXTRA_CHARGE, REFUND = "extra_charge", "refund"  # a settled call's charge corrected (provider_reconcile)
# (balance, reserved) sign of each kind's amount.
EFFECTS = {CREDIT: (1, 0), RESERVE: (0, 1), RELEASE: (0, -1), CHARGE: (-1, 0), EXTRA_CHARGE: (-1, 0), REFUND: (1, 0)}
ENTRY_FIELDS = ("entry_id", "kind", "amount_cents", "balance_delta_cents", "reserved_delta_cents", "call_id",
                "cause", "reference", "reason", "created_at")
MAX_REFERENCE_CHARS = 200


def entry_item(organization_id: str, entry_id: str, kind: str, cents: int, at: str,
               **about: Any) -> dict[str, Any]:
    """A ledger entry as stored (``about``: call_id, cause, reference, reason; None is left out)."""
    balance_sign, reserved_sign = EFFECTS[kind]
    return {
        **ledger_entry_key(organization_id, entry_id), "entry_id": entry_id, "organization_id": organization_id,
        "kind": kind, "amount_cents": cents, "balance_delta_cents": balance_sign * cents,
        "reserved_delta_cents": reserved_sign * cents, "created_at": at,
        "gsi1pk": organization_ledger_partition(organization_id), "gsi1sk": f"{at}#{entry_id}",
        **{name: value for name, value in about.items() if value is not None},
    }


def put_entry(item: dict[str, Any]) -> dict[str, Any]:
    """The entry as one item of a TransactWriteItems: refused if that entry was ever written."""
    return {"Put": {"TableName": table(), "Item": to_item(item), "ConditionExpression": "attribute_not_exists(pk)"}}


def call_entries(call: dict[str, Any], at: str, cause: str, **cents_by_kind: int) -> list[dict[str, Any]]:
    """Transaction items for a call's movements, e.g. ``call_entries(call, now, "settled", charge=36,
    release=100)``; zero amounts write nothing. The hold is told apart by the record's
    ``created_at`` (the sparse index's ``initiating_since`` is the same value)."""
    created_at = call.get("created_at") or call["initiating_since"]
    items = []
    for kind, cents in cents_by_kind.items():
        if cents:
            entry_id = call_entry_id(call["call_id"], created_at, kind)
            items.append(put_entry(entry_item(call["organization_id"], entry_id, kind, int(cents), at,
                                              call_id=call["call_id"], cause=cause)))
    return items


# --- credits ------------------------------------------------------------------------------------

class NoSuchOrganization(Exception):
    pass


class BalanceLimit(Exception):
    """The credit would take the balance past MAX_BALANCE_CENTS: nothing was credited."""


class CreditConflict(Exception):
    """The reference was used already, for another amount: nothing was credited."""

    def __init__(self, existing: dict[str, Any]):
        super().__init__(f"reference {existing.get('reference')!r} was already used for a credit of "
                         f"{existing.get('amount_cents')} cents")
        self.existing = existing


def credit_organization(organization_id: str, cents: int, reference: str, reason: str) -> tuple[bool, dict]:
    """Add funds: ONE transaction writes the credit entry and raises balance and available.
    Idempotent by ``reference`` (e.g. the payment's id): a repeat credits nothing and returns
    ``(False, the first entry)``; the same reference with another amount raises CreditConflict.
    Touches nothing but balance_cents and available_cents; never takes the balance past
    MAX_BALANCE_CENTS (the condition says so: BalanceLimit)."""
    if not is_cents(cents, 1, MAX_CREDIT_CENTS):
        raise ValueError(f"a credit is a whole number of cents from 1 to {MAX_CREDIT_CENTS}")
    if not reference or len(reference) > MAX_REFERENCE_CHARS or not reference.isprintable():
        raise ValueError(f"a credit's reference is 1 to {MAX_REFERENCE_CHARS} printable characters")
    item = entry_item(organization_id, credit_entry_id(reference), CREDIT, cents, now_iso(),
                      reference=reference, reason=reason)
    try:
        client().transact_write_items(TransactItems=[
            {"Put": {**put_entry(item)["Put"], "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}},
            {"Update": {
                "TableName": table(), "Key": to_item(organization_key(organization_id)),
                "UpdateExpression": "SET balance_cents = balance_cents + :c, available_cents = available_cents + :c",
                "ConditionExpression": "attribute_exists(pk) AND balance_cents <= :most",
                "ExpressionAttributeValues": to_item({":c": cents, ":most": MAX_BALANCE_CENTS - cents}),
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }},
        ])
    except client().exceptions.TransactionCanceledException as exc:
        reasons = exc.response.get("CancellationReasons") or []
        if reasons and reasons[0].get("Code") == "ConditionalCheckFailed":
            existing = from_item(reasons[0].get("Item")) or {}
            if int(existing.get("amount_cents") or 0) != cents:
                raise CreditConflict(existing) from None
            return False, existing
        if len(reasons) > 1 and reasons[1].get("Code") == "ConditionalCheckFailed":
            if reasons[1].get("Item"):  # the organization exists: its balance is at the bound
                raise BalanceLimit(f"a balance is at most {format_cents(MAX_BALANCE_CENTS)}: "
                                   f"{organization_id} cannot take {format_cents(cents)} more") from None
            raise NoSuchOrganization(organization_id) from None
        raise
    return True, item


# --- reads ----------------------------------------------------------------------------------------

def ledger_entries(organization_id: str) -> list[dict[str, Any]]:
    """Every entry of an organization, strongly consistent (the base table's partition, not an
    index): what reconcile sums. Reads the whole history, page by page."""
    return query_all(TableName=table(), ConsistentRead=True, KeyConditionExpression="pk = :pk",
                     ExpressionAttributeValues=to_item({":pk": ledger_partition(organization_id)}))


def list_ledger(organization_id: str, limit: int, after: str | None = None
                ) -> tuple[list[dict[str, Any]], str | None]:
    """A page of entries, newest first, from the ByOrganization index. ``after`` / the returned
    position is the last entry's ``gsi1sk`` (``<created_at>#<entry_id>``); the partition always
    comes from ``organization_id``, so a position cannot reach another organization's entries.
    One more entry than the page is read, so a position is returned only when more follow."""
    partition = organization_ledger_partition(organization_id)
    query: dict[str, Any] = {
        "TableName": table(), "IndexName": BY_ORGANIZATION_INDEX, "KeyConditionExpression": "gsi1pk = :pk",
        "ExpressionAttributeValues": to_item({":pk": partition}), "ScanIndexForward": False, "Limit": limit + 1,
    }
    if after:
        entry_id = after.partition("#")[2]
        query["ExclusiveStartKey"] = to_item({**ledger_entry_key(organization_id, entry_id),
                                              "gsi1pk": partition, "gsi1sk": after})
    items = [from_item(i) for i in client().query(**query).get("Items", [])]
    if len(items) > limit:
        return items[:limit], items[limit - 1]["gsi1sk"]
    return items, None


def entry_view(item: dict[str, Any]) -> dict[str, Any]:
    """An entry as the API and the CLI show it."""
    return {name: item.get(name) for name in ENTRY_FIELDS}


def reserves_held_by_calls(organization_id: str) -> dict[str, int]:
    """call_id -> reserve_cents of the organization's calls that hold one, from the ByOrganization
    index (never a Scan; the index is eventually consistent: reconcile re-reads on a mismatch).
    Reads every call of the organization, projected to three attributes."""
    calls = query_all(
        TableName=table(), IndexName=BY_ORGANIZATION_INDEX, KeyConditionExpression="gsi1pk = :pk",
        FilterExpression="reserve_cents > :zero", ProjectionExpression="call_id, reserve_cents",
        ExpressionAttributeValues=to_item({":pk": organization_calls_partition(organization_id), ":zero": 0}))
    return {call["call_id"]: int(call["reserve_cents"]) for call in calls}
