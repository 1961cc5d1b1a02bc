"""No overdraft under races: 40 concurrent calls against a balance that covers exactly 10."""
from concurrent.futures import ThreadPoolExecutor

import pytest

pytestmark = pytest.mark.integration

FROM = "+15551230030"  # org_race: balance 1000 cents, reserve 100 cents per call


def test_forty_concurrent_calls_place_exactly_ten(server):
    before = [r for r in server.provider_requests() if r["provider"] == "twilio"]
    body = {"from_phone_number": FROM, "to_phone_number": "+15559876543"}
    with ThreadPoolExecutor(max_workers=40) as pool:
        responses = list(pool.map(lambda _: server.initiate(body, key="sk_live_race_demo"), range(40)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(200) == 10 and statuses.count(402) == 30, statuses
    assert all(r.json() == {"detail": "Insufficient balance. Please add funds to continue making calls."}
               for r in responses if r.status_code == 402)
    placed = [r for r in server.provider_requests() if r["provider"] == "twilio"][len(before):]
    # create-calls only (the emulator also logs GETs: provider record reads, whose body is empty)
    assert sum(1 for r in placed if isinstance(r["body"], dict) and r["body"].get("From") == [FROM]) == 10
    org = server.organization("org_race")
    assert org["available_cents"] == 0 and org["reserved_cents"] == 1000 and org["balance_cents"] == 1000
    # Nothing half-written: exactly one call record per 200, none for the 402s.
    table = server.aws()["table_name"]
    records = [i for i in server.dynamodb().scan(TableName=table)["Items"]
               if i.get("organization_id", {}).get("S") == "org_race" and i["pk"]["S"].startswith("CALL#")]
    assert len(records) == 10 and all(r["status"]["S"] == "queued" for r in records)
    assert {r["call_sid"]["S"] for r in records} == {r.json()["call_sid"] for r in responses if r.status_code == 200}
    # The ledger agrees: 10 reserves written with the 10 records, none for the 30 refusals.
    done = server.reconcile("org_race")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ledger: 11 entries, balance 1000, reserved 1000" in done.stdout  # opening credit + 10 reserves
