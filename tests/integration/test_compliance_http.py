"""Calling rules, frequency caps, consent and evidence over HTTP against a real `outbound serve`
(issue 17): the rules function decides for POST /calls/initiate and schedules (when the
organization turns its rules on) and for campaigns (always); every dial's evidence is written in
its reserve transaction and checked by `outbound admin evidence`.

The server's clock is the real one, so each test picks zones and windows from the current time
(a number's zone at night now, a contact's zone in daytime now) instead of waiting for them."""
from __future__ import annotations

import csv
import io
import itertools
import json
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import requests

from tests.conftest import ROOT, wait_for

pytestmark = pytest.mark.integration

UTC = timezone.utc
KEY, FROM = "sk_test_rules_direct", "+15551237701"  # org_rules: direct and scheduled calls
CAMPAIGN_KEY, CAMPAIGN_FROM = "sk_test_rules_campaigns", "+15551237702"  # org_rules_campaigns
ALL_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
CONSENT = {"type": "express_written", "obtained_at": "2026-11-02T15:04:05Z", "source": "web form",
           "proof_reference": "consent-7781"}
_numbers = itertools.count(1)


def number(area: str = "555") -> str:
    """A destination no other test calls (+1 <area> 739 xxxx is this module's)."""
    return f"+1{area}739{next(_numbers):04d}"


@pytest.fixture(scope="module")
def api(server):
    server.outbound("seed", str(ROOT / "tests" / "fixtures" / "compliance.json"), "--local-server", server.url)
    return server


def put_rules(server, key=KEY, **fields) -> dict:
    response = server.request("PUT", "/organization/calling-rules", fields, key=key)
    assert response.status_code == 200, response.text
    return response.json()


# Numbers of one zone each, from UTC-10 to UTC+9: at any time one of them is in 08:00-20:00.
ONE_ZONE_NUMBERS = (("+1808739", "Pacific/Honolulu"), ("+1415739", "America/Los_Angeles"),
                    ("+1212739", "America/New_York"), ("+3361273", "Europe/Paris"), ("+8137390", "Asia/Tokyo"))


def daytime_number() -> tuple[str, str]:
    """(a new destination, its number's only zone) where it is 08:00-20:00 now."""
    for prefix, zone in ONE_ZONE_NUMBERS:
        if 8 <= datetime.now(ZoneInfo(zone)).hour < 20:
            return f"{prefix}{next(_numbers):04d}", zone
    raise AssertionError("no zone of ONE_ZONE_NUMBERS is in daytime now")


def zone_at(hour: int) -> str:
    """An Etc/GMT zone where the local time is ``hour`` now."""
    offset = hour - datetime.now(UTC).hour
    offset = offset - 24 if offset > 14 else offset + 24 if offset < -12 else offset
    return f"Etc/GMT{-offset:+d}" if offset else "UTC"


def hawaii_case() -> tuple[str, dict]:
    """(a contact's zone, a window) such that, now and for the next hour, the contact's zone is
    inside the window and Pacific/Honolulu (UTC-10, no daylight saving) is outside it, while a
    time inside it in both zones exists later. At night in Hawaii: the legal floor, with New York
    (the issue's own case) when it is daytime there. In Hawaiian daytime: a window narrowed to
    hours that are the contact's and not yet (or no longer) Honolulu's."""
    honolulu = datetime.now(ZoneInfo("Pacific/Honolulu")).hour
    if honolulu >= 21 or honolulu < 7:
        new_york = datetime.now(ZoneInfo("America/New_York")).hour
        return ("America/New_York" if 8 <= new_york < 19 else zone_at(12)), {"start": "08:00", "end": "21:00"}
    if honolulu <= 16:  # a contact two hours ahead (UTC-8): its window opens when Honolulu's hour is over
        return "Etc/GMT+8", {"start": f"{honolulu + 2:02d}:00", "end": "21:00"}
    # a contact two hours behind (UTC-12): its window closed when Honolulu's hour began
    return "Etc/GMT+12", {"start": f"{honolulu - 3:02d}:00", "end": f"{honolulu:02d}:00"}


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def inside(window: dict, zone: str, at: datetime) -> bool:
    local = at.astimezone(ZoneInfo(zone)).strftime("%H:%M")
    return window["start"] <= local < window["end"]


