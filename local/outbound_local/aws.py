"""moto's server on loopback as the local AWS (DynamoDB, Secrets Manager).

moto is not atomic under concurrent writes (AWS_LOCAL.md: conditional decrements overdrew a
balance, TransactWriteItems crashed), so every request to it goes through one lock: the local
stack then keeps DynamoDB's conditional-write guarantees. The wrapper also counts DynamoDB
operations, which is how tests and benchmarks count round trips per call.
"""
from __future__ import annotations

import logging
import threading
from collections import Counter
from typing import Any, Callable

from werkzeug.serving import make_server


class SerializedApp:
    """WSGI middleware: one request at a time, DynamoDB operations counted."""

    def __init__(self, app: Callable):
        self.app = app
        self.lock = threading.Lock()
        self.operations: list[str] = []
        self._ops_lock = threading.Lock()

    def __call__(self, environ: dict, start_response: Callable) -> Any:
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target.startswith("DynamoDB_"):
            with self._ops_lock:
                self.operations.append(target.split(".", 1)[1])
        with self.lock:
            # Consume the whole response inside the lock: moto computes lazily in some paths.
            return list(self.app(environ, start_response))

    def operation_counts(self) -> Counter:
        with self._ops_lock:
            return Counter(self.operations)


class LocalAws:
    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        from moto.moto_server.werkzeug_app import (DomainDispatcherApplication, MotoRequestHandler,
                                                   create_backend_app)

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
        self.app = SerializedApp(DomainDispatcherApplication(create_backend_app))
        self.server = make_server(host, port, self.app, threaded=True, request_handler=MotoRequestHandler)
        self._thread: threading.Thread | None = None

    @property
    def endpoint_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "LocalAws":
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
