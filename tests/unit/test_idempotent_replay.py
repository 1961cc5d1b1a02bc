"""What a retried request with the same Idempotency-Key is answered, from the first one's record."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from outbound.calls.idempotent_initiate import replay
from outbound.errors import ProviderFailed, ProviderTimedOut


def record(**fields):
    created = (datetime.now(timezone.utc) - timedelta(minutes=5)).isoformat().replace("+00:00", "Z")
    return {"call_id": "call_1", "request_hash": "h", "created_at": created, "assistant_id": 1,
            "provider": "twilio", **fields}


def test_a_placed_call_replays_its_200():
    assert replay(record(call_sid="CA1", status="queued"), "h")["call_sid"] == "CA1"


def test_a_refused_call_replays_its_502():
    with pytest.raises(ProviderFailed):
        replay(record(status="failed", failure_reason="invalid number"), "h")


def test_a_call_the_sweeper_released_replays_as_may_have_been_placed():
    """The sweeper fails a call nobody heard of; it may still have been placed, so the retry must
    not read "the provider refused" (502) and try again with a new key."""
    with pytest.raises(ProviderTimedOut) as answered:
        replay(record(status="failed", failure_reason="released", abandoned_at="2026-01-01T00:00:00.000Z"), "h")
    assert answered.value.extra["call_id"] == "call_1"


def test_an_unconfirmed_call_replays_as_may_have_been_placed():
    with pytest.raises(ProviderTimedOut):
        replay(record(status="unconfirmed"), "h")
