"""The campaign dispatcher and dialer on an in-process local stack (moto over HTTP, the real store
and use cases), with the clock in the test's hands: slots never overbooked even by concurrent
ticks, the pacing cursor, calling windows, and an attempt placed once however often its dial
message is delivered. (The same engine end to end over HTTP: test_campaigns_http.py.)"""
from __future__ import annotations

import itertools
import json
import threading
from datetime import datetime, timedelta, timezone

import pytest

from tests.conftest import ROOT, in_process_stack

pytestmark = pytest.mark.integration

UTC = timezone.utc
ORG, FROM = "org_dialer", "+15551235101"
ALL_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_numbers = itertools.count(1)  # +1555 557 xxxx: this module's destinations (no zone of their own)


@pytest.fixture(scope="module")
def stack():
    yield from in_process_stack(ROOT / "tests" / "fixtures" / "campaigns.json")


def zone_at(hour: int) -> str:
    """An Etc/GMT zone where the local time is about ``hour`` now."""
    offset = hour - datetime.now(UTC).hour
    offset = offset - 24 if offset > 14 else offset + 24 if offset < -12 else offset
    return f"Etc/GMT{-offset:+d}" if offset else "UTC"


def new_campaign(max_concurrent=3, cpm=600, contacts=5, tz_hour=12, **extra):
    from outbound.campaigns import contacts as campaign_contacts
    from outbound.campaigns import lifecycle as campaigns
    from outbound.campaigns.models import CampaignCreate, ContactIn

    body = CampaignCreate(name="engine", from_phone_number=FROM, variables={"name": "Ada", "what": "it"},
                          calling_window={"days": ALL_DAYS, "start": "08:00", "end": "21:00"},
                          pacing={"max_concurrent_calls": max_concurrent, "calls_per_minute": cpm}, **extra)
    campaign_id = campaigns.create_campaign(ORG, body)["campaign_id"]
    rows = [ContactIn(phone_number=f"+1555557{next(_numbers):04d}", timezone=zone_at(tz_hour)) for _ in range(contacts)]
    result = campaign_contacts.add_contacts(ORG, campaign_id, rows)
    assert result["added"] == contacts, result["errors"]
    return campaign_id


def start(campaign_id):
    from outbound.store import campaigns as db

    db.move_campaign(campaign_id, ORG, ("draft",), "running", {"started_at": "2026-01-01T00:00:00.000Z"})


def state(campaign_id):
    from outbound.store import campaigns as db

    item = db.get_campaign(campaign_id)
    contacts, _ = db.list_contacts(campaign_id, None, 100)
    return item, contacts


