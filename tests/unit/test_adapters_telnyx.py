"""The Telnyx adapter against the loopback Telnyx emulator (real HTTP), plus one contract test:
the real telnyx SDK sends the same dial to the emulator, and our body must match its body."""
from __future__ import annotations

import base64
import json

import pytest

from outbound.providers import (OutboundCall, ProviderAuthError, ProviderRefused,
                                get_adapter)
from outbound_local.emulators import telnyx as telnyx_emulator
from outbound_local.emulators.base import REFUSED_NUMBER
from tests.unit.emulator_hosts import point_adapter_at, start_http_emulator

CONNECTION_ID = "1494404757140276705"


def make_call(to: str = "+15559876543", **settings: str) -> OutboundCall:
    return OutboundCall(
        call_id="call_123", from_number="+15551230007", to_number=to,
        stream_url="wss://runtime.example.com/stream?call_id=call_123",
        status_callback_url="https://api.example.com/webhooks/telnyx?call_id=call_123",
        provider_settings=settings or {"connection_id": CONNECTION_ID},
        ring_timeout_s=25, time_limit_s=1800)


@pytest.fixture(scope="module")
def host():
    host = start_http_emulator({"/v2": ("telnyx", telnyx_emulator)})
    yield host
    host.stop()


@pytest.fixture
def emulator(host, monkeypatch):
    host.log.clear()
    point_adapter_at(monkeypatch, "OUTBOUND_TELNYX_API_URL", host.url + "/v2")
    return host, host.log


def place(call: OutboundCall, api_key: str = "KEY_LOCAL_TELNYX") -> str:
    return get_adapter("telnyx").place_call(call, {"api_key": api_key})


def test_dial_returns_call_control_id_and_sends_documented_request(emulator):
    _, log = emulator

    call_sid = place(make_call())

    assert call_sid.startswith("v3:")
    [request] = log.entries()
    assert (request["provider"], request["method"], request["path"]) == ("telnyx", "POST", "/v2/calls")
    assert request["headers"]["Authorization"] == "Bearer ***"  # the log redacts; 200 = key accepted
    assert request["headers"]["Content-Type"] == "application/json"
    body = request["body"]
    assert json.loads(base64.b64decode(body.pop("client_state"))) == {"call_id": "call_123"}
    assert body == {
        "connection_id": CONNECTION_ID, "to": "+15559876543", "from": "+15551230007",
        "webhook_url": "https://api.example.com/webhooks/telnyx?call_id=call_123",
        "webhook_url_method": "POST",
        "stream_url": "wss://runtime.example.com/stream?call_id=call_123",
        "stream_track": "both_tracks", "stream_bidirectional_mode": "rtp",
        "timeout_secs": 25, "time_limit_secs": 1800,
    }


def test_refused_number_raises_refused_with_telnyx_message(emulator):
    with pytest.raises(ProviderRefused) as refused:
        place(make_call(to=REFUSED_NUMBER))
    assert refused.value.message == f"Invalid number: {REFUSED_NUMBER} is not a routable destination."


def test_wrong_api_key_raises_auth_error(emulator):
    with pytest.raises(ProviderAuthError) as denied:
        place(make_call(), api_key="KEY_SOMEONE_ELSE")
    assert denied.value.message == "The API key provided is invalid or missing."


def test_missing_connection_id_is_refused_before_anything_is_sent(emulator):
    _, log = emulator
    with pytest.raises(ProviderRefused, match="connection_id"):
        place(make_call(other="x"))
    assert log.entries() == []


def test_body_matches_what_the_telnyx_sdk_sends(emulator):
    telnyx = pytest.importorskip("telnyx")  # the SDK import alone is ~1.5 s: why we bypass it
    host, log = emulator
    call = make_call()
    place(call)
    client = telnyx.Telnyx(api_key="KEY_LOCAL_TELNYX", base_url=host.url + "/v2", max_retries=0)
    client.calls.dial(
        connection_id=CONNECTION_ID, to=call.to_number, from_=call.from_number,
        webhook_url=call.status_callback_url, webhook_url_method="POST",
        client_state=base64.b64encode(b'{"call_id": "call_123"}').decode(),
        stream_url=call.stream_url, stream_track="both_tracks", stream_bidirectional_mode="rtp",
        timeout_secs=25, time_limit_secs=1800)

    ours, sdks = log.entries()
    assert ours["path"] == sdks["path"]
    assert ours["body"] == sdks["body"]
    assert ours["headers"]["Authorization"] == sdks["headers"]["Authorization"]
