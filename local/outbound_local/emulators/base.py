"""What every emulator shares: the request log, the magic numbers, the HTTP host."""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

from .provider_calls import ProviderCalls

REFUSED_NUMBER = "+15005550001"  # the provider refuses: "invalid number"
SILENT_NUMBER = "+15005550002"  # the provider does not answer within the adapter's timeout
DROPPED_NUMBER = "+15005550003"  # the connection drops once the request is read
FAILING_NUMBER = "+15005550004"  # the provider answers a 5xx (its own error format), call not placed
# Each has a twin of no known zone, +1 555 000 000x (fictional): a campaign obeys the calling rules
# in every zone a number maps to, and +1 500 maps to every NANP zone from Guam to Pago Pago (so a
# campaign may dial it only 22:00-07:00 UTC); a twin is judged in its contact's own zone alone.
TWIN_PREFIX = "+1555000"


def is_magic(to: str, number: str) -> bool:
    """``to`` is the magic ``number`` or its twin."""
    return to == number or to == TWIN_PREFIX + number[-4:]

# How long a "silent" provider keeps the request open. Longer than any adapter timeout.
SILENT_SECONDS = 30.0


@dataclass
class EmulatorRequest:
    method: str
    path: str  # without the query string
    query: str
    headers: dict[str, str]
    body: bytes
    calls: ProviderCalls | None = None  # the calls the providers placed (their records), set by the host

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def query_params(self) -> dict[str, str]:
        """The query string's parameters (the last value of a repeated one)."""
        from urllib.parse import parse_qsl

        return dict(parse_qsl(self.query, keep_blank_values=True))

    def header(self, name: str) -> str | None:
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return None


@dataclass
class EmulatorResponse:
    status: int
    body: Any = None  # dict/list -> JSON; str/bytes sent as they are
    headers: dict[str, str] = field(default_factory=dict)
    drop_connection: bool = False  # close the socket without answering
    delay_s: float = 0.0  # hold the request this long before answering
    provider_call_id: str | None = None  # set when this answer means "call placed": the provider's id
    placed_call: dict[str, str] | None = None  # with it, what the provider keeps: account, to, from_
    after: Callable[[], None] | None = None  # run once the answer is sent (e.g. a hang-up's final callback)

    @classmethod
    def json(cls, status: int, body: Any, **kw: Any) -> "EmulatorResponse":
        return cls(status, body, {"Content-Type": "application/json"}, **kw)


