"""``outbound serve``: the API on loopback, plus the local-only ``/_local/...`` routes."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler
from typing import Any

from .emulators.base import LoopbackHTTPServer
from .gateway import LocalApiGateway
from .stack import LocalStack
from .webhook_receiver import PREFIX


class LocalServer:
    def __init__(self, stack: LocalStack | None = None, host: str = "127.0.0.1", port: int = 3000):
        self.stack = stack  # may be set after binding, once the public URL (port 0) is known
        self.gateway = LocalApiGateway()
        self.httpd = LoopbackHTTPServer((host, port), self._handler_class())
        self.httpd.daemon_threads = True
        self._thread: threading.Thread | None = None
        self._serving = False

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start_background(self) -> "LocalServer":
        self._serving = True
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._serving = True
        self.httpd.serve_forever()

    def stop(self) -> None:
        # shutdown() waits for the serve loop to finish: with no loop started (the stack failed
        # to start or seed), it would wait forever.
        if self._serving:
            self.httpd.shutdown()
        self.httpd.server_close()

    def _local_route(self, method: str, path: str, body: bytes = b"", query: str = "") -> Any:
        """The local-only routes' answer, or None (then the API's own 404 answers)."""
        if path.startswith("/_local/scheduler/") and self.stack.scheduler is not None:
            if method == "GET" and path == "/_local/scheduler/deliveries":
                return self.stack.scheduler.deliveries()
            if method == "POST" and path == "/_local/scheduler/deliver":
                # One more delivery of a ScheduledCallFunction input (e.g. one the scheduler
                # delivered already: at-least-once delivery, exercised by hand).
                try:
                    event = json.loads(body or b"null")
                except ValueError:
                    return {"errorMessage": "the body must be the JSON input to deliver", "errorType": "ValueError"}
                return self.stack.scheduler.deliver(event)
        if method == "GET":
            if path == "/_local/provider-requests":  # ?call_id=: only the requests that name that call
                from urllib.parse import parse_qs

                call_id = (parse_qs(query).get("call_id") or [None])[0]
                entries = self.stack.requests.entries()
                return [e for e in entries if call_id in json.dumps(e["body"])] if call_id else entries
            if path == "/_local/provider-calls":  # what the providers placed: call_id -> {provider, call_sid}
                return self.stack.requests.placed_calls()
            if path == "/_local/aws":  # where `outbound seed --local-server` writes
                return self.stack.aws_info()
            if path == "/_local/dynamodb-operations":
                # ?exclude=event-sources: only what requests caused; ?function=NAME (repeatable): those functions'
                from urllib.parse import parse_qs

                params = parse_qs(query)
                return self.stack.dynamodb_operations(exclude_event_sources="event-sources" in params.get("exclude", []),
                                                      functions=params.get("function"))
            if path == "/_local/event-sources" and self.stack.event_sources is not None:
                return self.stack.event_sources.status()
            if path == "/_local/events":  # what was put on EventBridge (the stack's bus), oldest first
                return self.stack.published_events()
            if path == "/_local/dynamodb-operations/by-function":  # ?function=A,B: only those functions' operations
                names = set(query.partition("function=")[2].split("&")[0].split(",")) - {""}
                return self.stack.aws.app.operation_counts(only=names or None)
        if path == "/_local/dns":  # names the webhook URL checks resolve (see webhook_receiver)
            return self.stack.dns.handle(method, body)
        if path == "/_local/faults/dynamodb":
            # Fault injection (local only): {"operation": "TransactWriteItems", "error":
            # "ProvisionedThroughputExceededException", "count": 2} makes the next 2 such requests
            # answer that error; optional "skip" (let N through first), "after_commit" (apply,
            # then answer the error) and "delay_seconds" (how long a "Timeout" holds the request).
            # GET lists pending and served faults; DELETE clears the pending.
            app = self.stack.aws.app
            if method == "POST":
                try:
                    spec = json.loads(body or b"null")
                    app.add_fault(str(spec["operation"]), str(spec["error"]), spec.get("count", 1),
                                  spec.get("skip", 0), spec.get("after_commit", False),
                                  spec.get("delay_seconds", 10.0))
                except (ValueError, KeyError, TypeError, AttributeError) as exc:
                    return {"error": f"expected {{operation, error, count, skip?, after_commit?, "
                                     f"delay_seconds?}}: {exc}"}
                return app.faults()
            if method == "GET":
                return app.faults()
            if method == "DELETE":
                app.clear_faults()
                return app.faults()
        if method == "POST" and path == "/_local/provider-calls/play":
            # What happened to a call at its emulated provider (`outbound emulate-call` says it
            # before sending the matching callbacks): {"call_sid", "outcome", "duration", "now"?}.
            try:
                spec = json.loads(body or b"null")
                played = self.stack.requests.calls.play(str(spec["call_sid"]), str(spec["outcome"]),
                                                        int(spec.get("duration") or 0), spec.get("now"))
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                return {"error": f"expected {{call_sid, outcome, duration, now?}}: {exc}"}
            return {"call": played}
        if method == "POST" and path == "/_local/provider-accounts/reload":
            # `outbound seed --local-server` calls this after loading: the emulators then
            # accept the accounts just seeded (counts only: credentials never leave the stack).
            return {"accounts": self.stack.snapshot_provider_accounts()}
        return None

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, fmt: str, *args: Any) -> None:
                pass  # the function logs are the record

            def _serve(self) -> None:
                path, _, query = self.path.partition("?")
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if path.startswith(PREFIX):  # the loopback webhook receiver: answers what it is told to
                    status, data = server.stack.webhook_receivers.handle(self.command, path, dict(self.headers.items()),
                                                                         body)
                    return self._send(status, {"Content-Type": "application/json"}, json.dumps(data).encode())
                if path.startswith("/_local/"):
                    data = server._local_route(self.command, path, body, query)
                    if data is not None:
                        return self._send(200, {"Content-Type": "application/json"}, json.dumps(data).encode())
                host = self.headers.get("Host") or server.url.split("//", 1)[1]
                status, headers, payload = server.gateway.handle(
                    self.command, path, query, dict(self.headers.items()), body, host, self.client_address[0])
                self._send(status, headers, payload)

            def _send(self, status: int, headers: dict[str, str], payload: bytes) -> None:
                self.send_response(status)
                for key, value in headers.items():
                    if key.lower() not in ("content-length", "connection"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _serve

        return _Handler