def sent_to(server, destination: str) -> list[dict]:
    return [r for r in server.provider_requests()
            if r["method"] == "POST" and (r.get("body") or {}).get("To") == [destination]]


def evidence(server, call_ref: str, key=KEY) -> list[dict]:
    response = server.request("GET", f"/calls/{call_ref}/evidence", key=key)
    assert response.status_code == 200, response.text
    return response.json()["evidence"]


# --- the rules themselves ---------------------------------------------------------------------------------

def test_calling_rules_are_read_and_set_with_the_organizations_key(api):
    default = api.request("GET", "/organization/calling-rules", key="sk_live_acme_demo")
    assert default.status_code == 200, default.text
    assert default.json() == {
        "enabled": False, "window": {"start": "08:00", "end": "21:00"}, "days": ALL_DAYS, "blackout_dates": [],
        "max_dials_24h": 3, "max_dials_7d": None, "require_consent": False, "default_timezone": None,
        "version": 0, "updated_at": None, "legal_floor": {"start": "08:00", "end": "21:00"}}
    wider = api.request("PUT", "/organization/calling-rules", {"window": {"start": "07:30", "end": "21:00"}}, key=KEY)
    assert wider.status_code == 400
    assert wider.json() == {"detail": "window: window must lie within 08:00-21:00 recipient-local (the legal floor "
                                      "can only be narrowed)"}
    for body, detail in (({"max_dials_24h": 0}, "max_dials_24h"), ({"days": []}, "days"), ({"colour": 1}, "colour"),
                         ({"default_timezone": "Mars/Olympus"}, "default_timezone"),
                         ({"blackout_dates": ["2026-02-30"]}, "blackout_dates")):
        response = api.request("PUT", "/organization/calling-rules", body, key=KEY)
        assert response.status_code == 400 and detail in response.json()["detail"], (body, response.text)
    stored = put_rules(api, enabled=True, window={"start": "09:00", "end": "20:00"}, days=["mon", "fri", "tue"],
                       blackout_dates=["2026-12-25", "2026-12-24"], max_dials_24h=2, max_dials_7d=5)
    assert stored["version"] >= 1 and stored["days"] == ["mon", "tue", "fri"]
    assert stored["blackout_dates"] == ["2026-12-24", "2026-12-25"] and stored["max_dials_7d"] == 5
    assert api.request("GET", "/organization/calling-rules", key=KEY).json() == stored
    again = put_rules(api, enabled=False)
    assert again["version"] == stored["version"] + 1 and again["max_dials_24h"] == 3  # a whole replacement
    assert api.request("GET", "/organization/calling-rules", key="sk_live_acme_demo").json()["version"] == 0
    assert api.request("GET", "/organization/calling-rules", key="sk_live_unknown").status_code == 401


def test_the_admin_command_shows_and_sets_the_rules(api):
    done = api.outbound("admin", "calling-rules", "set", "org_rules", "--enable", "--window", "09:00-19:00",
                        "--days", "mon,tue,wed,thu,fri", "--max-24h", "2", "--local-server", api.url)
    assert json.loads(done.stdout)["window"] == {"start": "09:00", "end": "19:00"}
    shown = json.loads(api.outbound("admin", "calling-rules", "show", "org_rules", "--local-server", api.url).stdout)
    assert shown["enabled"] and shown["max_dials_24h"] == 2 and shown["days"] == ALL_DAYS[:5]
    refused = api.outbound("admin", "calling-rules", "set", "org_rules", "--window", "06:00-21:00",
                           "--local-server", api.url, check=False)
    assert refused.returncode == 2 and "legal floor" in refused.stderr
    put_rules(api)  # back to the defaults


# --- direct calls -------------------------------------------------------------------------------------------

