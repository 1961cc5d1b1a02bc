"""Opt-out that takes effect at once (issue 17): POST /calls/{call_ref}/opt-out over HTTP against a
real `outbound serve`. The person says "stop calling me" during a campaign's call; afterwards
nothing of the organization dials the number again (its campaigns, its schedules, a direct
initiate), the event reaches the customer's webhook receiver, the evidence shows what was said,
a second opt-out changes nothing, and another organization is untouched."""
from __future__ import annotations

import itertools
import json
import time
from datetime import datetime, timedelta, timezone

import pytest
import requests

from tests.conftest import ROOT, wait_for

pytestmark = pytest.mark.integration

UTC = timezone.utc
KEY, FROM = "sk_test_optout_main", "+15551237801"
OTHER_KEY, OTHER_FROM = "sk_test_optout_other", "+15551237802"
ALL_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
CONSENT = {"type": "express_written", "obtained_at": "2026-11-02T15:04:05Z", "proof_reference": "consent-42"}
_numbers = itertools.count(1)


def number() -> str:
    """A destination no other test calls (+1 555 738 xxxx is this module's)."""
    return f"+1555738{next(_numbers):04d}"


def zone_at(hour: int) -> str:
    """An Etc/GMT zone where the local time is ``hour`` now (inside every window)."""
    offset = hour - datetime.now(UTC).hour
    offset = offset - 24 if offset > 14 else offset + 24 if offset < -12 else offset
    return f"Etc/GMT{-offset:+d}" if offset else "UTC"


@pytest.fixture(scope="module")
def api(server):
    server.outbound("seed", str(ROOT / "tests" / "fixtures" / "opt_out.json"), "--local-server", server.url)
    return server


def campaign(server, key=KEY, caller=FROM, **overrides) -> str:
    body = {"name": "Opt-out", "from_phone_number": caller, "variables": {"name": "Ada"},
            "calling_window": {"days": ALL_DAYS, "start": "08:00", "end": "21:00"}, "timezone": zone_at(12),
            "retry_policy": {"max_attempts": 3, "delays_minutes": [0], "retry_on": ["busy"]},
            "pacing": {"max_concurrent_calls": 5, "calls_per_minute": 600}, **overrides}
    response = server.request("POST", "/campaigns", body, key=key)
    assert response.status_code == 201, response.text
    return response.json()["campaign_id"]


def add(server, campaign_id: str, phones: list[str], key=KEY, start: bool = True) -> None:
    contacts = [{"phone_number": p, "consent": CONSENT} for p in phones]
    added = server.request("POST", f"/campaigns/{campaign_id}/contacts", {"contacts": contacts}, key=key)
    assert added.status_code == 200 and not added.json()["errors"], added.text
    if start:
        assert server.request("POST", f"/campaigns/{campaign_id}/start", key=key).status_code == 200


def contact(server, campaign_id: str, phone: str, key=KEY) -> dict:
    body = server.request("GET", f"/campaigns/{campaign_id}/contacts?limit=100", key=key).json()
    return {c["phone_number"]: c for c in body["contacts"]}[phone]


def sent_to(server, destination: str) -> list[dict]:
    return [r for r in server.provider_requests()
            if r["method"] == "POST" and (r.get("body") or {}).get("To") == [destination]]


def schedule(server, to: str, key=KEY, caller=FROM, **when) -> str:
    body = {"from_phone_number": caller, "to_phone_number": to, "variables": {"name": "Ada"}, **when}
    created = server.request("POST", "/calls/schedule", body, key=key)
    assert created.status_code == 201, created.text
    return created.json()["schedule_id"]


def received(server, name: str) -> list[dict]:
    got = requests.get(f"{server.url}/_local/webhook-receiver/{name}", timeout=10).json()["received"]
    return [json.loads(r["body"]) for r in got]


