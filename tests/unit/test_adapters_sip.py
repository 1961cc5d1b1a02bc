"""The SIP adapter against the loopback FreeSWITCH event-socket emulator (real TCP)."""
from __future__ import annotations

import re
import socket
import threading
import time

import pytest

from outbound.providers import (OutboundCall, ProviderAuthError, ProviderRefused,
                                ProviderTimeout, get_adapter)
from outbound.providers.sip import EslConnection
from outbound_local.emulators import freeswitch
from outbound_local.emulators.base import DROPPED_NUMBER, REFUSED_NUMBER, SILENT_NUMBER, RequestLog

CREDENTIALS = freeswitch.DEFAULT_CREDENTIALS
MAIN = {"id": "trunk_main", "name": "Primary Carrier", "gateway": "sip.example-carrier.com:5060",
        "username": "sip-user", "priority": 1, "enabled": True, "register": True}


def trunk(id: str, priority: int, enabled: bool = True) -> dict:
    return {**MAIN, "id": id, "priority": priority, "enabled": enabled}


def make_call(to: str = "+15559876543", trunks: list | None = None,
              stream_url: str = "wss://runtime.example.com/stream?call_id=call_789&x=1") -> OutboundCall:
    return OutboundCall(
        call_id="call_789", from_number="+15551230009", to_number=to, stream_url=stream_url,
        status_callback_url="https://api.example.com/webhooks/sip?call_id=call_789",
        provider_settings={"trunks": [MAIN] if trunks is None else trunks},
        ring_timeout_s=25, time_limit_s=1800)


@pytest.fixture(scope="module")
def bridge():
    emulator = freeswitch.EslEmulator(RequestLog(), lambda p: [CREDENTIALS] if p == "sip" else [])
    yield emulator.start()
    emulator.stop()


@pytest.fixture
def log(bridge, monkeypatch):
    bridge.log.clear()
    monkeypatch.setenv("OUTBOUND_SIP_BRIDGE", bridge.address)
    monkeypatch.setenv("OUTBOUND_PROVIDER_TIMEOUT_S", "5")
    return bridge.log


def place(call: OutboundCall, credentials: dict = CREDENTIALS) -> str:
    return get_adapter("sip").place_call(call, credentials)


def originates(log: RequestLog) -> list[str]:
    return [e["body"] for e in log.entries() if e["path"] == "bgapi"]


def test_originate_returns_channel_uuid_and_sends_documented_commands(log):
    call_sid = place(make_call())

    entries = log.entries()
    assert {(e["provider"], e["method"], len(e["headers"])) for e in entries} == {("sip", "ESL", 0)}
    assert [e["body"] for e in entries if e["path"] != "bgapi"] == [
        "auth ***", "event plain BACKGROUND_JOB CHANNEL_PROGRESS CHANNEL_PROGRESS_MEDIA CHANNEL_ANSWER"]
    [command] = originates(log)
    variables, dial = re.fullmatch(r"bgapi originate \{(.*)\}(\S+) &park\(\)", command).groups()
    assert dial == "sofia/gateway/trunk_main/+15559876543"
    assert freeswitch.channel_variables(variables) == {
        "origination_uuid": call_sid,
        "origination_caller_id_number": "+15551230009",
        "outbound_call_id": "call_789",
        "outbound_stream_url": "wss://runtime.example.com/stream?call_id=call_789&x=1",
        "call_timeout": "25", "originate_timeout": "25",
        "execute_on_answer": "sched_hangup +1800 ALLOTTED_TIMEOUT",
    }


def test_fails_over_to_next_trunk_by_priority_skipping_disabled_ones(log):
    trunks = [trunk("trunk_main", 2), trunk("trunk_disabled", 0, enabled=False), trunk("trunk_down", 1)]

    call_sid = place(make_call(trunks=trunks))

    gateways = [re.search(r"sofia/gateway/([^/]+)/", c)[1] for c in originates(log)]
    assert gateways == ["trunk_down", "trunk_main"]
    assert f"origination_uuid={call_sid}," in originates(log)[1]


def test_number_refusal_is_not_retried_on_another_trunk(log):
    with pytest.raises(ProviderRefused) as refused:
        place(make_call(to=REFUSED_NUMBER, trunks=[trunk("a", 1), trunk("b", 2)]))
    assert refused.value.message == "The SIP trunk refused the call: UNALLOCATED_NUMBER"
    assert len(originates(log)) == 1