def test_a_hawaii_number_is_refused_although_its_contacts_zone_is_daytime(api):
    contact_zone, window = hawaii_case()
    to = number("808")
    body = {"from_phone_number": FROM, "to_phone_number": to, "recipient_timezone": contact_zone}
    put_rules(api, enabled=True, window=window)
    refused = api.initiate(body, key=KEY)
    assert refused.status_code == 409, refused.text
    answer = refused.json()
    honolulu = datetime.now(ZoneInfo("Pacific/Honolulu"))
    assert answer["reasons"] == ["outside_window"]
    assert f"in Pacific/Honolulu, outside {window['start']}-{window['end']}" in answer["detail"]
    assert honolulu.strftime("%H:") in answer["detail"] and answer["next_allowed_at"] in answer["detail"]
    zones = {z["zone"]: z for z in answer["recipient_local_times"]}
    assert zones[contact_zone]["source"] == "contact" and zones["Pacific/Honolulu"]["source"] == "number"
    opens = parse(answer["next_allowed_at"])
    assert opens > datetime.now(UTC)
    assert inside(window, "Pacific/Honolulu", opens) and inside(window, contact_zone, opens)
    assert not inside(window, "Pacific/Honolulu", opens - timedelta(minutes=1)) or \
        not inside(window, contact_zone, opens - timedelta(minutes=1))  # the first such minute
    assert sent_to(api, to) == []
    put_rules(api, enabled=False, window=window)  # the same call with the rules off: placed, as before
    assert api.initiate(body, key=KEY).status_code == 200


def next_dst_change(zone: str) -> date:
    """The first local date whose 12:00 has another UTC offset than today's."""
    tz, today = ZoneInfo(zone), datetime.now(ZoneInfo(zone)).date()
    offset = datetime.combine(today, datetime.min.time().replace(hour=12), tz).utcoffset()
    day = today
    while datetime.combine(day, datetime.min.time().replace(hour=12), tz).utcoffset() == offset:
        day += timedelta(days=1)
    return day


def test_the_next_window_after_days_with_no_calls_opens_in_the_new_daylight_saving_offset(api):
    change = next_dst_change("America/New_York")
    today = datetime.now(ZoneInfo("America/New_York")).date()
    closed = [(today + timedelta(days=i)).isoformat() for i in range((change - today).days)]
    put_rules(api, enabled=True, blackout_dates=closed)
    to = number("212")
    refused = api.initiate({"from_phone_number": FROM, "to_phone_number": to}, key=KEY)
    assert refused.status_code == 409, refused.text
    assert refused.json()["reasons"] == ["no_calls_date"]
    opens = parse(refused.json()["next_allowed_at"])
    expected = datetime(change.year, change.month, change.day, 8, tzinfo=ZoneInfo("America/New_York"))
    assert opens == expected
    today_08 = datetime.combine(today, datetime.min.time().replace(hour=8), ZoneInfo("America/New_York"))
    assert opens.utcoffset() is not None and expected.utcoffset() != today_08.utcoffset()  # the other offset
    assert opens.astimezone(UTC).hour != today_08.astimezone(UTC).hour  # 12:00 UTC, not 13:00 (or back)
    assert sent_to(api, to) == []
    put_rules(api)


def test_the_cap_holds_under_twenty_parallel_initiates_to_one_number(api):
    put_rules(api, enabled=True, max_dials_24h=3)
    to = number()  # +1555: no zone of its own; the recipient's zone is daytime
    body = {"from_phone_number": FROM, "to_phone_number": to, "recipient_timezone": zone_at(12)}
    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(lambda _: api.initiate(body, key=KEY), range(20)))
    statuses = sorted(a.status_code for a in answers)
    assert statuses.count(200) == 3 and statuses.count(409) == 17, [a.text for a in answers if a.status_code >= 500]
    refusals = [a.json() for a in answers if a.status_code == 409]
    assert all(r["reasons"] == ["cap_24h"] and "Dialed 3 times in the last 24 hours (at most 3)" in r["detail"]
               for r in refusals)
    assert len({r["next_allowed_at"] for r in refusals}) >= 1
    assert len(sent_to(api, to)) == 3  # exactly the cap reached the provider
    counts = sorted(evidence(api, a.json()["call_id"])[0]["verdict"]["frequency"]["dials_24h"]
                    for a in answers if a.status_code == 200)
    assert counts == [0, 1, 2]  # each placed call was judged on the dials before it
    put_rules(api)


