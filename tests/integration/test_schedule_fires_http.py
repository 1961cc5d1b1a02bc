"""A recurring schedule shows the calls it placed: GET /calls/schedules/{id} lists its recent fires
(newest first: the call each placed, a fire refused, a fire with nothing recorded), and
GET /calls?schedule_id= lists its calls. The schedule is made through the API, then dated back
half an hour (as if made then), and its past fires are delivered as Scheduler delivers them."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
import requests

pytestmark = pytest.mark.integration

UTC = timezone.utc
FROM, TO = "+15551234567", "+15559876543"
REFUSED_TO = "+15005550001"  # the provider emulators refuse it: 502, a failed call record


def iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def deliver(server, schedule_id: str, at: datetime, to: str = TO) -> dict:
    event = {"organization_id": "org_acme", "schedule_id": schedule_id, "managed": True, "scheduled_time": iso(at),
             "call": {"from_phone_number": FROM, "to_phone_number": to}}
    return requests.post(server.url + "/_local/scheduler/deliver", data=json.dumps(event), timeout=30).json()


def away_from_a_five_minute_boundary() -> None:
    """The fires expected are computed from the test's clock: start well after a fire time, so
    that no new one comes during the test."""
    import time

    now = datetime.now(UTC)
    to_next = 300 - (now.minute % 5) * 60 - now.second
    if to_next < 40:
        time.sleep(to_next + 1)


def test_a_recurring_schedule_shows_its_recent_fires_and_its_calls(server):
    server.add_funds("org_acme", 300)
    away_from_a_five_minute_boundary()
    created = server.request("POST", "/calls/schedule", {
        "from_phone_number": FROM, "to_phone_number": TO,
        "recurrence": {"cron": "cron(0/5 * ? * * *)", "timezone": "UTC"}})
    assert created.status_code == 201, created.text
    schedule_id = created.json()["schedule_id"]
    assert server.request("GET", f"/calls/schedules/{schedule_id}").json()["recent_fires"] == []

    now = datetime.now(UTC)
    since = now - timedelta(minutes=30)
    table = server.aws()["table_name"]
    server.dynamodb().update_item(  # made half an hour ago: six fires have come since
        TableName=table, Key={"pk": {"S": f"SCHEDULE#{schedule_id}"}, "sk": {"S": "SCHEDULE"}},
        UpdateExpression="SET created_at = :at", ExpressionAttributeValues={":at": {"S": iso(since)}})
    last = now.replace(second=0, microsecond=0) - timedelta(minutes=now.minute % 5)
    fires = [last - timedelta(minutes=5 * i) for i in range(6)]
    assert deliver(server, schedule_id, fires[1])["outcome"] == "placed"
    assert deliver(server, schedule_id, fires[2], to=REFUSED_TO)["outcome"] == "provider_failed"

    shown = server.request("GET", f"/calls/schedules/{schedule_id}")
    assert shown.status_code == 200, shown.text
    recent = shown.json()["recent_fires"]
    assert [f["scheduled_time"] for f in recent] == [iso(at) for at in fires]
    assert [f["status"] for f in recent] == ["no_call", "placed", "failed", "no_call", "no_call", "no_call"]
    placed, failed = recent[1], recent[2]
    assert placed["call_id"].startswith("call_") and placed["call_sid"] and placed["call_status"] == "queued"
    assert failed["call_status"] == "failed" and "call_id" in failed

    listed = server.request("GET", f"/calls?schedule_id={schedule_id}").json()["calls"]
    assert [c["call_id"] for c in listed] == [failed["call_id"], placed["call_id"]]  # newest created first


def test_only_fires_before_a_cancel_are_listed(server):
    created = server.request("POST", "/calls/schedule", {
        "from_phone_number": FROM, "to_phone_number": TO,
        "recurrence": {"cron": "cron(* * ? * * *)", "timezone": "UTC"}})
    schedule_id = created.json()["schedule_id"]
    now = datetime.now(UTC)
    server.dynamodb().update_item(
        TableName=server.aws()["table_name"], Key={"pk": {"S": f"SCHEDULE#{schedule_id}"}, "sk": {"S": "SCHEDULE"}},
        UpdateExpression="SET created_at = :at", ExpressionAttributeValues={":at": {"S": iso(now - timedelta(hours=2))}})
    assert server.request("DELETE", f"/calls/schedules/{schedule_id}").status_code == 200
    recent = server.request("GET", f"/calls/schedules/{schedule_id}").json()["recent_fires"]
    assert len(recent) == 10  # the newest ten of the 120 minutes
    canceled_at = server.request("GET", f"/calls/schedules/{schedule_id}").json()["canceled_at"]
    assert all(f["scheduled_time"] <= canceled_at for f in recent)
