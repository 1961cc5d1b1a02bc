"""Waking a campaign at a given second: ``start_at``, ``end_at``, a retry's delay, a dial deferred
for a few seconds, the check of an attempt whose outcome is unknown.

A wake-up is a message on the timers queue (``CAMPAIGN_TIMERS_QUEUE_URL``, standard, consumed by
the dispatcher): up to 15 minutes ahead it is sent now with SQS's own ``DelaySeconds``; further
ahead, a one-off EventBridge Scheduler ``at()`` schedule (deleted once it fired) sends it then.
The campaign's heartbeat, every minute, is a message on the same queue: what a lost wake-up
would have done, the next beat does (every due time is in the table).

Bodies: ``{"campaign_id", "reason": "timer" | "heartbeat" | "check_attempt", ...}`` (a check names
``contact_id`` and ``call_id``).
"""
from __future__ import annotations

import json
import math
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable

from aws_lambda_powertools import Logger

from outbound import aws
from outbound.config import campaign_settings

logger = Logger(child=True)

UTC = timezone.utc
MAX_DELAY_S = 900  # SQS's own limit on DelaySeconds


def _sqs() -> Any:
    return aws.client("sqs")


def wake_at(campaign_id: str, times: Iterable[datetime], now: datetime | None = None) -> None:
    """A tick of the campaign at each of ``times`` (rounded up to the second; duplicates once).
    Never raises: a wake-up that could not be arranged is the heartbeat's (within a minute)."""
    now = now or datetime.now(UTC)
    seconds = sorted({math.ceil(max(0.0, (at - now).total_seconds())) for at in times})
    soon = [s for s in seconds if s <= MAX_DELAY_S]
    try:
        send([({"campaign_id": campaign_id, "reason": "timer"}, s) for s in soon])
        for delay in (s for s in seconds if s > MAX_DELAY_S):
            _schedule_at(campaign_id, now + timedelta(seconds=delay), {"campaign_id": campaign_id, "reason": "timer"})
    except Exception as exc:  # noqa: BLE001 - the heartbeat picks up what is due
        logger.warning("Could not arrange a campaign's wake-up", extra={"campaign_id": campaign_id,
                                                                       "error": type(exc).__name__})


def check_attempt(campaign_id: str, contact_id: str, call_id: str, after_s: float) -> None:
    """Ask, ``after_s`` from now, what became of an attempt whose outcome is unknown."""
    body = {"campaign_id": campaign_id, "reason": "check_attempt", "contact_id": contact_id, "call_id": call_id}
    try:
        send([(body, math.ceil(after_s))])
    except Exception as exc:  # noqa: BLE001 - the heartbeat finds the attempt too
        logger.warning("Could not arrange an attempt's check", extra={"campaign_id": campaign_id,
                                                                     "call_id": call_id, "error": type(exc).__name__})


def send(messages: list[tuple[dict[str, Any], float]]) -> None:
    """(body, delay in seconds, at most 900) pairs, 10 per SendMessageBatch; raises when one was not sent."""
    for start in range(0, len(messages), 10):
        chunk = messages[start:start + 10]
        response = _sqs().send_message_batch(QueueUrl=campaign_settings().timers_queue_url, Entries=[
            {"Id": str(i), "MessageBody": json.dumps(body), "DelaySeconds": max(0, min(MAX_DELAY_S, int(delay)))}
            for i, (body, delay) in enumerate(chunk)])
        if response.get("Failed"):
            raise RuntimeError(f"{len(response['Failed'])} timer messages not sent")


def _schedule_at(campaign_id: str, at: datetime, body: dict[str, Any]) -> None:
    """A one-off schedule for a wake-up beyond SQS's 15 minutes (one per campaign and second)."""
    client = aws.client("scheduler")
    settings = campaign_settings()
    name = f"campaign-{campaign_id}-at-{at.astimezone(UTC):%Y%m%dT%H%M%S}"
    try:
        client.create_schedule(
            Name=name[:64], GroupName=settings.schedule_group, ScheduleExpression=f"at({at.astimezone(UTC):%Y-%m-%dT%H:%M:%S})",
            ScheduleExpressionTimezone="UTC", FlexibleTimeWindow={"Mode": "OFF"}, ActionAfterCompletion="DELETE",
            Target={"Arn": settings.timers_queue_arn, "RoleArn": settings.scheduler_role_arn, "Input": json.dumps(body),
                    "RetryPolicy": {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 300}},
            Description=f"Wake campaign {campaign_id} at a due time")
    except client.exceptions.ConflictException:
        pass  # this second's wake-up exists already
