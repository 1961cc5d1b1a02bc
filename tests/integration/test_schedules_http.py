"""Scheduled calls end to end against `outbound serve`: the Schedules API over HTTP, moto's
Scheduler holding the schedules, the local scheduler firing them through ScheduledCallFunction,
and the provider emulators receiving the calls."""
from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
import requests

from tests.conftest import DEMO_KEY, wait_for

pytestmark = pytest.mark.integration

FROM, TO = "+15551234567", "+15559876543"
UTC = timezone.utc


@pytest.fixture(scope="module", autouse=True)
def funds(server):
    server.add_funds("org_acme", 10_000)  # every placed call keeps its reserve for the session


def ahead(seconds: float) -> datetime:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).replace(microsecond=0)


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def deliveries(server, schedule_id: str | None = None) -> list[dict]:
    found = requests.get(server.url + "/_local/scheduler/deliveries", timeout=10).json()
    return [d for d in found if schedule_id is None or d["schedule"] == schedule_id
            or (d["input"] or {}).get("schedule_id") == schedule_id]


def deliver(server, event: dict) -> dict:
    return requests.post(server.url + "/_local/scheduler/deliver", data=json.dumps(event), timeout=30).json()


def schedule(server, key: str = DEMO_KEY, **fields) -> requests.Response:
    return server.request("POST", "/calls/schedule", {"from_phone_number": FROM, "to_phone_number": TO, **fields},
                          key=key)


def scheduler_client(server):
    import boto3

    info = server.aws()
    return boto3.client("scheduler", endpoint_url=info["endpoint_url"], region_name=info["region"],
                        aws_access_key_id="local", aws_secret_access_key="local")


def moto_schedule(server, schedule_id: str) -> dict | None:
    client = scheduler_client(server)
    try:
        return client.get_schedule(Name=schedule_id, GroupName="ScheduledCallsGroup")
    except client.exceptions.ResourceNotFoundException:
        return None


def ops_delta(server, action) -> tuple[object, dict[str, int]]:
    before = server.dynamodb_operations()
    result = action()
    after = server.dynamodb_operations()
    return result, {op: after[op] - before.get(op, 0) for op in after if after[op] != before.get(op, 0)}


def test_call_scheduled_seconds_ahead_is_placed_once_on_time(server):
    at = ahead(3)
    provider_before = len(server.provider_requests())
    created = schedule(server, scheduled_at=at.isoformat(), variables={"name": "John"},
                       welcome_message="Hi {{name}}, your reminder.")
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["message"] == "Call scheduled" and body["schedule_id"].startswith("sch_")
    assert parse(body["scheduled_at"]) == at
    schedule_id = body["schedule_id"]
    definition = moto_schedule(server, schedule_id)  # an EventBridge Scheduler schedule, as on AWS
    assert definition["ScheduleExpression"] == f"at({at.strftime('%Y-%m-%dT%H:%M:%S')})"
    assert definition["ActionAfterCompletion"] == "DELETE"
    assert definition["Target"]["Arn"].endswith(":function:ScheduledCallFunction")
    assert "<aws.scheduler.scheduled-time>" in definition["Target"]["Input"]
    assert server.request("GET", f"/calls/schedules/{schedule_id}").json()["status"] == "scheduled"

    view = wait_for(lambda: (v := server.request("GET", f"/calls/schedules/{schedule_id}").json())["status"] == "placed"
                and v)
    placed_seen = datetime.now(UTC)
    assert placed_seen - at < timedelta(seconds=2.5)  # fired within about a second of its time
    record = server.request("GET", f"/calls/{view['call_sid']}").json()
    assert record["call_id"] == view["call_id"] and record["status"] == "queued"
    assert at <= parse(record["created_at"]) < at + timedelta(seconds=1.5), record["created_at"]  # not early
    assert record["welcome_message"] == "Hi John, your reminder."
    assert record["schedule_id"] == schedule_id and parse(record["scheduled_time"]) == at
    sent = [r for r in server.provider_requests()[provider_before:]
            if isinstance(r["body"], dict) and r["body"].get("To") == [TO]]
    assert len(sent) == 1 and view["call_id"] in sent[0]["body"]["Twiml"][0]

    wait_for(lambda: moto_schedule(server, schedule_id) is None)  # at(): deleted after completion
    time.sleep(0.6)  # a few more scheduler ticks: still exactly one delivery
    assert len(deliveries(server, schedule_id)) == 1
    cancel = server.request("DELETE", f"/calls/schedules/{schedule_id}")
    assert cancel.status_code == 409
    assert cancel.json() == {"detail": f"Schedule {schedule_id} has already fired and cannot be canceled"}


