"""The campaign engine's two queues (SQS, standard):

- ticks (``CAMPAIGN_TICKS_QUEUE_URL``, FIFO grouped by campaign, so one campaign's ticks run one
  at a time, in order): "look at campaign X now", carrying the events the dispatcher applies to
  contacts (a call ended, a dial refused or deferred). Sent by the API (start, resume, cancel),
  the outcome consumer, the dialer, the dispatcher itself (more is due now) and a per-campaign
  EventBridge Scheduler heartbeat every minute (what is due later).
- dials (``CAMPAIGN_DIAL_QUEUE_URL``): one message per claimed attempt, delayed to its pacing slot.

Delivery is at least once everywhere; every consumer is idempotent (conditions on the contact,
the attempt's call id derived from contact and attempt number).
"""
from __future__ import annotations

import json
import math
import uuid
from typing import Any

from outbound.config import campaign_settings

from .. import aws

MAX_DELAY_S = 900  # SQS's own limit on DelaySeconds


def _sqs() -> Any:
    return aws.client("sqs")


def send_tick(campaign_id: str, reason: str, events: list[dict[str, Any]] | None = None) -> None:
    body = {"campaign_id": campaign_id, "reason": reason, "events": events or []}
    _sqs().send_message(QueueUrl=campaign_settings().ticks_queue_url, MessageBody=json.dumps(body),
                        MessageGroupId=campaign_id, MessageDeduplicationId=uuid.uuid4().hex)


def send_dials(messages: list[tuple[dict[str, Any], float]]) -> list[dict[str, Any]]:
    """(dial message, delay in seconds) pairs, 10 per SendMessageBatch; returns those not sent.
    At least 1 s of delay: a dial goes out just before its claim is written, and one that came
    first would cost a wasted read and a retry (measured: 11% of dials at 0 s). Delays are whole
    seconds, rounded down: the dialer waits out the rest of its slot."""
    failed: list[dict[str, Any]] = []
    for start in range(0, len(messages), 10):
        chunk = messages[start:start + 10]
        response = _sqs().send_message_batch(QueueUrl=campaign_settings().dial_queue_url, Entries=[
            {"Id": str(i), "MessageBody": json.dumps(body), "DelaySeconds": max(1, min(MAX_DELAY_S, math.floor(delay)))}
            for i, (body, delay) in enumerate(chunk)])
        failed += [chunk[int(entry["Id"])][0] for entry in response.get("Failed", [])]
    return failed
