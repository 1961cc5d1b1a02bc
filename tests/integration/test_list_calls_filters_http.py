"""GET /calls?campaign_id=&schedule_id=&from=&to=: the calls list filtered by campaign, schedule and
creation time, still one ByOrganization Query per page (never a Scan), paged with next_token."""
from __future__ import annotations

import json
import subprocess

import pytest

from tests.conftest import OUTBOUND, ROOT

pytestmark = pytest.mark.integration

ORG, KEY = "org_filters", "sk_live_filters_demo"
# (call id, campaign, schedule, created_at), oldest first
CALLS = [("call_f_0", "cmp_a", None, "2026-11-20T10:00:00.000Z"),
         ("call_f_1", None, "sch_x", "2026-11-20T23:59:59.999Z"),
         ("call_f_2", "cmp_a", None, "2026-11-21T00:00:00.000Z"),
         ("call_f_3", "cmp_b", None, "2026-11-21T08:30:00.000Z"),
         ("call_f_4", "cmp_a", None, "2026-11-21T09:00:00.000Z"),
         ("call_f_5", None, "sch_x", "2026-11-22T09:00:00.000Z"),
         ("call_f_6", None, None, "2026-11-22T10:00:00.000Z")]


@pytest.fixture(scope="module")
def seeded(server, tmp_path_factory):
    calls = [{"call_id": call_id, "organization_id": ORG, "provider": "twilio", "from_phone_number": "+15551239100",
              "to_phone_number": "+15559876543", "created_at": created_at,
              **({"campaign_id": campaign} if campaign else {}), **({"schedule_id": schedule} if schedule else {})}
             for call_id, campaign, schedule, created_at in CALLS]
    calls.append({"call_id": "call_f_other", "organization_id": "org_filters_other", "provider": "twilio",
                  "from_phone_number": "+15551239101", "to_phone_number": "+15559876543", "campaign_id": "cmp_a",
                  "created_at": "2026-11-21T09:30:00.000Z"})
    fixture = {"organizations": [
        {"id": ORG, "name": "Filters", "balance_cents": 5000, "api_keys": [KEY], "call_reserve_cents": 10},
        {"id": "org_filters_other", "name": "Other", "balance_cents": 5000, "api_keys": ["sk_live_filters_other"]}],
        "calls": calls}
    path = tmp_path_factory.mktemp("filters") / "fixture.json"
    path.write_text(json.dumps(fixture))
    done = subprocess.run([*OUTBOUND, "seed", str(path), "--local-server", server.url],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return server


def ids(server, query: str) -> list[str]:
    response = server.request("GET", f"/calls{query}", key=KEY)
    assert response.status_code == 200, response.text
    return [call["call_id"] for call in response.json()["calls"]]


def test_by_campaign_newest_first_and_only_the_callers(seeded):
    assert ids(seeded, "?campaign_id=cmp_a") == ["call_f_4", "call_f_2", "call_f_0"]
    body = seeded.request("GET", "/calls?campaign_id=cmp_a", key=KEY).json()
    assert {call["campaign_id"] for call in body["calls"]} == {"cmp_a"}
    assert ids(seeded, "?campaign_id=cmp_unknown") == []


def test_by_schedule(seeded):
    assert ids(seeded, "?schedule_id=sch_x") == ["call_f_5", "call_f_1"]


def test_by_creation_time_from_inclusive_to_exclusive(seeded):
    assert ids(seeded, "?from=2026-11-21") == ["call_f_6", "call_f_5", "call_f_4", "call_f_3", "call_f_2"]
    assert ids(seeded, "?from=2026-11-21&to=2026-11-22") == ["call_f_4", "call_f_3", "call_f_2"]
    assert ids(seeded, "?to=2026-11-21T00:00:00Z") == ["call_f_1", "call_f_0"]
    # An offset is honoured: 09:00+01:00 is 08:00Z.
    assert ids(seeded, "?from=2026-11-21T09:00:00%2B01:00&to=2026-11-21T09:00:00Z") == ["call_f_3"]
    assert ids(seeded, "?campaign_id=cmp_a&from=2026-11-21") == ["call_f_4", "call_f_2"]


def test_filtered_pages_follow_next_token_with_one_query_each(seeded):
    before = seeded.dynamodb_operations()
    first = seeded.request("GET", "/calls?campaign_id=cmp_a&limit=2", key=KEY).json()
    assert [c["call_id"] for c in first["calls"]] == ["call_f_4", "call_f_2"] and first["next_token"]
    rest = seeded.request("GET", f"/calls?campaign_id=cmp_a&limit=2&next_token={first['next_token']}", key=KEY).json()
    assert [c["call_id"] for c in rest["calls"]] == ["call_f_0"] and rest["next_token"] is None
    after = seeded.dynamodb_operations()
    assert after.get("Scan", 0) == before.get("Scan", 0)


@pytest.mark.parametrize("query,detail", [
    ("?from=yesterday", "from must be an ISO 8601 date or time with an offset (e.g. 2026-11-21 or 2026-11-21T09:00:00Z)"),
    ("?to=2026-11-21T09:00:00", "to must be an ISO 8601 date or time with an offset (e.g. 2026-11-21 or 2026-11-21T09:00:00Z)"),
    ("?from=2026-11-22&to=2026-11-21", "from must be before to"),
    ("?campaign_id=" + "x" * 101, "campaign_id must be at most 100 characters"),
    ("?schedule_id=a%0Ab", "schedule_id must be printable ASCII"),
])
def test_bad_filters_are_400(seeded, query, detail):
    response = seeded.request("GET", f"/calls{query}", key=KEY)
    assert response.status_code == 400 and response.json() == {"detail": detail}