def test_the_same_fire_delivered_twice_places_one_call(server):
    created = schedule(server, scheduled_at=ahead(2).isoformat()).json()
    first = wait_for(lambda: deliveries(server, created["schedule_id"]))[0]
    assert first["result"]["outcome"] == "placed"
    provider_before = len(server.provider_requests())

    again, used = ops_delta(server, lambda: deliver(server, first["input"]))  # Scheduler delivers it again
    assert again["outcome"] == "duplicate"
    assert again["call_sid"] == first["result"]["call_sid"] and again["call_id"] == first["result"]["call_id"]
    assert len(server.provider_requests()) == provider_before
    # The refused record write itself returns the first delivery's outcome: no extra read.
    assert used == {"BatchGetItem": 1, "GetItem": 1, "TransactWriteItems": 1}, used

    # A new fire (another scheduled time), delivered twice at the same moment: one call.
    event = {**first["input"], "scheduled_time": "2030-01-01T09:00:00Z"}
    results: list[dict] = []
    threads = [threading.Thread(target=lambda: results.append(deliver(server, event))) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r["outcome"] for r in results) == ["duplicate", "placed"], results
    assert results[0]["call_id"] == results[1]["call_id"]
    assert len(server.provider_requests()) == provider_before + 1


def test_first_delivery_costs_what_an_initiate_costs(server):
    created = schedule(server, scheduled_at=ahead(2).isoformat()).json()
    first = wait_for(lambda: deliveries(server, created["schedule_id"]))[0]
    event = {**first["input"], "scheduled_time": "2030-01-02T09:00:00Z"}  # a fresh fire, managed schedule
    result, used = ops_delta(server, lambda: deliver(server, event))
    assert result["outcome"] == "placed", result
    # BatchGetItem (number, organization, schedule), GetItem (assistant), the reserve
    # transaction, the status update: the duplicate check rides on the transaction.
    assert used == {"BatchGetItem": 1, "GetItem": 1, "TransactWriteItems": 1, "UpdateItem": 1}, used


def test_a_canceled_schedule_never_fires(server):
    at = ahead(2)
    created = schedule(server, scheduled_at=at.isoformat()).json()
    schedule_id = created["schedule_id"]
    provider_before = len(server.provider_requests())
    canceled = server.request("DELETE", f"/calls/schedules/{schedule_id}")
    assert canceled.status_code == 200
    assert canceled.json() == {"message": "Schedule canceled", "schedule_id": schedule_id, "status": "canceled"}
    assert moto_schedule(server, schedule_id) is None
    while datetime.now(UTC) < at + timedelta(seconds=1.2):  # past its time, and a few ticks more
        assert deliveries(server, schedule_id) == []
        time.sleep(0.2)
    assert deliveries(server, schedule_id) == []
    assert len(server.provider_requests()) == provider_before
    view = server.request("GET", f"/calls/schedules/{schedule_id}").json()
    assert view["status"] == "canceled" and view["canceled_at"]
    assert server.request("DELETE", f"/calls/schedules/{schedule_id}").status_code == 409
    # A stale delivery of the canceled schedule (e.g. one already in flight) places nothing.
    stale = {"organization_id": "org_acme", "schedule_id": schedule_id, "managed": True,
             "scheduled_time": at.strftime("%Y-%m-%dT%H:%M:%SZ"), "call": {"from_phone_number": FROM, "to_phone_number": TO}}
    assert deliver(server, stale)["outcome"] == "canceled"
    assert len(server.provider_requests()) == provider_before


