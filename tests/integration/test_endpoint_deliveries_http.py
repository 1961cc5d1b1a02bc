"""GET /webhook-endpoints/{endpoint_id}/deliveries: an endpoint's delivery log, newest first, paged
(an index Query per page, never a Scan), organization-scoped; over real HTTP against `outbound
serve`, deliveries made by its stream consumer and deliverer to the loopback receiver."""
from __future__ import annotations

import json
import uuid

import pytest

from tests.conftest import wait_for

pytestmark = pytest.mark.integration

ORG, KEY, FROM = "org_dlog", "sk_live_dlog_test", "+15551239400"


@pytest.fixture(scope="module")
def seeded(server, tmp_path_factory):
    fixture = {"organizations": [{"id": ORG, "name": "Delivery log", "balance_cents": 10_000, "api_keys": [KEY]}],
               "assistants": [{"id": 9401, "organization_id": ORG, "name": "Dee"}],
               "phone_numbers": [{"number": FROM, "organization_id": ORG, "provider": "twilio", "assistant_id": 9401}]}
    path = tmp_path_factory.mktemp("dlog") / "fixture.json"
    path.write_text(json.dumps(fixture))
    server.outbound("seed", str(path), "--local-server", server.url)
    return server


def endpoint(server, events: list[str]) -> dict:
    url = f"{server.url}/_local/webhook-receiver/dlog-{uuid.uuid4().hex[:8]}"
    answer = server.request("POST", "/webhook-endpoints", {"url": url, "events": events}, key=KEY)
    assert answer.status_code == 201, answer.text
    return answer.json()


def log(server, endpoint_id: str, query: str = "", key: str = KEY):
    return server.request("GET", f"/webhook-endpoints/{endpoint_id}/deliveries{query}", key=key)


def test_an_endpoints_deliveries_newest_first_in_pages(seeded):
    mine, other = endpoint(seeded, ["call.completed", "call.answered"]), endpoint(seeded, ["call.completed"])
    calls = []
    for _ in range(2):
        answer = seeded.initiate({"from_phone_number": FROM, "to_phone_number": "+15559876543"}, key=KEY).json()
        seeded.outbound("emulate-call", answer["call_sid"], "--outcome", "completed", "--duration", "20",
                        "--server", seeded.url)
        calls.append(answer["call_id"])
    def all_delivered():
        found = log(seeded, mine["id"], "?limit=100").json()["deliveries"]
        return found if len(found) == 4 and all(d["status"] == "succeeded" for d in found) else None

    everything = wait_for(all_delivered, what="4 deliveries to the endpoint")
    assert {d["endpoint_id"] for d in everything} == {mine["id"]}
    assert sorted(d["event_type"] for d in everything) == ["call.answered", "call.answered", "call.completed",
                                                           "call.completed"]
    assert [d["created_at"] for d in everything] == sorted((d["created_at"] for d in everything), reverse=True)
    assert {d["subject"] for d in everything} == set(calls)
    assert all(d["attempts"] and d["attempts"][0]["status_code"] == 200 for d in everything)

    before = seeded.dynamodb_operations()
    first = log(seeded, mine["id"], "?limit=3").json()
    assert len(first["deliveries"]) == 3 and first["next_token"]
    rest = log(seeded, mine["id"], f"?limit=3&next_token={first['next_token']}").json()
    assert [d["id"] for d in first["deliveries"] + rest["deliveries"]] == [d["id"] for d in everything]
    assert rest["next_token"] is None
    after = seeded.dynamodb_operations()
    assert after.get("Scan", 0) == before.get("Scan", 0)
    assert len(wait_for(lambda: log(seeded, other["id"]).json()["deliveries"], what="the other endpoint's")) >= 1


def test_another_organizations_endpoint_is_404_and_bad_queries_400(seeded):
    mine = endpoint(seeded, ["call.completed"])
    response = log(seeded, mine["id"], key="sk_live_acme_demo")
    assert response.status_code == 404
    assert response.json() == {"detail": f"Webhook endpoint {mine['id']} not found"}
    assert log(seeded, "we_000000000000000000000000").status_code == 404
    assert log(seeded, mine["id"], key=None).status_code == 401
    assert log(seeded, mine["id"], "?limit=0").json() == {"detail": "limit must be an integer from 1 to 100"}
    assert log(seeded, mine["id"], "?next_token=garbage").json() == {
        "detail": "next_token is not valid: use the next_token of the previous page"}