def test_consent_required_and_missing_is_422_and_given_consent_is_kept(api):
    put_rules(api, enabled=True, require_consent=True)
    to = number()
    body = {"from_phone_number": FROM, "to_phone_number": to, "recipient_timezone": zone_at(12)}
    missing = api.initiate(body, key=KEY)
    assert missing.status_code == 422, missing.text
    assert missing.json()["reasons"] == ["consent_missing"] and missing.json()["next_allowed_at"] is None
    assert "Give consent (type, obtained_at, source, proof_reference)" in missing.json()["detail"]
    future = {**CONSENT, "obtained_at": (datetime.now(UTC) + timedelta(days=2)).isoformat()}
    for consent, detail in ((future, "consent.obtained_at must not be in the future"),
                            ({"type": "verbal"}, "consent.type must be one of"),
                            ({**CONSENT, "signature": "x"}, "Unknown field: consent.signature")):
        bad = api.initiate({**body, "consent": consent}, key=KEY)
        assert bad.status_code == 400 and bad.json()["detail"].startswith(detail), bad.text
    placed = api.initiate({**body, "consent": CONSENT}, key=KEY)
    assert placed.status_code == 200, placed.text
    [record] = evidence(api, placed.json()["call_id"])
    assert record["verdict"]["consent"] == CONSENT and record["verdict"]["allowed"]
    assert sent_to(api, to) and len(sent_to(api, to)) == 1
    put_rules(api)


def test_with_the_rules_off_initiate_answers_as_before_and_still_keeps_evidence(api):
    """org_acme never turned its rules on: a Hawaii number at any hour, answered as documented."""
    to = number("808")
    api.request("GET", "/organization/balance")  # the authorizer's answer for this key cached
    before = api.dynamodb_operations()
    placed = api.initiate({"from_phone_number": "+15551234567", "to_phone_number": to})
    after = api.dynamodb_operations()
    assert placed.status_code == 200 and set(placed.json()) == {"message", "call_sid", "call_id", "assistant_id",
                                                                "provider", "status"}
    used = {op: after[op] - before.get(op, 0) for op in after if after[op] != before.get(op, 0)}
    assert sum(used.values()) <= 4 and used.get("TransactWriteItems") == 1, used
    [record] = evidence(api, placed.json()["call_sid"], key="sk_live_acme_demo")
    assert record["kind"] == "dial" and record["rules_applied"] is False
    assert record["verdict"]["checked"] == [] and record["verdict"]["zones"] == []
    assert record["verdict"]["frequency"]["dials_24h"] == 0 and "calling rules are off" in record["rules_note"]
    assert record["requested_by"] == {"via": "api", "api_key_prefix": "sk_live_acme_d"}


def test_four_dynamodb_round_trips_with_rules_caps_and_evidence_on(api):
    put_rules(api, enabled=True, max_dials_7d=10, require_consent=True)
    body = {"from_phone_number": FROM, "to_phone_number": number(), "recipient_timezone": zone_at(12),
            "consent": CONSENT}
    assert api.initiate(body, key=KEY).status_code == 200  # the authorizer's cache warmed
    for _ in range(2):
        before = api.dynamodb_operations()
        assert api.initiate({**body, "to_phone_number": number()}, key=KEY).status_code == 200
        after = api.dynamodb_operations()
        used = {op: after[op] - before.get(op, 0) for op in after if after[op] != before.get(op, 0)}
        assert sum(used.values()) <= 4 and used.get("TransactWriteItems") == 1, used
    put_rules(api)


# --- evidence -------------------------------------------------------------------------------------------------

