"""ScheduledCallFunction's inputs (Scheduler input, EventBridge envelopes) and how each failure
is classified: recorded and returned (not retried) or raised (retried, then dead-lettered)."""
from dataclasses import dataclass, field

import pytest

from outbound import store
from outbound.errors import (
    BadRequest,
    Forbidden,
    NotFound,
    PaymentRequired,
    ProviderFailed,
    ProviderTimedOut,
)
from outbound.schedules import fire as scheduled_call
from outbound.schedules.fire import parse_fire, run_fire

CALL = {"from_phone_number": "+15551234567", "to_phone_number": "+15559876543"}
SCHEDULER_INPUT = {"organization_id": "org_acme", "schedule_id": "sch_1", "scheduled_time": "2026-11-24T14:00:00Z",
                   "execution_id": "d32c5kddcf5bb8c3", "attempt": "1", "call": CALL}


def envelope(**overrides):
    return {"version": "0", "id": "ev-1", "detail-type": "Outbound Call Requested", "source": "com.example.app",
            "account": "123456789012", "time": "2026-11-24T14:00:00Z", "region": "us-east-1", "resources": [],
            "detail": {"organization_id": "org_acme", "call": CALL}, **overrides}


def test_every_delivery_of_a_scheduler_fire_shares_one_call_id():
    first = parse_fire(SCHEDULER_INPUT)
    retry = parse_fire({**SCHEDULER_INPUT, "execution_id": "another-attempt", "attempt": "2",
                        "scheduled_time": "2026-11-24T15:00:00+01:00"})  # the same instant, written otherwise
    assert first.fire_id == retry.fire_id and first.call_id == f"call_{first.fire_id}"
    assert first.scheduled_time == "2026-11-24T14:00:00Z" and first.source == "scheduler"
    assert parse_fire({**SCHEDULER_INPUT, "scheduled_time": "2026-11-25T14:00:00Z"}).fire_id != first.fire_id
    assert parse_fire({**SCHEDULER_INPUT, "schedule_id": "sch_2"}).fire_id != first.fire_id
    assert first.fire_id == store.fire_id_for("sch_1", "2026-11-24T14:00:00Z")


def test_an_input_without_its_fire_time_places_a_call_per_delivery():
    fire = parse_fire({"organization_id": "org_acme", "call": CALL,
                       "scheduled_time": "<aws.scheduler.scheduled-time>"})  # unrendered: invoked by hand
    assert fire.fire_id is None and fire.call_id is None


def test_application_events_are_keyed_by_source_and_id():
    first = parse_fire(envelope())
    assert first.source == "eventbridge" and first.fire_id
    assert parse_fire(envelope()).fire_id == first.fire_id  # EventBridge's retry keeps the id
    assert parse_fire(envelope(id="ev-2")).fire_id != first.fire_id
    assert parse_fire(envelope(source="com.example.other")).fire_id != first.fire_id


def test_a_scheduled_rule_is_keyed_by_rule_and_time():
    rule = "arn:aws:events:us-east-1:123456789012:rule/weekday-reminders"
    first = parse_fire(envelope(**{"detail-type": "Scheduled Event", "source": "aws.events", "resources": [rule]}))
    again = parse_fire(envelope(**{"detail-type": "Scheduled Event", "source": "aws.events", "resources": [rule],
                                   "id": "a-new-id-on-redelivery"}))
    later = parse_fire(envelope(**{"detail-type": "Scheduled Event", "source": "aws.events", "resources": [rule],
                                   "time": "2026-11-25T14:00:00Z"}))
    assert first.fire_id == again.fire_id != later.fire_id


def test_an_envelope_may_carry_its_own_schedule_and_time():
    detail = {"organization_id": "org_acme", "schedule_id": "sch_1", "scheduled_time": "2026-11-24T14:00:00Z",
              "call": CALL}
    assert parse_fire(envelope(detail=detail)).fire_id == parse_fire(SCHEDULER_INPUT).fire_id


