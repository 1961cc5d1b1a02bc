"""A campaign's dry run over HTTP against a real `outbound serve` (issue 17, part 7):
POST /campaigns/{id}/preview says, for each contact, whether and when it would first be dialed
(in its own local time and UTC) or why not, and sums the whole campaign up, without dialing,
reserving or writing anything.

The server's clock is the real one, so zones and windows are picked from the current time."""
from __future__ import annotations

import itertools
import json
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import ROOT
from tests.integration.test_compliance_http import hawaii_case, inside, parse, zone_at

pytestmark = pytest.mark.integration

UTC = timezone.utc
KEY, FROM = "sk_test_preview", "+15551237301"
OTHER_KEY = "sk_test_preview_other"
ALL_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
CONSENT = {"type": "express_written", "obtained_at": "2026-11-02T15:04:05Z", "source": "web form",
           "proof_reference": "consent-9001"}
WRITES = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems")
_numbers = itertools.count(1)


def number(area: str = "555") -> str:
    """A destination no other test calls (+1 <area> 736 xxxx is this module's)."""
    return f"+1{area}736{next(_numbers):04d}"


@pytest.fixture(scope="module")
def api(server):
    server.outbound("seed", str(ROOT / "tests" / "fixtures" / "preview.json"), "--local-server", server.url)
    return server


def campaign(api, contacts: list[dict], key: str = KEY, **fields) -> str:
    body = {"name": "preview", "from_phone_number": FROM if key == KEY else "+15551237302",
            "calling_window": {"start": "08:00", "end": "21:00", "days": ALL_DAYS}, **fields}
    created = api.request("POST", "/campaigns", body, key=key)
    assert created.status_code == 201, created.text
    campaign_id = created.json()["campaign_id"]
    if contacts:
        added = api.request("POST", f"/campaigns/{campaign_id}/contacts", {"contacts": contacts}, key=key)
        assert added.status_code == 200 and not added.json()["errors"], added.text
    return campaign_id


def preview(api, campaign_id: str, key: str = KEY, query: str = "") -> dict:
    response = api.request("POST", f"/campaigns/{campaign_id}/preview{query}", key=key)
    assert response.status_code == 200, response.text
    return response.json()


def by_number(answer: dict) -> dict[str, dict]:
    return {c["phone_number"]: c for c in answer["contacts"]}


def test_a_hawaii_number_whose_contact_zone_says_daytime_is_shown_not_now_at_its_time(api):
    contact_zone, window = hawaii_case()
    hawaii, daytime = number("808"), number()
    campaign_id = campaign(api, [{"phone_number": hawaii, "timezone": contact_zone},
                                 {"phone_number": daytime, "timezone": zone_at(12)}],
                           calling_window={**window, "days": ALL_DAYS})
    answer = preview(api, campaign_id)
    forecast = by_number(answer)[hawaii]
    assert forecast["dialed"] is True and forecast["now"] is False
    assert forecast["waits_for"] == ["outside_window"] and "Pacific/Honolulu" in forecast["detail"]
    opens = parse(forecast["first_dial_at"])
    assert opens > datetime.now(UTC)
    assert inside(window, "Pacific/Honolulu", opens) and inside(window, contact_zone, opens)
    zones = {z["zone"]: z for z in forecast["local_times"]}
    assert zones["Pacific/Honolulu"]["source"] == "number" and zones[contact_zone]["source"] == "contact"
    assert parse(zones["Pacific/Honolulu"]["local_time"]) == opens  # the same instant, in Honolulu's time
    assert zones["Pacific/Honolulu"]["local_time"].endswith("-10:00")
    if inside(window, zone_at(12), datetime.now(UTC)):
        assert by_number(answer)[daytime]["now"] is True
    summary = answer["summary"]
    assert summary["contacts"] == 2 and summary["dialed"] == 2 and summary["by_reason"].get("later", 0) >= 1
    # Every provider's request (a form, JSON, or an event-socket command: the server is shared), by digits.
    assert not [r for r in api.provider_requests() if hawaii[1:] in json.dumps(r) or daytime[1:] in json.dumps(r)]


