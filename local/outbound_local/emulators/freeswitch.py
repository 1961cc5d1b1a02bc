"""FreeSWITCH event-socket (ESL) emulator: the inbound-socket text protocol a SIP bridge speaks.

Supported: ``auth``, ``event plain ...``, ``bgapi originate ...`` (reply ``+OK Job-UUID``, then a
``BACKGROUND_JOB`` event with ``+OK <origination_uuid>`` or ``-ERR <CAUSE>``), ``api uuid_kill
<uuid>`` (``api/response`` ``+OK``, or ``-ERR No such channel!`` for a channel that is gone; the
bridge's signed hang-up event follows, see hangups), ``exit``. Anything else: ``-ERR command not
found``. Outcomes: a gateway whose name contains "down" -> ``GATEWAY_DOWN``; the refused number
-> ``UNALLOCATED_NUMBER``; the silent number -> the job never finishes; the dropped number -> the
socket closes once the command is read.
"""
from __future__ import annotations

import re
import socket
import socketserver
import threading
import uuid
from urllib.parse import quote

from .base import DROPPED_NUMBER, REFUSED_NUMBER, SILENT_NUMBER, Credentials, RequestLog, is_magic

# webhook_secret: what the bridge signs its status events with (see outbound.provider_callbacks.sip).
DEFAULT_CREDENTIALS = {"bridge": "127.0.0.1:8021", "password": "ClueCon",
                       "webhook_secret": "local-sip-webhook-secret"}

ORIGINATE = re.compile(r"originate\s+(?:\{(?P<vars>[^}]*)\})?(?P<dial>\S+)\s*(?P<app>.*)")
GATEWAY_DIAL = re.compile(r"sofia/gateway/(?P<gateway>[^/]+)/(?P<to>.+)")


def frame(headers: dict[str, str], body: str = "") -> bytes:
    if body:
        headers = {"Content-Length": str(len(body.encode())), **headers}
    head = "".join(f"{name}: {value}\n" for name, value in headers.items())
    return (head + "\n" + body).encode()


def reply(text: str, **headers: str) -> bytes:
    return frame({"Content-Type": "command/reply", "Reply-Text": text, **headers})


def api_response(text: str) -> bytes:
    return frame({"Content-Type": "api/response"}, text)


def event(headers: dict[str, str], body: str = "") -> bytes:
    """A ``text/event-plain`` frame: its payload is a url-encoded header block plus a body."""
    if body:
        headers = {**headers, "Content-Length": str(len(body.encode()))}
    payload = "".join(f"{name}: {quote(value, safe='')}\n" for name, value in headers.items())
    return frame({"Content-Type": "text/event-plain"}, payload + "\n" + body)


def channel_variables(block: str) -> dict[str, str]:
    """``a=1,b='x y'`` -> dict; commas inside single quotes do not split, quotes are dropped."""
    variables: dict[str, str] = {}
    for item in re.findall(r"(?:[^,']|'[^']*')+", block or ""):
        name, _, value = item.partition("=")
        variables[name.strip()] = value.strip().strip("'")
    return variables


def parse_originate(arguments: str) -> tuple[dict[str, str], str, str] | None:
    """``{vars}sofia/gateway/<gateway>/<to> &app()`` -> (variables, gateway, to)."""
    match = ORIGINATE.fullmatch("originate " + arguments.strip())
    dial = GATEWAY_DIAL.fullmatch(match["dial"]) if match else None
    if not dial:
        return None
    return channel_variables(match["vars"]), dial["gateway"], dial["to"]


def originate_result(arguments: str) -> str | None:
    """The BACKGROUND_JOB body for ``originate <arguments>``; None: the job never finishes."""
    parsed = parse_originate(arguments)
    if parsed is None:
        return "-ERR CHAN_NOT_IMPLEMENTED\n"  # what FreeSWITCH says for an unknown endpoint
    variables, gateway, to = parsed
    if "down" in gateway:
        return "-ERR GATEWAY_DOWN\n"
    if is_magic(to, REFUSED_NUMBER):
        return "-ERR UNALLOCATED_NUMBER\n"
    if is_magic(to, SILENT_NUMBER):
        return None
    return f"+OK {variables.get('origination_uuid') or uuid.uuid4()}\n"


