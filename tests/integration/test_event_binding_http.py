"""A provider's signed status event moves only the call it provably belongs to (over real HTTP
against `outbound serve`).

What binds an event to a call, per provider: Twilio signs the whole URL (our ``?call_id=``
included) and the CallSid; Telnyx signs the body, whose ``client_state`` carries our call_id;
the SIP bridge signs the body, which carries our call_id; Vonage signs only the body, which
carries Vonage's ``uuid`` and not our call_id. So an event applies when its provider call id is
the call's, or when the signed part names the call and its provider call id is no other call's.
Anything else (a captured Vonage event posted to another call's URL, a Telnyx event without our
client_state, a CallSid that belongs to another call) is recorded and not applied; such a call is
resolved from the provider's own records (`outbound admin reconcile-provider`).
"""
from __future__ import annotations

import json

import pytest

from outbound_local.emulators import freeswitch, telnyx, twilio, vonage, webhooks

pytestmark = pytest.mark.integration

TO = "+15559876543"
SILENT = "+15005550002"  # the provider places the call but answers after the adapter gave up: 504
NUMBERS = {"twilio": "+15551234567", "telnyx": "+15551230007", "vonage": "+15551230008", "sip": "+15551230009"}
CREDENTIALS = {"twilio": twilio.DEFAULT_CREDENTIALS, "telnyx": telnyx.DEFAULT_CREDENTIALS,
               "vonage": vonage.DEFAULT_CREDENTIALS, "sip": freeswitch.DEFAULT_CREDENTIALS}


@pytest.fixture(scope="module", autouse=True)
def funded(server):
    server.add_funds("org_acme", 5_000)


def record(server, call_id) -> dict:
    response = server.request("GET", f"/calls/{call_id}")
    assert response.status_code == 200, response.text
    return response.json()


def balance(server) -> dict:
    return server.request("GET", "/organization/balance").json()


def placed(server, provider) -> dict:
    response = server.initiate({"from_phone_number": NUMBERS[provider], "to_phone_number": TO})
    assert response.status_code == 200, response.text
    return record(server, response.json()["call_id"])


def unconfirmed(server, provider) -> dict:
    """A call whose create-call timed out (504): the provider has it, we do not know its id."""
    response = server.initiate({"from_phone_number": NUMBERS[provider], "to_phone_number": SILENT})
    assert response.status_code == 504, response.text
    call = record(server, response.json()["call_id"])
    assert call["status"] == "unconfirmed" and call["call_sid"] is None
    return call


def signed_events(server, call: dict, outcome="completed", duration=125, **overrides):
    """The provider's signed status callbacks for ``call`` (with ``overrides`` on the call),
    posted to ``call``'s own webhook URL."""
    subject = {**call, **overrides}
    url = webhooks.callback_url(server.url, call)
    return webhooks.callbacks(subject, CREDENTIALS[call["provider"]], url, outcome, duration)


def assert_untouched(server, call: dict, money: dict) -> None:
    now = record(server, call["call_id"])
    assert (now["status"], now["call_sid"], now["charged_cents"], now["settled_at"]) == \
        (call["status"], call["call_sid"], None, None), now
    assert balance(server) == money


def test_a_captured_vonage_event_posted_to_an_unconfirmed_call_is_recorded_not_applied(server):
    """Vonage's JWT covers the body (the uuid of call X), not the URL's ?call_id=: a captured
    `completed` of X posted to call Y's URL must neither complete Y with X's uuid and duration
    nor charge anything; X's own event still settles X, once."""
    x = placed(server, "vonage")
    y = unconfirmed(server, "vonage")
    captured = signed_events(server, x, "completed", 125)[-1]
    money = balance(server)
    replay = webhooks.Callback("vonage", "replayed", webhooks.callback_url(server.url, y), captured.headers,
                               captured.body)
    status, body = webhooks.send(replay)
    assert status == 200, body
    assert body["applied"] is False and body["call_id"] == y["call_id"] and "recorded" in body["reason"], body
    assert_untouched(server, y, money)
    # The event is X's: at X's URL it settles X (3 started minutes), and only once.
    assert webhooks.send(captured)[1]["applied"] is True
    assert record(server, x["call_id"])["charged_cents"] == 36
    assert webhooks.send(captured)[1]["applied"] is False


def test_a_vonage_event_for_a_call_whose_uuid_we_do_not_know_yet_is_never_applied(server):
    """Even the provider's genuine events of an unconfirmed call carry nothing that proves they
    are this call's: recorded, and the call is resolved from Vonage's records instead."""
    y = unconfirmed(server, "vonage")
    money = balance(server)
    for callback in signed_events(server, y, "completed", 60, call_sid="f2a9e2d4-0000-4000-8000-00000000c0de"):
        status, body = webhooks.send(callback)
        assert status == 200 and body["applied"] is False, body
    assert_untouched(server, y, money)


@pytest.mark.parametrize("provider", ["twilio", "telnyx", "sip"])
def test_an_event_whose_provider_call_id_is_another_calls_is_not_applied(server, provider):
    """The signed part names call Y (Twilio's URL, Telnyx's client_state, the bridge's body),
    but the provider call id in it is call X's: no call gets another call's id and charge."""
    x = placed(server, provider)
    y = unconfirmed(server, provider)
    money = balance(server)
    for callback in signed_events(server, y, "completed", 125, call_sid=x["call_sid"]):
        status, body = webhooks.send(callback)
        assert status == 200 and body["applied"] is False, (callback.label, body)
    assert_untouched(server, y, money)
    matches = server.request("GET", f"/calls/{x['call_sid']}").json()
    assert matches["call_id"] == x["call_id"]


def test_a_telnyx_event_without_our_client_state_is_not_applied_through_the_unsigned_query(server):
    """Telnyx signs the body, not the URL: an event that carries no client_state of ours (another
    call on the same Telnyx account) names our call only through the unsigned ?call_id=."""
    y = unconfirmed(server, "telnyx")
    money = balance(server)
    for callback in signed_events(server, y, "completed", 125, call_sid="v3:another-call-on-the-same-account"):
        event = json.loads(callback.body)
        del event["data"]["payload"]["client_state"]
        raw = json.dumps(event).encode()
        headers = {**callback.headers, **telnyx.webhook_signature_headers(raw)}  # signed by Telnyx
        status, body = webhooks.send(webhooks.Callback("telnyx", callback.label, callback.url, headers, raw))
        assert status == 200 and body["applied"] is False, (callback.label, body)
    assert_untouched(server, y, money)


@pytest.mark.parametrize("provider", ["twilio", "telnyx", "sip"])
def test_the_providers_own_events_of_an_unconfirmed_call_still_reconcile_it(server, provider):
    """Where the signature covers our call_id, the genuine events of a timed-out call are proven
    its own: they bind the provider's id and settle it, as before."""
    y = unconfirmed(server, provider)
    sid = server.request("GET", "/_local/provider-calls").json()[y["call_id"]]["call_sid"]
    results = [webhooks.send(c) for c in signed_events(server, y, "completed", 61, call_sid=sid)]
    assert all(status == 200 for status, _ in results), results
    final = record(server, y["call_id"])
    assert final["status"] == "completed" and final["call_sid"] == sid and final["charged_cents"] == 24