def test_suppressed_consent_missing_and_invalid_contacts_say_why_and_are_counted(api):
    suppressed_later, no_consent, with_consent = number(), number(), number()
    campaign_id = campaign(api, [{"phone_number": suppressed_later, "timezone": zone_at(12), "consent": CONSENT},
                                 {"phone_number": no_consent, "timezone": zone_at(12)},
                                 {"phone_number": with_consent, "timezone": zone_at(12), "consent": CONSENT}],
                           require_consent=True)
    assert api.request("POST", "/suppressions", {"phone_number": suppressed_later}, key=KEY).status_code == 201
    answer = preview(api, campaign_id)
    forecasts = by_number(answer)
    assert forecasts[suppressed_later]["dialed"] is False and forecasts[suppressed_later]["reason"] == "suppressed"
    assert forecasts[no_consent]["dialed"] is False and forecasts[no_consent]["reason"] == "consent_missing"
    assert "Consent is required" in forecasts[no_consent]["detail"]
    assert forecasts[with_consent]["dialed"] is True
    summary = answer["summary"]
    assert summary["by_reason"]["suppressed"] == 1 and summary["by_reason"]["consent_missing"] == 1
    assert summary["dialed"] == 1 and summary["not_dialed"] == 2


def test_a_contact_at_its_cap_waits_until_the_oldest_dial_leaves_the_24_hours(api):
    capped, zone = number(), zone_at(12)
    placed = []
    for _ in range(3):  # the organization's default cap: 3 dials in 24 hours, counted over every path
        response = api.initiate({"from_phone_number": FROM, "to_phone_number": capped}, key=KEY)
        assert response.status_code == 200, response.text
        placed.append(datetime.now(UTC))
    campaign_id = campaign(api, [{"phone_number": capped, "timezone": zone}],
                           retry_policy={"max_attempts": 3, "delays_minutes": [30]})
    forecast = by_number(preview(api, campaign_id))[capped]
    assert forecast["dialed"] is True and forecast["now"] is False and "cap_24h" in forecast["waits_for"]
    opens = parse(forecast["first_dial_at"])
    assert opens >= placed[0] + timedelta(hours=24) - timedelta(seconds=5)
    assert inside({"start": "08:00", "end": "21:00"}, zone, opens)
    assert forecast["attempts"] == {"min": 1, "max": 3}


def test_the_summary_counts_attempts_finish_and_cost_from_the_policy_pacing_and_rates(api):
    zone = zone_at(12)
    contacts = [{"phone_number": number(), "timezone": zone} for _ in range(4)]
    campaign_id = campaign(api, contacts, retry_policy={"max_attempts": 3, "delays_minutes": [10]},
                           pacing={"max_concurrent_calls": 2, "calls_per_minute": 60})
    summary = preview(api, campaign_id)["summary"]
    assert summary["attempts"]["min"] == 4 and summary["attempts"]["max"] == 12
    assert summary["cost_cents"]["min"] == 4 * 12 and summary["cost_cents"]["max"] == 12 * 150  # rate 12, reserve 150
    assert summary["cost_cents"]["per_minute_rate_cents"] == 12 and "assumes" in summary["cost_cents"]
    earliest, latest = parse(summary["finish"]["earliest"]), parse(summary["finish"]["latest"])
    # 2 at once, 60 s a call: a dial every 30 s; 4 first attempts end >= 90 s + 60 s after the first
    assert earliest >= parse(summary["first_dial_at"]) + timedelta(seconds=150)
    assert latest >= earliest + timedelta(minutes=10)  # retries wait out their delay at least
    assert "assumes" in summary["finish"] and "assumes" in summary["attempts"]


def test_contacts_are_paged_and_the_summary_covers_every_contact(api):
    zone = zone_at(12)
    numbers = [number() for _ in range(5)]
    campaign_id = campaign(api, [{"phone_number": n, "timezone": zone} for n in numbers])
    first = preview(api, campaign_id, query="?limit=2")
    assert len(first["contacts"]) == 2 and first["next_token"] and first["summary"]["contacts"] == 5
    seen = [c["phone_number"] for c in first["contacts"]]
    token = first["next_token"]
    while token:
        page = preview(api, campaign_id, query=f"?limit=2&next_token={token}")
        assert "summary" not in page and len(page["contacts"]) <= 2
        seen += [c["phone_number"] for c in page["contacts"]]
        token = page["next_token"]
    assert sorted(seen) == sorted(numbers) and len(seen) == 5
    bad = api.request("POST", f"/campaigns/{campaign_id}/preview?limit=0", key=KEY)
    assert bad.status_code == 400 and "limit" in bad.json()["detail"]


