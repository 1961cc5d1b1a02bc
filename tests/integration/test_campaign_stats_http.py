"""GET /campaigns/{id}/stats over HTTP against `outbound serve`: a campaign dialed by its real engine
(queues, stream, scheduler run locally), its attempts ended by signed provider webhooks with chosen
outcomes, and the figures checked against them."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import wait_for

pytestmark = pytest.mark.integration

ORG, KEY, FROM = "org_stats", "sk_live_stats_test", "+15551239300"
OUTCOMES = {"+12125570001": ("completed", 30), "+12125570002": ("completed", 90),
            "+12125570003": ("busy", 0), "+12125570004": ("no-answer", 0)}


def daytime_zone() -> str:
    offset = 12 - datetime.now(timezone.utc).hour
    offset = offset - 24 if offset > 14 else offset + 24 if offset < -12 else offset
    return f"Etc/GMT{-offset:+d}" if offset else "UTC"


@pytest.fixture(scope="module")
def ended_campaign(server, tmp_path_factory):
    fixture = {"organizations": [{"id": ORG, "name": "Stats", "balance_cents": 10_000, "api_keys": [KEY]}],
               "assistants": [{"id": 9301, "organization_id": ORG, "name": "Stan", "welcome_message": "Hi {{name}}"}],
               "phone_numbers": [{"number": FROM, "organization_id": ORG, "provider": "twilio",
                                  "assistant_id": 9301}]}
    path = tmp_path_factory.mktemp("stats") / "fixture.json"
    path.write_text(json.dumps(fixture))
    server.outbound("seed", str(path), "--local-server", server.url)
    zone = daytime_zone()
    created = server.request("POST", "/campaigns", {
        "name": "Stats", "from_phone_number": FROM, "timezone": zone,
        "calling_window": {"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "start": "08:00", "end": "21:00"},
        "retry_policy": {"max_attempts": 1, "delays_minutes": [0], "retry_on": ["busy"]},
        "pacing": {"max_concurrent_calls": 4, "calls_per_minute": 120}}, key=KEY)
    assert created.status_code == 201, created.text
    campaign_id = created.json()["campaign_id"]
    added = server.request("POST", f"/campaigns/{campaign_id}/contacts", {"contacts": [
        {"phone_number": number, "variables": {"name": f"P{i}"}, "timezone": zone}
        for i, number in enumerate(OUTCOMES)]}, key=KEY)
    assert added.json()["added"] == 4, added.text
    assert server.request("POST", f"/campaigns/{campaign_id}/start", key=KEY).status_code == 200

    def dialed() -> dict[str, str] | None:
        contacts = server.request("GET", f"/campaigns/{campaign_id}/contacts?status=dialing", key=KEY).json()["contacts"]
        placed = server.request("GET", "/_local/provider-calls").json()
        calls = {c["phone_number"]: c["current_call_id"] for c in contacts if c.get("current_call_id") in placed}
        return calls if len(calls) == 4 else None

    calls = wait_for(dialed, timeout=60, what="four dialed contacts")
    stats = server.request("GET", f"/campaigns/{campaign_id}/stats", key=KEY).json()
    for number, call_id in calls.items():
        outcome, duration = OUTCOMES[number]
        server.outbound("emulate-call", call_id, "--outcome", outcome, "--duration", str(duration),
                        "--server", server.url)
    wait_for(lambda: server.request("GET", f"/campaigns/{campaign_id}", key=KEY).json()["status"] == "completed",
             timeout=60, what="the campaign to complete")
    return {"id": campaign_id, "zone": zone, "while_dialing": stats}


def test_in_flight_against_the_cap_while_dialing(server, ended_campaign):
    live = ended_campaign["while_dialing"]
    assert live["status"] == "running" and live["in_flight"] == 4 and live["max_concurrent_calls"] == 4
    assert live["calls_per_minute"] == 120
    assert sum(minute["dials"] for minute in live["dials_per_minute"]) == 4
    assert live["dials_last_minute"] == 4


def test_outcomes_and_answer_rate_by_the_recipients_hour(server, ended_campaign):
    stats = server.request("GET", f"/campaigns/{ended_campaign['id']}/stats", key=KEY).json()
    assert stats["status"] == "completed" and stats["in_flight"] == 0
    assert stats["calls_read"] == 4 and stats["complete"] is True
    assert len(stats["dials_per_minute"]) == 30
    assert [m["minute"] for m in stats["dials_per_minute"]] == sorted(m["minute"] for m in stats["dials_per_minute"])
    totals = {status: sum(bucket[status] for bucket in stats["outcomes"]["buckets"])
              for status in ("completed", "busy", "no-answer", "failed", "canceled")}
    assert totals == {"completed": 2, "busy": 1, "no-answer": 1, "failed": 0, "canceled": 0}
    assert stats["outcomes"]["bucket_minutes"] == 1
    hours = stats["answer_rate_by_local_hour"]
    assert [h["hour"] for h in hours] == list(range(24))
    local_hour = datetime.now(ZoneInfo(ended_campaign["zone"])).hour
    busy = [h for h in hours if h["attempts"]]
    assert len(busy) in (1, 2)  # the calls may straddle the turn of an hour
    assert sum(h["attempts"] for h in busy) == 4 and sum(h["answered"] for h in busy) == 2
    assert local_hour in {h["hour"] for h in busy}
    assert all(h["answer_rate"] is None for h in hours if not h["attempts"])


def test_another_organizations_campaign_is_404(server, ended_campaign):
    response = server.request("GET", f"/campaigns/{ended_campaign['id']}/stats")  # the demo key: org_acme
    assert response.status_code == 404
    assert server.request("GET", f"/campaigns/{ended_campaign['id']}/stats", key=None).status_code == 401


def test_stats_never_scan(server, ended_campaign):
    before = server.dynamodb_operations()
    server.request("GET", f"/campaigns/{ended_campaign['id']}/stats", key=KEY)
    after = server.dynamodb_operations()
    assert after.get("Scan", 0) == before.get("Scan", 0)
    assert after.get("Query", 0) - before.get("Query", 0) == 1