def test_a_placed_calls_evidence_says_why_and_tampering_is_detected(api):
    put_rules(api, enabled=True)
    zone, (to, number_zone) = zone_at(12), daytime_number()
    placed = api.initiate({"from_phone_number": FROM, "to_phone_number": to, "recipient_timezone": zone}, key=KEY)
    assert placed.status_code == 200, placed.text
    call_id = placed.json()["call_id"]
    [record] = evidence(api, call_id)
    assert record["evidence_id"] == f"{call_id}/DIAL" and record["kind"] == "dial" and record["rules_applied"]
    assert record["requested_by"] == {"via": "api", "api_key_prefix": KEY[:14]}
    assert record["caller_id"] == FROM and record["recipient"] == to
    verdict = record["verdict"]
    assert verdict["allowed"] and verdict["checked"] == ["window", "frequency", "consent"]
    assert [(z["zone"], z["source"], z["inside"]) for z in verdict["zones"]] == [
        (zone, "contact", True), (number_zone, "number", True)]
    assert verdict["rules"]["version"] >= 1 and verdict["frequency"]["max_dials_24h"] == 3
    assert len(record["hmac"]) == 64 and record["key_version"]
    assert api.request("GET", f"/calls/{call_id}/evidence", key="sk_live_acme_demo").status_code == 404

    verified = api.outbound("admin", "evidence", call_id, "--local-server", api.url)
    assert "1 record, all intact" in verified.stdout
    dynamodb, table = api.dynamodb(), api.aws()["table_name"]
    dynamodb.update_item(TableName=table, Key={"pk": {"S": f"EVIDENCE#{call_id}"}, "sk": {"S": "DIAL"}},
                         UpdateExpression="SET caller_id = :other", ExpressionAttributeValues={":other": {"S": "+15550001111"}})
    tampered = api.outbound("admin", "evidence", call_id, "--local-server", api.url, check=False)
    assert tampered.returncode == 1, tampered.stdout + tampered.stderr
    assert "ALTERED" in tampered.stdout and "the record was altered after it was written" in tampered.stdout
    put_rules(api)


def fire_deliveries(server, schedule_id: str) -> list[dict]:
    found = requests.get(server.url + "/_local/scheduler/deliveries", timeout=10).json()
    return [d for d in found if (d.get("input") or {}).get("schedule_id") == schedule_id]


def test_a_refused_scheduled_fire_is_recorded_with_its_reason_and_its_evidence(api):
    contact_zone, window = hawaii_case()
    put_rules(api, enabled=True, window=window)
    to = number("808")
    at = (datetime.now(UTC) + timedelta(seconds=2)).isoformat()
    created = api.request("POST", "/calls/schedule", {"from_phone_number": FROM, "to_phone_number": to,
                                                       "recipient_timezone": contact_zone, "scheduled_at": at}, key=KEY)
    assert created.status_code == 201, created.text
    schedule_id = created.json()["schedule_id"]
    view = wait_for(lambda: (v := api.request("GET", f"/calls/schedules/{schedule_id}", key=KEY).json())["status"]
                    == "failed" and v, what="the fire to be refused")
    assert view["failure"]["status_code"] == 409 and "Pacific/Honolulu" in view["failure"]["detail"]
    # The local scheduler records the delivery once the invocation has returned: after the fire
    # wrote the schedule's failure.
    [delivery] = wait_for(lambda: [d for d in fire_deliveries(api, schedule_id) if d.get("result")],
                          what="the fire's delivery record")
    assert delivery["result"]["outcome"] == "rejected" and delivery["result"]["reasons"] == ["outside_window"]
    [record] = evidence(api, f"call_{delivery['result']['fire_id']}")
    assert record["kind"] == "refusal" and not record["verdict"]["allowed"]
    assert record["requested_by"]["via"] == "schedule" and record["requested_by"]["schedule_id"] == schedule_id
    assert sent_to(api, to) == []
    assert "all intact" in api.outbound("admin", "evidence", record["call_id"], "--local-server", api.url).stdout
    put_rules(api)


# --- campaigns (the rules apply always) ----------------------------------------------------------------------

def campaign(server, **overrides) -> str:
    body = {"name": "Compliance", "from_phone_number": CAMPAIGN_FROM, "variables": {"name": "Ada"},
            "calling_window": {"days": ALL_DAYS, "start": "08:00", "end": "21:00"}, "timezone": "UTC",
            "retry_policy": {"max_attempts": 1, "delays_minutes": [0], "retry_on": ["busy"]},
            "pacing": {"max_concurrent_calls": 5, "calls_per_minute": 600}, **overrides}
    response = server.request("POST", "/campaigns", body, key=CAMPAIGN_KEY)
    assert response.status_code == 201, response.text
    return response.json()["campaign_id"]


