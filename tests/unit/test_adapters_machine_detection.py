"""Answering-machine detection and the per-call limits on the wire, for every provider.

Each REST provider's request is compared with what its own SDK sends for the same call (the SDK
sends to the same loopback emulator), as in test_adapters_<provider>.py; the SIP bridge has no
SDK, so its originate is checked against the FreeSWITCH variables documented in sip.py.
"""
from __future__ import annotations

import base64
import dataclasses
import os

import pytest

from outbound.providers import OutboundCall, get_adapter
from outbound_local.emulators import freeswitch
from outbound_local.emulators import telnyx as telnyx_emulator
from outbound_local.emulators import twilio as twilio_emulator
from outbound_local.emulators import vonage as vonage_emulator
from outbound_local.emulators.base import RequestLog
from tests.unit.emulator_hosts import point_adapter_at, start_http_emulator

CALLBACK = "https://api.example.com/v1/webhooks/{provider}?call_id=call_amd"


def make_call(provider: str, from_number: str, mode: str | None, **settings) -> OutboundCall:
    return OutboundCall(call_id="call_amd", from_number=from_number, to_number="+15559876543",
                        stream_url="wss://runtime.example.com/stream",
                        status_callback_url=CALLBACK.format(provider=provider), provider_settings=settings,
                        ring_timeout_s=45, time_limit_s=600, machine_detection=mode)


@pytest.fixture(scope="module")
def host():
    host = start_http_emulator({"/2010-04-01/": ("twilio", twilio_emulator), "/v2": ("telnyx", telnyx_emulator),
                                "/v1": ("vonage", vonage_emulator)})
    yield host
    host.stop()


@pytest.fixture
def log(host, monkeypatch):
    host.log.clear()
    point_adapter_at(monkeypatch, "OUTBOUND_TWILIO_API_URL", host.url)
    point_adapter_at(monkeypatch, "OUTBOUND_TELNYX_API_URL", host.url + "/v2")
    point_adapter_at(monkeypatch, "OUTBOUND_VONAGE_API_URL", host.url)
    return host.log


@pytest.mark.parametrize("mode,twilio_value", [("detect", "Enable"), ("detect_beep", "DetectMessageEnd")])
def test_twilio_async_amd_equals_the_sdks_form(log, mode, twilio_value):
    from twilio.rest import Client

    from outbound.providers.twilio import STATUS_EVENTS, twiml

    credentials = twilio_emulator.DEFAULT_CREDENTIALS
    call = make_call("twilio", "+15551234567", mode)
    get_adapter("twilio").place_call(call, credentials)
    client = Client(credentials["account_sid"], credentials["auth_token"])
    client.api.base_url = os.environ["OUTBOUND_TWILIO_API_URL"]
    client.calls.create(to=call.to_number, from_=call.from_number, twiml=twiml(call),
                        status_callback=call.status_callback_url, status_callback_event=STATUS_EVENTS,
                        status_callback_method="POST", timeout=45, time_limit=600,
                        machine_detection=twilio_value, async_amd="true",
                        async_amd_status_callback=call.status_callback_url, async_amd_status_callback_method="POST")
    ours, sdks = log.entries()
    assert ours["body"] == sdks["body"]
    assert ours["body"]["MachineDetection"] == [twilio_value] and ours["body"]["AsyncAmd"] == ["true"]
    assert ours["body"]["Timeout"] == ["45"] and ours["body"]["TimeLimit"] == ["600"]


def test_twilio_without_detection_sends_no_amd_parameters(log):
    get_adapter("twilio").place_call(make_call("twilio", "+15551234567", None), twilio_emulator.DEFAULT_CREDENTIALS)
    [request] = log.entries()
    assert not {"MachineDetection", "AsyncAmd", "AsyncAmdStatusCallback"} & set(request["body"])


@pytest.mark.parametrize("mode", ["detect", "detect_beep"])
def test_telnyx_answering_machine_detection_equals_the_sdks_body(log, mode):
    telnyx = pytest.importorskip("telnyx")
    call = make_call("telnyx", "+15551230007", mode, connection_id="1494404757140276705")
    get_adapter("telnyx").place_call(call, {"api_key": "KEY_LOCAL_TELNYX"})
    client = telnyx.Telnyx(api_key="KEY_LOCAL_TELNYX", base_url=os.environ["OUTBOUND_TELNYX_API_URL"],
                           max_retries=0)
    client.calls.dial(connection_id="1494404757140276705", to=call.to_number, from_=call.from_number,
                      webhook_url=call.status_callback_url, webhook_url_method="POST",
                      client_state=base64.b64encode(b'{"call_id": "call_amd"}').decode(),
                      stream_url=call.stream_url, stream_track="both_tracks", stream_bidirectional_mode="rtp",
                      timeout_secs=45, time_limit_secs=600, answering_machine_detection=mode)
    ours, sdks = log.entries()
    assert ours["body"] == sdks["body"]
    assert ours["body"]["answering_machine_detection"] == mode


