"""One number, one canonical form, over HTTP against `outbound serve`: a phone number written
with non-ASCII digits (Arabic-Indic, Devanagari, fullwidth ...) is the same number as its ASCII
form on every route (do-not-call, initiate, schedule, EventBridge fires, campaign contacts and CSV
imports, the admin CLI and fixtures), is stored and sent to the provider only as ASCII E.164; and
numbers in query strings and crons take ASCII digits only (a 400, never a 500)."""
from __future__ import annotations

import itertools
import json
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

import pytest
import requests

from tests.conftest import ROOT, wait_for

pytestmark = pytest.mark.integration

KEY, FROM, ASSISTANT = "sk_test_digits", "+15551236101", 6101
ARABIC_INDIC, DEVANAGARI, FULLWIDTH = "\u0660", "\u0966", "\uff10"
SCRIPTS = (ARABIC_INDIC, DEVANAGARI, FULLWIDTH)
DO_NOT_CALL = "is on your organization's do-not-call list"
_numbers = itertools.count(1)


def number() -> str:
    """A destination no other test calls (+1212 559 xxxx is this module's)."""
    return f"+1212559{next(_numbers):04d}"


def written_in(zero: str, phone: str) -> str:
    return phone[0] + "".join(chr(ord(zero) + int(d)) for d in phone[1:])


@pytest.fixture(scope="module")
def api(server):
    server.outbound("seed", str(ROOT / "tests" / "fixtures" / "phone_forms.json"), "--local-server", server.url)
    return server


def call(server, method, path, body=None, key=KEY, **extra):
    return server.request(method, path, body, key=key, **extra)


def initiate(server, from_number, to_number) -> requests.Response:
    return call(server, "POST", "/calls/initiate", {"from_phone_number": from_number, "to_phone_number": to_number})


def suppress(server, phone) -> requests.Response:
    response = call(server, "POST", "/suppressions", {"phone_number": phone, "reason": "asked"})
    assert response.status_code == 201, response.text
    return response


def provider_numbers(server) -> list[str]:
    """Every To and From the Twilio emulator has received."""
    return [n for r in server.provider_requests() if r["provider"] == "twilio" and isinstance(r["body"], dict)
            for n in (r["body"].get("To") or []) + (r["body"].get("From") or [])]


def twilio_calls_to(server, phone) -> list[dict]:
    return [r for r in server.provider_requests() if r["provider"] == "twilio" and isinstance(r["body"], dict)
            and r["body"].get("To") == [phone]]


# --- do-not-call, initiate, provider -------------------------------------------------------------------

def test_a_number_suppressed_in_ascii_is_refused_in_every_script(api):
    phone = number()
    suppress(api, phone)
    for zero in SCRIPTS:
        refused = initiate(api, FROM, written_in(zero, phone))
        assert refused.status_code == 403, refused.text
        assert refused.json() == {"detail": f"Destination {phone} {DO_NOT_CALL}"}
    assert not [n for n in provider_numbers(api) if not n.isascii()]


def test_a_suppression_written_in_another_script_is_stored_canonical_and_blocks_the_ascii_form(api):
    phone = number()
    added = suppress(api, written_in(ARABIC_INDIC, phone)).json()
    assert added["phone_number"] == phone  # echoed canonical
    listed = call(api, "GET", "/suppressions?limit=100").json()["suppressions"]
    assert phone in [s["phone_number"] for s in listed] and all(s["phone_number"].isascii() for s in listed)
    refused = initiate(api, FROM, phone)
    assert refused.status_code == 403 and refused.json()["detail"] == f"Destination {phone} {DO_NOT_CALL}"
    # Removing it in a third script removes the one entry.
    removed = call(api, "DELETE", "/suppressions/" + quote(written_in(DEVANAGARI, phone), safe=""))
    assert removed.status_code == 200 and removed.json() == {"phone_number": phone, "removed": True}
    placed = initiate(api, FROM, written_in(FULLWIDTH, phone))
    assert placed.status_code == 200, placed.text


def test_the_record_the_answer_and_the_provider_see_only_the_ascii_form(api):
    phone = number()
    placed = initiate(api, "\uff0b" + written_in(FULLWIDTH, FROM)[1:], written_in(ARABIC_INDIC, phone))
    assert placed.status_code == 200, placed.text
    record = call(api, "GET", f"/calls/{placed.json()['call_id']}").json()
    assert (record["from_phone_number"], record["to_phone_number"]) == (FROM, phone)
    [sent] = twilio_calls_to(api, phone)
    assert sent["body"]["From"] == [FROM]
    assert not [n for n in provider_numbers(api) if not n.isascii()]


