"""Faults over real HTTP: DynamoDB throttling and 5xx (injected at the local moto server, the
way DynamoDB answers them), and a provider's 5xx."""
import itertools

import pytest
import requests

pytestmark = pytest.mark.integration

ORG = "org_acme"
FROM = "+15551234567"
_destinations = itertools.count(1)


def unique_destination() -> str:
    """A number no other test calls (+1555988xxxx is this module's), so records are this test's."""
    return f"+1555988{next(_destinations):04d}"


@pytest.fixture
def faults(server):
    """POST /_local/faults/dynamodb, cleared after the test whatever happens."""
    url = server.url + "/_local/faults/dynamodb"
    requests.delete(url, timeout=10)

    def inject(operation, error, count):
        answer = requests.post(url, json={"operation": operation, "error": error, "count": count}, timeout=10).json()
        assert "error" not in answer, answer
        return answer

    inject.state = lambda: requests.get(url, timeout=10).json()
    yield inject
    requests.delete(url, timeout=10)


def served(state):
    return {(f["operation"], f["error"]): f["count"] for f in state["served"]}


def posts_to(server, to):
    return [r for r in server.provider_requests() if r["method"] == "POST" and to in str(r["body"])]


def call_records_to(server, to):
    """Test-side look at the table (a scan is fine here: a small local table)."""
    table = server.aws()["table_name"]
    items = server.dynamodb().scan(TableName=table, FilterExpression="to_phone_number = :to",
                                   ExpressionAttributeValues={":to": {"S": to}})["Items"]
    return [{k: list(v.values())[0] for k, v in item.items()} for item in items]


def test_initiate_succeeds_through_throttling_and_5xx_with_one_call_and_one_reserve(server, faults):
    server.add_funds(ORG, 1000)
    to = unique_destination()
    before = server.organization(ORG)
    served_before = served(faults.state())
    faults("BatchGetItem", "InternalServerError", 1)
    faults("TransactWriteItems", "ProvisionedThroughputExceededException", 2)
    faults("UpdateItem", "ServiceUnavailable", 2)  # mark_call_placed
    response = server.initiate({"from_phone_number": FROM, "to_phone_number": to})
    assert response.status_code == 200, response.text
    state = faults.state()
    assert state["pending"] == {}  # every injected fault was answered, and retried past
    now_served = served(state)
    for op, error, n in (("BatchGetItem", "InternalServerError", 1),
                         ("TransactWriteItems", "ProvisionedThroughputExceededException", 2),
                         ("UpdateItem", "ServiceUnavailable", 2)):
        assert now_served[(op, error)] - served_before.get((op, error), 0) == n
    assert len(posts_to(server, to)) == 1  # exactly one call placed
    after = server.organization(ORG)
    assert after["reserved_cents"] == before["reserved_cents"] + 100  # one reserve, held once
    assert after["balance_cents"] == before["balance_cents"]
    assert after["available_cents"] == before["available_cents"] - 100
    [record] = call_records_to(server, to)
    assert record["status"] == "queued" and record["call_sid"] == response.json()["call_sid"]


def test_dynamodb_failing_beyond_the_retries_is_a_clean_503_with_nothing_written(server, faults):
    server.add_funds(ORG, 1000)
    to = unique_destination()
    before = server.organization(ORG)
    faults("TransactWriteItems", "ProvisionedThroughputExceededException", 50)
    response = server.initiate({"from_phone_number": FROM, "to_phone_number": to})
    attempts = 50 - faults.state()["pending"]["TransactWriteItems"][0]["count"]
    requests.delete(server.url + "/_local/faults/dynamodb", timeout=10)
    assert response.status_code == 503
    assert set(response.json()) == {"detail"} and "Traceback" not in response.text
    assert response.json()["detail"].startswith("The service is temporarily unavailable")
    assert attempts == 3  # CLIENT_CONFIG total_max_attempts=3: the first try + 2 adaptive retries
    assert server.organization(ORG) == before  # no reserve ...
    assert call_records_to(server, to) == []  # ... and no record
    assert posts_to(server, to) == []  # and no call


def test_a_failure_after_the_provider_answered_keeps_record_and_reserve_together(server, faults):
    """mark_call_placed cannot be written: a 503, but the call record and its reserve exist
    together (the webhook or the reserve sweeper reconciles them), never one without the other."""
    server.add_funds(ORG, 1000)
    to = unique_destination()
    before = server.organization(ORG)
    faults("UpdateItem", "InternalServerError", 50)
    response = server.initiate({"from_phone_number": FROM, "to_phone_number": to})
    requests.delete(server.url + "/_local/faults/dynamodb", timeout=10)
    assert response.status_code == 503 and set(response.json()) == {"detail"}
    assert len(posts_to(server, to)) == 1  # placed once, not retried
    [record] = call_records_to(server, to)
    assert record["status"] == "initiating" and record["initiating_shard"].startswith("INITIATING#")
    assert server.organization(ORG)["reserved_cents"] == before["reserved_cents"] + 100


@pytest.mark.parametrize("from_number,provider", [("+15551234567", "twilio"), ("+15551230007", "telnyx"),
                                                  ("+15551230008", "vonage")])
def test_a_provider_5xx_is_a_502_with_the_reserve_released_and_one_post(server, from_number, provider):
    server.add_funds(ORG, 1000)
    before = server.organization(ORG)
    count = len([r for r in server.provider_requests() if r["provider"] == provider])
    response = server.initiate({"from_phone_number": from_number, "to_phone_number": "+15005550004"})
    assert response.status_code == 502, response.text
    assert response.json()["detail"].startswith("Telephony provider error: ")
    assert len([r for r in server.provider_requests() if r["provider"] == provider]) == count + 1  # no retry
    assert server.organization(ORG) == before  # released, nothing charged
