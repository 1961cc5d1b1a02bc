"""Call lifecycle over real HTTP against `outbound serve`: signed status webhooks from every
provider, forward-only statuses, settlement exactly once, GET /organization/balance."""
from __future__ import annotations

import json
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from outbound_local.emulators import freeswitch, telnyx, twilio, vonage, webhooks
from tests.conftest import OUTBOUND, ROOT

pytestmark = pytest.mark.integration

TO = "+15559876543"
NUMBERS = {"twilio": "+15551234567", "telnyx": "+15551230007", "vonage": "+15551230008", "sip": "+15551230009"}
CREDENTIALS = {"twilio": twilio.DEFAULT_CREDENTIALS, "telnyx": telnyx.DEFAULT_CREDENTIALS,
               "vonage": vonage.DEFAULT_CREDENTIALS, "sip": freeswitch.DEFAULT_CREDENTIALS}
RATE = 12  # org_acme's per_minute_rate_cents
RESERVE = 100  # org_acme's call_reserve_cents
INVALID = {"detail": "Invalid or missing webhook signature"}


@pytest.fixture(scope="module", autouse=True)
def funded(server):
    server.add_funds("org_acme", 20_000)  # this module places many calls


def place(server, provider="twilio", to=TO) -> dict:
    response = server.initiate({"from_phone_number": NUMBERS[provider], "to_phone_number": to})
    assert response.status_code in (200, 504), response.text
    return response.json()


def record(server, call_id) -> dict:
    response = server.request("GET", f"/calls/{call_id}")
    assert response.status_code == 200
    return response.json()


def balance(server, key="sk_live_acme_demo") -> dict:
    response = server.request("GET", "/organization/balance", key=key)
    assert response.status_code == 200
    return response.json()


def sequence(server, call: dict, outcome="completed", duration=125, answered_by=None):
    url = webhooks.callback_url(server.url, call)
    return webhooks.callbacks(call, CREDENTIALS[call["provider"]], url, outcome, duration, answered_by)


def deliver(callbacks):
    return [webhooks.send(c) for c in callbacks]


def placed_call(server, provider="twilio") -> dict:
    body = place(server, provider)
    return record(server, body["call_id"])


def diff(before: dict, after: dict) -> dict:
    return {k: after[k] - before[k] for k in before}


def writes(server) -> int:
    ops = server.dynamodb_operations()
    return sum(ops.get(op, 0) for op in ("PutItem", "UpdateItem", "TransactWriteItems", "DeleteItem",
                                         "BatchWriteItem"))


# --- the "done" scenario --------------------------------------------------------------------

