"""How long the current invocation may still run before its answer is lost.

A call the provider has accepted must be answered 200, so the writes after the provider step
may only use the time that is left, and the provider must not be asked at all when too little
is left for it and for those writes. The limit is the earlier of the function's own timeout
(the Lambda context) and, for an API request, API Gateway's 29 s integration timeout counted
from when the gateway received the request (``requestTimeEpoch``).
"""
from __future__ import annotations

import contextvars
import math
import time
from typing import Any

API_GATEWAY_LIMIT_S = 29.0
MARGIN_S = 1.0  # for shaping and sending the answer
CLOCK_SKEW_S = 5.0  # the gateway's clock may run ahead of this one by a little

_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar("outbound_deadline", default=None)


def start(context: Any = None, event: Any = None) -> None:
    """Set this invocation's deadline (a handler's first step)."""
    now = time.monotonic()
    limits = []
    remaining_ms = getattr(context, "get_remaining_time_in_millis", None)
    if callable(remaining_ms):
        limits.append(now + remaining_ms() / 1000)
    received_ms = ((event or {}).get("requestContext") or {}).get("requestTimeEpoch") if isinstance(event, dict) else None
    if isinstance(received_ms, (int, float)) and received_ms > 0:
        waited = time.time() - received_ms / 1000
        # A receipt time outside the gateway's window is a replayed or sample event (sam local
        # invoke -e events/...), not a live request: only the function's own timeout applies.
        if -CLOCK_SKEW_S <= waited < API_GATEWAY_LIMIT_S:
            limits.append(now + API_GATEWAY_LIMIT_S - max(0.0, waited))
    _deadline.set(min(limits) - MARGIN_S if limits else None)


def remaining() -> float:
    """Seconds left (infinite when no handler set a deadline: tools, tests)."""
    deadline = _deadline.get()
    return math.inf if deadline is None else deadline - time.monotonic()
