"""The pure parts of campaigns that heal themselves: which failures are worth a quick retry, how
an outcome that stays unknown is treated by the retry policy, and what a call the reserve
sweeper gave up on tells its campaign."""
from datetime import datetime, timezone

import pytest
from botocore.exceptions import ClientError, ReadTimeoutError

from outbound.campaigns.dispatch import TickConflict
from outbound.campaigns.messages import transient
from outbound.campaigns.models import RetryPolicyIn
from outbound.campaigns.outcomes import ended_event
from outbound.campaigns.policy import RetryPolicy, after_call

UTC = timezone.utc
NOON = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def always(at: datetime) -> datetime:
    """A window that is always open: a retry is due at its delay's end."""
    return at


def client_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "x"}}, "TransactWriteItems")


@pytest.mark.parametrize("code", ["ThrottlingException", "ProvisionedThroughputExceededException",
                                  "InternalServerError", "ServiceUnavailable", "RequestLimitExceeded"])
def test_throttling_and_5xx_are_worth_a_quick_retry(code):
    assert transient(client_error(code))


def test_a_bug_or_a_refused_permission_is_not():
    assert not transient(client_error("AccessDeniedException"))
    assert not transient(client_error("ValidationException"))
    assert not transient(KeyError("campaign_id"))
    assert transient(TickConflict("kept conflicting"))
    assert transient(ReadTimeoutError(endpoint_url="http://x"))


def test_an_unknown_outcome_ends_unknown_unless_the_policy_names_it():
    default = RetryPolicy(3, (0,), tuple(RetryPolicyIn().retry_on))
    assert "unknown" not in default.retry_on
    assert after_call("unknown", 1, default, NOON, always).final_status == "unknown"
    opted_in = RetryPolicy(3, (0,), ("unknown",))
    outcome = after_call("unknown", 1, opted_in, NOON, always)
    assert outcome.final_status is None and outcome.retry_at == NOON
    assert after_call("unknown", 3, opted_in, NOON, always).final_status == "unknown"


def test_a_call_the_reserve_sweeper_gave_up_on_ends_its_attempt_unknown_not_failed():
    call = {"call_id": "call_1", "campaign_id": "cmp_1", "contact_id": "ct_1", "attempt": 1, "status": "failed",
            "to_phone_number": "+12125550100", "abandoned_at": "2026-03-10T13:12:00.000Z"}
    assert ended_event(call)["status"] == "unknown"
    refused = {**call, "abandoned_at": None}
    assert ended_event(refused)["status"] == "failed"  # refused by the provider: it is known


class _Sqs:
    def __init__(self):
        self.visibility = []

    def change_message_visibility(self, QueueUrl, ReceiptHandle, VisibilityTimeout):
        self.visibility.append((QueueUrl.rsplit("/", 1)[-1], VisibilityTimeout))


@pytest.fixture
def sqs(monkeypatch):
    from outbound import aws
    from outbound.campaigns import messages

    client, sent = _Sqs(), []
    monkeypatch.setenv("CAMPAIGN_TICKS_QUEUE_URL", "http://sqs.local/123/CampaignTicksQueue.fifo")
    monkeypatch.setenv("CAMPAIGN_TIMERS_QUEUE_URL", "http://sqs.local/123/CampaignTimersQueue")
    monkeypatch.setattr(aws, "client", lambda service, quick=False: client)
    monkeypatch.setattr(messages.timers, "send", lambda pairs: sent.extend(pairs))
    client.sent = sent
    return client


def _tick(receives, **body):
    from outbound.campaigns.messages import Message

    return Message("m1", "r1", "arn:aws:sqs:us-east-1:123:CampaignTicksQueue.fifo", receives,
                   {"campaign_id": "cmp_1", "reason": "call_ended", "events": [{"kind": "call_ended"}], **body})


def test_a_tick_failing_for_a_fault_comes_back_within_seconds(sqs):
    from outbound.campaigns.messages import retry_soon

    assert [retry_soon(_tick(n)) for n in (1, 2, 3, 8)] == [True] * 4  # stays on its queue...
    assert sqs.visibility == [("CampaignTicksQueue.fifo", 1), ("CampaignTicksQueue.fifo", 2),
                              ("CampaignTicksQueue.fifo", 3), ("CampaignTicksQueue.fifo", 5)]  # ...back in 1-5 s
    assert sqs.sent == []


def test_before_its_queue_would_dead_letter_it_a_failing_tick_becomes_a_timer(sqs):
    from outbound.campaigns.messages import retry_soon

    assert retry_soon(_tick(9)) is False  # deleted from the ticks queue: its events live on in a timer
    [(body, delay)] = sqs.sent
    assert body["events"] == [{"kind": "call_ended"}] and body["campaign_id"] == "cmp_1" and delay == 5


def test_a_failing_heartbeat_is_dropped_the_next_beat_comes_within_a_minute(sqs):
    from outbound.campaigns.messages import retry_soon

    beat = _tick(1, reason="heartbeat", events=[])
    assert retry_soon(beat) is False and sqs.visibility == [] and sqs.sent == []