def test_placed_call_driven_to_completed_by_signed_webhooks_is_charged_three_minutes_once(server):
    call = place(server)
    held = balance(server)
    done = subprocess.run([*OUTBOUND, "emulate-call", call["call_sid"], "--outcome", "completed",
                           "--duration", "125", "--server", server.url],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert [line.split()[1] for line in done.stdout.splitlines()] == ["queued", "ringing", "in-progress", "completed"]
    final = record(server, call["call_id"])
    assert final["status"] == "completed" and final["duration_seconds"] == 125
    assert final["charged_cents"] == 3 * RATE and final["reserve_cents"] == 0 and final["settled_at"]
    settled = balance(server)
    assert diff(held, settled) == {"balance_cents": -36, "reserved_cents": -RESERVE, "available_cents": RESERVE - 36}
    assert settled["available_cents"] == settled["balance_cents"] - settled["reserved_cents"]

    # Repeated, then reordered: nothing changes.
    again = subprocess.run([*OUTBOUND, "emulate-call", call["call_sid"], "--duration", "125", "--server", server.url],
                           cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert again.returncode == 0 and '"applied": true' not in again.stdout
    for status, body in deliver(reversed(sequence(server, final, duration=300))):
        assert status == 200 and body["applied"] is False and body["status"] == "completed"
    assert balance(server) == settled
    assert record(server, call["call_id"]) == final  # not even updated_at moved

    # Unsigned: 403.
    unsigned = sequence(server, final)[-1]
    del unsigned.headers["X-Twilio-Signature"]
    assert webhooks.send(unsigned) == (403, INVALID)


# --- signatures over HTTP -------------------------------------------------------------------------------

def test_bad_missing_or_misdirected_signatures_are_403_and_write_nothing(server):
    call = placed_call(server)
    ringing = sequence(server, call)[1]
    before_writes, before = writes(server), balance(server)
    forged = webhooks.Callback("twilio", "x", ringing.url, {**ringing.headers, "X-Twilio-Signature": "AAAA"},
                               ringing.body)
    other_url = webhooks.Callback("twilio", "x", ringing.url.replace(call["call_id"], "call_someone_else"),
                                  ringing.headers, ringing.body)
    no_signature = webhooks.Callback("twilio", "x", ringing.url,
                                     {k: v for k, v in ringing.headers.items() if k != "X-Twilio-Signature"},
                                     ringing.body)
    tampered = webhooks.Callback("twilio", "x", ringing.url, ringing.headers,
                                 ringing.body.replace(b"ringing", b"completed"))
    wrong_route = webhooks.Callback("twilio", "x", ringing.url.replace("/webhooks/twilio", "/webhooks/vonage"),
                                    ringing.headers, ringing.body)
    for callback in (forged, other_url, no_signature, tampered, wrong_route):
        assert webhooks.send(callback) == (403, INVALID), callback.url
    assert writes(server) == before_writes
    assert record(server, call["call_id"]) == call and balance(server) == before


def test_replayed_telnyx_and_vonage_and_sip_webhooks_are_403(server):
    for provider in ("telnyx", "vonage", "sip"):
        call = placed_call(server, provider)
        url = webhooks.callback_url(server.url, call)
        stale = webhooks.callbacks(call, CREDENTIALS[provider], url, "completed", 60, now=time.time() - 600)
        for callback in stale:
            assert webhooks.send(callback) == (403, INVALID), provider
        assert record(server, call["call_id"])["status"] == "queued"


def test_unknown_provider_route_is_404_and_webhooks_need_no_api_key(server):
    response = requests.post(server.url + "/webhooks/plivo", data=b"{}", timeout=10)
    assert response.status_code == 404
    response = requests.post(server.url + "/webhooks/twilio?call_id=call_unknown", data=b"CallStatus=ringing",
                             headers={"X-Twilio-Signature": "abc"}, timeout=10)
    assert response.status_code == 403 and response.json() == INVALID  # unknown call: same answer


# --- every provider ------------------------------------------------------------------------------------

@pytest.mark.parametrize("provider", ["twilio", "telnyx", "vonage", "sip"])
def test_every_provider_completes_and_settles(server, provider):
    call = placed_call(server, provider)
    held = balance(server)
    results = deliver(sequence(server, call, "completed", 61, answered_by="human"))
    assert all(status == 200 for status, _ in results), results
    final = record(server, call["call_id"])
    assert final["status"] == "completed" and final["duration_seconds"] == 61
    assert final["answered_by"] == "human" and final["charged_cents"] == 2 * RATE
    assert diff(held, balance(server)) == {"balance_cents": -24, "reserved_cents": -RESERVE,
                                           "available_cents": RESERVE - 24}


@pytest.mark.parametrize("provider,outcome", [("twilio", "canceled"), ("telnyx", "busy"),
                                              ("vonage", "no-answer"), ("sip", "failed")])
def test_unanswered_calls_release_the_reserve_and_cost_nothing(server, provider, outcome):
    call = placed_call(server, provider)
    held = balance(server)
    deliver(sequence(server, call, outcome, 0))
    final = record(server, call["call_id"])
    assert final["status"] == outcome and final["charged_cents"] == 0 and final["reserve_cents"] == 0
    assert final["hangup_cause"] or provider == "twilio"  # Twilio says no cause for a cancel
    assert diff(held, balance(server)) == {"balance_cents": 0, "reserved_cents": -RESERVE, "available_cents": RESERVE}


# --- ordering, duplicates, races -----------------------------------------------------------------------

def test_out_of_order_events_never_move_a_call_backwards(server):
    call = placed_call(server, "vonage")
    queued, ringing, answered, completed = sequence(server, call, "completed", 30)
    assert webhooks.send(answered)[1]["status"] == "in-progress"
    for late in (ringing, queued, ringing):
        status, body = webhooks.send(late)
        assert status == 200 and body == {"call_id": call["call_id"], "status": "in-progress", "applied": False,
                                          "reason": "out of order: the call is already in-progress"}
    assert record(server, call["call_id"])["status"] == "in-progress"
    assert webhooks.send(completed)[1]["status"] == "completed"
    assert webhooks.send(answered)[1]["status"] == "completed"
    assert record(server, call["call_id"])["charged_cents"] == RATE


def test_concurrent_duplicate_final_webhooks_settle_exactly_once(server):
    call = placed_call(server)
    completed = sequence(server, call, "completed", 125)[-1]
    held = balance(server)
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: webhooks.send(completed), range(8)))
    assert [status for status, _ in results] == [200] * 8
    assert sum(body["applied"] for _, body in results) == 1
    assert diff(held, balance(server)) == {"balance_cents": -36, "reserved_cents": -RESERVE,
                                           "available_cents": RESERVE - 36}