def test_an_unknown_number_in_another_script_names_its_canonical_form(api):
    other = "+15551236199"
    refused = initiate(api, written_in(DEVANAGARI, other), number())
    assert refused.status_code == 403
    assert refused.json() == {"detail": f"Unauthorized: phone number {other} does not belong to your organization"}


# --- schedules and EventBridge fires -------------------------------------------------------------------------

def later() -> str:
    return (datetime.now(timezone.utc) + timedelta(days=2)).replace(microsecond=0).isoformat()


def test_scheduling_a_suppressed_number_in_another_script_is_refused_and_others_are_stored_canonical(api):
    phone, other = number(), number()
    suppress(api, phone)
    refused = call(api, "POST", "/calls/schedule", {"from_phone_number": FROM, "scheduled_at": later(),
                                                   "to_phone_number": written_in(DEVANAGARI, phone)})
    assert refused.status_code == 403, refused.text
    assert refused.json() == {"detail": f"Destination {phone} {DO_NOT_CALL}"}
    created = call(api, "POST", "/calls/schedule", {"from_phone_number": written_in(ARABIC_INDIC, FROM),
                                                   "to_phone_number": written_in(ARABIC_INDIC, other),
                                                   "scheduled_at": later()})
    assert created.status_code == 201, created.text
    schedule_id = created.json()["schedule_id"]
    stored = call(api, "GET", f"/calls/schedules/{schedule_id}").json()["call"]
    assert (stored["from_phone_number"], stored["to_phone_number"]) == (FROM, other)
    assert call(api, "DELETE", f"/calls/schedules/{schedule_id}").status_code == 200


def test_an_eventbridge_fire_to_a_suppressed_number_in_another_script_places_no_call(api):
    phone = number()
    suppress(api, phone)
    event = {"version": "0", "id": f"digits-{phone}", "detail-type": "Outbound Call Requested",
             "source": "com.example.digits", "account": "123456789012", "time": "2026-11-24T14:00:00Z",
             "region": "us-east-1", "resources": [],
             "detail": {"organization_id": "org_digits",
                        "call": {"from_phone_number": FROM, "to_phone_number": written_in(ARABIC_INDIC, phone)}}}
    result = requests.post(api.url + "/_local/scheduler/deliver", data=json.dumps(event), timeout=30).json()
    assert result["outcome"] == "rejected" and result["status_code"] == 403, result
    assert result["detail"] == f"Destination {phone} {DO_NOT_CALL}"
    assert twilio_calls_to(api, phone) == []


# --- campaigns: contacts and CSV imports ------------------------------------------------------------------

def create_campaign(server, from_number=FROM) -> str:
    every_day = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    response = call(server, "POST", "/campaigns", {
        "name": "Digits", "from_phone_number": from_number, "timezone": "UTC",
        "calling_window": {"days": every_day, "start": "08:00", "end": "21:00"}})
    assert response.status_code == 201, response.text
    return response.json()["campaign_id"]


def contacts_of(server, campaign_id) -> dict[str, dict]:
    body = call(server, "GET", f"/campaigns/{campaign_id}/contacts?limit=100").json()
    return {c["phone_number"]: c for c in body["contacts"]}


def test_campaign_contacts_in_any_script_are_canonical_suppressed_and_deduplicated(api):
    campaign_id = create_campaign(api, written_in(ARABIC_INDIC, FROM))
    assert call(api, "GET", f"/campaigns/{campaign_id}").json()["from_phone_number"] == FROM
    suppressed, twice = number(), number()
    suppress(api, suppressed)
    added = call(api, "POST", f"/campaigns/{campaign_id}/contacts", {"contacts": [
        {"phone_number": written_in(ARABIC_INDIC, suppressed)}, {"phone_number": twice},
        {"phone_number": written_in(DEVANAGARI, twice)}]}).json()
    assert added["added"] == 2
    assert added["errors"] == [{"index": 2, "phone_number": twice,
                                "error": f"Duplicate: {twice} appears twice in this request"}]
    again = call(api, "POST", f"/campaigns/{campaign_id}/contacts",
                 {"contacts": [{"phone_number": written_in(FULLWIDTH, twice)}]}).json()
    assert again["added"] == 0
    assert again["errors"][0]["error"] == f"Duplicate: {twice} is already a contact of this campaign"
    contacts = contacts_of(api, campaign_id)
    assert set(contacts) == {suppressed, twice} and contacts[suppressed]["status"] == "suppressed"
    call(api, "POST", f"/campaigns/{campaign_id}/cancel")


