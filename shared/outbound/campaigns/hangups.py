"""A canceled campaign's calls in flight, ended (POST /campaigns/{id}/cancel?end_calls=true).

Each in-flight contact's current call is hung up as POST /calls/{call_ref}/terminate does
(outbound.calls.terminate: the provider's own hang-up); each then ends with its provider's final
status webhook and its contact settles as usual (a call hung up while ringing ends ``canceled``,
an answered one ``completed``). The hang-ups run a few at a time within the request's time; what
could not be ended is answered with why (a call not placed yet, one already ended, no time left).
"""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from outbound import deadline, store
from outbound.calls.terminate import hang_up
from outbound.campaigns.policy import IN_FLIGHT_STATUSES
from outbound.errors import ApiError
from outbound.providers import provider_timeout_s
from outbound.store import campaigns as db

PARALLEL = 8
BUDGET_S = 20.0  # within API Gateway's 29 s, whatever the provider's timeout


def end_calls_in_flight(campaign_id: str) -> dict[str, Any]:
    """``{"requested": [call ids whose provider was asked to hang up], "not_ended": [{"call_id", "reason"}]}``."""
    call_ids = [c["current_call_id"] for c in _contacts_in_flight(campaign_id) if c.get("current_call_id")]
    calls: dict[tuple[str, str], dict[str, Any]] = {}
    for first in range(0, len(call_ids), 100):  # BatchGetItem reads 100 keys at most
        calls.update(store.get_items([store.call_key(call_id) for call_id in call_ids[first:first + 100]]))
    give_up_at = time.monotonic() + min(BUDGET_S, deadline.remaining() - provider_timeout_s() - 1.0)

    def end(call_id: str) -> tuple[str, str | None]:
        call = calls.get(tuple(store.call_key(call_id).values()))
        if call is None:
            return call_id, "its call was not placed yet"
        if time.monotonic() > give_up_at:
            return call_id, "no time left in this request: end it with POST /calls/{call_ref}/terminate"
        try:
            hang_up(call)
        except ApiError as exc:
            return call_id, exc.detail
        return call_id, None

    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        results = list(pool.map(end, call_ids))
    return {"requested": [call_id for call_id, reason in results if reason is None],
            "not_ended": [{"call_id": call_id, "reason": reason} for call_id, reason in results if reason]}


def _contacts_in_flight(campaign_id: str) -> list[dict[str, Any]]:
    """Bounded by the campaign's max_concurrent_calls (at most 1,000)."""
    found: list[dict[str, Any]] = []
    for status in IN_FLIGHT_STATUSES:
        start = None
        while True:
            items, start = db.list_contacts(campaign_id, status, 100, start)
            found += items
            if not start:
                break
    return found
