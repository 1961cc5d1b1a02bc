"""moto's server on loopback as the local AWS (DynamoDB, Secrets Manager, Scheduler, SQS, S3).

moto is not atomic under concurrent writes (conditional decrements overdrew a balance, and
TransactWriteItems crashed, when run unserialized), so every request to it goes through one lock:
the local stack then keeps DynamoDB's conditional-write guarantees. In front of that lock:
- TransactWriteItems' ``ClientRequestToken`` is honoured as AWS documents it, and moto's rollback
  copies items instead of whole tables (both in outbound_local.moto_dynamodb);
- a request to a presigned S3 URL is held to what the URL signed (outbound_local.s3_presigned:
  moto accepts any), so a PUT without the signed Content-Type is refused here as at S3;
- DynamoDB operations are counted, per function (how tests and benchmarks count round trips);
- DynamoDB faults can be injected (local only: ``POST /_local/faults/dynamodb``): the next N
  requests of one operation (after ``skip`` of them) answer AWS's own JSON error, are held
  past the client's timeout (``Timeout``), or are applied and then answered with the error
  (``after_commit``: the answer is lost, as a dropped connection would lose it).
"""
from __future__ import annotations

import io
import json
import logging
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass
from typing import Any, Callable

from werkzeug.serving import make_server

from . import moto_dynamodb, s3_presigned

# DynamoDB's errors as the service answers them: HTTP status, and whether botocore retries them
# (throttling and 5xx are retried by the SDK; the others are the caller's to handle).
DYNAMODB_FAULTS = {
    "ProvisionedThroughputExceededException": (400, "The level of configured provisioned throughput "
                                                    "for the table was exceeded."),
    "ThrottlingException": (400, "Rate of requests exceeds the allowed throughput."),
    "RequestLimitExceeded": (400, "Throughput exceeds the current throughput limit for your account."),
    "InternalServerError": (500, "Internal server error"),
    "ServiceUnavailable": (503, "Service Unavailable"),
    "AccessDeniedException": (400, "User is not authorized to perform this action (a policy changed)."),
    # TransactWriteItems canceled by a conflicting transaction on one of its items (worth a retry).
    "TransactionConflict": (400, "Transaction cancelled, please refer cancellation reasons for specific "
                                 "reasons [TransactionConflict]"),
    # Not an answer: the request is held for delay_seconds (the client times out first), then 500.
    "Timeout": (500, "Internal server error"),
}
REASONS = {400: "Bad Request", 500: "Internal Server Error", 503: "Service Unavailable"}
# Set by the local stack on the DynamoDB requests a function makes (outbound_local.functions):
# the operations can then be counted per function (requests, not background consumers).
FUNCTION_HEADER = "X-Outbound-Local-Function"


@dataclass
class Fault:
    error: str
    count: int  # how many requests it answers
    skip: int = 0  # let this many matching requests through first
    after_commit: bool = False  # apply the request, then answer the error
    delay_seconds: float = 10.0  # Timeout only: how long the request is held

    def describe(self) -> dict[str, Any]:
        return {"error": self.error, "count": self.count, "skip": self.skip, "after_commit": self.after_commit}


