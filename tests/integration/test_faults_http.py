"""Faults over real HTTP: DynamoDB throttling, 5xx, refusals, timeouts and lost answers
(injected at the local moto server, the way DynamoDB answers them), a provider's 5xx, and a
function killed between the provider's accept and the record write.

The rule these prove: before the provider has the call, a failure is a clean 503 with nothing
written; once the provider has it, the answer is 200 with its call_sid whatever fails next, and
the record ends consistent with the provider's webhooks."""
import itertools
import json
import signal
import subprocess
import time

import pytest
import requests

from tests.conftest import EVENTS, OUTBOUND, ROOT, served_faults

pytestmark = pytest.mark.integration

ORG = "org_acme"
FROM = "+15551234567"
_destinations = itertools.count(1)


def unique_destination() -> str:
    """A number no other test calls (+1555988xxxx is this module's), so records are this test's."""
    return f"+1555988{next(_destinations):04d}"


def posts_to(server, to):
    return [r for r in server.provider_requests() if r["method"] == "POST" and to in str(r["body"])]


def call_records_to(server, to):
    """Test-side look at the table (a scan is fine here: a small local table)."""
    table = server.aws()["table_name"]
    items = server.dynamodb().scan(TableName=table, FilterExpression="to_phone_number = :to",
                                   ExpressionAttributeValues={":to": {"S": to}})["Items"]
    return [{k: list(v.values())[0] for k, v in item.items()} for item in items]