def test_unconfirmed_call_is_reconciled_by_its_webhook(server):
    """The provider did not answer the create-call in time (504): the reserve stays held until
    the provider's webhook, which carries our call_id, says what happened."""
    before = balance(server)
    response = server.initiate({"from_phone_number": NUMBERS["twilio"], "to_phone_number": "+15005550002"})
    assert response.status_code == 504
    call = record(server, response.json()["call_id"])
    assert call["status"] == "unconfirmed" and call["call_sid"] is None
    assert diff(before, balance(server))["reserved_cents"] == RESERVE
    held = balance(server)
    provider_sid = "CA" + "7" * 32  # the id Twilio gave the call we never heard back about
    results = deliver(sequence(server, {**call, "call_sid": provider_sid}, "completed", 20))
    assert [body["applied"] for _, body in results] == [True, True, True, True]  # queued reconciles it too
    final = record(server, call["call_id"])
    assert final["status"] == "completed" and final["call_sid"] == provider_sid
    assert final["failure_reason"] is None and final["charged_cents"] == RATE
    assert diff(held, balance(server)) == {"balance_cents": -RATE, "reserved_cents": -RESERVE,
                                           "available_cents": RESERVE - RATE}
    # Found by the provider's id now, like any placed call.
    assert server.request("GET", f"/calls/{provider_sid}").json()["call_id"] == call["call_id"]


def test_an_event_of_another_call_leg_changes_nothing(server):
    call = placed_call(server)
    foreign = sequence(server, {**call, "call_sid": "CA" + "9" * 32}, "completed", 600)
    for status, body in deliver(foreign):
        assert status == 200 and body["applied"] is False
    assert record(server, call["call_id"])["status"] == "queued"


def test_refused_call_stays_failed_and_is_not_settled_twice(server):
    before = balance(server)
    response = server.initiate({"from_phone_number": NUMBERS["twilio"], "to_phone_number": "+15005550001"})
    assert response.status_code == 502
    assert balance(server) == before
    calls = server.request("GET", "/calls?status=failed&limit=1").json()["calls"]
    failed = calls[0]
    assert failed["status"] == "failed" and failed["reserve_cents"] == 0
    deliver(sequence(server, {**failed, "call_sid": "CA" + "5" * 32}, "failed", 0))
    assert balance(server) == before and record(server, failed["call_id"])["status"] == "failed"


# --- cost ----------------------------------------------------------------------------------------------

def test_dynamodb_round_trips_per_webhook_and_per_settlement(server):
    call = placed_call(server)
    queued, ringing, answered, completed = sequence(server, call, "completed", 61)

    def used(callback):
        before = server.dynamodb_operations()
        webhooks.send(callback)
        after = server.dynamodb_operations()
        return {op: after[op] - before.get(op, 0) for op in after if after[op] != before.get(op, 0)}

    assert used(ringing) == {"GetItem": 1, "UpdateItem": 1}  # the call, then the conditional move
    assert used(completed) == {"GetItem": 1, "TransactWriteItems": 1}  # the rate travels on the record
    assert used(completed) == {"GetItem": 1}  # a duplicate: read, seen final, nothing written
    assert used(queued) == {"GetItem": 1}


# --- balance -------------------------------------------------------------------------------------------

def test_balance_is_the_organizations_and_needs_an_api_key(server):
    org = server.organization("org_globex")
    assert balance(server, "sk_live_globex_demo") == {
        "balance_cents": org["balance_cents"], "reserved_cents": org["reserved_cents"],
        "available_cents": org["available_cents"]}
    response = server.request("GET", "/organization/balance", key=None)
    assert response.status_code == 401 and response.json() == {"detail": "Invalid or missing API key"}
    assert json.loads(json.dumps(balance(server))).keys() == {"balance_cents", "reserved_cents", "available_cents"}


def test_after_every_settlement_above_the_balance_reconciles_with_the_ledger(server):
    """Every reserve, release and charge of this module's calls (settled, refused, unconfirmed,
    duplicated and reordered webhooks) left its ledger entry: `outbound admin reconcile` proves
    balance = sum of the ledger and reserved = the reserves the open calls still hold."""
    done = server.reconcile("org_acme")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Reconciled" in done.stdout
