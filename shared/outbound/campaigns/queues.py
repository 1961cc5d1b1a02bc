"""The campaign engine's two queues (SQS, standard):

- ticks (``CAMPAIGN_TICKS_QUEUE_URL``): "look at campaign X now (or in N seconds)", carrying the
  events the dispatcher applies to contacts (a call ended, a dial refused or deferred). Sent by
  the API (start, resume, cancel), the outcome consumer, the dialer, the dispatcher itself
  (wake-ups) and a per-campaign EventBridge Scheduler heartbeat.
- dials (``CAMPAIGN_DIAL_QUEUE_URL``): one message per claimed attempt, delayed to its pacing slot.

Delivery is at least once everywhere; every consumer is idempotent (conditions on the contact,
the attempt's call id derived from contact and attempt number).
"""
from __future__ import annotations

import json
import os
from typing import Any

from .. import aws

MAX_DELAY_S = 900  # SQS's own limit on DelaySeconds


def _sqs() -> Any:
    return aws.client("sqs")


def send_tick(campaign_id: str, reason: str, events: list[dict[str, Any]] | None = None, delay_s: float = 0) -> None:
    body = {"campaign_id": campaign_id, "reason": reason, "events": events or []}
    _sqs().send_message(QueueUrl=os.environ["CAMPAIGN_TICKS_QUEUE_URL"], MessageBody=json.dumps(body),
                        DelaySeconds=max(0, min(MAX_DELAY_S, int(delay_s))))


def send_dials(messages: list[tuple[dict[str, Any], float]]) -> list[dict[str, Any]]:
    """(dial message, delay in seconds) pairs, 10 per SendMessageBatch; returns those not sent."""
    failed: list[dict[str, Any]] = []
    for start in range(0, len(messages), 10):
        chunk = messages[start:start + 10]
        response = _sqs().send_message_batch(QueueUrl=os.environ["CAMPAIGN_DIAL_QUEUE_URL"], Entries=[
            {"Id": str(i), "MessageBody": json.dumps(body), "DelaySeconds": max(1, min(MAX_DELAY_S, int(delay)))}
            for i, (body, delay) in enumerate(chunk)])
        failed += [chunk[int(entry["Id"])][0] for entry in response.get("Failed", [])]
    return failed
