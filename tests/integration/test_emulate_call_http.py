"""`outbound emulate-call` on a call just placed: its output reads as a normal call (the provider's
"initiated" event reports what the record already says, and is answered so), and the times it
plays never put the answer before the call was created."""
from __future__ import annotations

from datetime import datetime

import pytest

pytestmark = pytest.mark.integration

TO = "+15559876543"
FROM = {"twilio": "+15551234567", "telnyx": "+15551230007", "vonage": "+15551230008", "sip": "+15551230009"}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.mark.parametrize("provider", ["twilio", "telnyx", "vonage", "sip"])
def test_a_normal_call_reads_as_one_and_is_answered_after_it_was_created(server, provider):
    server.add_funds("org_acme", 100)
    placed = server.initiate({"from_phone_number": FROM[provider], "to_phone_number": TO})
    assert placed.status_code == 200, placed.text
    call_id = placed.json()["call_id"]
    done = server.outbound("emulate-call", placed.json()["call_sid"], "--duration", "125", "--server", server.url)
    assert "duplicate or out of order" not in done.stdout, done.stdout
    if provider != "sip":  # the SIP bridge reports from the far end's progress: no "queued" event
        first = done.stdout.splitlines()[0]
        assert '"applied": false, "reason": "already queued"' in first, first
    record = server.request("GET", f"/calls/{call_id}").json()
    assert record["status"] == "completed" and record["duration_seconds"] == 125
    created, answered, ended = at(record["created_at"]), at(record["answered_at"]), at(record["ended_at"])
    assert created <= answered <= ended, record
    assert round((ended - answered).total_seconds()) == 125


def test_late_events_say_why_they_change_nothing(server):
    placed = server.initiate({"from_phone_number": FROM["twilio"], "to_phone_number": TO})
    call_sid = placed.json()["call_sid"]
    server.outbound("emulate-call", call_sid, "--outcome", "in-progress", "--server", server.url)
    again = server.outbound("emulate-call", call_sid, "--outcome", "in-progress", "--server", server.url)
    lines = again.stdout.splitlines()
    assert '"reason": "out of order: the call is already in-progress"' in lines[0]  # queued
    assert '"reason": "already in-progress"' in lines[-1]
    server.outbound("emulate-call", call_sid, "--outcome", "busy", "--server", server.url)
    repeated = server.outbound("emulate-call", call_sid, "--outcome", "busy", "--server", server.url, check=False)
    assert '"reason": "already busy"' in repeated.stdout.splitlines()[-1]
    late = server.outbound("emulate-call", call_sid, "--outcome", "completed", "--server", server.url, check=False)
    assert '"reason": "the call already ended (busy)"' in late.stdout.splitlines()[-1]