def test_an_opt_out_stops_every_dial_to_the_number_at_once(api):
    from standardwebhooks.webhooks import Webhook

    name = f"optout-{time.time_ns()}"
    endpoint = api.request("POST", "/webhook-endpoints", {"url": f"{api.url}/_local/webhook-receiver/{name}",
                                                          "events": ["contact.opted_out"]}, key=KEY)
    assert endpoint.status_code == 201, endpoint.text
    person, neighbour = number(), number()

    # Campaign "retrying": the person's first attempt ends busy, the retry waits an hour.
    retrying = campaign(api, retry_policy={"max_attempts": 3, "delays_minutes": [60], "retry_on": ["busy"]})
    add(api, retrying, [person])
    first = wait_for(lambda: contact(api, retrying, person)["current_call_id"], what="the retrying campaign's call")
    sid = wait_for(lambda: api.request("GET", f"/calls/{first}", key=KEY).json().get("call_sid"))
    api.outbound("emulate-call", sid, "--outcome", "busy", "--server", api.url)
    wait_for(lambda: contact(api, retrying, person)["status"] == "retry_scheduled", what="the retry to be scheduled")
    # Campaign "waiting": a draft, the person and a neighbour added, nobody dialed yet.
    waiting = campaign(api)
    add(api, waiting, [person, neighbour], start=False)
    # Two schedules to the person, one to the neighbour.
    recurring = schedule(api, person, recurrence={"cron": "cron(0 9 * * ? *)", "timezone": "Europe/Paris"})
    once = schedule(api, person, scheduled_at=(datetime.now(UTC) + timedelta(hours=1)).isoformat())
    kept = schedule(api, neighbour, scheduled_at=(datetime.now(UTC) + timedelta(hours=1)).isoformat())
    # Another organization calls the same number: untouched by this one's opt-out.
    elsewhere = campaign(api, key=OTHER_KEY, caller=OTHER_FROM)
    add(api, elsewhere, [person], key=OTHER_KEY, start=False)
    other_schedule = schedule(api, person, key=OTHER_KEY, caller=OTHER_FROM,
                              scheduled_at=(datetime.now(UTC) + timedelta(hours=1)).isoformat())
    # Campaign "live": the person is on its call when they say "stop calling me".
    live = campaign(api)
    add(api, live, [person])
    call_id = wait_for(lambda: contact(api, live, person)["current_call_id"], what="the live campaign's call")
    call_sid = wait_for(lambda: api.request("GET", f"/calls/{call_id}", key=KEY).json().get("call_sid"))
    dials_before = len(sent_to(api, person))

    said = {"method": "voice", "said": "Please stop calling me.", "at": datetime.now(UTC).isoformat()}
    assert api.request("POST", f"/calls/{call_sid}/opt-out", said, key=OTHER_KEY).status_code == 404
    answer = api.request("POST", f"/calls/{call_sid}/opt-out", said, key=KEY)
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert result["call_id"] == call_id and result["phone_number"] == person and result["suppressed"] is True
    assert sorted(result["campaign_contacts_ended"], key=lambda c: c["campaign_id"]) == sorted(
        [{"campaign_id": retrying, "contact_id": contact(api, retrying, person)["contact_id"]},
         {"campaign_id": waiting, "contact_id": contact(api, waiting, person)["contact_id"]}],
        key=lambda c: c["campaign_id"])
    assert result["campaign_contacts_in_flight"] == [
        {"campaign_id": live, "contact_id": contact(api, live, person)["contact_id"]}]
    assert sorted(result["schedules_canceled"]) == sorted([recurring, once])
    assert result["consent_revoked"] is True and result["evidence_id"] == f"{call_id}/OPTOUT"

    # The contacts waiting end at once, with the reason; their consent is revoked.
    for campaign_id in (retrying, waiting):
        ended = contact(api, campaign_id, person)
        assert ended["status"] == "suppressed" and ended["next_attempt_at"] is None, ended
        assert ended["final_reason"].startswith("Opted out during call " + call_id), ended
        assert ended["consent"]["revoked_at"] and ended["consent"]["revoked_by"] == f"opt_out:{call_id}"
    assert contact(api, waiting, neighbour)["status"] == "pending"
    # The schedules to the person are canceled with the reason; the neighbour's is kept.
    for schedule_id in (recurring, once):
        view = api.request("GET", f"/calls/schedules/{schedule_id}", key=KEY).json()
        assert view["status"] == "canceled" and view["canceled_reason"].startswith("Opted out during call"), view
    assert api.request("GET", f"/calls/schedules/{kept}", key=KEY).json()["status"] == "scheduled"
    # The live call ends busy: its contact is not retried (the do-not-call list refuses the dial).
    api.outbound("emulate-call", call_sid, "--outcome", "busy", "--server", api.url)
    final = wait_for(lambda: (c := contact(api, live, person))["status"] not in
                     ("dialing", "in_progress", "retry_scheduled", "pending") and c, what="the live contact to end")
    assert final["status"] == "suppressed" and final["attempts"] == 1, final
    # A late delivery of the canceled recurring schedule, and a fire not managed by the Schedules API
    # (an operator's own EventBridge schedule), are refused by the list: no call.
    call_body = {"from_phone_number": FROM, "to_phone_number": person, "variables": {"name": "Ada"}}
    for schedule_id, managed in ((recurring, True), ("ops-nightly", False)):
        fire = {"organization_id": "org_optout", "schedule_id": schedule_id, "managed": managed,
                "scheduled_time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "execution_id": f"late-{schedule_id}",
                "attempt": "1", "call": call_body}
        fired = requests.post(f"{api.url}/_local/scheduler/deliver", json=fire, timeout=30).json()
        assert fired["outcome"] == "rejected" and fired["status_code"] == 403, fired
        assert "do-not-call" in fired["detail"]
    # A direct initiate is refused, with consent or without.
    direct = api.initiate({"from_phone_number": FROM, "to_phone_number": person, "variables": {"name": "Ada"},
                           "consent": CONSENT}, key=KEY)
    assert direct.status_code == 403 and "do-not-call" in direct.json()["detail"]
    time.sleep(1.0)
    assert len(sent_to(api, person)) == dials_before  # nothing dialed the person again

    # The evidence keeps what was said, sealed, and the operators' command verifies it.
    records = api.request("GET", f"/calls/{call_id}/evidence", key=KEY).json()["evidence"]
    [opt_out] = [r for r in records if r["kind"] == "opt_out"]
    assert opt_out["evidence_id"] == f"{call_id}/OPTOUT" and opt_out["recipient"] == person
    assert opt_out["opt_out"]["method"] == "voice" and opt_out["opt_out"]["said"] == "Please stop calling me."
    assert opt_out["result"]["schedules_canceled"] == result["schedules_canceled"] and len(opt_out["hmac"]) == 64
    verified = api.outbound("admin", "evidence", call_id, "--local-server", api.url)
    assert "all intact" in verified.stdout

    # The event reaches the customer's receiver, signed.
    got = wait_for(lambda: requests.get(f"{api.url}/_local/webhook-receiver/{name}", timeout=10).json()["received"],
                   what="the contact.opted_out delivery")
    [event] = [Webhook(endpoint.json()["secret"]).verify(r["body"], r["headers"]) for r in got]
    assert event["type"] == "contact.opted_out"
    assert event["data"]["phone_number"] == person and event["data"]["call_id"] == call_id
    assert event["data"]["method"] == "voice" and event["data"]["schedules_canceled"] == result["schedules_canceled"]

    # Idempotent: the same answer again, no new event.
    again = api.request("POST", f"/calls/{call_id}/opt-out", {"method": "dtmf"}, key=KEY)
    assert again.status_code == 200 and again.json() == result
    time.sleep(2.0)
    assert len(received(api, name)) == 1

    # The other organization: its contact and schedule untouched, its direct call placed.
    assert contact(api, elsewhere, person, key=OTHER_KEY)["status"] == "pending"
    assert api.request("GET", f"/calls/schedules/{other_schedule}", key=OTHER_KEY).json()["status"] == "scheduled"
    assert api.initiate({"from_phone_number": OTHER_FROM, "to_phone_number": person, "variables": {"name": "Ada"}},
                        key=OTHER_KEY).status_code == 200
    for campaign_id, key in ((retrying, KEY), (waiting, KEY), (live, KEY), (elsewhere, OTHER_KEY)):
        api.request("POST", f"/campaigns/{campaign_id}/cancel", key=key)