def emulate(server, call_ref, outcome="completed", duration=125):
    done = subprocess.run([*OUTBOUND, "emulate-call", call_ref, "--outcome", outcome, "--duration", str(duration),
                           "--server", server.url], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_initiate_succeeds_through_throttling_and_5xx_with_one_call_and_one_reserve(server, faults):
    server.add_funds(ORG, 1000)
    to = unique_destination()
    before = server.organization(ORG)
    served_before = served_faults(faults.state())
    faults("BatchGetItem", "InternalServerError", 1)
    faults("TransactWriteItems", "ProvisionedThroughputExceededException", 2)
    faults("UpdateItem", "ServiceUnavailable", 2)  # mark_call_placed
    response = server.initiate({"from_phone_number": FROM, "to_phone_number": to})
    assert response.status_code == 200, response.text
    state = faults.state()
    assert state["pending"] == {}  # every injected fault was answered, and retried past
    now_served = served_faults(state)
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
    faults.clear()
    assert response.status_code == 503
    assert set(response.json()) == {"detail"} and "Traceback" not in response.text
    assert response.json()["detail"].startswith("The service is temporarily unavailable")
    assert attempts == 3  # CLIENT_CONFIG total_max_attempts=3: the first try + 2 adaptive retries
    assert server.organization(ORG) == before  # no reserve ...
    assert call_records_to(server, to) == []  # ... and no record
    assert posts_to(server, to) == []  # and no call


@pytest.mark.parametrize("error", ["InternalServerError", "ProvisionedThroughputExceededException",
                                   "AccessDeniedException", "Timeout"])
def test_a_placed_call_is_answered_200_whatever_fails_after_the_provider_accepted_it(server, faults, error):
    """Every DynamoDB write after the provider step keeps failing (5xx, throttling, a refusal the
    SDK does not retry, requests that never answer): the answer is still 200 with the provider's
    call_sid, the call was sent once, and its webhooks later settle the record exactly."""
    server.add_funds(ORG, 1000)
    to = unique_destination()
    before = server.organization(ORG)
    faults("UpdateItem", error, 1000, delay_seconds=3)  # UpdateItem: the only write after the provider
    response = server.initiate({"from_phone_number": FROM, "to_phone_number": to})
    attempts = served_faults(faults.state())
    faults.clear()
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["message"] == "Call initiated successfully" and body["call_sid"].startswith("CA")
    assert attempts[("UpdateItem", error)] >= 2  # the write was retried until the deadline
    assert len(posts_to(server, to)) == 1  # the call itself was never re-sent
    [record] = call_records_to(server, to)
    assert record["status"] == "initiating" and "call_sid" not in record  # nothing recorded yet ...
    assert server.organization(ORG)["reserved_cents"] == before["reserved_cents"] + 100  # ... reserve held

    emulate(server, body["call_id"])  # the provider's webhooks carry our call id
    [record] = call_records_to(server, to)
    assert record["status"] == "completed" and record["call_sid"] == body["call_sid"]
    assert record["charged_cents"] == "36"  # 3 started minutes at 12
    after = server.organization(ORG)
    assert after["balance_cents"] == before["balance_cents"] - 36
    assert after["reserved_cents"] == before["reserved_cents"]  # settled once, released once


def test_a_transient_failure_after_the_provider_is_retried_into_the_record(server, faults):
    server.add_funds(ORG, 1000)
    to = unique_destination()
    faults("UpdateItem", "InternalServerError", 3)  # each quick attempt is one request: 3 fail, the 4th lands
    response = server.initiate({"from_phone_number": FROM, "to_phone_number": to})
    assert response.status_code == 200, response.text
    [record] = call_records_to(server, to)
    assert record["status"] == "queued" and record["call_sid"] == response.json()["call_sid"]


def test_a_lost_answer_to_the_placement_write_still_ends_queued_with_the_sid(server, faults):
    """The UpdateItem landed but its answer was lost: the retry's condition fails (already
    queued) and only fills in the call id again; the answer is 200."""
    server.add_funds(ORG, 1000)
    to = unique_destination()
    faults("UpdateItem", "InternalServerError", 1, after_commit=True)
    response = server.initiate({"from_phone_number": FROM, "to_phone_number": to})
    assert response.status_code == 200, response.text
    [record] = call_records_to(server, to)
    assert record["status"] == "queued" and record["call_sid"] == response.json()["call_sid"]


def test_a_committed_reserve_whose_answer_was_lost_is_not_applied_twice(server, faults):
    """The reserve transaction commits, its answer is lost, botocore re-sends it with the same
    ClientRequestToken: DynamoDB (and the local stack) answer "done" without writing again."""
    server.add_funds(ORG, 1000)
    to = unique_destination()
    before = server.organization(ORG)
    faults("TransactWriteItems", "InternalServerError", 1, after_commit=True)
    response = server.initiate({"from_phone_number": FROM, "to_phone_number": to})
    assert response.status_code == 200, response.text
    assert served_faults(faults.state())[("TransactWriteItems", "InternalServerError")] >= 1
    assert len(call_records_to(server, to)) == 1 and len(posts_to(server, to)) == 1
    assert server.organization(ORG)["reserved_cents"] == before["reserved_cents"] + 100  # held once


def test_a_refused_call_is_a_502_even_when_its_release_cannot_be_written(server, faults):
    server.add_funds(ORG, 1000)
    before = server.organization(ORG)
    faults("TransactWriteItems", "ServiceUnavailable", 1000, skip=1)  # the reserve passes, the release fails
    response = server.initiate({"from_phone_number": FROM, "to_phone_number": "+15005550001"})
    faults.clear()
    assert response.status_code == 502, response.text
    assert response.json()["detail"].startswith("Telephony provider error: ")
    # The record stays initiating with its reserve; the sweeper releases it later (tested there).
    assert server.organization(ORG)["reserved_cents"] == before["reserved_cents"] + 100


def test_a_refused_calls_release_that_meets_a_transaction_conflict_is_retried(server, faults):
    """A conflict is not "someone else settled it": swallowing it would hold the reserve of a call
    that was never placed until the sweeper, an hour later."""
    server.add_funds(ORG, 1000)
    before = server.organization(ORG)
    conflicts_before = served_faults(faults.state()).get(("TransactWriteItems", "TransactionConflict"), 0)
    faults("TransactWriteItems", "TransactionConflict", 2, skip=1)  # the reserve passes, the release conflicts twice
    response = server.initiate({"from_phone_number": FROM, "to_phone_number": "+15005550001"})
    served = served_faults(faults.state())
    faults.clear()
    assert response.status_code == 502, response.text
    assert served[("TransactWriteItems", "TransactionConflict")] - conflicts_before == 2  # served counts add up
    assert server.organization(ORG)["reserved_cents"] == before["reserved_cents"]  # released once


def test_a_provider_timeout_is_a_504_even_when_the_record_cannot_be_written(server, faults):
    server.add_funds(ORG, 1000)
    faults("UpdateItem", "InternalServerError", 1000)
    response = server.initiate({"from_phone_number": FROM, "to_phone_number": "+15005550002"})
    faults.clear()
    assert response.status_code == 504, response.text
    assert response.json()["call_id"].startswith("call_")


def test_a_function_killed_after_the_provider_accepted_ends_consistent_with_the_webhooks(server, faults, tmp_path):
    """A real crash: CallsApiFunction runs in its own process (`outbound invoke --local-server`)
    and is killed (SIGKILL) while its placement write is in flight. One provider request; the
    record and reserve stay together; the sweeper leaves them alone (the call may be running);
    the provider's webhooks then settle the call exactly once."""
    server.add_funds(ORG, 1000)
    to = unique_destination()
    before = server.organization(ORG)
    event = json.loads((EVENTS / "initiate-minimal.json").read_text())
    event["body"] = json.dumps({"from_phone_number": FROM, "to_phone_number": to})
    event_file = tmp_path / "initiate.json"
    event_file.write_text(json.dumps(event))
    held_before = served_faults(faults.state()).get(("UpdateItem", "Timeout"), 0)
    faults("UpdateItem", "Timeout", 1, delay_seconds=30)  # holds the placement write, never applies it
    process = subprocess.Popen([*OUTBOUND, "invoke", "CallsApiFunction", str(event_file), "--local-server",
                                server.url], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while served_faults(faults.state()).get(("UpdateItem", "Timeout"), 0) == held_before:
            assert time.monotonic() < deadline and process.poll() is None, "the placement write never came"
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)  # dies between the provider's accept and the record write
        process.wait(10)
    finally:
        if process.poll() is None:
            process.kill()
    faults.clear()
    assert len(posts_to(server, to)) == 1
    [record] = call_records_to(server, to)
    assert record["status"] == "initiating" and "call_sid" not in record
    assert server.organization(ORG)["reserved_cents"] == before["reserved_cents"] + 100

    swept = subprocess.run([*OUTBOUND, "invoke", "ReserveSweeperFunction", str(EVENTS / "sweep-reserves.json"),
                            "--local-server", server.url], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert swept.returncode == 0, swept.stderr
    assert record["call_id"] not in json.loads(swept.stdout)["call_ids"]  # the call may be running
    assert server.organization(ORG)["reserved_cents"] == before["reserved_cents"] + 100

    emulate(server, record["call_id"])
    [record] = call_records_to(server, to)
    placed = requests.get(server.url + "/_local/provider-calls", timeout=10).json()[record["call_id"]]
    assert record["status"] == "completed" and record["call_sid"] == placed["call_sid"]
    assert record["charged_cents"] == "36"
    after = server.organization(ORG)
    assert after["balance_cents"] == before["balance_cents"] - 36
    assert after["reserved_cents"] == before["reserved_cents"]


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
