"""BYO SIP trunks through a FreeSWITCH bridge, driven over its event socket (ESL).

The bridge holds the trunks' registrations and passwords (a gateway per trunk, named by the
trunk's id); we only send ``bgapi originate`` over plain TCP with the stdlib (no ESL library:
nothing to import on a cold start). Trunks are tried in priority order, moving to the next one
only on a gateway or network failure, never after the callee's side refused the number.

``originate`` only completes when the callee answers (or the attempt fails), which is usually
longer than our HTTP budget. So the call counts as placed at the first of: the job's
``+OK <uuid>``, or a progress/answer event of the channel we named (``origination_uuid``).
The ringing then continues on the bridge; its outcome arrives through status tracking.
"""
from __future__ import annotations

import re
import socket
import time
import uuid
from typing import Any
from urllib.parse import unquote

from outbound.config import provider_settings
from outbound.digits import ascii_int

from . import OutboundCall, ProviderAuthError, ProviderRefused, ProviderTimeout, provider_timeout_s

# Hang-up causes that say "this trunk is unusable right now", not "this number is bad".
FAILOVER_CAUSES = frozenset({
    "GATEWAY_DOWN", "INVALID_GATEWAY", "NORMAL_TEMPORARY_FAILURE", "NETWORK_OUT_OF_ORDER",
    "RECOVERY_ON_TIMER_EXPIRE", "DESTINATION_OUT_OF_ORDER", "NORMAL_CIRCUIT_CONGESTION",
    "SWITCH_CONGESTION", "SERVICE_UNAVAILABLE", "NO_ROUTE_TRANSIT_NET",
})
# Events of our channel proving the far end has the call (it rings or answered).
PLACED_EVENTS = ("CHANNEL_PROGRESS", "CHANNEL_PROGRESS_MEDIA", "CHANNEL_ANSWER")

# What may go inside originate's {var=value,...} block unquoted. Excluded on purpose:
# , { } [ ] < > ' " \ | whitespace (the block's own syntax) and $ ( ) (FreeSWITCH expands
# ${...} and ${api(args)} in channel variables: a value must never run an API on the bridge).
_SAFE_VALUE = re.compile(r"[A-Za-z0-9._~:/?#@!&*+;=%-]+")
_SAFE_NUMBER = re.compile(r"\+?[0-9]{2,20}")
_SAFE_GATEWAY = re.compile(r"[A-Za-z0-9_.-]+")


def _safe(value: str, pattern: re.Pattern[str], what: str) -> str:
    if not pattern.fullmatch(value) or ":_:" in value:  # ":_:" separates originate legs
        raise ProviderRefused(f"The {what} contains characters a SIP originate cannot carry")
    return value


def _bridge_address(credentials: dict[str, Any]) -> tuple[str, int]:
    # The local stack points OUTBOUND_SIP_BRIDGE at its emulator (read per call).
    address = provider_settings().sip_bridge or credentials.get("bridge") or ""
    host, _, port = address.rpartition(":")
    number = ascii_int(port)  # not isdigit(): "²" would pass it and then fail int()
    if not host or number is None:
        raise ProviderRefused("The SIP bridge address must be host:port")
    return host, number


def enabled_trunks(provider_settings: dict[str, Any]) -> list[dict[str, Any]]:
    trunks = [t for t in provider_settings.get("trunks", []) if t.get("enabled", True)]
    return sorted(trunks, key=lambda t: t.get("priority", 0))  # stable: ties keep their order


def machine_detection_variables(mode: str) -> dict[str, str]:
    """Answering-machine detection on the bridge: FreeSWITCH's mod_amd runs on answer
    (``amd`` sets ``amd_result`` to HUMAN, MACHINE or NOTSURE), and for "detect_beep" mod_avmd
    also listens for the greeting's beep. FreeSWITCH runs every variable whose name starts with
    ``execute_on_answer``, so these run beside the time limit's sched_hangup. The bridge reports
    the result in its signed status webhook (``answered_by``, see outbound.provider_callbacks.sip)."""
    variables = {"outbound_amd_mode": mode, "execute_on_answer_amd": "amd"}
    if mode == "detect_beep":
        variables["execute_on_answer_avmd"] = "avmd_start"
    return variables


def originate_command(call: OutboundCall, trunk_id: str, channel_uuid: str) -> str:
    variables = {
        "origination_uuid": channel_uuid,
        "origination_caller_id_number": _safe(call.from_number, _SAFE_NUMBER, "from number"),
        "outbound_call_id": _safe(call.call_id, _SAFE_VALUE, "call id"),
        "outbound_stream_url": _safe(call.stream_url, _SAFE_VALUE, "stream URL"),
        "call_timeout": str(int(call.ring_timeout_s)),
        "originate_timeout": str(int(call.ring_timeout_s)),  # what originate itself reads
        # The hard cap on the call's length, counted from the answer.
        "execute_on_answer": f"'sched_hangup +{int(call.time_limit_s)} ALLOTTED_TIMEOUT'",
    }
    if call.machine_detection:
        variables.update(machine_detection_variables(call.machine_detection))
    block = ",".join(f"{name}={value}" for name, value in variables.items())
    gateway = _safe(trunk_id, _SAFE_GATEWAY, "trunk id")
    to = _safe(call.to_number, _SAFE_NUMBER, "to number")
    return f"originate {{{block}}}sofia/gateway/{gateway}/{to} &park()"


