"""The reserve sweeper: a crash between the reserve transaction and the provider's answer (or
between that answer and mark_call_placed) leaves a call "initiating" with its reserve held, and
a provider timeout leaves it "unconfirmed". Either may have been placed, so ReserveSweeperFunction
releases the reserve only once no call could still be running (placing + longest ring + longest
call + grace, 72.5 minutes with the defaults), once, found through the sparse ByInitiating index; the webhooks
of a call that did happen settle it before that, and a very late one still charges it once.

Runs on an in-process local stack (moto server over HTTP, the real store code), with the
function invoked as `outbound invoke` runs it (outbound_local.functions)."""
from datetime import datetime, timedelta, timezone

import pytest

from tests.conftest import in_process_stack

pytestmark = pytest.mark.integration

ORG = "org_acme"
FROM = "+15551234567"


@pytest.fixture(scope="module")
def stack():
    yield from in_process_stack()


@pytest.fixture(autouse=True)
def reconciles_after_each_test(stack):
    """Whatever a test did (crashes, sweeps, late placements and webhooks), the ledger still
    proves the balance and the reserves."""
    yield
    from outbound.money.reconcile import reconcile

    result = reconcile(ORG, attempts=1)
    assert result.ok, result.problems


def balance():
    from outbound import store

    return store.organization_balance(ORG)


def call(call_id):
    from outbound import store

    return store.get_item(store.call_key(call_id))


def invoke_sweeper():
    from outbound_local import functions

    return functions.invoke("ReserveSweeperFunction", {"source": "aws.events", "detail-type": "Scheduled Event"})


def crash_during_initiate(monkeypatch, to, after_provider_answer=False):
    """POST /calls/initiate's use case, killed (KeyboardInterrupt: not an Exception, nothing
    catches it) either inside the provider call or right after the provider placed the call."""
    from outbound import store
    from outbound.calls import initiate as uc
    from outbound.calls.models import parse_initiate_request

    if after_provider_answer:
        def die(*args, **kwargs):
            raise KeyboardInterrupt("killed after the provider answered")
        monkeypatch.setattr(store, "mark_call_placed", die)
    else:
        def die(*args, **kwargs):
            raise KeyboardInterrupt("killed while waiting for the provider")
        monkeypatch.setattr(uc, "get_adapter", lambda provider: type("A", (), {"place_call": die})())
    created = {}
    real_reserve = store.reserve_and_create_call

    def spy(record, reserve, *compliance):
        created.update(record)
        return real_reserve(record, reserve, *compliance)

    monkeypatch.setattr(store, "reserve_and_create_call", spy)
    request = parse_initiate_request(f'{{"from_phone_number": "{FROM}", "to_phone_number": "{to}"}}')
    with pytest.raises(KeyboardInterrupt):
        uc.initiate_call(ORG, request, "https://api.example.test/v1")
    monkeypatch.undo()
    return created["call_id"]


HORIZON = timedelta(seconds=30 + 120 + 3600 + 600)  # placing + longest ring + MaxCallSeconds + grace
LONG_AGO = 80  # minutes: past the horizon
RECENTLY = 30  # minutes: long past any provider or function timeout, yet the call may still be running


def later(delta):
    return datetime.now(timezone.utc) + delta


def stuck_call_written_long_ago(minutes_ago, reserve=100):
    """The reserve transaction's state, written through the store API with an old timestamp."""
    from outbound import store
    from outbound.calls.initiate import new_call_record
    from outbound.calls.models import parse_initiate_request

    request = parse_initiate_request(f'{{"from_phone_number": "{FROM}", "to_phone_number": "+15559871000"}}')
    record = new_call_record(ORG, request, 123, "twilio", {"welcome_message": "Hi", "agenda": None}, reserve)
    old = (datetime.now(timezone.utc) - timedelta(minutes=minutes_ago)).isoformat(timespec="milliseconds")
    record["created_at"] = record["updated_at"] = old.replace("+00:00", "Z")
    store.reserve_and_create_call(record, reserve)
    return record["call_id"]


