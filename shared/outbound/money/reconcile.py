"""Prove an organization's money from its ledger (``outbound admin reconcile ORG``).

It holds when:
1. ``balance_cents`` equals the sum of the ledger's balance deltas (credits minus charges);
2. ``reserved_cents`` equals the sum of the ledger's reserved deltas (reserves minus releases);
3. ``reserved_cents`` equals the reserves the organization's calls still hold (their records);
4. every call's ledger entries hold exactly the reserve its record holds;
5. ``available_cents`` equals ``balance_cents - reserved_cents``.

Reads: the organization (GetItem) and its ledger (a Query of its own partition), both strongly
consistent, and its calls from the ByOrganization index, which is eventually consistent: a
mismatch is read again (``attempts``, ``pause_s`` apart) before it is reported, so a call that
moved during the check, or an index a moment behind, is not taken for lost money. Off the
request path: the cost grows with the organization's history (every entry and call is read).
"""
from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from outbound import store

SHOWN_CALLS = 10  # call-level mismatches listed by id (the total is always given)


@dataclass
class Reconciliation:
    organization_id: str
    balance_cents: int
    reserved_cents: int
    available_cents: int
    ledger_balance_cents: int
    ledger_reserved_cents: int
    calls_reserved_cents: int
    entries: int
    calls_holding: int
    problems: list[str] = field(default_factory=list)
    attempts: int = 1

    @property
    def ok(self) -> bool:
        return not self.problems


def check(organization: dict[str, Any], entries: list[dict[str, Any]], held: dict[str, int]) -> Reconciliation:
    """The five checks, on what was read (pure)."""
    money = {name: int(organization.get(name) or 0) for name in ("balance_cents", "reserved_cents", "available_cents")}
    result = Reconciliation(
        organization["id"] if "id" in organization else organization["pk"].removeprefix("ORG#"), **money,
        ledger_balance_cents=sum(int(e["balance_delta_cents"]) for e in entries),
        ledger_reserved_cents=sum(int(e["reserved_delta_cents"]) for e in entries),
        calls_reserved_cents=sum(held.values()), entries=len(entries), calls_holding=len(held))
    expect = [
        ("balance_cents", result.balance_cents, "the ledger's balance entries", result.ledger_balance_cents),
        ("reserved_cents", result.reserved_cents, "the ledger's reserve entries", result.ledger_reserved_cents),
        ("reserved_cents", result.reserved_cents, "the reserves its calls hold", result.calls_reserved_cents),
        ("available_cents", result.available_cents, "balance_cents - reserved_cents",
         result.balance_cents - result.reserved_cents),
    ]
    for name, actual, source, expected in expect:
        if actual != expected:
            result.problems.append(f"{name} is {actual}, but {source} sum to {expected} "
                                   f"(off by {actual - expected:+d})")
    by_call: dict[str, int] = defaultdict(int)
    for entry in entries:
        if entry.get("call_id"):
            by_call[entry["call_id"]] += int(entry["reserved_delta_cents"])
    wrong = sorted(c for c in set(by_call) | set(held) if by_call.get(c, 0) != held.get(c, 0))
    for call_id in wrong[:SHOWN_CALLS]:
        result.problems.append(f"call {call_id} holds {held.get(call_id, 0)} cents, "
                               f"but its ledger entries hold {by_call.get(call_id, 0)}")
    if len(wrong) > SHOWN_CALLS:
        result.problems.append(f"... and {len(wrong) - SHOWN_CALLS} more calls")
    return result


def reconcile(organization_id: str, attempts: int = 3, pause_s: float = 1.0) -> Reconciliation | None:
    """None when there is no such organization."""
    for attempt in range(1, attempts + 1):
        organization = store.get_item(store.organization_key(organization_id))
        if organization is None:
            return None
        result = check(organization, store.ledger_entries(organization_id),
                       store.reserves_held_by_calls(organization_id))
        result.attempts = attempt
        if result.ok or attempt == attempts:
            return result
        time.sleep(pause_s)
    raise AssertionError("unreachable")