class _Lost(Exception):
    """The bridge closed the socket or went quiet past the deadline."""


class EslConnection:
    """The ESL text protocol: frames of ``Name: value`` headers, a blank line, then
    ``Content-Length`` bytes of body. ``text/event-plain`` bodies are themselves a header block
    (values url-encoded) plus an optional body."""

    def __init__(self, sock: socket.socket, deadline: float):
        self.sock = sock
        self.deadline = deadline
        self._buffer = b""
        self.events: list[tuple[dict[str, str], str]] = []  # events read while awaiting a reply

    def send(self, command: str) -> None:
        self.sock.sendall(command.encode() + b"\n\n")

    def _recv(self) -> None:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise _Lost("timed out")
        self.sock.settimeout(remaining)
        try:
            chunk = self.sock.recv(65536)
        except (socket.timeout, OSError) as exc:
            raise _Lost(str(exc)) from None
        if not chunk:
            raise _Lost("connection closed")
        self._buffer += chunk

    def _read_exactly(self, size: int) -> bytes:
        while len(self._buffer) < size:
            self._recv()
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data

    def read_frame(self) -> tuple[dict[str, str], str]:
        while b"\n\n" not in self._buffer:
            self._recv()
        head, self._buffer = self._buffer.split(b"\n\n", 1)
        headers = parse_headers(head.decode())
        length = int(headers.get("Content-Length", "0") or 0)
        return headers, self._read_exactly(length).decode() if length else ""

    def command(self, command: str) -> dict[str, str]:
        """Send ``command`` and return its ``command/reply`` headers, keeping events aside."""
        self.send(command)
        while True:
            headers, body = self.read_frame()
            content_type = headers.get("Content-Type")
            if content_type == "command/reply":
                return headers
            if content_type == "text/event-plain":
                self.events.append(parse_event(body))
            elif content_type == "text/disconnect-notice":
                raise _Lost("the bridge disconnected")

    def api(self, command: str) -> str:
        """Send ``api <command>`` (run at once on the bridge) and return its ``api/response`` body
        (a refusal before it runs, e.g. unauthenticated, comes as a ``command/reply``)."""
        self.send(f"api {command}")
        while True:
            headers, body = self.read_frame()
            content_type = headers.get("Content-Type")
            if content_type == "api/response":
                return body
            if content_type == "command/reply":
                return headers.get("Reply-Text", "")
            if content_type == "text/event-plain":
                self.events.append(parse_event(body))
            elif content_type == "text/disconnect-notice":
                raise _Lost("the bridge disconnected")

    def next_event(self) -> tuple[dict[str, str], str]:
        if self.events:
            return self.events.pop(0)
        while True:
            headers, body = self.read_frame()
            if headers.get("Content-Type") == "text/event-plain":
                return parse_event(body)
            if headers.get("Content-Type") == "text/disconnect-notice":
                raise _Lost("the bridge disconnected")


def parse_headers(text: str, url_encoded: bool = False) -> dict[str, str]:
    headers = {}
    for line in text.splitlines():
        name, sep, value = line.partition(":")
        if sep:
            value = value.strip()
            headers[name.strip()] = unquote(value) if url_encoded else value
    return headers


def parse_event(payload: str) -> tuple[dict[str, str], str]:
    """A ``text/event-plain`` body: url-encoded headers, a blank line, ``Content-Length`` body."""
    head, _, rest = payload.partition("\n\n")
    headers = parse_headers(head, url_encoded=True)
    length = int(headers.get("Content-Length", "0") or 0)
    return headers, rest.encode()[:length].decode() if length else rest


