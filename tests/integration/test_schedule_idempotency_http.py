"""Idempotency-Key on POST /calls/schedule over real HTTP: same semantics as on initiate."""
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

pytestmark = pytest.mark.integration

FROM = "+15551234567"
AT = "2099-06-01T09:00:00+00:00"  # far ahead: these schedules never fire during the tests
BODY = {"from_phone_number": FROM, "to_phone_number": "+15559876543", "scheduled_at": AT}


def schedule(server, body, key=None, api_key="sk_live_acme_demo"):
    headers = {"Idempotency-Key": key} if key is not None else None
    return server.request("POST", "/calls/schedule", body, key=api_key, headers=headers)


def schedules_in_scheduler(server):
    import boto3

    info = server.aws()
    client = boto3.client("scheduler", endpoint_url=info["endpoint_url"], region_name=info["region"],
                          aws_access_key_id="local", aws_secret_access_key="local")
    return [s["Name"] for s in client.list_schedules(GroupName="ScheduledCallsGroup", MaxResults=100)["Schedules"]]


def test_same_key_and_body_replays_the_first_201_and_creates_one_schedule(server):
    key = str(uuid.uuid4())
    first = schedule(server, BODY, key)
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    again = schedule(server, dict(reversed(list(BODY.items()))), key)  # same body, other key order
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    schedule_id = first.json()["schedule_id"]
    assert schedules_in_scheduler(server).count(schedule_id) == 1
    assert server.request("GET", f"/calls/schedules/{schedule_id}").json()["status"] == "scheduled"


def test_without_a_key_every_request_is_a_new_schedule(server):
    ids = {schedule(server, BODY).json()["schedule_id"] for _ in range(2)}
    assert len(ids) == 2


def test_same_key_with_another_body_is_422(server):
    key = str(uuid.uuid4())
    assert schedule(server, BODY, key).status_code == 201
    response = schedule(server, {**BODY, "to_phone_number": "+15559870010"}, key)
    assert response.status_code == 422
    assert response.json() == {"detail": "Idempotency-Key was already used with a different request"}


def test_keys_are_scoped_per_organization(server):
    key = str(uuid.uuid4())
    ours = schedule(server, BODY, key)
    theirs = schedule(server, {**BODY, "from_phone_number": "+15557654321"}, key, api_key="sk_live_globex_demo")
    assert ours.status_code == theirs.status_code == 201
    assert "Idempotent-Replayed" not in theirs.headers
    assert ours.json()["schedule_id"] != theirs.json()["schedule_id"]


def test_a_refused_request_is_not_remembered(server):
    key = str(uuid.uuid4())
    refused = schedule(server, {**BODY, "scheduled_at": "2020-01-01T09:00:00+00:00"}, key)
    assert refused.status_code == 400
    fixed = schedule(server, BODY, key)  # the corrected retry is evaluated afresh
    assert fixed.status_code == 201 and "Idempotent-Replayed" not in fixed.headers


def test_an_invalid_key_is_400(server):
    response = schedule(server, BODY, "x" * 256)
    assert response.status_code == 400 and "Idempotency-Key" in response.json()["detail"]


def test_concurrent_duplicates_create_one_schedule(server):
    key = str(uuid.uuid4())
    with ThreadPoolExecutor(max_workers=6) as pool:
        responses = list(pool.map(lambda _: schedule(server, BODY, key), range(6)))
    assert {r.status_code for r in responses} <= {201, 409}
    ids = {r.json()["schedule_id"] for r in responses if r.status_code == 201}
    assert len(ids) == 1
    assert [r.headers.get("Idempotent-Replayed") for r in responses].count(None) == 1  # one created it
    assert all(r.headers.get("Idempotent-Replayed") == "true" for r in responses if r.status_code == 409)
    assert schedules_in_scheduler(server).count(ids.pop()) == 1


def test_in_flight_is_409(server):
    """The first request's record exists but its Scheduler schedule is not created yet."""
    from outbound.schedules.manage import body_hash, idempotent_schedule_id

    key = str(uuid.uuid4())
    schedule_id = idempotent_schedule_id("org_acme", key)
    table = server.aws()["table_name"]
    server.dynamodb().put_item(TableName=table, Item={
        "pk": {"S": f"SCHEDULE#{schedule_id}"}, "sk": {"S": "SCHEDULE"}, "schedule_id": {"S": schedule_id},
        "organization_id": {"S": "org_acme"}, "creating": {"BOOL": True}, "request_hash": {"S": body_hash(BODY)},
        "created_at": {"S": "2099-01-01T00:00:00.000Z"}})
    response = schedule(server, BODY, key)
    assert response.status_code == 409 and response.headers["Idempotent-Replayed"] == "true"
    assert response.json() == {"detail": "A request with this Idempotency-Key is still in progress"}