def test_a_crash_inside_the_provider_call_is_released_only_after_the_longest_call(stack, monkeypatch):
    from outbound.calls.reserve_sweeper import sweep

    before = balance()
    call_id = crash_during_initiate(monkeypatch, "+15559871001")
    assert call(call_id)["status"] == "initiating"
    assert balance()["reserved_cents"] == before["reserved_cents"] + 100  # the reserve is held

    fresh = invoke_sweeper()  # just now: untouched
    assert call_id not in fresh["call_ids"] and fresh["threshold_seconds"] == HORIZON.total_seconds()
    assert call(call_id)["status"] == "initiating"

    # Half an hour on, the provider may still be connected to the person: the reserve stays.
    assert call_id not in sweep(now=later(timedelta(minutes=RECENTLY)))["call_ids"]
    assert balance()["reserved_cents"] == before["reserved_cents"] + 100

    released = sweep(now=later(HORIZON + timedelta(minutes=1)))
    assert call_id in released["call_ids"]
    record = call(call_id)
    assert record["status"] == "failed" and record["reserve_cents"] == 0
    assert record["failure_reason"].startswith("Abandoned before the provider answered")
    assert "initiating_shard" not in record and "initiating_since" not in record  # left the index
    assert balance() == before  # released in full, nothing charged


def test_the_scheduled_function_releases_an_old_stuck_call_once(stack):
    before = balance()
    old, recent = stuck_call_written_long_ago(LONG_AGO), stuck_call_written_long_ago(RECENTLY)
    assert balance()["reserved_cents"] == before["reserved_cents"] + 200

    result = invoke_sweeper()
    assert old in result["call_ids"] and recent not in result["call_ids"]
    assert call(old)["status"] == "failed" and call(recent)["status"] == "initiating"
    assert balance()["reserved_cents"] == before["reserved_cents"] + 100  # only the recent one held
    assert balance()["balance_cents"] == before["balance_cents"]

    again = invoke_sweeper()  # the old call left the sparse index: a second run finds nothing of it
    assert old not in again["call_ids"]
    assert balance()["reserved_cents"] == before["reserved_cents"] + 100


def test_the_release_is_conditional_so_it_happens_at_most_once(stack):
    from outbound import store

    before = balance()
    call_id = stuck_call_written_long_ago(LONG_AGO)
    stale = dict(call(call_id))
    assert store.abandon_call(stale) is True
    assert store.abandon_call(stale) is False  # a second sweeper (or a stale index entry)
    store.fail_call_and_release(stale, "provider refused, late")  # a late refusal: no-op
    assert balance() == before


def test_a_late_placement_after_the_sweep_keeps_the_call_failed_and_released(stack):
    from outbound import store

    before = balance()
    call_id = stuck_call_written_long_ago(LONG_AGO)
    invoke_sweeper()
    store.mark_call_placed(call_id, "CA" + "f" * 32)  # the crashed process's last write, very late
    record = call(call_id)
    assert record["status"] == "failed" and record["call_sid"] == "CA" + "f" * 32
    assert balance() == before


def test_a_call_placed_before_a_crash_keeps_its_reserve_until_its_webhooks_settle_it(stack, monkeypatch):
    """The function died after the provider accepted the call, before recording it: the sweeper
    never releases its reserve while the call may be running; its webhooks reconcile and settle it."""
    from outbound.calls.lifecycle import StatusEvent
    from outbound.calls.reserve_sweeper import sweep
    from outbound.provider_callbacks.apply import apply_event

    sweep(now=later(HORIZON + timedelta(minutes=1)))  # earlier tests' stuck calls
    before = balance()
    call_id = crash_during_initiate(monkeypatch, "+15559871004", after_provider_answer=True)
    posts = [r for r in stack.requests.entries() if r["provider"] == "twilio"
             and isinstance(r["body"], dict) and r["body"].get("To") == ["+15559871004"]]
    assert len(posts) == 1  # the provider did place it; mark_call_placed never ran
    sid = stack.requests.placed_calls()[call_id]["call_sid"]  # what the provider knows
    assert call_id not in sweep(now=later(timedelta(minutes=RECENTLY)))["call_ids"]
    assert balance()["reserved_cents"] == before["reserved_cents"] + 100  # still held

    ringing = apply_event(call(call_id), StatusEvent(provider_call_id=sid, status="ringing"))
    assert ringing["applied"] is True and call(call_id)["call_sid"] == sid
    assert "initiating_shard" not in call(call_id)  # heard of: out of the sweeper's index
    completed = StatusEvent(provider_call_id=sid, status="completed", duration_s=125)
    assert apply_event(call(call_id), completed)["applied"] is True
    record = call(call_id)
    assert record["status"] == "completed" and record["charged_cents"] == 36  # 3 started minutes x 12
    assert record["settled_reserve_cents"] == 100  # the settlement released the reserve, once
    after = balance()
    assert after["balance_cents"] == before["balance_cents"] - 36
    assert after["reserved_cents"] == before["reserved_cents"]


