"""Each adapter's hang-up against its loopback emulator (real HTTP / TCP): the provider's own
request (the SDKs' wire request where an SDK has one), the emulated provider's record of the call
ended, and idempotence: a call the provider has already ended (or no longer knows) is no error."""
from __future__ import annotations

import os
import time

import pytest

from outbound.providers import OutboundCall, ProviderAuthError, get_adapter
from outbound_local.emulators import freeswitch
from outbound_local.emulators import telnyx as telnyx_emulator
from outbound_local.emulators import twilio as twilio_emulator
from outbound_local.emulators import vonage as vonage_emulator
from outbound_local.emulators.base import RequestLog
from tests.unit.emulator_hosts import point_adapter_at, start_http_emulator

CREDENTIALS = {"twilio": twilio_emulator.DEFAULT_CREDENTIALS, "telnyx": telnyx_emulator.DEFAULT_CREDENTIALS,
               "vonage": vonage_emulator.DEFAULT_CREDENTIALS, "sip": freeswitch.DEFAULT_CREDENTIALS}
TRUNK = {"id": "trunk_main", "priority": 1, "enabled": True}


@pytest.fixture(scope="module")
def host():
    host = start_http_emulator({"/2010-04-01/": ("twilio", twilio_emulator), "/v2": ("telnyx", telnyx_emulator),
                                "/v1": ("vonage", vonage_emulator)})
    yield host
    host.stop()


@pytest.fixture(scope="module")
def bridge():
    emulator = freeswitch.EslEmulator(RequestLog(), lambda p: [CREDENTIALS["sip"]] if p == "sip" else [])
    yield emulator.start()
    emulator.stop()


@pytest.fixture
def emulators(host, bridge, monkeypatch):
    host.log.clear()
    bridge.log.clear()
    point_adapter_at(monkeypatch, "OUTBOUND_TWILIO_API_URL", host.url)
    point_adapter_at(monkeypatch, "OUTBOUND_TELNYX_API_URL", host.url + "/v2")
    point_adapter_at(monkeypatch, "OUTBOUND_VONAGE_API_URL", host.url)
    monkeypatch.setenv("OUTBOUND_SIP_BRIDGE", bridge.address)
    return {"http": host.log, "sip": bridge.log}


def place(provider: str) -> str:
    call = OutboundCall(call_id="call_hangup", from_number="+15551234567", to_number="+15559876543",
                        stream_url="wss://runtime.example.com/stream",
                        status_callback_url=f"https://api.example.com/webhooks/{provider}?call_id=call_hangup",
                        provider_settings={"connection_id": "1494404757140276705", "trunks": [TRUNK]})
    return get_adapter(provider).place_call(call, CREDENTIALS[provider])


def hang_up(provider: str, call_sid: str, credentials: dict | None = None) -> None:
    get_adapter(provider).hang_up(call_sid, credentials or CREDENTIALS[provider])


def requests_of(log: RequestLog, method: str, since: int) -> list[dict]:
    return [e for e in log.entries()[since:] if e["method"] == method]


@pytest.mark.parametrize("provider", ["twilio", "telnyx", "vonage", "sip"])
def test_hang_up_ends_the_call_at_the_provider_and_a_repeat_is_no_error(emulators, provider):
    call_sid = place(provider)
    log = emulators["sip" if provider == "sip" else "http"]
    hang_up(provider, call_sid)
    record = log.calls.get(provider, call_sid)
    assert record.status == "canceled" and record.ended_at  # never answered: canceled, as the provider records
    hang_up(provider, call_sid)  # the provider says it has ended already: nothing left to do
    hang_up(provider, "unknown-" + call_sid)  # nor for a call it does not know (ended long ago)


def test_an_answered_call_hung_up_is_completed_with_its_talk_time(emulators):
    call_sid = place("twilio")
    emulators["http"].calls.play(call_sid, "in-progress", 0, now=time.time() - 42)
    hang_up("twilio", call_sid)
    record = emulators["http"].calls.get("twilio", call_sid)
    assert record.status == "completed" and 41 <= record.duration <= 44


def test_twilio_hang_up_is_what_the_sdk_sends(emulators):
    from twilio.rest import Client

    first, second = place("twilio"), place("twilio")
    since = len(emulators["http"].entries())
    hang_up("twilio", first)
    client = Client(CREDENTIALS["twilio"]["account_sid"], CREDENTIALS["twilio"]["auth_token"])
    client.api.base_url = os.environ["OUTBOUND_TWILIO_API_URL"]
    client.calls(second).update(status="completed")
    ours, sdks = requests_of(emulators["http"], "POST", since)
    assert ours["path"] == sdks["path"].replace(second, first)
    assert ours["body"] == sdks["body"] == {"Status": ["completed"]}


def test_telnyx_hang_up_is_what_the_sdk_sends(emulators, host):
    telnyx = pytest.importorskip("telnyx")
    first, second = place("telnyx"), place("telnyx")
    since = len(emulators["http"].entries())
    hang_up("telnyx", first)
    client = telnyx.Telnyx(api_key=CREDENTIALS["telnyx"]["api_key"], base_url=host.url + "/v2", max_retries=0)
    client.calls.actions.hangup(call_control_id=second)
    ours, sdks = requests_of(emulators["http"], "POST", since)
    assert ours["path"] == sdks["path"].replace(second, first) == f"/v2/calls/{first}/actions/hangup"
    assert ours["body"] == sdks["body"]


def test_vonage_hang_up_is_what_the_sdk_sends(emulators, host):
    from requests.adapters import HTTPAdapter
    from vonage_http_client import Auth, HttpClient, HttpClientOptions
    from vonage_voice import Voice

    class PlainHttp(HTTPAdapter):
        def send(self, request, **kwargs):
            request.url = request.url.replace("https://", "http://", 1)
            return super().send(request, **kwargs)

    first, second = place("vonage"), place("vonage")
    since = len(emulators["http"].entries())
    hang_up("vonage", first)
    client = HttpClient(Auth(application_id=CREDENTIALS["vonage"]["application_id"],
                             private_key=CREDENTIALS["vonage"]["private_key"]),
                        HttpClientOptions(api_host=host.url.removeprefix("http://")))
    client._session.mount("https://", PlainHttp(max_retries=0))
    Voice(client).hangup(second)
    ours, sdks = requests_of(emulators["http"], "PUT", since)
    assert ours["path"] == sdks["path"].replace(second, first) == f"/v1/calls/{first}"
    assert ours["body"] == sdks["body"] == {"action": "hangup"}


def test_sip_hang_up_is_uuid_kill_on_the_bridge(emulators):
    call_sid = place("sip")
    hang_up("sip", call_sid)
    assert [e["body"] for e in emulators["sip"].entries() if e["path"] == "api"] == [f"api uuid_kill {call_sid}"]


@pytest.mark.parametrize("provider,wrong", [("twilio", {"auth_token": "wrong"}), ("telnyx", {"api_key": "KEY_WRONG"}),
                                            ("sip", {"password": "wrong"})])
def test_bad_credentials_are_an_auth_error(emulators, provider, wrong):
    call_sid = place(provider)
    with pytest.raises(ProviderAuthError):
        hang_up(provider, call_sid, {**CREDENTIALS[provider], **wrong})
    assert emulators["sip" if provider == "sip" else "http"].calls.get(provider, call_sid).status == "queued"