def add_and_start(server, campaign_id: str, contacts: list[dict]) -> list[dict]:
    added = server.request("POST", f"/campaigns/{campaign_id}/contacts", {"contacts": contacts}, key=CAMPAIGN_KEY)
    assert added.status_code == 200 and not added.json()["errors"], added.text
    assert server.request("POST", f"/campaigns/{campaign_id}/start", key=CAMPAIGN_KEY).status_code == 200
    return added.json()["contacts"]


def contacts(server, campaign_id: str) -> dict[str, dict]:
    body = server.request("GET", f"/campaigns/{campaign_id}/contacts?limit=100", key=CAMPAIGN_KEY).json()
    return {c["phone_number"]: c for c in body["contacts"]}


def test_a_campaign_defers_a_hawaii_contact_whose_own_zone_is_daytime(api):
    contact_zone, window = hawaii_case()
    campaign_id = campaign(api, calling_window={"days": ALL_DAYS, **window})
    hawaii, control = number("808"), number()
    add_and_start(api, campaign_id, [{"phone_number": hawaii, "timezone": contact_zone},
                                     {"phone_number": control, "timezone": contact_zone}])
    wait_for(lambda: sent_to(api, control), what="the control contact's call")  # the campaign is dialing
    time.sleep(1.0)
    contact = contacts(api, campaign_id)[hawaii]
    assert contact["status"] == "waiting_window" and contact["attempts"] == 0, contact
    opens = parse(contact["next_attempt_at"])
    assert opens > datetime.now(UTC)
    assert inside(window, "Pacific/Honolulu", opens) and inside(window, contact_zone, opens)
    assert sent_to(api, hawaii) == []
    api.request("POST", f"/campaigns/{campaign_id}/cancel", key=CAMPAIGN_KEY)


def test_contacts_without_consent_are_skipped_when_the_campaign_requires_it(api):
    campaign_id = campaign(api, require_consent=True)
    with_consent, without = number(), number()
    added = add_and_start(api, campaign_id, [{"phone_number": with_consent, "timezone": zone_at(12), "consent": CONSENT},
                                             {"phone_number": without, "timezone": zone_at(12)}])
    assert [c["status"] for c in added] == ["pending", "skipped"]
    skipped = contacts(api, campaign_id)[without]
    assert skipped["status"] == "skipped" and skipped["final_reason"] == "Consent required: none recorded for this contact"
    wait_for(lambda: sent_to(api, with_consent), what="the consenting contact's call")
    dialed = wait_for(lambda: contacts(api, campaign_id)[with_consent]["current_call_id"]
                      or (contacts(api, campaign_id)[with_consent]["call_ids"] or [None])[-1])
    [record] = evidence(api, dialed, key=CAMPAIGN_KEY)
    assert record["verdict"]["consent"] == CONSENT and record["requested_by"]["via"] == "campaign"
    assert record["verdict"]["rules"]["require_consent"] is True
    assert sent_to(api, without) == []
    api.request("POST", f"/campaigns/{campaign_id}/cancel", key=CAMPAIGN_KEY)