def test_only_a_draft_or_paused_campaign_is_previewed(api):
    night = zone_at(2)  # the contact waits for its window: nothing is dialed while the campaign runs
    campaign_id = campaign(api, [{"phone_number": number(), "timezone": night}])
    started = api.request("POST", f"/campaigns/{campaign_id}/start", key=KEY)
    assert started.status_code == 200 and started.json()["status"] == "running", started.text
    refused = api.request("POST", f"/campaigns/{campaign_id}/preview", key=KEY)
    assert refused.status_code == 409
    assert refused.json() == {"detail": f"Campaign {campaign_id} is running: only a draft or paused campaign can "
                                        "be previewed"}
    assert api.request("POST", f"/campaigns/{campaign_id}/pause", key=KEY).status_code == 200
    paused = preview(api, campaign_id)
    assert paused["status"] == "paused" and paused["summary"]["contacts"] == 1
    assert paused["contacts"][0]["now"] is False and paused["contacts"][0]["waits_for"] == ["outside_window"]


def test_a_preview_writes_nothing(api):
    zone = zone_at(12)
    campaign_id = campaign(api, [{"phone_number": number(), "timezone": zone} for _ in range(30)])
    before = api.dynamodb_operations()
    preview(api, campaign_id, query="?limit=5")
    after = api.dynamodb_operations()
    used = {op: after[op] - before.get(op, 0) for op in after if after[op] != before.get(op, 0)}
    assert not {op for op in used if op in WRITES}, used
    assert used.get("Query", 0) >= 1 and used.get("BatchGetItem", 0) >= 1, used  # it did read (list and counters)
    item = api.request("GET", f"/campaigns/{campaign_id}", key=KEY).json()
    assert item["status"] == "draft"


def test_another_organizations_campaign_and_tokens_are_out_of_reach(api):
    mine = campaign(api, [{"phone_number": number(), "timezone": zone_at(12)} for _ in range(3)])
    theirs = campaign(api, [{"phone_number": number(), "timezone": zone_at(12)}], key=OTHER_KEY)
    foreign = api.request("POST", f"/campaigns/{mine}/preview", key=OTHER_KEY)
    assert foreign.status_code == 404 and foreign.json() == {"detail": f"Campaign {mine} not found"}
    token = preview(api, mine, query="?limit=1")["next_token"]
    forged = api.request("POST", f"/campaigns/{theirs}/preview?next_token={token}", key=OTHER_KEY)
    assert forged.status_code == 400 and "next_token" in forged.json()["detail"]
    assert api.request("POST", f"/campaigns/{mine}/preview", key=None).status_code == 401


def test_the_cli_prints_the_summary_first(api):
    campaign_id = campaign(api, [{"phone_number": number("808"), "timezone": zone_at(12)},
                                 {"phone_number": number(), "timezone": zone_at(12)}])
    shown = api.outbound("campaign", "preview", campaign_id, "--local-server", api.url, "--api-key", KEY)
    text = shown.stdout
    assert text.index("Summary") < text.index("Contacts"), text
    assert "2 contacts" in text and "Pacific/Honolulu" in text and "cost" in text.lower()
    as_json = json.loads(api.outbound("campaign", "preview", campaign_id, "--server", api.url, "--api-key", KEY,
                                      "--json").stdout)
    assert as_json["summary"]["contacts"] == 2


def test_a_destination_no_longer_permitted_is_shown_so(api):
    api.outbound("admin", "org", "update", "org_preview", "--allowed-countries", "US,FR", "--local-server", api.url)
    paris = "+3361273" + f"{next(_numbers):04d}"
    try:
        campaign_id = campaign(api, [{"phone_number": paris, "timezone": zone_at(12)}])
    finally:
        api.outbound("admin", "org", "update", "org_preview", "--allowed-countries", "US", "--local-server", api.url)
    forecast = by_number(preview(api, campaign_id))[paris]
    assert forecast["dialed"] is False and forecast["reason"] == "invalid_destination"
    assert forecast["detail"] == f"Destination {paris} is not permitted for your organization"
