"""The Twilio adapter against the loopback Twilio emulator (real HTTP), plus the contract test:
the real twilio SDK's ``calls.create`` sends the same call, and our form must equal its form."""
from __future__ import annotations

import os

import pytest

from outbound.providers import OutboundCall, ProviderAuthError, ProviderRefused, get_adapter
from outbound_local.emulators import twilio as twilio_emulator
from outbound_local.emulators.base import REFUSED_NUMBER
from tests.unit.emulator_hosts import point_adapter_at, start_http_emulator

CREDENTIALS = twilio_emulator.DEFAULT_CREDENTIALS


def make_call(to: str = "+15559876543") -> OutboundCall:
    return OutboundCall(
        call_id="call_123", from_number="+15551234567", to_number=to,
        stream_url="wss://runtime.example.com/stream?a=1&b=<2>",
        status_callback_url="https://api.example.com/v1/webhooks/twilio?call_id=call_123",
        ring_timeout_s=25, time_limit_s=1800)


@pytest.fixture(scope="module")
def host():
    host = start_http_emulator({"/2010-04-01/": ("twilio", twilio_emulator)})
    yield host
    host.stop()


@pytest.fixture
def emulator(host, monkeypatch):
    host.log.clear()
    point_adapter_at(monkeypatch, "OUTBOUND_TWILIO_API_URL", host.url)
    return host.log


def place(call: OutboundCall, credentials: dict = CREDENTIALS) -> str:
    return get_adapter("twilio").place_call(call, credentials)


def test_call_is_created_with_twiml_that_streams_to_the_voice_runtime(emulator):
    sid = place(make_call())
    assert sid.startswith("CA") and len(sid) == 34
    [request] = emulator.entries()
    assert request["path"] == f"/2010-04-01/Accounts/{CREDENTIALS['account_sid']}/Calls.json"
    assert request["headers"]["Authorization"] == "Basic ***"  # redacted in the log; 201 = accepted
    twiml = request["body"]["Twiml"][0]
    # The SDK's builder escapes the URL; the call id reaches the runtime as a stream parameter.
    assert '<Stream url="wss://runtime.example.com/stream?a=1&amp;b=&lt;2&gt;">' in twiml
    assert '<Parameter name="call_id" value="call_123" />' in twiml
    assert request["body"]["Timeout"] == ["25"] and request["body"]["TimeLimit"] == ["1800"]


def test_refusal_carries_twilios_own_message(emulator):
    with pytest.raises(ProviderRefused) as err:
        place(make_call(REFUSED_NUMBER))
    assert err.value.message == f"The 'To' number {REFUSED_NUMBER} is not a valid phone number."


def test_wrong_auth_token_is_an_auth_error(emulator):
    with pytest.raises(ProviderAuthError, match="Authenticate"):
        place(make_call(), {**CREDENTIALS, "auth_token": "wrong"})


def test_form_equals_what_the_twilio_sdk_sends(emulator):
    from twilio.rest import Client

    from outbound.providers.twilio import STATUS_EVENTS, twiml

    call = make_call()
    place(call)
    client = Client(CREDENTIALS["account_sid"], CREDENTIALS["auth_token"])
    client.api.base_url = os.environ["OUTBOUND_TWILIO_API_URL"]  # the emulator
    client.calls.create(to=call.to_number, from_=call.from_number, twiml=twiml(call),
                        status_callback=call.status_callback_url, status_callback_event=STATUS_EVENTS,
                        status_callback_method="POST", timeout=call.ring_timeout_s, time_limit=call.time_limit_s)
    ours, sdks = emulator.entries()
    assert ours["path"] == sdks["path"]
    assert ours["body"] == sdks["body"]
    assert ours["headers"]["Content-Type"] == sdks["headers"]["Content-Type"]