def test_recurring_schedule_gives_its_next_fire_in_its_time_zone(server):
    from outbound.schedules.times import parse_cron, zone

    response = schedule(server, recurrence={"cron": "cron(0 9 ? * MON-FRI *)", "timezone": "Europe/Paris",
                                            "end_at": "2099-12-31T00:00:00"})
    assert response.status_code == 201, response.text
    body = response.json()
    expected = parse_cron("0 9 ? * MON-FRI *").next_after(datetime.now(UTC), zone("Europe/Paris"))
    assert parse(body["scheduled_at"]) == expected
    local = datetime.fromisoformat(body["scheduled_at"])
    assert (local.hour, local.minute) == (9, 0) and local.weekday() < 5
    assert body["recurrence"] == {"cron": "cron(0 9 ? * MON-FRI *)", "timezone": "Europe/Paris",
                                  "end_at": "2099-12-31T00:00:00+01:00"}
    definition = moto_schedule(server, body["schedule_id"])
    assert definition["ScheduleExpression"] == "cron(0 9 ? * MON-FRI *)"
    assert definition["ScheduleExpressionTimezone"] == "Europe/Paris"
    assert definition["Target"]["RetryPolicy"] == {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 3600}
    assert definition["Target"]["DeadLetterConfig"]["Arn"].endswith(":ScheduledCallsDeadLetterQueue")
    assert definition["Target"]["RoleArn"].endswith(":role/SchedulerRole")
    view = server.request("GET", f"/calls/schedules/{body['schedule_id']}").json()
    assert view["status"] == "active" and view["scheduled_at"] == body["scheduled_at"]
    assert server.request("DELETE", f"/calls/schedules/{body['schedule_id']}").status_code == 200
    assert moto_schedule(server, body["schedule_id"]) is None


@pytest.mark.parametrize("fields,status,detail", [
    ({"from_phone_number": "+15557654321"}, 403,
     "Unauthorized: phone number +15557654321 does not belong to your organization"),
    ({"assistant_id": 456}, 403, "Unauthorized: assistant 456 does not belong to your organization"),
    ({"from_phone_number": "+15551230404"}, 404, "No assistant found for phone number +15551230404"),
    ({"welcome_message": "Hi {{name}} at {{time}}"}, 400, "Missing template variables: name, time"),
    ({"to_phone_number": "5559876543"}, 400, "Invalid phone number format. Use E.164 format (e.g., +1234567890)"),
    ({"to_phone_number": None}, 400, "to_phone_number is required"),
    ({"scheduled_at": "2020-01-01T09:00:00+01:00"}, 400, None),
    ({"scheduled_at": "2099-03-08T02:30:00", "timezone": "America/New_York"}, 400,
     "scheduled_at 2099-03-08T02:30:00 does not exist in America/New_York: clocks skip it for daylight "
     "saving time. Choose another time"),
    ({"scheduled_at": "2099-03-08T09:00:00"}, 400, None),
    ({"scheduled_at": "2099-03-08T09:00:00", "timezone": "Mars/Olympus_Mons"}, 400,
     "Unknown time zone in timezone: Mars/Olympus_Mons"),
    ({"scheduled_at": "next tuesday"}, 400, None),
    ({}, 400, "scheduled_at or recurrence is required"),
    ({"scheduled_at": "2099-03-08T09:00:00Z", "recurrence": {"cron": "cron(0 9 * * ? *)"}}, 400,
     "Give either scheduled_at (one call) or recurrence (repeated calls)"),
    ({"recurrence": {"cron": "0 9 * * *"}}, 400, None),
    ({"recurrence": {"cron": "cron(0 9 * * * *)"}}, 400,
     "recurrence.cron: exactly one of day-of-month and day-of-week must be ?"),
    ({"recurrence": {"cron": "cron(0 9 * * ? 2020)"}}, 400, "recurrence.cron never fires"),
    ({"recurrence": {"cron": "cron(0 9 * * ? *)", "every": 2}}, 400, "Unknown field: recurrence.every"),
])
def test_scheduling_validates_everything_initiate_would(server, fields, status, detail):
    body = {"from_phone_number": FROM, "to_phone_number": TO, "scheduled_at": ahead(3600).isoformat(), **fields}
    if "recurrence" in fields and "scheduled_at" not in fields:
        del body["scheduled_at"]
    if fields == {}:
        del body["scheduled_at"]
    body = {k: v for k, v in body.items() if v is not None}
    groups_before = len(scheduler_client(server).list_schedules(GroupName="ScheduledCallsGroup")["Schedules"])
    response = server.request("POST", "/calls/schedule", body)
    assert response.status_code == status, response.text
    assert set(response.json()) == {"detail"}
    if detail is not None:
        assert response.json()["detail"] == detail
    # Nothing created: no Scheduler schedule.
    assert len(scheduler_client(server).list_schedules(GroupName="ScheduledCallsGroup")["Schedules"]) == groups_before


