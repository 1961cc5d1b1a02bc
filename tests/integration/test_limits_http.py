"""Count limits under concurrency, over real HTTP against `outbound serve`: a cap holds however
many requests race for its last slots (a conditional write, not a count read before the write),
and a delete frees exactly one slot. Organizations of their own, so no other test's endpoints count.
"""
from __future__ import annotations

import json
import subprocess
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conftest import OUTBOUND, ROOT

pytestmark = pytest.mark.integration

KEY, LEGACY_KEY, BUSY_KEY = "sk_live_limits_test", "sk_live_limits_legacy_test", "sk_live_limits_busy_test"
FIXTURE = {"organizations": [
    {"id": "org_limits", "name": "Limits", "balance_cents": 1000, "api_keys": [KEY]},
    {"id": "org_limits_legacy", "name": "Limits (endpoints from before the counter)", "balance_cents": 1000,
     "api_keys": [LEGACY_KEY]},
    {"id": "org_limits_busy", "name": "Limits (conflicting transactions)", "balance_cents": 1000,
     "api_keys": [BUSY_KEY]}]}
CAP = 20


@pytest.fixture(scope="module")
def limits(server, tmp_path_factory):
    path = tmp_path_factory.mktemp("limits") / "fixture.json"
    path.write_text(json.dumps(FIXTURE))
    done = subprocess.run([*OUTBOUND, "seed", str(path), "--local-server", server.url], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return server


def create(server, key):
    body = {"url": f"{server.url}/_local/webhook-receiver/limits-{uuid.uuid4().hex[:8]}", "events": ["call.completed"]}
    return server.request("POST", "/webhook-endpoints", body, key=key)


def race(server, key, requests_count):
    with ThreadPoolExecutor(requests_count) as pool:
        return [r.status_code for r in pool.map(lambda _: create(server, key), range(requests_count))]


def endpoints(server, key):
    answer = server.request("GET", "/webhook-endpoints", key=key)
    assert answer.status_code == 200, answer.text
    return answer.json()["webhook_endpoints"]


def test_thirty_parallel_creates_make_exactly_the_cap_and_a_delete_frees_one_slot(limits):
    statuses = race(limits, KEY, 30)
    assert sorted(statuses) == [201] * CAP + [409] * 10
    made = endpoints(limits, KEY)
    assert len(made) == CAP
    assert limits.request("DELETE", f"/webhook-endpoints/{made[0]['id']}", key=KEY).status_code == 200
    assert sorted(race(limits, KEY, 5)) == [201] + [409] * 4  # the freed slot, once
    assert len(endpoints(limits, KEY)) == CAP
    refused = create(limits, KEY)
    assert refused.status_code == 409 and "at most 20 webhook endpoints" in refused.json()["detail"]


def test_endpoints_made_before_the_counter_existed_count_toward_the_cap(limits):
    """An organization whose endpoints were written by an earlier version (no counter yet): the
    first create counts them, exactly, then the cap holds as for any other organization."""
    dynamodb, table = limits.dynamodb(), limits.aws()["table_name"]
    for i in range(CAP - 2):
        endpoint_id = f"we_{uuid.uuid4().hex[:24]}"
        dynamodb.put_item(TableName=table, Item={
            "pk": {"S": "ORG#org_limits_legacy"}, "sk": {"S": f"WHEP#{endpoint_id}"}, "id": {"S": endpoint_id},
            "organization_id": {"S": "org_limits_legacy"}, "url": {"S": "https://hooks.example.com/old"},
            "events": {"L": [{"S": "call.completed"}]}, "created_at": {"S": f"2025-01-01T00:00:{i:02d}.000Z"},
            "updated_at": {"S": "2025-01-01T00:00:00.000Z"}, "secret_version": {"N": "1"}})
    assert sorted(race(limits, LEGACY_KEY, 10)) == [201] * 2 + [409] * 8
    assert len(endpoints(limits, LEGACY_KEY)) == CAP



def test_a_create_canceled_by_concurrent_transactions_is_tried_again_then_answers_503(limits, faults):
    """DynamoDB cancels a transaction that meets a concurrent one on the counter
    (TransactionConflict): the create is tried again; if conflicts outlast the retries, a 503
    with Retry-After, and nothing is left behind (no endpoint, no slot taken)."""
    faults("TransactWriteItems", "TransactionConflict", 2)
    assert create(limits, BUSY_KEY).status_code == 201  # the third try went through
    faults("TransactWriteItems", "TransactionConflict", 1000)
    busy = create(limits, BUSY_KEY)
    faults.clear()
    assert busy.status_code == 503 and busy.headers["Retry-After"] == "1" and "try again" in busy.json()["detail"]
    assert len(endpoints(limits, BUSY_KEY)) == 1
    assert sorted(race(limits, BUSY_KEY, CAP)) == [201] * (CAP - 1) + [409]  # the failed try took no slot
