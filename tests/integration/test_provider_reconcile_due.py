"""ProviderReconcileFunction's way in: every organization's calls through Twilio, Telnyx or Vonage
wait in the sparse ByProviderCheck index (written with the reserve, no extra round trip) until
their provider's record was compared with them, once no call placed then can still be running.

In-process local stack (moto server over HTTP, the emulators, the real store code); ``now`` is
moved past the horizon instead of waiting for it."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tests.conftest import in_process_stack

pytestmark = pytest.mark.integration

ORG = "org_acme"
NUMBERS = {"twilio": "+15551234567", "telnyx": "+15551230007", "vonage": "+15551230008", "sip": "+15551230009"}
HORIZON = timedelta(seconds=30 + 120 + 3600 + 600)  # placing + longest ring + MaxCallSeconds + grace


@pytest.fixture(scope="module")
def stack():
    yield from in_process_stack()


@pytest.fixture(autouse=True)
def ledger_proves_the_money(stack):
    yield
    from outbound.money.reconcile import reconcile

    result = reconcile(ORG, attempts=1)
    assert result.ok, result.problems


def place(provider: str, to: str = "+15559876543") -> dict:
    from outbound.calls.models import parse_initiate_request
    from outbound.calls.initiate import initiate_call

    request = parse_initiate_request(f'{{"from_phone_number": "{NUMBERS[provider]}", "to_phone_number": "{to}"}}')
    return initiate_call(ORG, request, "https://api.example.test/v1")


def call(call_id: str) -> dict:
    from outbound import store

    return store.get_item(store.call_key(call_id))


def due(after: timedelta) -> list[str]:
    from outbound import store
    from outbound.money.provider_reconcile import iso

    return store.calls_due_for_provider_check(iso(datetime.now(timezone.utc) + after - HORIZON), 500)


def run(after: timedelta):
    from outbound.money.provider_reconcile import reconcile_due

    return {c.call_id: c for c in reconcile_due(now=datetime.now(timezone.utc) + after).checks}


def test_calls_are_due_once_no_call_placed_then_can_still_be_running(stack):
    placed = {provider: place(provider)["call_id"] for provider in ("twilio", "telnyx", "vonage", "sip")}
    assert not set(placed.values()) & set(due(timedelta(minutes=30)))  # may still be running
    later = due(HORIZON + timedelta(minutes=1))
    assert {placed["twilio"], placed["telnyx"], placed["vonage"]} <= set(later)
    assert placed["sip"] not in later  # the bridge is the organization's own: nothing to read back


def test_a_refused_call_leaves_the_index_with_its_refusal(stack):
    from outbound.errors import ProviderFailed

    from outbound import store

    with pytest.raises(ProviderFailed):
        place("twilio", to="+15005550001")
    [refused], _ = store.list_calls(ORG, 1, status="failed")
    assert refused["to_phone_number"] == "+15005550001" and "provider_check_shard" not in refused
    assert refused["call_id"] not in due(HORIZON * 2)


def test_the_scheduled_run_settles_lost_webhooks_flags_open_calls_and_then_leaves_them(stack):
    lost = place("telnyx")
    open_ = place("vonage")
    stack.requests.calls.play(lost["call_sid"], "completed", 61)  # no webhook reached us
    stack.requests.calls.play(open_["call_sid"], "in-progress", 0)
    checks = run(HORIZON + timedelta(minutes=1))
    assert checks[lost["call_id"]].outcome == "settled" and call(lost["call_id"])["charged_cents"] == 24
    assert checks[open_["call_id"]].outcome == "flagged"
    flagged = call(open_["call_id"])
    assert flagged["status"] == "in-progress" and "not finished" in flagged["provider_flag"]  # moved on, not charged
    assert "settled_at" not in flagged and flagged["reserve_cents"] == 100
    # Settled: out of the index. Flagged: checked again a horizon after the flag, not before.
    assert lost["call_id"] not in due(HORIZON * 3) and open_["call_id"] not in due(HORIZON + timedelta(minutes=1))
    assert open_["call_id"] in due(HORIZON * 3)
    stack.requests.calls.play(open_["call_sid"], "completed", 125)
    assert run(HORIZON * 3)[open_["call_id"]].outcome == "settled"
    final = call(open_["call_id"])
    assert final["charged_cents"] == 36 and "provider_flag" not in final and open_["call_id"] not in due(HORIZON * 4)


def test_the_function_reports_its_run(stack):
    from outbound_local import functions

    result = functions.invoke("ProviderReconcileFunction", {"source": "aws.events", "detail-type": "Scheduled Event"})
    assert {"checked", "matched", "adjusted", "settled", "flagged", "not_checked", "adjustment_cents", "calls"} <= \
        set(result)
    assert result["checked"] == len(result["calls"])
