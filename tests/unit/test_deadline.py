"""The request's deadline: the earlier of the Lambda timeout and API Gateway's 29 s."""
from __future__ import annotations

import time

import pytest

from outbound import deadline


@pytest.fixture(autouse=True)
def no_deadline_afterwards():
    """The deadline lives in this thread's context: later tests must not inherit one."""
    yield
    deadline.start(None, None)
    assert deadline.remaining() == float("inf")


class Context:
    def __init__(self, seconds: float):
        self.seconds = seconds

    def get_remaining_time_in_millis(self) -> int:
        return int(self.seconds * 1000)


def started(context_s: float, received_ago_s: float | None) -> float:
    event = {} if received_ago_s is None else {
        "requestContext": {"requestTimeEpoch": int((time.time() - received_ago_s) * 1000)}}
    deadline.start(Context(context_s), event)
    return deadline.remaining()


def test_the_gateway_limit_counts_from_when_the_gateway_received_the_request():
    assert 17 < started(60, received_ago_s=10) <= 18  # 29 - 10 - the 1 s margin


def test_the_function_timeout_applies_when_it_is_earlier():
    assert 8 < started(10, received_ago_s=1) <= 9


def test_a_gateway_clock_slightly_ahead_still_limits_the_request():
    """A receipt time a little in the future is clock skew, not a sample event: 29 s still apply."""
    assert 26 < started(900, received_ago_s=-2) <= 28


def test_a_sample_event_received_long_ago_has_only_the_function_timeout():
    assert 50 < started(60, received_ago_s=3600) <= 59
