"""GET /calls (newest first, paginated through the ByOrganization index), fixture calls that
hold their reserve, and webhooks for calls the adapter has not finished placing. Over real HTTP
against `outbound serve`, data loaded with `outbound seed --local-server`."""
from __future__ import annotations

import json
import subprocess

import pytest

from outbound_local.emulators import freeswitch, twilio, webhooks
from tests.conftest import OUTBOUND, ROOT

pytestmark = pytest.mark.integration

ORG, KEY = "org_listing", "sk_live_listing_demo"
STATUSES = ["completed", "queued", "busy", "in-progress", "queued", "ringing", "queued"]  # oldest first


def fixture() -> dict:
    calls = [{"call_id": f"call_list_{i}", "organization_id": ORG, "provider": "twilio",
              "call_sid": f"CA{i:032d}", "from_phone_number": "+15551239000", "to_phone_number": "+15559876543",
              "status": "queued", "created_at": f"2026-11-20T10:00:0{i}.000Z"} for i in range(len(STATUSES))]
    calls += [{"call_id": "call_other_org", "organization_id": "org_listing_other", "provider": "twilio",
               "from_phone_number": "+15551239001", "to_phone_number": "+15559876543",
               "created_at": "2026-11-20T10:00:09.000Z"},
              {"call_id": "call_list_initiating", "organization_id": "org_listing_other", "provider": "twilio",
               "status": "initiating", "from_phone_number": "+15551239001", "to_phone_number": "+15559876543",
               "created_at": "2026-11-20T09:00:00.000Z"},
              {"call_id": "call_list_sip_initiating", "organization_id": "org_listing_other", "provider": "sip",
               "status": "initiating", "from_phone_number": "+15551239001", "to_phone_number": "+15559876543",
               "created_at": "2026-11-20T09:00:01.000Z"}]
    return {"organizations": [
        {"id": ORG, "name": "Listing", "balance_cents": 5000, "api_keys": [KEY], "call_reserve_cents": 50},
        {"id": "org_listing_other", "name": "Other", "balance_cents": 5000, "api_keys": ["sk_live_listing_other"]}],
        "calls": calls}