def test_csv_import_rows_in_any_script_are_canonical_suppressed_and_deduplicated(api):
    campaign_id = create_campaign(api)
    suppressed, twice, fresh = number(), number(), number()
    suppress(api, written_in(DEVANAGARI, suppressed))
    text = ("phone_number,external_id\n" + f"{written_in(ARABIC_INDIC, suppressed)},a\n{twice},b\n"
            + f"{written_in(DEVANAGARI, twice)},c\n {written_in(FULLWIDTH, fresh)} ,d\n")
    created = call(api, "POST", f"/campaigns/{campaign_id}/imports")
    assert created.status_code == 201, created.text
    upload = created.json()
    put = requests.put(upload["upload_url"], data=text.encode(), headers=upload["upload_headers"], timeout=30)
    assert put.status_code == 200, put.text
    done = wait_for(lambda: (i := call(api, "GET", f"/campaigns/{campaign_id}/imports/{upload['import_id']}").json())
                    ["status"] in ("completed", "failed") and i, what="the import")
    assert done["status"] == "completed" and done["added"] == 3, done
    assert [(e["row"], e["error"]) for e in done["errors"]] == [
        (4, f"Duplicate: {twice} appears twice in this request")]
    contacts = contacts_of(api, campaign_id)
    assert set(contacts) == {suppressed, twice, fresh} and contacts[suppressed]["status"] == "suppressed"
    call(api, "POST", f"/campaigns/{campaign_id}/cancel")


def test_a_calling_window_takes_ascii_digits_only(api):
    window = {"start": "\u0660\u0669:\u0660\u0660", "end": "20:00"}  # 09:00 in Arabic-Indic digits
    response = call(api, "POST", "/campaigns", {"name": "Digits", "from_phone_number": FROM, "calling_window": window})
    assert response.status_code == 400, response.text
    assert response.json()["detail"].startswith("calling_window.start")


# --- numbers in query strings and crons ------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/calls", "/calls/schedules", "/organization/ledger", "/suppressions",
                                  "/campaigns"])
@pytest.mark.parametrize("limit", ["\u00b2", "\u0663", "\uff15", "\u0967\u0966"])
def test_a_page_size_takes_ascii_digits_only(api, path, limit):
    response = call(api, "GET", f"{path}?limit={quote(limit)}")
    assert response.status_code == 400, response.text
    assert response.json() == {"detail": "limit must be an integer from 1 to 100"}


def test_a_contacts_page_size_takes_ascii_digits_only(api):
    campaign_id = create_campaign(api)
    response = call(api, "GET", f"/campaigns/{campaign_id}/contacts?limit={quote(chr(0x00b2))}")
    assert response.status_code == 400 and response.json() == {"detail": "limit must be an integer from 1 to 100"}
    call(api, "POST", f"/campaigns/{campaign_id}/cancel")


@pytest.mark.parametrize("cron", ["cron(0 \u0669 ? * MON-FRI *)", "cron(0 9 ? * MON-FR\u0131 *)"])
def test_a_cron_takes_ascii_only(api, cron):
    response = call(api, "POST", "/calls/schedule", {"from_phone_number": FROM, "to_phone_number": number(),
                                                    "recurrence": {"cron": cron, "timezone": "UTC"}})
    assert response.status_code == 400, response.text
    assert response.json()["detail"].startswith("recurrence.cron")


# --- the admin CLI and fixtures ---------------------------------------------------------------------------------

def test_admin_cli_stores_and_finds_a_number_by_its_canonical_form(api):
    phone = "+15551236102"
    created = api.outbound("admin", "number", "create", written_in(ARABIC_INDIC, phone), "--org", "org_digits",
                           "--provider", "twilio", "--assistant-id", str(ASSISTANT), "--local-server", api.url)
    assert json.loads(created.stdout)["number"] == phone
    shown = api.outbound("admin", "number", "show", written_in(DEVANAGARI, phone), "--local-server", api.url)
    assert json.loads(shown.stdout)["number"] == phone
    placed = initiate(api, phone, number())
    assert placed.status_code == 200, placed.text  # owned: found under its canonical form
    not_a_number = api.outbound("admin", "number", "show", "+1555-123", "--local-server", api.url, check=False)
    assert not_a_number.returncode != 0
    non_ascii_id = api.outbound("admin", "assistant", "show", written_in(ARABIC_INDIC, "+6101")[1:],
                                "--local-server", api.url, check=False)
    assert non_ascii_id.returncode != 0 and "ASCII" in non_ascii_id.stderr


def test_a_fixture_number_in_another_script_is_seeded_canonical(api, tmp_path):
    phone = "+15551236103"
    fixture = tmp_path / "fixture.json"
    entry = {"number": written_in(FULLWIDTH, phone), "organization_id": "org_digits", "provider": "twilio",
             "assistant_id": ASSISTANT}
    fixture.write_text(json.dumps({"phone_numbers": [entry]}), encoding="utf-8")
    api.outbound("seed", str(fixture), "--local-server", api.url)
    placed = initiate(api, phone, number())
    assert placed.status_code == 200, placed.text