@pytest.mark.parametrize("event,detail", [
    ([], "The scheduled call input must be a JSON object"),
    ({"call": CALL}, "organization_id is required"),
    ({"organization_id": "org_acme"}, "call must be an object (the POST /calls/initiate body)"),
    ({"organization_id": "org_acme", "call": CALL, "priority": 1}, "Unknown field: priority"),
    ({"organization_id": "org_acme", "call": CALL, "schedule_id": 7}, "schedule_id must be a non-empty string"),
    ({"organization_id": "org_acme", "call": CALL, "scheduled_time": "soon"}, None),
    (envelope(detail="not an object"), "The event's detail must be a JSON object"),
])
def test_malformed_inputs_are_bad_requests(event, detail):
    with pytest.raises(BadRequest) as raised:
        parse_fire(event)
    if detail:
        assert raised.value.detail == detail


@pytest.fixture
def recorded(monkeypatch):
    records = []
    monkeypatch.setattr(store, "record_fire_failure", records.append)
    return records


@pytest.mark.parametrize("error,outcome", [
    (BadRequest("Missing template variables: name"), "rejected"),
    (PaymentRequired("Insufficient balance. Please add funds to continue making calls."), "rejected"),
    (Forbidden("Unauthorized: phone number +15551234567 does not belong to your organization"), "rejected"),
    (NotFound("No assistant found for phone number +15551234567"), "rejected"),
    (ProviderFailed("Telephony provider error: invalid number"), "provider_failed"),
])
def test_failures_retrying_cannot_fix_are_recorded_and_returned(monkeypatch, recorded, error, outcome):
    def refuse(*args, **kwargs):
        raise error

    monkeypatch.setattr(scheduled_call, "prepare_call", refuse)
    result = run_fire(parse_fire(SCHEDULER_INPUT), "https://api.example.com/v1")
    assert result["outcome"] == outcome and result["status_code"] == error.status
    assert result["detail"] == error.detail
    [record] = recorded
    assert record["fire_id"] == parse_fire(SCHEDULER_INPUT).fire_id and record["status_code"] == error.status


@dataclass(frozen=True)
class Prepared:
    """What run_fire reads of a prepared call before placing it: no pre-dial check registered."""

    organization: dict = field(default_factory=dict)
    dial: object = None


PREPARED = Prepared()


def test_a_provider_timeout_is_not_retried_and_left_to_the_webhook(monkeypatch, recorded):
    def time_out(*args, **kwargs):
        raise ProviderTimedOut("Telephony provider did not answer in time", call_id="call_x")

    monkeypatch.setattr(scheduled_call, "prepare_call", lambda *a, **k: PREPARED)
    monkeypatch.setattr(scheduled_call, "place_prepared", time_out)
    result = run_fire(parse_fire(SCHEDULER_INPUT), "https://api.example.com/v1")
    assert result["outcome"] == "provider_timeout" and result["call_id"] == "call_x"
    assert recorded == []  # the call record (unconfirmed) is the record


def test_a_transient_failure_raises_so_the_delivery_is_retried(monkeypatch, recorded):
    from botocore.exceptions import ClientError

    def throttled(*args, **kwargs):
        raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}},
                          "BatchGetItem")

    monkeypatch.setattr(scheduled_call, "prepare_call", throttled)
    with pytest.raises(ClientError):
        run_fire(parse_fire(SCHEDULER_INPUT), "https://api.example.com/v1")
    assert recorded == []


def test_a_repeated_delivery_returns_the_first_outcome(monkeypatch, recorded):
    existing = {"call_id": "call_abc", "call_sid": "CA123", "status": "queued"}

    def duplicate(*args, **kwargs):
        raise store.CallAlreadyExists(existing)

    monkeypatch.setattr(scheduled_call, "prepare_call", lambda *a, **k: PREPARED)
    monkeypatch.setattr(scheduled_call, "place_prepared", duplicate)
    result = run_fire(parse_fire(SCHEDULER_INPUT), "https://api.example.com/v1")
    assert result["outcome"] == "duplicate" and result["call_sid"] == "CA123" and result["call_id"] == "call_abc"
    assert recorded == []
