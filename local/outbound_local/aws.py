"""moto's server on loopback as the local AWS (DynamoDB, Secrets Manager).

moto is not atomic under concurrent writes (AWS_LOCAL.md: conditional decrements overdrew a
balance, TransactWriteItems crashed), so every request to it goes through one lock: the local
stack then keeps DynamoDB's conditional-write guarantees. The wrapper also counts DynamoDB
operations, which is how tests and benchmarks count round trips per call, and can inject
DynamoDB faults (local only: ``POST /_local/faults/dynamodb``): the next N requests of one
operation answer AWS's own JSON error (throttling, 500, 503) without reaching moto.
"""
from __future__ import annotations

import json
import logging
import threading
from collections import Counter
from typing import Any, Callable

from werkzeug.serving import make_server


# DynamoDB's errors as the service answers them: HTTP status, and whether botocore retries them
# (throttling and 5xx are retried by the SDK; the others are the caller's to handle).
DYNAMODB_FAULTS = {
    "ProvisionedThroughputExceededException": (400, "The level of configured provisioned throughput "
                                                    "for the table was exceeded."),
    "ThrottlingException": (400, "Rate of requests exceeds the allowed throughput."),
    "RequestLimitExceeded": (400, "Throughput exceeds the current throughput limit for your account."),
    "InternalServerError": (500, "Internal server error"),
    "ServiceUnavailable": (503, "Service Unavailable"),
}


class SerializedApp:
    """WSGI middleware: one request at a time, DynamoDB operations counted, faults injected."""

    def __init__(self, app: Callable):
        self.app = app
        self.lock = threading.Lock()
        self.operations: list[str] = []
        self._ops_lock = threading.Lock()
        self._faults: dict[str, list[list]] = {}  # operation -> [[error, remaining count], ...]
        self.faults_served: Counter = Counter()  # (operation, error) -> answered

    def add_fault(self, operation: str, error: str, count: int) -> None:
        if error not in DYNAMODB_FAULTS:
            raise ValueError(f"error must be one of {', '.join(DYNAMODB_FAULTS)}")
        if not isinstance(count, int) or count < 1:
            raise ValueError("count must be a positive integer")
        with self._ops_lock:
            self._faults.setdefault(operation, []).append([error, count])

    def clear_faults(self) -> None:
        with self._ops_lock:
            self._faults.clear()

    def faults(self) -> dict[str, Any]:
        with self._ops_lock:
            return {"pending": {op: [{"error": e, "count": n} for e, n in queue] for op, queue in self._faults.items()
                                if queue},
                    "served": [{"operation": op, "error": e, "count": n} for (op, e), n in sorted(self.faults_served.items())]}

    def _take_fault(self, operation: str) -> str | None:
        with self._ops_lock:
            queue = self._faults.get(operation)
            if not queue:
                return None
            error = queue[0][0]
            queue[0][1] -= 1
            if queue[0][1] <= 0:
                queue.pop(0)
            self.faults_served[(operation, error)] += 1
            return error

    def __call__(self, environ: dict, start_response: Callable) -> Any:
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target.startswith("DynamoDB_"):
            operation = target.split(".", 1)[1]
            with self._ops_lock:
                self.operations.append(operation)
            error = self._take_fault(operation)
            if error is not None:
                status, message = DYNAMODB_FAULTS[error]
                body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{error}",
                                   "message": message}).encode()
                reason = {400: "Bad Request", 500: "Internal Server Error", 503: "Service Unavailable"}[status]
                start_response(f"{status} {reason}", [("Content-Type", "application/x-amz-json-1.0"),
                                                      ("Content-Length", str(len(body))),
                                                      ("x-amzn-RequestId", "local-fault")])
                return [body]
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