def test_a_placed_call_whose_webhooks_come_after_the_horizon_is_charged_once(stack, monkeypatch):
    from outbound.calls.lifecycle import StatusEvent
    from outbound.calls.reserve_sweeper import sweep
    from outbound.provider_callbacks.apply import apply_event

    sweep(now=later(HORIZON + timedelta(minutes=1)))  # earlier tests' stuck calls
    before = balance()
    call_id = crash_during_initiate(monkeypatch, "+15559871002", after_provider_answer=True)
    assert call(call_id)["status"] == "initiating" and "call_sid" not in call(call_id)
    sweep(now=later(HORIZON + timedelta(minutes=1)))  # every webhook lost for over an hour
    assert call(call_id)["status"] == "failed" and balance() == before

    sid = "CA" + "1" * 32
    ringing = apply_event(call(call_id), StatusEvent(provider_call_id=sid, status="ringing"))
    assert ringing["applied"] is False and balance() == before  # nothing moves back from failed

    completed = StatusEvent(provider_call_id=sid, status="completed", duration_s=125)
    assert apply_event(call(call_id), completed)["applied"] is True
    record = call(call_id)
    assert record["status"] == "completed" and record["charged_cents"] == 36  # 3 started minutes x 12
    assert record["settled_reserve_cents"] == 0  # the reserve was released by the sweeper, not again
    after = balance()
    assert after["balance_cents"] == before["balance_cents"] - 36
    assert after["reserved_cents"] == before["reserved_cents"]
    assert after["available_cents"] == before["available_cents"] - 36

    assert apply_event(call(call_id), completed)["applied"] is False  # a repeat charges nothing
    assert balance() == after


def test_placed_and_refused_calls_leave_the_index_and_unconfirmed_ones_wait_for_the_horizon(stack):
    """Every status write that proves the provider has (or refused) the call removes the index
    keys; a provider timeout does not prove anything, so an unconfirmed call stays in the index
    and is released, like an initiating one, only once it could no longer be running."""
    from outbound import store
    from outbound.calls.initiate import initiate_call
    from outbound.calls.models import parse_initiate_request
    from outbound.calls.reserve_sweeper import sweep
    from outbound.errors import ProviderFailed

    def initiate(to):
        request = parse_initiate_request(f'{{"from_phone_number": "{FROM}", "to_phone_number": "{to}"}}')
        return initiate_call(ORG, request, "https://api.example.test/v1")

    sweep(now=later(HORIZON + timedelta(minutes=1)))  # earlier tests' stuck calls
    before = balance()
    placed = initiate("+15559871003")["call_id"]
    with pytest.raises(ProviderFailed):
        initiate("+15005550001")  # refused: failed and released by the use case itself
    unconfirmed = stuck_call_written_long_ago(1)
    store.mark_call_unconfirmed(unconfirmed, "No answer from twilio in time")
    assert call(placed)["status"] == "queued" and "initiating_shard" not in call(placed)
    assert "initiating_shard" in call(unconfirmed)

    assert unconfirmed not in sweep(now=later(timedelta(minutes=RECENTLY)))["call_ids"]
    result = sweep(now=later(timedelta(days=1)))
    assert placed not in result["call_ids"] and result["skipped"] == 0
    assert unconfirmed in result["call_ids"]
    record = call(unconfirmed)
    assert record["status"] == "failed" and record["reserve_cents"] == 0
    assert record["failure_reason"].startswith("The provider did not answer in time and no status webhook")
    assert call(placed)["status"] == "queued"
    assert balance()["reserved_cents"] == before["reserved_cents"] + 100  # the placed call's reserve only