class EslEmulator:
    """A threaded TCP server on loopback speaking FreeSWITCH's inbound event socket."""

    def __init__(self, log: RequestLog, credentials: Credentials, host: str = "127.0.0.1",
                 port: int = 0):
        self.log = log
        self.credentials = credentials
        self._connections: set[socket.socket] = set()
        self._lock = threading.Lock()
        self.server = socketserver.ThreadingTCPServer((host, port), self._handler_class())
        self.server.daemon_threads = True

    @property
    def address(self) -> str:
        host, port = self.server.server_address[:2]
        return f"{host}:{port}"

    def start(self) -> "EslEmulator":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        with self._lock:  # unblock sessions still waiting (e.g. a silent job's client)
            for connection in self._connections:
                try:
                    connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def _accepted_passwords(self) -> set[str]:
        return {c["password"] for c in self.credentials("sip") if c.get("password")}

    def kill(self, channel_uuid: str) -> str:
        """``uuid_kill``: end the channel (answered: completed; ringing: canceled) and have the
        bridge report its hang-up, signed, to the stack's webhook."""
        from .hangups import final_callback_sender

        call, ended = self.log.calls.hang_up("sip", channel_uuid)
        if not ended:
            return "-ERR No such channel!\n"
        report = final_callback_sender(call, self.credentials("sip"))
        if report is not None:
            threading.Thread(target=report, daemon=True).start()
        return "+OK\n"

    def _log(self, command: str) -> None:
        if command.startswith("auth "):
            command = "auth ***"
        self.log.add("sip", "ESL", command.split(" ", 1)[0], {}, command)

    def _handler_class(self) -> type[socketserver.BaseRequestHandler]:
        emulator = self

        class _Session(socketserver.StreamRequestHandler):
            def setup(self) -> None:
                super().setup()
                # A reply and an event go out as two small writes: with Nagle's algorithm the
                # second waits for the client's delayed ACK (~40 ms per command), as a real
                # bridge on a tuned socket would not.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                with emulator._lock:
                    emulator._connections.add(self.connection)

            def finish(self) -> None:
                with emulator._lock:
                    emulator._connections.discard(self.connection)
                try:
                    super().finish()
                except OSError:
                    pass

            def handle(self) -> None:
                try:
                    self._serve()
                except OSError:
                    pass  # the client went away

            def _read_command(self) -> str | None:
                """One command: lines up to a blank line (extra header lines are ignored)."""
                lines = []
                while True:
                    line = self.rfile.readline()
                    if not line:
                        return None
                    line = line.decode("utf-8", "replace").rstrip("\r\n")
                    if not line:
                        if lines:
                            return lines[0]
                        continue
                    lines.append(line)

            def _serve(self) -> None:
                send = self.wfile.write
                send(frame({"Content-Type": "auth/request"}))
                authenticated, subscribed, password = False, set(), ""
                while (command := self._read_command()) is not None:
                    emulator._log(command)
                    verb, _, rest = command.partition(" ")
                    if verb == "auth":
                        if rest in emulator._accepted_passwords():
                            authenticated, password = True, rest
                            send(reply("+OK accepted"))
                            continue
                        send(reply("-ERR invalid"))
                        send(frame({"Content-Type": "text/disconnect-notice"}))
                        return
                    if not authenticated:
                        send(reply("-ERR invalid"))
                        return
                    if verb == "exit":
                        send(reply("+OK bye"))
                        return
                    if verb == "event":
                        kind, _, names = rest.partition(" ")
                        subscribed.update(names.split())
                        send(reply(f"+OK event listener enabled {kind}"))
                    elif verb == "bgapi" and rest.startswith("originate "):
                        arguments = rest.removeprefix("originate ")
                        if is_magic((parse_originate(arguments) or ({}, "", ""))[2], DROPPED_NUMBER):
                            return  # the socket closes with the job maybe started: ambiguous
                        job_uuid = str(uuid.uuid4())
                        send(reply(f"+OK Job-UUID: {job_uuid}", **{"Job-UUID": job_uuid}))
                        result = originate_result(arguments)
                        if result is None or result.startswith("+OK"):  # ringing (or silent): placed
                            variables, _, to = parse_originate(arguments) or ({}, "", "")
                            emulator.log.placed(variables.get("outbound_call_id"), "sip",
                                                variables.get("origination_uuid", ""), account=password, to=to,
                                                from_=variables.get("origination_caller_id_number", ""))
                        if result is not None and ({"BACKGROUND_JOB", "ALL"} & subscribed):
                            send(event({"Event-Name": "BACKGROUND_JOB", "Job-UUID": job_uuid,
                                        "Job-Command": "originate",
                                        "Job-Command-Arg": arguments},
                                       result))
                    elif verb == "api" and rest.startswith("uuid_kill "):
                        send(api_response(emulator.kill(rest.split()[1] if len(rest.split()) > 1 else "")))
                    else:
                        send(reply("-ERR command not found"))

        return _Session