@pytest.fixture(scope="module")
def seeded(server, tmp_path_factory):
    path = tmp_path_factory.mktemp("listing") / "fixture.json"
    path.write_text(json.dumps(fixture()))
    done = subprocess.run([*OUTBOUND, "seed", str(path), "--local-server", server.url],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    # Move the seeded calls to their statuses the way providers do: signed webhooks.
    for i, status in enumerate(STATUSES):
        if status == "queued":
            continue
        call = {"call_id": f"call_list_{i}", "call_sid": f"CA{i:032d}", "provider": "twilio",
                "from_phone_number": "+15551239000", "to_phone_number": "+15559876543"}
        outcome = status if status in webhooks.OUTCOMES else "completed"
        callbacks = webhooks.callbacks(call, twilio.DEFAULT_CREDENTIALS, webhooks.callback_url(server.url, call),
                                       outcome, 30)
        for callback in callbacks:
            webhooks.send(callback)
            if callback.label == status:
                break
    return server


def list_calls(server, query="", key=KEY):
    return server.request("GET", f"/calls{query}", key=key)


def test_fixture_calls_hold_their_reserve(seeded):
    org = seeded.organization("org_listing_other")
    assert org["reserved_cents"] == 300 and org["available_cents"] == 4700  # 3 calls x the default 100


def test_pages_are_newest_first_and_complete(seeded):
    before = seeded.dynamodb_operations()
    seen, token, pages = [], None, 0
    while True:
        response = list_calls(seeded, f"?limit=3{'&next_token=' + token if token else ''}")
        assert response.status_code == 200, response.text
        body = response.json()
        assert len(body["calls"]) <= 3
        seen += [c["call_id"] for c in body["calls"]]
        pages += 1
        token = body["next_token"]
        if not token:
            break
    assert pages == 3
    assert seen == [f"call_list_{i}" for i in reversed(range(len(STATUSES)))]
    after = seeded.dynamodb_operations()
    assert after.get("Scan", 0) == before.get("Scan", 0)
    assert after["Query"] - before.get("Query", 0) == 3  # one index Query per page


def test_status_filter_and_record_shape(seeded):
    body = list_calls(seeded, "?status=queued").json()
    assert [c["call_id"] for c in body["calls"]] == ["call_list_6", "call_list_4", "call_list_1"]
    assert body["next_token"] is None
    page = list_calls(seeded, "?status=queued&limit=2").json()
    assert [c["call_id"] for c in page["calls"]] == ["call_list_6", "call_list_4"]
    rest = list_calls(seeded, f"?status=queued&limit=2&next_token={page['next_token']}").json()
    assert [c["call_id"] for c in rest["calls"]] == ["call_list_1"]
    completed = list_calls(seeded, "?status=completed").json()["calls"]
    assert len(completed) == 1 and completed[0]["charged_cents"] == 10  # 30 s at the stack's 10 cents
    assert completed[0]["organization_id"] == ORG and "gsi1pk" not in completed[0] and "pk" not in completed[0]
    assert [c["status"] for c in list_calls(seeded).json()["calls"]] == list(reversed(STATUSES))


def test_another_organization_sees_only_its_own_calls(seeded):
    ids = [c["call_id"] for c in list_calls(seeded, key="sk_live_listing_other").json()["calls"]]
    assert ids == ["call_other_org", "call_list_sip_initiating", "call_list_initiating"]
    # A token from one organization's listing does not open another's partition.
    token = list_calls(seeded, "?limit=1").json()["next_token"]
    ids = [c["call_id"] for c in list_calls(seeded, f"?next_token={token}", key="sk_live_listing_other").json()["calls"]]
    assert set(ids) <= {"call_other_org", "call_list_sip_initiating", "call_list_initiating"}


@pytest.mark.parametrize("query,detail", [
    ("?limit=0", "limit must be an integer from 1 to 100"),
    ("?limit=101", "limit must be an integer from 1 to 100"),
    ("?limit=abc", "limit must be an integer from 1 to 100"),
    ("?next_token=garbage", "Invalid next_token"),
    ("?status=done", "status must be one of: initiating, unconfirmed, queued, ringing, in-progress, completed, "
                     "busy, no-answer, failed, canceled"),
])
def test_bad_parameters_are_400(seeded, query, detail):
    response = list_calls(seeded, query)
    assert response.status_code == 400 and response.json() == {"detail": detail}


def test_listing_needs_an_api_key(seeded):
    response = list_calls(seeded, key=None)
    assert response.status_code == 401 and response.json() == {"detail": "Invalid or missing API key"}


def test_webhook_before_the_adapter_recorded_the_call_fills_in_its_id(seeded):
    """A provider's first webhook can beat our own 'placed' write: it moves the still-initiating
    call and records the provider's id; the later 'placed' write only fills in the id."""
    call = {"call_id": "call_list_initiating", "call_sid": "CA" + "4" * 32, "provider": "twilio",
            "from_phone_number": "+15551239001", "to_phone_number": "+15559876543"}
    ringing = webhooks.callbacks(call, twilio.DEFAULT_CREDENTIALS, webhooks.callback_url(seeded.url, call),
                                 "completed", 10)[1]
    status, body = webhooks.send(ringing)
    assert status == 200 and body["status"] == "ringing" and body["applied"] is True
    got = seeded.request("GET", "/calls/call_list_initiating", key="sk_live_listing_other").json()
    assert got["status"] == "ringing" and got["call_sid"] == call["call_sid"]


def test_sip_trunk_failover_hangup_does_not_end_a_call_still_being_placed(seeded):
    call = {"call_id": "call_list_sip_initiating", "call_sid": "11111111-2222-3333-4444-555555555555",
            "provider": "sip", "from_phone_number": "+15551239001", "to_phone_number": "+15559876543"}
    hangup = webhooks.callbacks(call, freeswitch.DEFAULT_CREDENTIALS, webhooks.callback_url(seeded.url, call),
                                "failed", 0)[-1]
    payload = json.loads(hangup.body)
    payload["hangup_cause"] = "GATEWAY_DOWN"  # the first trunk is down: the adapter tries the next
    raw = json.dumps(payload).encode()
    hangup = webhooks.Callback("sip", "hangup", hangup.url,
                               {"Content-Type": "application/json",
                                **webhooks.sip_signature_headers(raw, freeswitch.DEFAULT_CREDENTIALS["webhook_secret"],
                                                                 int(hangup.headers["X-Outbound-Timestamp"]))}, raw)
    status, body = webhooks.send(hangup)
    assert status == 200 and body["applied"] is False and body["status"] == "initiating"
