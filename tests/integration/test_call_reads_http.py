"""A call's timeline (GET /calls/{call_ref}/timeline: its status changes as they happened, with the
provider events that made them) and its ledger entries (GET /calls/{call_ref}/ledger), over real
HTTP against `outbound serve`, with the calls ended by signed provider webhooks."""
from __future__ import annotations

import pytest

from tests.conftest import DEMO_KEY

pytestmark = pytest.mark.integration


def place(server, to: str = "+15559876543", from_number: str = "+15551234567") -> dict:
    response = server.initiate({"from_phone_number": from_number, "to_phone_number": to})
    assert response.status_code in (200, 502), response.text
    return response.json()


@pytest.fixture(scope="module")
def completed_call(server):
    server.add_funds("org_acme", 1000)
    call = place(server)
    server.outbound("emulate-call", call["call_sid"], "--outcome", "completed", "--duration", "125",
                    "--server", server.url)
    return call


def test_timeline_of_a_completed_call_in_order_with_the_provider_events(server, completed_call):
    response = server.request("GET", f"/calls/{completed_call['call_sid']}/timeline")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["call_id"] == completed_call["call_id"] and body["status"] == "completed"
    events = body["events"]
    assert [e["status"] for e in events] == ["initiating", "queued", "ringing", "in-progress", "completed"]
    assert [e["source"] for e in events] == ["api", "api", "twilio webhook", "twilio webhook", "twilio webhook"]
    # Twilio's own words for each step, and when Twilio says it happened.
    assert [e.get("provider_event") for e in events[2:]] == ["ringing", "in-progress", "completed"]
    assert all(e["occurred_at"] for e in events[2:])
    assert [e["at"] for e in events] == sorted(e["at"] for e in events)
    assert events[-1]["charged_cents"] == 36  # 3 started minutes at org_acme's 12/min
    assert "reserve" in events[0]["detail"]


def test_a_duplicate_webhook_adds_nothing(server, completed_call):
    before = server.request("GET", f"/calls/{completed_call['call_id']}/timeline").json()["events"]
    server.outbound("emulate-call", completed_call["call_sid"], "--outcome", "completed", "--duration", "125",
                    "--server", server.url)
    assert server.request("GET", f"/calls/{completed_call['call_id']}/timeline").json()["events"] == before


def test_timeline_of_a_refused_call(server):
    answer = place(server, to="+15005550001")
    assert answer["detail"].startswith("Telephony provider error")
    refused = server.request("GET", "/calls?status=failed&limit=1").json()["calls"][0]
    events = server.request("GET", f"/calls/{refused['call_id']}/timeline").json()["events"]
    assert [e["status"] for e in events] == ["initiating", "failed"]
    assert "not a valid phone number" in events[1]["detail"] and events[1]["source"] == "api"


def test_ledger_of_a_call_holds_its_reserve_charge_and_release(server, completed_call):
    response = server.request("GET", f"/calls/{completed_call['call_sid']}/ledger")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["call_id"] == completed_call["call_id"]
    kinds = {e["kind"]: e for e in body["entries"]}
    assert set(kinds) == {"reserve", "charge", "release"}
    assert kinds["charge"]["amount_cents"] == 36 and kinds["reserve"]["amount_cents"] == kinds["release"]["amount_cents"]
    assert sum(e["balance_delta_cents"] for e in body["entries"]) == -36
    assert sum(e["reserved_delta_cents"] for e in body["entries"]) == 0
    assert all(e["call_id"] == completed_call["call_id"] for e in body["entries"])
    assert [e["created_at"] for e in body["entries"]] == sorted(e["created_at"] for e in body["entries"])


@pytest.mark.parametrize("suffix", ["timeline", "ledger"])
def test_another_organizations_call_is_404(server, completed_call, suffix):
    response = server.request("GET", f"/calls/{completed_call['call_id']}/{suffix}", key="sk_live_globex_demo")
    assert response.status_code == 404
    assert response.json() == {"detail": f"Call {completed_call['call_id']} not found"}
    assert server.request("GET", f"/calls/call_unknown/{suffix}").status_code == 404
    assert server.request("GET", f"/calls/{completed_call['call_id']}/{suffix}", key=None).status_code == 401


def test_reads_take_one_or_two_round_trips(server, completed_call):
    before = server.dynamodb_operations()
    server.request("GET", f"/calls/{completed_call['call_id']}/timeline", key=DEMO_KEY)
    server.request("GET", f"/calls/{completed_call['call_id']}/ledger", key=DEMO_KEY)
    after = server.dynamodb_operations()
    assert after.get("GetItem", 0) - before.get("GetItem", 0) == 2  # the call record, each time
    assert after.get("Query", 0) - before.get("Query", 0) == 1  # its ledger entries: one Query
    assert after.get("Scan", 0) == before.get("Scan", 0)


@pytest.mark.parametrize("from_number,provider,final_event", [
    ("+15551230007", "telnyx", "call.hangup"), ("+15551230008", "vonage", "completed"),
    ("+15551230009", "sip", "CHANNEL_HANGUP_COMPLETE")])
def test_every_providers_events_are_named_in_its_own_words(server, from_number, provider, final_event):
    call = place(server, from_number=from_number)
    server.outbound("emulate-call", call["call_sid"], "--outcome", "completed", "--duration", "30", "--server", server.url)
    events = server.request("GET", f"/calls/{call['call_id']}/timeline").json()["events"]
    assert events[-1]["status"] == "completed" and events[-1]["source"] == f"{provider} webhook"
    assert events[-1]["provider_event"] == final_event and events[-1]["charged_cents"] == 12