def test_past_time_names_the_time_and_now(server):
    response = schedule(server, scheduled_at="2020-01-01T09:00:00", timezone="Europe/Paris")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("scheduled_at must be in the future (it is 2020-01-01T09:00:00+01:00")


def test_schedules_are_organization_scoped_and_paginated(server):
    ids = [schedule(server, scheduled_at=ahead(7200 + i).isoformat()).json()["schedule_id"] for i in range(3)]
    other = server.request("GET", f"/calls/schedules/{ids[0]}", key="sk_live_globex_demo")
    assert other.status_code == 404 and other.json() == {"detail": f"Schedule {ids[0]} not found"}
    assert server.request("DELETE", f"/calls/schedules/{ids[0]}", key="sk_live_globex_demo").status_code == 404
    assert server.request("GET", f"/calls/schedules/{ids[0]}").status_code == 200  # not canceled by them
    globex = server.request("GET", "/calls/schedules", key="sk_live_globex_demo").json()
    assert not any(s["schedule_id"] in ids for s in globex["schedules"])

    seen, token, pages = [], None, 0
    while True:
        page = server.request("GET", "/calls/schedules?limit=2" + (f"&next_token={token}" if token else "")).json()
        pages += 1
        assert len(page["schedules"]) <= 2
        seen += [s["schedule_id"] for s in page["schedules"]]
        token = page["next_token"]
        if not token:
            break
    assert pages >= 2 and len(seen) == len(set(seen))
    assert seen[:3] == ids[::-1]  # newest first
    assert all(s["organization_id"] == "org_acme" for s in page["schedules"])
    for query in ("limit=0", "limit=abc", "next_token=garbage"):
        bad = server.request("GET", f"/calls/schedules?{query}")
        assert bad.status_code == 400 and set(bad.json()) == {"detail"}
    assert server.request("GET", "/calls/schedules/sch_unknown").status_code == 404
    assert server.request("GET", "/calls/schedules", key="sk_live_unknown").status_code == 401


def test_a_fire_that_retrying_cannot_fix_is_recorded_and_not_retried(server):
    created = schedule(server, key="sk_live_broke_demo", from_phone_number="+15550000050",
                       scheduled_at=ahead(2).isoformat())
    assert created.status_code == 201, created.text  # the balance is checked when the call is placed
    schedule_id = created.json()["schedule_id"]
    view = wait_for(lambda: (v := server.request("GET", f"/calls/schedules/{schedule_id}", key="sk_live_broke_demo")
                         .json())["status"] == "failed" and v)
    assert view["failure"] == {"status_code": 402,
                               "detail": "Insufficient balance. Please add funds to continue making calls."}
    [delivery] = deliveries(server, schedule_id)
    assert delivery["attempts"] == 1 and delivery["dead_lettered"] is False  # not retried
    assert delivery["result"]["outcome"] == "rejected"