def test_a_contact_dialed_directly_up_to_the_cap_waits_and_its_refusal_is_evidence(api):
    """The cap counts every path: three direct calls (org_rules_campaigns has its rules off for
    them, so they are placed, and counted), then the campaign (always under the rules) waits."""
    to, zone = number(), zone_at(12)
    first = datetime.now(UTC)  # before the first of them
    for _ in range(3):
        direct = {"from_phone_number": CAMPAIGN_FROM, "to_phone_number": to, "variables": {"name": "Ada"}}
        assert api.initiate(direct, key=CAMPAIGN_KEY).status_code == 200
    campaign_id = campaign(api)
    add_and_start(api, campaign_id, [{"phone_number": to, "timezone": zone}])
    contact = wait_for(lambda: (c := contacts(api, campaign_id)[to]).get("last_evidence") and c,
                       what="the dialer's refusal")
    assert contact["status"] == "waiting_window" and contact["attempts"] == 0
    opens = parse(contact["next_attempt_at"])  # when the first of the three leaves the 24 hours (noon there)
    assert first + timedelta(hours=24) <= opens <= datetime.now(UTC) + timedelta(hours=24)
    summary = contact["last_evidence"]
    assert summary["evidence_verdict"] == "refused" and summary["evidence_reasons"] == "cap_24h"
    call_id = summary["evidence_id"].split("/")[0]
    [record] = evidence(api, call_id, key=CAMPAIGN_KEY)
    assert record["kind"] == "refusal" and record["verdict"]["frequency"]["dials_24h"] == 3
    assert record["requested_by"]["campaign_id"] == campaign_id and record["requested_by"]["attempt"] == 1
    assert len(sent_to(api, to)) == 3  # the three direct calls only
    rows = list(csv.DictReader(io.StringIO(
        api.request("GET", f"/campaigns/{campaign_id}/results.csv", key=CAMPAIGN_KEY).text)))
    assert rows[0]["evidence_verdict"] == "refused" and rows[0]["evidence_reasons"] == "cap_24h"
    assert rows[0]["evidence_id"] == summary["evidence_id"] and rows[0]["evidence_hmac"] == record["hmac"]
    assert "all intact" in api.outbound("admin", "evidence", call_id, "--local-server", api.url).stdout
    api.request("POST", f"/campaigns/{campaign_id}/cancel", key=CAMPAIGN_KEY)


def test_results_csv_carries_each_placed_calls_evidence(api):
    campaign_id = campaign(api)
    to, zone = number(), zone_at(12)
    add_and_start(api, campaign_id, [{"phone_number": to, "timezone": zone}])
    wait_for(lambda: sent_to(api, to), what="the call")
    call_id = wait_for(lambda: contacts(api, campaign_id)[to]["current_call_id"])
    [record] = evidence(api, call_id, key=CAMPAIGN_KEY)
    text = api.request("GET", f"/campaigns/{campaign_id}/results.csv", key=CAMPAIGN_KEY).text
    [row] = list(csv.DictReader(io.StringIO(text)))
    assert row["evidence_id"] == f"{call_id}/DIAL" and row["evidence_verdict"] == "allowed"
    assert row["evidence_zones"].startswith(f"{zone} ")  # the contact's zone and its local time (+1555: no other)
    assert row["evidence_rules_version"] == "0" and row["evidence_hmac"] == record["hmac"]
    api.request("POST", f"/campaigns/{campaign_id}/cancel", key=CAMPAIGN_KEY)


def test_the_counter_keeps_recent_dials_only_and_expires(api):
    """A dial older than 7 days (the longest a cap counts) is dropped by the next dial's update;
    the item carries a TTL a week past its newest dial."""
    put_rules(api)  # off: the dial is counted, nothing checked
    to = number()
    dynamodb, table = api.dynamodb(), api.aws()["table_name"]
    key = {"pk": {"S": f"DIALS#org_rules#{to}"}, "sk": {"S": "DIALS"}}
    old = (datetime.now(UTC) - timedelta(days=8)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    recent = (datetime.now(UTC) - timedelta(hours=2)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    dynamodb.put_item(TableName=table, Item={**key, "version": {"N": "7"}, "d_call_old": {"S": old},
                                             "d_call_recent": {"S": recent}})
    placed = api.initiate({"from_phone_number": FROM, "to_phone_number": to}, key=KEY)  # rules off: counted only
    assert placed.status_code == 200, placed.text
    item = dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]
    dials = sorted(name for name in item if name.startswith("d_"))
    assert dials == sorted(["d_call_recent", f"d_{placed.json()['call_id']}"])
    assert item["version"]["N"] == "8" and item["organization_id"]["S"] == "org_rules"
    assert 7 * 86400 < int(item["expires_at"]["N"]) - time.time() <= 8 * 86400
    [record] = evidence(api, placed.json()["call_id"])
    assert record["verdict"]["frequency"]["dials_24h"] == 1 and record["verdict"]["frequency"]["dials_7d"] == 1