@pytest.mark.parametrize("mode", ["detect", "detect_beep"])
def test_vonage_advanced_machine_detection_equals_the_sdks_body(log, mode):
    from requests.adapters import HTTPAdapter
    from vonage_http_client import Auth, HttpClient, HttpClientOptions
    from vonage_voice import CreateCallRequest, Voice
    from vonage_voice.models import AdvancedMachineDetection, Connect, WebsocketEndpoint

    class PlainHttp(HTTPAdapter):
        def send(self, request, **kwargs):
            request.url = request.url.replace("https://", "http://", 1)
            return super().send(request, **kwargs)

    credentials = vonage_emulator.DEFAULT_CREDENTIALS
    call = make_call("vonage", "+15551230008", mode)
    get_adapter("vonage").place_call(call, credentials)
    client = HttpClient(Auth(application_id=credentials["application_id"], private_key=credentials["private_key"]),
                        HttpClientOptions(api_host=os.environ["OUTBOUND_VONAGE_API_URL"].removeprefix("http://")))
    client._session.mount("https://", PlainHttp(max_retries=0))
    Voice(client).create_call(CreateCallRequest(
        to=[{"type": "phone", "number": "15559876543"}], from_={"type": "phone", "number": "15551230008"},
        ncco=[Connect(from_="15551230008", endpoint=[WebsocketEndpoint(
            uri=call.stream_url, contentType="audio/l16;rate=16000", headers={"call_id": "call_amd"})])],
        event_url=[call.status_callback_url], event_method="POST", ringing_timer=45, length_timer=600,
        advanced_machine_detection=AdvancedMachineDetection(behavior="continue", mode=mode)))
    ours, sdks = log.entries()
    assert ours["body"] == sdks["body"]
    assert ours["body"]["advanced_machine_detection"] == {"behavior": "continue", "mode": mode}


@pytest.mark.parametrize("mode,expected", [
    ("detect", {"outbound_amd_mode": "detect", "execute_on_answer_amd": "amd"}),
    ("detect_beep", {"outbound_amd_mode": "detect_beep", "execute_on_answer_amd": "amd",
                     "execute_on_answer_avmd": "avmd_start"}),
    (None, {}),
])
def test_sip_bridge_runs_mod_amd_on_answer(monkeypatch, mode, expected):
    bridge = freeswitch.EslEmulator(RequestLog(), lambda p: [freeswitch.DEFAULT_CREDENTIALS] if p == "sip" else [])
    bridge.start()
    try:
        monkeypatch.setenv("OUTBOUND_SIP_BRIDGE", bridge.address)
        monkeypatch.setenv("OUTBOUND_PROVIDER_TIMEOUT_S", "5")
        trunk = {"id": "trunk_main", "name": "Main", "gateway": "sip.example.com", "priority": 1, "enabled": True}
        get_adapter("sip").place_call(make_call("sip", "+15551230009", mode, trunks=[trunk]),
                                      freeswitch.DEFAULT_CREDENTIALS)
        [originate] = [e["body"] for e in bridge.log.entries() if e["path"] == "bgapi"]
        variables, _, _ = freeswitch.parse_originate(originate.removeprefix("bgapi originate "))
    finally:
        bridge.stop()
    amd = {k: v for k, v in variables.items() if k in ("outbound_amd_mode", "execute_on_answer_amd",
                                                       "execute_on_answer_avmd")}
    assert amd == expected
    assert variables["call_timeout"] == "45"
    assert variables["execute_on_answer"] == "sched_hangup +600 ALLOTTED_TIMEOUT"


def test_the_call_record_limits_reach_the_adapter():
    """OutboundCall carries the per-call values (the use case passes the record's)."""
    call = dataclasses.replace(make_call("twilio", "+1", "detect"), ring_timeout_s=20, time_limit_s=90)
    from outbound.providers.twilio import create_call_form

    form = dict(create_call_form(call))
    assert form["Timeout"] == "20" and form["TimeLimit"] == "90"
