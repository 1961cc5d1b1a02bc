"""Runs a template.yaml function in this process, as the Lambda runtime would."""
from __future__ import annotations

import contextvars
import importlib.util
import logging
import os
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

from .template import Function, load


@dataclass
class LambdaContext:
    """The attributes handlers (and Powertools) read from the Lambda context."""

    function_name: str
    memory_limit_in_mb: int = 1024
    timeout_s: float = 29.0
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "/aws/lambda/local"
    log_stream_name: str = "local"
    _started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"

    @property
    def function_version(self) -> str:
        return "$LATEST"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_s - (time.monotonic() - self._started)) * 1000))


_lock = threading.Lock()
_handlers: dict[str, Callable] = {}


def handler(logical_id: str) -> Callable[[dict, Any], Any]:
    """The function's handler, imported once from its CodeUri (like a warm Lambda)."""
    with _lock:
        if logical_id not in _handlers:
            functions = load().functions()
            if logical_id not in functions:
                raise KeyError(f"No function {logical_id} in template.yaml (have: {', '.join(functions)})")
            _handlers[logical_id] = _import(functions[logical_id])
        return _handlers[logical_id]


def _import(function: Function) -> Callable:
    module_name, _, attr = function.handler.rpartition(".")
    path = function.code_uri / f"{module_name.replace('.', '/')}.py"
    unique = f"lambda_{function.logical_id}_{module_name}"
    spec = importlib.util.spec_from_file_location(unique, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[unique] = module
    spec.loader.exec_module(module)
    return getattr(module, attr)


_invoking = threading.local()


class _ToInvokedFunctionLogger(logging.Handler):
    """On Lambda, the shared package's child loggers (``Logger(child=True)``, named
    ``<POWERTOOLS_SERVICE_NAME>.<module>``) propagate to their function's Powertools logger, so
    their records are JSON lines with the request's correlation id. Here one process hosts every
    function and POWERTOOLS_SERVICE_NAME is unset, so they would hang under an unconfigured
    ``service_undefined`` logger (Python's last-resort handler printing bare text): hand each
    record to the logger of the function this thread is running instead."""

    def emit(self, record: logging.LogRecord) -> None:
        service = getattr(_invoking, "service", None)
        target = logging.getLogger(service) if service else None
        if target is not None and target.handlers:
            target.handle(record)


_children_root = logging.getLogger(os.environ.get("POWERTOOLS_SERVICE_NAME") or "service_undefined")
_children_root.addHandler(_ToInvokedFunctionLogger())
_children_root.propagate = False


FUNCTION_TIMEOUT_ENV = "OUTBOUND_LOCAL_FUNCTION_TIMEOUT_S"


def function_timeout(declared: float) -> float:
    """The function's Timeout from template.yaml; $OUTBOUND_LOCAL_FUNCTION_TIMEOUT_S lowers it
    (as deploying with a shorter Timeout would): fault tests then reach the deadline sooner."""
    override = os.environ.get(FUNCTION_TIMEOUT_ENV)
    return min(declared, float(override)) if override else declared


def invoke(logical_id: str, event: dict) -> Any:
    function = handler(logical_id)
    declared = load().functions()[logical_id]
    previous = getattr(_invoking, "service", None), getattr(_invoking, "function", None)
    _invoking.service = declared.environment.get("POWERTOOLS_SERVICE_NAME")
    _invoking.function = logical_id
    try:
        # A context of its own per invocation, as each Lambda invocation starts afresh: what a
        # handler sets in context variables (its deadline) does not outlive it in this thread.
        return contextvars.copy_context().run(
            function, event, LambdaContext(function_name=logical_id, timeout_s=function_timeout(declared.timeout_s)))
    finally:
        _invoking.service, _invoking.function = previous


def tag_requests_with_function(session: Any) -> None:
    """Name the invoked function on each DynamoDB request its (shared, botocore) session sends,
    so the local DynamoDB can count operations per function."""
    from .aws import FUNCTION_HEADER

    def tag(request: Any, **_: Any) -> None:
        function = getattr(_invoking, "function", None)
        if function:
            request.headers[FUNCTION_HEADER] = function

    session.register("before-sign.dynamodb", tag)
