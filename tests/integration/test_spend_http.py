"""GET /organization/spend?days=: charges per UTC day, from totals kept in the charging transactions
(one Query), over real HTTP against `outbound serve` with calls ended by signed provider webhooks."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

pytestmark = pytest.mark.integration

ORG, KEY, NUMBER, RATE = "org_spend", "sk_live_spend_test", "+15551239200", 10


@pytest.fixture(scope="module", autouse=True)
def tenant(server, tmp_path_factory):
    fixture = {"organizations": [{"id": ORG, "name": "Spend", "balance_cents": 5_000, "api_keys": [KEY],
                                  "per_minute_rate_cents": RATE}],
               "assistants": [{"id": 9201, "organization_id": ORG, "name": "Sam"}],
               "phone_numbers": [{"number": NUMBER, "organization_id": ORG, "provider": "twilio",
                                  "assistant_id": 9201}]}
    path = tmp_path_factory.mktemp("spend") / "fixture.json"
    path.write_text(json.dumps(fixture))
    server.outbound("seed", str(path), "--local-server", server.url)


def spend(server, query: str = "", key: str = KEY):
    return server.request("GET", f"/organization/spend{query}", key=key)


def call(server, outcome: str, duration: int) -> None:
    answer = server.initiate({"from_phone_number": NUMBER, "to_phone_number": "+15559876543"}, key=KEY)
    assert answer.status_code == 200, answer.text
    server.outbound("emulate-call", answer.json()["call_sid"], "--outcome", outcome, "--duration", str(duration),
                    "--server", server.url)


def test_a_new_organization_spent_nothing_on_every_day(server):
    body = spend(server, "?days=7").json()
    today = datetime.now(timezone.utc).date()
    assert [d["day"] for d in body["days"]] == [(today - timedelta(days=6 - i)).isoformat() for i in range(7)]
    assert body["first_day"] == body["days"][0]["day"] and body["last_day"] == today.isoformat()
    assert body["total_cents"] == 0 and body["time_zone"] == "UTC"
    assert {d["charged_cents"] for d in body["days"]} == {0}


def test_todays_charges_net_of_unanswered_calls_and_equal_to_the_ledger(server):
    call(server, "completed", 125)  # 3 started minutes: 30 cents
    call(server, "completed", 30)  # 10 cents
    call(server, "busy", 0)  # not charged
    body = spend(server).json()
    assert len(body["days"]) == 30
    assert body["days"][-1] == {"day": datetime.now(timezone.utc).date().isoformat(), "charged_cents": 40,
                                "charges": 2}
    assert body["total_cents"] == 40
    entries = server.request("GET", "/organization/ledger?limit=100", key=KEY).json()["entries"]
    charged = -sum(e["balance_delta_cents"] for e in entries if e["kind"] in ("charge", "extra_charge", "refund"))
    assert charged == body["total_cents"]


def test_spend_is_one_query_and_only_the_callers(server):
    before = server.dynamodb_operations()
    assert spend(server, "?days=366").status_code == 200
    after = server.dynamodb_operations()
    assert after.get("Query", 0) - before.get("Query", 0) == 1 and after.get("Scan", 0) == before.get("Scan", 0)
    other = spend(server, key="sk_live_globex_demo").json()
    assert other["total_cents"] == 0
    assert spend(server, key=None).status_code == 401


@pytest.mark.parametrize("query,detail", [
    ("?days=0", "days must be an integer from 1 to 366"), ("?days=367", "days must be an integer from 1 to 366"),
    ("?days=%D9%A3", "days must be an integer from 1 to 366"), ("?days=1&days=2", "days must be given at most once"),
    ("?day=3", "Unknown query parameter: day")])
def test_bad_parameters_are_400(server, query, detail):
    response = spend(server, query)
    assert response.status_code == 400 and response.json() == {"detail": detail}