def test_all_trunks_down_is_refused_with_the_last_cause(log):
    with pytest.raises(ProviderRefused, match="GATEWAY_DOWN"):
        place(make_call(trunks=[trunk("east_down", 1), trunk("west_down", 2)]))
    assert len(originates(log)) == 2


def test_no_enabled_trunk_is_refused_without_connecting(log):
    with pytest.raises(ProviderRefused, match="No enabled SIP trunk"):
        place(make_call(trunks=[trunk("trunk_main", 1, enabled=False)]))
    assert log.entries() == []


def test_wrong_password_raises_auth_error_and_is_never_logged(log):
    with pytest.raises(ProviderAuthError):
        place(make_call(), {**CREDENTIALS, "password": "guess"})
    assert [e["body"] for e in log.entries()] == ["auth ***"]


@pytest.mark.parametrize("stream_url", [
    "wss://runtime.example.com/s?a=1,origination_caller_id_number=666",  # a second variable
    "wss://runtime.example.com/${system(reboot)}",  # FreeSWITCH expands ${api(args)}
    "wss://runtime.example.com/s}sofia/gateway/evil/+1900",  # closes the block
    "wss://runtime.example.com/s x",
])
def test_values_that_could_break_the_originate_are_refused_before_sending(log, stream_url):
    with pytest.raises(ProviderRefused, match="stream URL"):
        place(make_call(stream_url=stream_url))
    assert log.entries() == []


def test_silent_bridge_raises_timeout(log, monkeypatch):
    monkeypatch.setenv("OUTBOUND_PROVIDER_TIMEOUT_S", "0.5")
    with pytest.raises(ProviderTimeout):
        place(make_call(to=SILENT_NUMBER))


def test_dropped_connection_raises_timeout_after_exactly_one_originate(log):
    with pytest.raises(ProviderTimeout):
        place(make_call(to=DROPPED_NUMBER, trunks=[trunk("a", 1), trunk("b", 2)]))
    assert len(originates(log)) == 1


def test_unreachable_bridge_is_a_refusal(monkeypatch):
    with socket.socket() as unused:  # a port nobody listens on
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    monkeypatch.setenv("OUTBOUND_SIP_BRIDGE", f"127.0.0.1:{port}")
    with pytest.raises(ProviderRefused, match="unreachable"):
        place(make_call())


def test_esl_frames_are_parsed_across_arbitrary_packet_boundaries():
    """Content-Length bodies and url-encoded event headers, delivered one byte at a time."""
    ours, theirs = socket.socketpair()
    wire = (freeswitch.reply("+OK Job-UUID: j1", **{"Job-UUID": "j1"})
            + freeswitch.event({"Event-Name": "BACKGROUND_JOB", "Job-UUID": "j1",
                                "Job-Command-Arg": "{a=b c}sofia/gateway/x/+1"}, "+OK abc\n"))

    def trickle() -> None:
        for byte in wire:
            theirs.sendall(bytes([byte]))

    threading.Thread(target=trickle, daemon=True).start()
    esl = EslConnection(ours, deadline=time.monotonic() + 5)
    assert esl.read_frame()[0]["Reply-Text"] == "+OK Job-UUID: j1"
    headers, body = esl.next_event()
    assert headers["Job-Command-Arg"] == "{a=b c}sofia/gateway/x/+1"
    assert body == "+OK abc\n"
    ours.close()
    theirs.close()


def test_progress_event_of_our_channel_counts_as_placed(monkeypatch):
    """Real originate jobs finish only on answer: a ringing channel is already a placed call."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    monkeypatch.setenv("OUTBOUND_SIP_BRIDGE", "127.0.0.1:%d" % server.getsockname()[1])

    def ringing_bridge() -> None:
        conn, _ = server.accept()
        conn.sendall(freeswitch.frame({"Content-Type": "auth/request"}))
        stream = conn.makefile("rb")
        for _ in range(3):  # auth, event, bgapi
            command = b"".join(iter(lambda: stream.readline(), b"\n")).decode()
            conn.sendall(freeswitch.reply("+OK Job-UUID: j1" if "bgapi" in command else "+OK"))
        channel = re.search(r"origination_uuid=([^,]+)", command)[1]
        conn.sendall(freeswitch.event({"Event-Name": "CHANNEL_PROGRESS", "Unique-ID": "other"})
                     + freeswitch.event({"Event-Name": "CHANNEL_PROGRESS", "Unique-ID": channel}))
        stream.read()  # until the adapter hangs up
        conn.close()

    thread = threading.Thread(target=ringing_bridge, daemon=True)
    thread.start()
    call_sid = place(make_call())
    thread.join(2)
    server.close()
    assert len(call_sid) == 36