class SipAdapter:
    name = "sip"

    def place_call(self, call: OutboundCall, credentials: dict[str, Any]) -> str:
        trunks = enabled_trunks(call.provider_settings)
        if not trunks:
            raise ProviderRefused("No enabled SIP trunk")
        attempts = [_attempt(call, trunk) for trunk in trunks]  # validates before connecting
        password = str(credentials.get("password", ""))
        if "\n" in password or "\r" in password:  # would end the auth command early
            raise ProviderAuthError("The SIP bridge password contains a line break")
        host, port = _bridge_address(credentials)
        deadline = time.monotonic() + provider_timeout_s()
        try:
            sock = socket.create_connection((host, port), timeout=provider_timeout_s())
        except OSError as exc:
            raise ProviderRefused(f"The SIP bridge is unreachable: {exc.strerror or exc}") from None
        # Each ESL command is one small write answered by the bridge: without TCP_NODELAY, Nagle
        # and the peer's delayed ACK can hold a write ~40 ms (measured on loopback).
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        originate_in_flight = False
        try:
            esl = EslConnection(sock, deadline)
            esl.read_frame()  # Content-Type: auth/request
            if not esl.command(f"auth {password}").get("Reply-Text", "").startswith("+OK"):
                raise ProviderAuthError("The SIP bridge rejected the event socket password")
            subscribed = esl.command("event plain BACKGROUND_JOB " + " ".join(PLACED_EVENTS))
            if not subscribed.get("Reply-Text", "").startswith("+OK"):  # else we would wait blind
                raise ProviderRefused(f"The SIP bridge refused events: {subscribed.get('Reply-Text')}")
            cause = ""
            for command, channel_uuid in attempts:
                originate_in_flight = True
                reply = esl.command(f"bgapi {command}")
                reply_text = reply.get("Reply-Text", "")
                if not reply_text.startswith("+OK"):
                    raise ProviderRefused(f"The SIP bridge refused the originate: {reply_text}")
                job_uuid = reply.get("Job-UUID") or reply_text.rpartition(" ")[2]
                outcome, cause = _await_outcome(esl, job_uuid, channel_uuid)
                if outcome == "placed":
                    return channel_uuid
                originate_in_flight = False
                if cause not in FAILOVER_CAUSES:  # the number itself was refused: no failover
                    raise ProviderRefused(f"The SIP trunk refused the call: {cause}")
            raise ProviderRefused(f"Every SIP trunk failed, last: {cause}")
        except _Lost as exc:
            if originate_in_flight:  # the bridge may be ringing the callee: ambiguous
                raise ProviderTimeout(f"No answer from the SIP bridge in time ({exc})") from None
            raise ProviderRefused(f"The SIP bridge is unreachable: {exc}") from None
        finally:
            sock.close()  # a plain close is a normal ESL hang-up; the bgapi job runs on


    def hang_up(self, call_sid: str, credentials: dict[str, Any]) -> None:
        """``api uuid_kill <channel uuid>`` on the bridge; a channel that is gone ("No such
        channel") has ended already. The bridge then reports the hang-up like any other."""
        if not _CHANNEL_UUID.fullmatch(call_sid):
            raise ProviderRefused("The call's channel id is not one the SIP bridge could have given")
        password = str(credentials.get("password", ""))
        if "\n" in password or "\r" in password:
            raise ProviderAuthError("The SIP bridge password contains a line break")
        host, port = _bridge_address(credentials)
        try:
            sock = socket.create_connection((host, port), timeout=provider_timeout_s())
        except OSError as exc:
            raise ProviderRefused(f"The SIP bridge is unreachable: {exc.strerror or exc}") from None
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            esl = EslConnection(sock, time.monotonic() + provider_timeout_s())
            esl.read_frame()  # Content-Type: auth/request
            if not esl.command(f"auth {password}").get("Reply-Text", "").startswith("+OK"):
                raise ProviderAuthError("The SIP bridge rejected the event socket password")
            reply = esl.api(f"uuid_kill {call_sid}").strip()
        except _Lost as exc:
            raise ProviderTimeout(f"No answer from the SIP bridge in time ({exc})") from None
        finally:
            sock.close()
        if not reply.startswith("+OK") and "No such channel" not in reply:
            raise ProviderRefused(f"The SIP bridge refused the hang-up: {reply}")


_CHANNEL_UUID = re.compile(r"[A-Za-z0-9-]{1,64}")  # what originate_command names channels (uuid4)


def _attempt(call: OutboundCall, trunk: dict[str, Any]) -> tuple[str, str]:
    """One trunk's originate command and the channel uuid it names (the future call_sid)."""
    channel_uuid = str(uuid.uuid4())
    return originate_command(call, str(trunk["id"]), channel_uuid), channel_uuid


def _await_outcome(esl: EslConnection, job_uuid: str, channel_uuid: str) -> tuple[str, str]:
    """("placed", "") once the call exists at the far end, or ("failed", CAUSE)."""
    while True:
        headers, body = esl.next_event()
        name = headers.get("Event-Name")
        if name == "BACKGROUND_JOB" and headers.get("Job-UUID") == job_uuid:
            result = body.strip()
            if result.startswith("+OK"):
                return "placed", ""
            cause = result.removeprefix("-ERR").strip().split()
            return "failed", cause[0] if cause else "UNKNOWN_FAILURE"
        if name in PLACED_EVENTS and headers.get("Unique-ID") == channel_uuid:
            return "placed", ""


ADAPTER = SipAdapter()