def test_concurrent_ticks_never_overbook_the_slots(stack):
    from outbound.campaigns.dispatch import run_tick

    campaign_id = new_campaign(max_concurrent=3, contacts=20)
    start(campaign_id)
    errors = []

    def tick():
        try:
            run_tick(campaign_id, [])
        except Exception as exc:  # a tick that kept losing races: its message would be retried
            errors.append(exc)

    threads = [threading.Thread(target=tick) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    item, contacts = state(campaign_id)
    dialing = [c for c in contacts if c["status"] == "dialing"]
    assert len(dialing) == 3 and item["in_flight"] == 3  # never more than max_concurrent_calls
    assert item["count_dialing"] == 3 and item["count_pending"] == 17
    assert len({c["current_call_id"] for c in dialing}) == 3


def test_a_tick_working_from_a_stale_read_cannot_overbook(stack, monkeypatch):
    """Tick B read the campaign before tick A claimed its slots, and goes for other contacts:
    only the transaction's own condition on in_flight can stop it."""
    from outbound.campaigns.dispatch import iso, run_tick
    from outbound.store import campaigns as db

    campaign_id = new_campaign(max_concurrent=3, contacts=6)
    start(campaign_id)
    stale_meta, due = db.dispatch_view(campaign_id, iso(datetime.now(UTC)), 25)
    assert run_tick(campaign_id, []).claimed == 3  # tick A
    reads = iter([(stale_meta, due[3:])])
    real = db.dispatch_view
    monkeypatch.setattr(db, "dispatch_view", lambda *args: next(reads, None) or real(*args))
    assert run_tick(campaign_id, []).claimed == 0  # tick B: refused, re-read, no slot left
    item, contacts = state(campaign_id)
    assert item["in_flight"] == 3 and sum(c["status"] == "dialing" for c in contacts) == 3


def test_the_pacing_cursor_spaces_dials_across_ticks(stack):
    from outbound.campaigns.dispatch import parse, run_tick

    campaign_id = new_campaign(max_concurrent=50, cpm=6, contacts=8)  # one dial every 61/6 s
    start(campaign_id)
    now = datetime.now(UTC)
    first = run_tick(campaign_id, [], now=now)
    times = [parse(d["dial_at"]) for d in first.dials]
    step = 61 / 6
    assert len(times) == 6  # 0, 10.2, ..., 50.8 s: no slot handed out more than a minute ahead
    assert all(abs((b - a).total_seconds() - step) < 0.01 for a, b in zip(times, times[1:]))
    assert run_tick(campaign_id, [], now=now + timedelta(seconds=0.5)).claimed == 0  # its slots are taken
    later = run_tick(campaign_id, [], now=now + timedelta(seconds=5))  # the next slot (61 s) is a minute ahead
    assert len(later.dials) == 1 and abs((parse(later.dials[0]["dial_at"]) - times[-1]).total_seconds() - step) < 0.01


def test_a_contact_outside_its_window_is_dispatched_when_it_opens(stack):
    from outbound.campaigns.dispatch import run_tick

    campaign_id = new_campaign(contacts=1, tz_hour=6)  # 06:00 local: closed until 08:00
    start(campaign_id)
    _, [contact] = state(campaign_id)
    assert contact["status"] == "waiting_window"
    opens = datetime.fromisoformat(contact["next_attempt_at"].replace("Z", "+00:00"))
    assert 60 * 60 < (opens - datetime.now(UTC)).total_seconds() <= 3 * 60 * 60
    assert run_tick(campaign_id, []).claimed == 0
    at_opening = run_tick(campaign_id, [], now=opens + timedelta(seconds=1))
    assert at_opening.claimed == 1


def test_an_attempt_is_placed_once_however_often_its_dial_is_delivered(stack):
    from outbound.campaigns.dispatch import run_tick
    from outbound_local import functions

    campaign_id = new_campaign(contacts=1)
    start(campaign_id)
    [dial] = run_tick(campaign_id, []).dials
    event = {"Records": [{"messageId": f"m{i}", "receiptHandle": "r", "body": json.dumps(dial), "attributes": {},
                          "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
                          "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:CampaignDialQueue",
                          "awsRegion": "us-east-1"} for i in range(3)]}
    before = len(stack.requests.placed_calls())
    assert functions.invoke("CampaignDialerFunction", event) == {"batchItemFailures": []}
    assert functions.invoke("CampaignDialerFunction", event) == {"batchItemFailures": []}
    placed = stack.requests.placed_calls()
    assert len(placed) == before + 1 and dial["call_id"] in placed  # six deliveries, one call
    from outbound import store

    record = store.get_item(store.call_key(dial["call_id"]))
    assert (record["campaign_id"], record["contact_id"], record["attempt"]) == (campaign_id, dial["contact_id"], 1)


def test_a_dial_deferred_after_cancel_ends_its_contact_canceled(stack):
    """A dial queued before the cancel arrives after it: its deferred event must not put the
    contact back to waiting (the cancel pass is over and the heartbeat is gone)."""
    from outbound.campaigns.dial import _event
    from outbound.campaigns.dispatch import run_tick
    from outbound.store import campaigns as db

    campaign_id = new_campaign(contacts=1)
    start(campaign_id)
    [dial] = run_tick(campaign_id, []).dials
    db.move_campaign(campaign_id, ORG, ("running",), "canceled")
    assert run_tick(campaign_id, []).canceled == 0  # the cancel tick: nothing waits yet
    run_tick(campaign_id, [_event(dial, "deferred")])
    item, [contact] = state(campaign_id)
    assert contact["status"] == "canceled" and contact["attempts"] == 0
    assert "current_call_id" not in contact and "next_attempt_at" not in contact
    assert db.due_entries(campaign_id, limit=10) == []
    assert item["in_flight"] == 0 and item.get("count_pending", 0) == 0 and item["count_canceled"] == 1


def _ticks_sent(monkeypatch):
    from outbound.campaigns import queues

    sent = []
    monkeypatch.setattr(queues, "send_tick", lambda campaign_id, reason, events=None: sent.append(reason))
    return sent


def test_no_immediate_tick_while_the_pacing_cursor_is_beyond_the_horizon(stack, monkeypatch):
    """Contacts are due, slots are free, but the next dial slot is more than a minute ahead: a
    tick now could claim nothing, so none is sent (the heartbeat comes back in a minute)."""
    from outbound.campaigns.dispatch import run_tick

    campaign_id = new_campaign(max_concurrent=50, cpm=6, contacts=32)  # a batch left over after 6 claims
    start(campaign_id)
    sent = _ticks_sent(monkeypatch)
    now = datetime.now(UTC)
    first = run_tick(campaign_id, [], now=now)
    assert first.claimed == 6 and not first.again
    second = run_tick(campaign_id, [], now=now + timedelta(seconds=0.5))  # nothing claimed: cursor at +61 s
    assert second.claimed == 0 and not second.again
    assert "more_due" not in sent


def test_no_immediate_tick_when_the_next_slot_is_past_end_at(stack, monkeypatch):
    from outbound.campaigns.dispatch import run_tick

    end_at = datetime.now(UTC) + timedelta(seconds=31)
    campaign_id = new_campaign(max_concurrent=50, cpm=6, contacts=32, end_at=end_at)
    start(campaign_id)
    sent = _ticks_sent(monkeypatch)
    now = end_at - timedelta(seconds=25)  # a few seconds from now: every contact due
    first = run_tick(campaign_id, [], now=now)
    assert first.claimed == 3 and not first.again  # slots at 0, 10.2 and 20.3 s; the next is past end_at
    second = run_tick(campaign_id, [], now=now + timedelta(seconds=0.5))
    assert second.claimed == 0 and not second.again
    assert "more_due" not in sent


def test_a_dial_redelivered_after_a_pause_leaves_the_live_call_alone(stack, monkeypatch):
    """The first delivery placed the call, the campaign was then paused, and the message came
    again: the contact is still dialing with this call id, but its call exists: no deferral."""
    from outbound.campaigns.dispatch import run_tick
    from outbound.store import campaigns as db
    from outbound_local import functions

    campaign_id = new_campaign(contacts=1)
    start(campaign_id)
    [dial] = run_tick(campaign_id, []).dials
    event = {"Records": [{"messageId": "m1", "receiptHandle": "r", "body": json.dumps(dial), "attributes": {},
                          "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
                          "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:CampaignDialQueue",
                          "awsRegion": "us-east-1"}]}
    assert functions.invoke("CampaignDialerFunction", event) == {"batchItemFailures": []}
    assert dial["call_id"] in stack.requests.placed_calls()
    db.move_campaign(campaign_id, ORG, ("running",), "paused")
    sent = _ticks_sent(monkeypatch)
    assert functions.invoke("CampaignDialerFunction", event) == {"batchItemFailures": []}  # redelivered
    assert "deferred" not in sent
    _, [contact] = state(campaign_id)
    assert contact["status"] == "dialing" and contact["current_call_id"] == dial["call_id"]


def test_a_cancel_tick_with_a_chunk_of_events_stays_within_one_transaction(stack):
    """20 attempts' events (an item each) and 40 cancels (2 items each) would be 101 items with
    the campaign's: the cancels take what is left, the next tick the rest."""
    from outbound.campaigns.dial import _event
    from outbound.campaigns.dispatch import run_tick
    from outbound.store import campaigns as db

    campaign_id = new_campaign(max_concurrent=20, contacts=70)
    start(campaign_id)
    dials = run_tick(campaign_id, []).dials
    assert len(dials) == 20
    db.move_campaign(campaign_id, ORG, ("running",), "canceled")
    first = run_tick(campaign_id, [_event(dial, "deferred") for dial in dials])
    assert first.applied == 20 and 0 < first.canceled < 40
    while run_tick(campaign_id, []).canceled:  # the cancel ticks that follow
        pass
    item, contacts = state(campaign_id)
    assert {c["status"] for c in contacts} == {"canceled"} and item["count_canceled"] == 70
    assert item["in_flight"] == 0 and db.due_entries(campaign_id, limit=10) == []


def test_claims_stop_at_the_transaction_budget_and_the_rest_ticks_again(stack):
    from outbound.campaigns.dispatch import _claim, _more_due_now, iso
    from outbound.campaigns.settings import Campaign
    from outbound.store import campaigns as db

    campaign_id = new_campaign(max_concurrent=10, contacts=6)
    start(campaign_id)
    now = datetime.now(UTC)
    meta, due = db.dispatch_view(campaign_id, iso(now), 25)
    campaign, update = Campaign.from_item(meta), db.CampaignUpdate()
    claims = _claim(campaign, due, now, update, released=0, budget=7)  # 3 claims of 2 items; a 4th might need 3
    assert len(claims) == 3 and sum(c.item_count() for c, _, _ in claims) <= 7
    assert _more_due_now(campaign, update, claims, [], due, now)  # 3 contacts due still: tick again