class RequestLog:
    """Thread-safe, newest last: ``[{"provider", "method", "path", "headers", "body"}]``; and
    the calls the providers placed, as they know them (``calls``: their own records, whether or
    not our side recorded the answer, e.g. a crash after the provider accepted)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[dict[str, Any]] = []
        self.calls = ProviderCalls()

    def placed(self, call_id: str | None, provider: str, provider_call_id: str, **details: Any) -> None:
        self.calls.place(provider, provider_call_id, call_id, **details)

    def placed_calls(self) -> dict[str, dict[str, str]]:
        """Our call id -> {provider, call_sid}."""
        return self.calls.by_call_id()

    def add(self, provider: str, method: str, path: str, headers: dict[str, str], body: Any) -> None:
        entry = {"provider": provider, "method": method, "path": path,
                 "headers": redact_headers(headers), "body": body}
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
        self.calls.clear()


def call_id_from_callback(url: Any) -> str | None:
    """Our call id in the status callback URL an adapter hands the provider (``?call_id=``)."""
    if isinstance(url, list):
        url = url[0] if url else None
    if not isinstance(url, str):
        return None
    from urllib.parse import parse_qs, urlsplit

    return (parse_qs(urlsplit(url).query).get("call_id") or [None])[0]


def redact_headers(headers: dict[str, str]) -> dict[str, str]:
    """Keep the auth scheme (what a test checks), never the credential itself."""
    redacted = {}
    for key, value in headers.items():
        if key.lower() == "authorization":
            value = value.split(" ", 1)[0] + " ***"
        redacted[key] = value
    return redacted


def loggable_body(request: EmulatorRequest) -> Any:
    """The body as the log shows it: JSON parsed, forms as dicts of lists, else text."""
    ctype = (request.header("Content-Type") or "").split(";")[0].strip()
    text = request.body.decode("utf-8", "replace")
    if ctype == "application/json":
        try:
            return json.loads(text)
        except ValueError:
            return text
    if ctype == "application/x-www-form-urlencoded":
        from urllib.parse import parse_qs

        return parse_qs(text, keep_blank_values=True)
    return text


class LoopbackHTTPServer(ThreadingHTTPServer):
    """A thread per request, and a listen backlog for bursts (the default of 5 resets
    connections when a test fires 40 requests at once)."""

    daemon_threads = True
    request_queue_size = 128


# A provider handler: the request -> the response. It may read accepted credentials through
# the ``Credentials`` callable the host passes in.
Credentials = Callable[[str], list[dict[str, Any]]]  # provider -> accepted credential dicts
Handler = Callable[[EmulatorRequest, Credentials], EmulatorResponse]


def _callback_url(request: EmulatorRequest) -> Any:
    """The status callback URL of a create-call: Twilio's form StatusCallback, Telnyx's
    webhook_url, Vonage's event_url."""
    body = loggable_body(request)
    if not isinstance(body, dict):
        return None
    return body.get("StatusCallback") or body.get("webhook_url") or body.get("event_url")


class HttpEmulatorHost:
    """One threaded HTTP server on loopback that routes by path prefix to provider handlers."""

    def __init__(self, routes: dict[str, tuple[str, Handler]], log: RequestLog,
                 credentials: Credentials, host: str = "127.0.0.1", port: int = 0):
        self.routes = routes  # path prefix -> (provider name, handler)
        self.log = log
        self.credentials = credentials
        self._stopping = threading.Event()
        self.server = LoopbackHTTPServer((host, port), self._handler_class())
        self.server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "HttpEmulatorHost":
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self.server.shutdown()
        self.server.server_close()

    def _route(self, path: str) -> tuple[str, Handler] | None:
        for prefix, route in self.routes.items():
            if path.startswith(prefix):
                return route
        return None

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        host = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet: the RequestLog is the record
                pass

            def _serve(self) -> None:
                path, _, query = self.path.partition("?")
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                request = EmulatorRequest(self.command, path, query, dict(self.headers.items()), body,
                                          host.log.calls)
                route = host._route(path)
                if route is None:
                    return self._send(EmulatorResponse.json(404, {"error": f"no emulator at {path}"}))
                provider, handler = route
                host.log.add(provider, self.command, self.path, request.headers, loggable_body(request))
                try:
                    response = handler(request, host.credentials)
                except Exception as exc:  # an emulator bug must show, not hang the client
                    response = EmulatorResponse.json(500, {"error": f"emulator error: {exc!r}"})
                if response.provider_call_id and 200 <= response.status < 300:
                    url = _callback_url(request)
                    host.log.placed(call_id_from_callback(url), provider, response.provider_call_id,
                                    callback_url=(url[0] if isinstance(url, list) and url else url) or "",
                                    **(response.placed_call or {}))
                if response.delay_s:
                    host._stopping.wait(response.delay_s)
                if response.drop_connection:
                    self.close_connection = True
                    self.connection.close()
                    return
                self._send(response)
                if response.after is not None:  # as a provider does: after answering, on its own time
                    threading.Thread(target=response.after, daemon=True).start()

            def _send(self, response: EmulatorResponse) -> None:
                body = response.body
                if isinstance(body, (dict, list)):
                    body = json.dumps(body).encode()
                elif isinstance(body, str):
                    body = body.encode()
                body = body or b""
                try:
                    self.send_response(response.status)
                    for key, value in response.headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (its timeout): nothing to answer

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

        return _Handler