@pytest.mark.parametrize("body, sentence", [
    ({"method": "sms"}, "method must be one of: voice, dtmf"),
    ({"said": "x" * 1001}, "said must be at most 1000 characters"),
    ({"said": 7}, "said must be a string"),
    ({"at": "yesterday"}, "at must be an ISO 8601 time with its offset (e.g. 2026-12-07T18:02:11Z)"),
    ({"reason": "x"}, "Unknown field: reason"),
    ([1], "Request body must be a JSON object"),
])
def test_bad_input_is_a_clear_400(api, body, sentence):
    placed = api.initiate({"from_phone_number": FROM, "to_phone_number": number(), "variables": {"name": "Ada"}},
                          key=KEY)
    assert placed.status_code == 200, placed.text
    answer = api.request("POST", f"/calls/{placed.json()['call_id']}/opt-out", body, key=KEY)
    assert answer.status_code == 400 and answer.json() == {"detail": sentence}


def test_an_unknown_call_is_a_404_and_no_body_is_fine(api):
    assert api.request("POST", "/calls/call_doesnotexist/opt-out", key=KEY).status_code == 404
    to = number()
    placed = api.initiate({"from_phone_number": FROM, "to_phone_number": to, "variables": {"name": "Ada"}}, key=KEY)
    answer = api.request("POST", f"/calls/{placed.json()['call_sid']}/opt-out", key=KEY)
    assert answer.status_code == 200, answer.text
    assert answer.json()["suppressed"] is True and answer.json()["campaign_contacts_ended"] == []
    listed = api.request("GET", f"/suppressions?starting_with={to[1:]}", key=KEY).json()["suppressions"]
    assert [s["phone_number"] for s in listed] == [to] and listed[0]["reason"].startswith("Opted out during call")
