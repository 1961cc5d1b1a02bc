"""The reserve sweeper: a crash between the reserve transaction and the provider's answer (or
between that answer and mark_call_placed) leaves a call "initiating" with its reserve held;
ReserveSweeperFunction fails it and releases the reserve, once, found through the sparse
ByInitiating index; a late webhook of a call that did happen still reconciles sensibly.

Runs on an in-process local stack (moto server over HTTP, the real store code), with the
function invoked as `outbound invoke` runs it (outbound_local.functions)."""
import os
from datetime import datetime, timedelta, timezone

import pytest

pytestmark = pytest.mark.integration

ORG = "org_acme"
FROM = "+15551234567"


@pytest.fixture(scope="module")
def stack():
    from outbound_local.stack import DEMO_FIXTURE, LocalStack, reset_cached_clients

    saved = dict(os.environ)
    local = LocalStack().start()
    local.seed(DEMO_FIXTURE)
    try:
        yield local
    finally:
        local.stop()
        os.environ.clear()
        os.environ.update(saved)
        reset_cached_clients()


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
    from outbound.models import parse_initiate_request
    from outbound.usecases import initiate_call as uc

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

    def spy(record, reserve):
        created.update(record)
        return real_reserve(record, reserve)

    monkeypatch.setattr(store, "reserve_and_create_call", spy)
    request = parse_initiate_request(f'{{"from_phone_number": "{FROM}", "to_phone_number": "{to}"}}')
    with pytest.raises(KeyboardInterrupt):
        uc.initiate_call(ORG, request, "https://api.example.test/v1")
    monkeypatch.undo()
    return created["call_id"]


def stuck_call_written_long_ago(minutes_ago, reserve=100):
    """The reserve transaction's state, written through the store API with an old timestamp."""
    from outbound import store
    from outbound.models import parse_initiate_request
    from outbound.usecases.initiate_call import new_call_record

    request = parse_initiate_request(f'{{"from_phone_number": "{FROM}", "to_phone_number": "+15559871000"}}')
    record = new_call_record(ORG, request, 123, "twilio", {"welcome_message": "Hi", "agenda": None}, reserve)
    old = (datetime.now(timezone.utc) - timedelta(minutes=minutes_ago)).isoformat(timespec="milliseconds")
    record["created_at"] = record["updated_at"] = old.replace("+00:00", "Z")
    store.reserve_and_create_call(record, reserve)
    return record["call_id"]


def test_a_crash_inside_the_provider_call_is_released_only_after_the_threshold(stack, monkeypatch):
    from outbound.usecases.reserve_sweeper import sweep

    before = balance()
    call_id = crash_during_initiate(monkeypatch, "+15559871001")
    assert call(call_id)["status"] == "initiating"
    assert balance()["reserved_cents"] == before["reserved_cents"] + 100  # the reserve is held

    fresh = invoke_sweeper()  # younger than the 600 s threshold: untouched
    assert call_id not in fresh["call_ids"] and fresh["threshold_seconds"] == 600
    assert call(call_id)["status"] == "initiating"
    assert balance()["reserved_cents"] == before["reserved_cents"] + 100

    later = sweep(now=datetime.now(timezone.utc) + timedelta(minutes=11))
    assert call_id in later["call_ids"]
    record = call(call_id)
    assert record["status"] == "failed" and record["reserve_cents"] == 0
    assert record["failure_reason"].startswith("Abandoned before the provider answered")
    assert "initiating_shard" not in record and "initiating_since" not in record  # left the index
    assert balance() == before  # released in full, nothing charged


def test_the_scheduled_function_releases_an_old_stuck_call_once(stack):
    before = balance()
    old, young = stuck_call_written_long_ago(30), stuck_call_written_long_ago(2)
    assert balance()["reserved_cents"] == before["reserved_cents"] + 200

    result = invoke_sweeper()
    assert old in result["call_ids"] and young not in result["call_ids"]
    assert call(old)["status"] == "failed" and call(young)["status"] == "initiating"
    assert balance()["reserved_cents"] == before["reserved_cents"] + 100  # only the young one held
    assert balance()["balance_cents"] == before["balance_cents"]

    again = invoke_sweeper()  # the old call left the sparse index: a second run finds nothing of it
    assert old not in again["call_ids"]
    assert balance()["reserved_cents"] == before["reserved_cents"] + 100


def test_the_release_is_conditional_so_it_happens_at_most_once(stack):
    from outbound import store

    before = balance()
    call_id = stuck_call_written_long_ago(30)
    stale = dict(call(call_id))
    assert store.abandon_call(stale) is True
    assert store.abandon_call(stale) is False  # a second sweeper (or a stale index entry)
    store.fail_call_and_release(call_id, ORG, 100, "provider refused, late")  # a late refusal: no-op
    assert balance() == before


def test_a_late_placement_after_the_sweep_keeps_the_call_failed_and_released(stack):
    from outbound import store

    before = balance()
    call_id = stuck_call_written_long_ago(30)
    invoke_sweeper()
    store.mark_call_placed(call_id, "CA" + "f" * 32)  # the crashed process's last write, very late
    record = call(call_id)
    assert record["status"] == "failed" and record["call_sid"] == "CA" + "f" * 32
    assert balance() == before


def test_a_call_the_provider_placed_is_charged_once_by_its_late_final_webhook(stack, monkeypatch):
    from outbound.lifecycle import StatusEvent
    from outbound.usecases.reserve_sweeper import sweep
    from outbound.usecases.status_webhook import apply_event

    sweep(now=datetime.now(timezone.utc) + timedelta(minutes=11))  # earlier tests' young calls
    before = balance()
    call_id = crash_during_initiate(monkeypatch, "+15559871002", after_provider_answer=True)
    posts = [r for r in stack.requests.entries() if r["provider"] == "twilio" and r["body"]["To"] == ["+15559871002"]]
    assert len(posts) == 1  # the provider did place it; mark_call_placed never ran
    assert call(call_id)["status"] == "initiating" and "call_sid" not in call(call_id)
    sweep(now=datetime.now(timezone.utc) + timedelta(minutes=11))
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


def test_placed_refused_and_unconfirmed_calls_leave_the_index(stack):
    """Every status write after the reserve removes the index keys: a sweep far in the future
    touches none of these calls."""
    from outbound import store
    from outbound.errors import ProviderFailed
    from outbound.models import parse_initiate_request
    from outbound.usecases.initiate_call import initiate_call
    from outbound.usecases.reserve_sweeper import sweep

    def initiate(to):
        request = parse_initiate_request(f'{{"from_phone_number": "{FROM}", "to_phone_number": "{to}"}}')
        return initiate_call(ORG, request, "https://api.example.test/v1")

    placed = initiate("+15559871003")["call_id"]
    with pytest.raises(ProviderFailed):
        initiate("+15005550001")  # refused: failed and released by the use case itself
    unconfirmed = stuck_call_written_long_ago(1)
    store.mark_call_unconfirmed(unconfirmed, "No answer from twilio in time")
    result = sweep(now=datetime.now(timezone.utc) + timedelta(days=1))
    assert placed not in result["call_ids"] and unconfirmed not in result["call_ids"]
    assert result["skipped"] == 0
    assert call(placed)["status"] == "queued" and call(unconfirmed)["status"] == "unconfirmed"
    assert "initiating_shard" not in call(placed) and "initiating_shard" not in call(unconfirmed)