def test_a_transient_failure_is_retried_then_dead_lettered(server):
    """An error the function cannot classify (here: the organization's balance attributes are
    corrupt, so the reserve transaction fails) raises; Scheduler's retry policy delivers it again
    (safe: same fire, same call id), then the dead-letter queue gets it. No call is placed."""
    dynamodb, table = server.dynamodb(), server.aws()["table_name"]
    items = [
        {"pk": {"S": "ORG#org_glitch"}, "sk": {"S": "ORG"}, "organization_id": {"S": "org_glitch"},
         "balance_cents": {"N": "1000"}, "reserved_cents": {"N": "0"}, "available_cents": {"S": "lots"}},
        {"pk": {"S": "PHONE#+15551239999"}, "sk": {"S": "PHONE"}, "organization_id": {"S": "org_glitch"},
         "provider": {"S": "twilio"}, "assistant_id": {"N": "123999"}},
        {"pk": {"S": "ASSISTANT#123999"}, "sk": {"S": "ASSISTANT"}, "id": {"N": "123999"},
         "organization_id": {"S": "org_glitch"}, "welcome_message": {"S": "Hi."}, "agenda": {"S": "Test."}},
    ]
    for item in items:
        dynamodb.put_item(TableName=table, Item=item)
    secrets = server.aws()
    import boto3

    boto3.client("secretsmanager", endpoint_url=secrets["endpoint_url"], region_name=secrets["region"],
                 aws_access_key_id="local", aws_secret_access_key="local").create_secret(
        Name=f"{secrets['credentials_secret_prefix']}org_glitch/twilio",
        SecretString=json.dumps({"account_sid": "AC" + "0" * 32, "auth_token": "x" * 32}))
    provider_before = len(server.provider_requests())
    at = ahead(2)
    scheduler_client(server).create_schedule(  # an operator's own schedule targeting the function
        Name="glitch-once", GroupName="ScheduledCallsGroup",
        ScheduleExpression=f"at({at.strftime('%Y-%m-%dT%H:%M:%S')})", ScheduleExpressionTimezone="UTC",
        FlexibleTimeWindow={"Mode": "OFF"}, ActionAfterCompletion="DELETE",
        Target={"Arn": "arn:aws:lambda:us-east-1:123456789012:function:ScheduledCallFunction",
                "RoleArn": "arn:aws:iam::123456789012:role/SchedulerRole",
                "RetryPolicy": {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 600},
                "Input": json.dumps({"organization_id": "org_glitch", "schedule_id": "glitch-once",
                                     "scheduled_time": "<aws.scheduler.scheduled-time>",
                                     "call": {"from_phone_number": "+15551239999", "to_phone_number": TO}})})
    [delivery] = wait_for(lambda: [d for d in deliveries(server) if d["schedule"] == "glitch-once"])
    assert delivery["attempts"] == 3 and delivery["dead_lettered"] is True  # 1 + MaximumRetryAttempts
    assert "TransactionCanceledException" in delivery["error"]
    assert len(server.provider_requests()) == provider_before


def test_an_application_event_delivered_twice_places_one_call(server):
    event = {"version": "0", "id": "0d4f8f4e-4b0a-4c47-9f6e-6c1b3b7a9e11", "detail-type": "Outbound Call Requested",
             "source": "com.example.appointments", "account": "123456789012", "time": "2026-11-24T14:00:00Z",
             "region": "us-east-1", "resources": [],
             "detail": {"organization_id": "org_acme", "call": {"from_phone_number": FROM, "to_phone_number": TO}}}
    first = deliver(server, event)
    assert first["outcome"] == "placed" and first["call_sid"].startswith("CA")
    again = deliver(server, event)
    assert again["outcome"] == "duplicate" and again["call_sid"] == first["call_sid"]
    other = deliver(server, {**event, "id": "a-different-event"})
    assert other["outcome"] == "placed" and other["call_sid"] != first["call_sid"]
    record = server.request("GET", f"/calls/{first['call_sid']}").json()
    assert record["call_id"] == first["call_id"]