class SerializedApp:
    """WSGI middleware: one request at a time, tokens honoured, operations counted, faults injected."""

    def __init__(self, app: Callable):
        self.app = app
        self.lock = threading.Lock()
        self.operations: Counter = Counter()
        self.tokens = moto_dynamodb.TransactionTokens()
        self._ops_lock = threading.Lock()
        self._faults: dict[str, list[Fault]] = {}
        self.faults_served: Counter = Counter()  # (operation, error) -> answered
        self._published: deque = deque(maxlen=10_000)  # EventBridge PutEvents entries, as sent

    # --- faults -------------------------------------------------------------------------------
    def add_fault(self, operation: str, error: str, count: int, skip: int = 0, after_commit: bool = False,
                  delay_seconds: float = 10.0) -> None:
        if error not in DYNAMODB_FAULTS:
            raise ValueError(f"error must be one of {', '.join(DYNAMODB_FAULTS)}")
        for name, value in (("count", count), ("skip", skip)):
            if not isinstance(value, int) or isinstance(value, bool) or value < (1 if name == "count" else 0):
                raise ValueError(f"{name} must be a {'positive' if name == 'count' else 'non-negative'} integer")
        if not isinstance(delay_seconds, (int, float)) or not 0 <= delay_seconds <= 120:
            raise ValueError("delay_seconds must be between 0 and 120")
        with self._ops_lock:
            self._faults.setdefault(operation, []).append(
                Fault(error, count, skip, bool(after_commit), float(delay_seconds)))

    def clear_faults(self) -> None:
        with self._ops_lock:
            self._faults.clear()

    def faults(self) -> dict[str, Any]:
        with self._ops_lock:
            return {"pending": {op: [f.describe() for f in queue] for op, queue in self._faults.items() if queue},
                    "served": [{"operation": op, "error": e, "count": n}
                               for (op, e), n in sorted(self.faults_served.items())]}

    def _take_fault(self, operation: str) -> Fault | None:
        with self._ops_lock:
            queue = self._faults.get(operation)
            if not queue:
                return None
            fault = queue[0]
            if fault.skip:
                fault.skip -= 1
                return None
            fault.count -= 1
            if fault.count <= 0:
                queue.pop(0)
            self.faults_served[(operation, fault.error)] += 1
            return fault

    # --- requests -----------------------------------------------------------------------------
    def __call__(self, environ: dict, start_response: Callable) -> Any:
        # Held to what the URL signed, as S3 holds it; a browser's CORS preflight (OPTIONS) is
        # answered from the bucket's CORS rules, unauthenticated, as S3 answers it.
        if s3_presigned.is_presigned_s3(environ) and environ.get("REQUEST_METHOD") != "OPTIONS":
            refused = s3_presigned.refusal(environ)
            if refused:
                body = s3_presigned.error_body(refused)
                status = 400 if refused == "AuthorizationQueryParametersError" else 403
                start_response(f"{status} {'Bad Request' if status == 400 else 'Forbidden'}",
                               [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))])
                return [body]
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target == "AWSEvents.PutEvents":
            self._record_put_events(environ)
        if not target.startswith("DynamoDB_"):
            return self._serialized(environ)(start_response)
        operation = target.split(".", 1)[1]
        with self._ops_lock:
            self.operations[(environ.get("HTTP_" + FUNCTION_HEADER.upper().replace("-", "_"), ""), operation)] += 1
        fault = self._take_fault(operation)
        if fault is not None and not fault.after_commit:
            if fault.error == "Timeout":
                time.sleep(fault.delay_seconds)
            return _answer(start_response, *_fault_answer(fault.error))
        status, headers, body = self._dynamodb(environ, operation)
        if fault is not None:  # applied, and the answer is lost
            if fault.error == "Timeout":
                time.sleep(fault.delay_seconds)
            return _answer(start_response, *_fault_answer(fault.error))
        start_response(status, headers)
        return [body]

    def _dynamodb(self, environ: dict, operation: str) -> tuple[str, list, bytes]:
        if operation != "TransactWriteItems":
            return self._run(environ)
        raw = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(raw)
        request = json.loads(raw or b"{}")
        token = request.get("ClientRequestToken")
        if not token:
            return self._run(environ)
        early = self.tokens.begin(token, self.tokens.parameters(request))
        if early is not None:
            status, body = early
            payload = body if isinstance(body, bytes) else json.dumps(body).encode()
            return f"{status} {REASONS.get(status, 'OK')}", _json_headers(payload), payload
        succeeded, result = False, None
        try:
            result = self._run(environ)
            succeeded = result[0].startswith("200")
        finally:
            self.tokens.end(token, succeeded, result[2] if result else b"")
        return result

    def _run(self, environ: dict) -> tuple[str, list, bytes]:
        captured: dict[str, Any] = {}

        def start(status: str, headers: list, exc_info: Any = None) -> None:
            captured.update(status=status, headers=headers)

        with self.lock:
            # Consume the whole response inside the lock: moto computes lazily in some paths.
            body = b"".join(self.app(environ, start))
        return captured["status"], captured["headers"], body

    def _serialized(self, environ: dict) -> Callable:
        def respond(start_response: Callable) -> list[bytes]:
            status, headers, body = self._run(environ)
            start_response(status, headers)
            return [body]
        return respond

    def _record_put_events(self, environ: dict) -> None:
        """Keep what was put on EventBridge (moto accepts it, and keeps nothing to look at)."""
        raw = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(raw)
        try:
            entries = json.loads(raw or b"{}").get("Entries") or []
        except ValueError:
            return
        now = time.time()
        with self._ops_lock:
            for entry in entries:
                detail = entry.get("Detail")
                try:
                    detail = json.loads(detail) if isinstance(detail, str) else detail
                except ValueError:
                    pass
                self._published.append({"EventBusName": entry.get("EventBusName"), "Source": entry.get("Source"),
                                        "DetailType": entry.get("DetailType"), "Detail": detail, "received_at": now})

    def published_events(self) -> list[dict[str, Any]]:
        with self._ops_lock:
            return list(self._published)

    def operation_counts(self, exclude: set[str] = frozenset(), only: set[str] | None = None) -> Counter:
        """DynamoDB operations served, all of them or but those made by the ``exclude`` functions
        (or only those made by the ``only`` functions)."""
        counts: Counter = Counter()
        with self._ops_lock:
            for (function, operation), n in self.operations.items():
                if function not in exclude and (only is None or function in only):
                    counts[operation] += n
        return counts


def _fault_answer(error: str) -> tuple[int, bytes]:
    status, message = DYNAMODB_FAULTS[error]
    if error == "TransactionConflict":
        return status, json.dumps({
            "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException", "message": message,
            "CancellationReasons": [{"Code": "TransactionConflict",
                                     "Message": "Transaction is ongoing for the item"}]}).encode()
    code = "InternalServerError" if error == "Timeout" else error
    return status, json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message}).encode()


def _json_headers(body: bytes) -> list[tuple[str, str]]:
    return [("Content-Type", "application/x-amz-json-1.0"), ("Content-Length", str(len(body))),
            ("x-amzn-RequestId", "local")]


def _answer(start_response: Callable, status: int, body: bytes) -> list[bytes]:
    start_response(f"{status} {REASONS[status]}", _json_headers(body))
    return [body]


class LocalAws:
    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        from moto.moto_server.werkzeug_app import (DomainDispatcherApplication, MotoRequestHandler,
                                                   create_backend_app)

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
        moto_dynamodb.apply()
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
        self._reset()
        return self

    def _reset(self) -> None:
        """moto's state is process-wide: a second local stack in one process (the tests start
        several) would meet the first one's tables and queues. Every stack starts empty."""
        import urllib.request

        urllib.request.urlopen(urllib.request.Request(self.endpoint_url + "/moto-api/reset", method="POST"),
                               timeout=10).read()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
