"""What CampaignDispatcherFunction receives, and how a message that failed is tried again.

Two queues feed it: the ticks (FIFO, grouped by campaign: start, resume, cancel, an attempt's
end, a dial refused or deferred) and the timers (standard: a wake-up at a second, the heartbeat
every minute, the check of an attempt whose outcome is unknown; outbound.campaigns.timers). The
messages of one campaign in a batch make one tick: their events, plus the heartbeat's repairs
and the checks' findings (outbound.campaigns.repair).

A tick that fails because AWS is throttled or failing (nothing is wrong with the message) comes
back within seconds, not after the queue's visibility timeout: 1, 2, 3, 4, then every 5 s while
the fault lasts, whatever its length: before its queue would dead-letter it, its events move to
a timer message that starts the count afresh. So once a fault ends, the campaign dials again
within seconds, and no tick is dead-lettered for a fault. Anything else (a bug) goes the usual
way: the visibility timeout, then the dead-letter queue and its alarm; nothing the engine needs
is lost with it, since the heartbeat rebuilds what a tick would have done from the table.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError

from outbound import aws
from outbound.campaigns import repair, timers
from outbound.campaigns.dispatch import TickConflict, TickResult, run_tick
from outbound.config import campaign_settings
from outbound.errors import ServiceUnavailable

logger = Logger(child=True)

UTC = timezone.utc
MAX_RECEIVES = 10  # both queues' maxReceiveCount (template.yaml)
RETRY_CAP_S = 5
TRANSIENT_CODES = frozenset({
    "ProvisionedThroughputExceededException", "ThrottlingException", "Throttling", "RequestLimitExceeded",
    "InternalServerError", "InternalFailure", "ServiceUnavailable", "TransactionConflict",
    "TransactionInProgressException", "RequestTimeout", "RequestTimeoutException", "SlowDown"})


def run(campaign_id: str, bodies: list[dict[str, Any]], now: datetime | None = None) -> TickResult:
    """One tick of ``campaign_id`` for all of its messages in a batch."""
    now = now or datetime.now(UTC)
    events = [event for body in bodies for event in (body.get("events") or [])]
    if any(body.get("reason") == "heartbeat" for body in bodies):
        events += repair.heartbeat_events(campaign_id, now)
    checks_again = []
    for body in bodies:
        if body.get("reason") == "check_attempt":
            found, again = repair.check_attempt(campaign_id, body["contact_id"], body["call_id"], now)
            events += found
            if again is not None:
                checks_again.append((body, again))
    result = run_tick(campaign_id, events, now)
    for body, again in checks_again:
        timers.check_attempt(campaign_id, body["contact_id"], body["call_id"], again)
    return result


def transient(exc: BaseException) -> bool:
    """AWS throttled or failing, or the tick lost its races: the message itself is fine."""
    if isinstance(exc, ClientError):
        return exc.response.get("Error", {}).get("Code") in TRANSIENT_CODES
    return isinstance(exc, (BotoCoreError, TickConflict, ServiceUnavailable))


@dataclass(frozen=True)
class Message:
    message_id: str
    receipt_handle: str
    queue_arn: str
    receive_count: int
    body: dict[str, Any]


def retry_soon(message: Message) -> bool:
    """Arrange a failed message's next try within seconds. True: it stays on its queue (report it
    failed); False: it was handed on (its events in a fresh timer, or a heartbeat dropped: the
    next beat comes within a minute) and may be deleted."""
    if message.body.get("reason") == "heartbeat" and not message.body.get("events"):
        return False
    wait = min(RETRY_CAP_S, max(1, message.receive_count))
    if message.receive_count < MAX_RECEIVES - 1:
        try:
            aws.client("sqs").change_message_visibility(QueueUrl=_queue_url(message.queue_arn),
                                                        ReceiptHandle=message.receipt_handle, VisibilityTimeout=wait)
        except Exception as exc:  # noqa: BLE001 - it then comes back after the queue's own timeout
            logger.warning("Could not bring a failed tick back sooner", extra={"error": type(exc).__name__})
        return True
    try:
        timers.send([({**message.body, "reason": message.body.get("reason") or "retry"}, RETRY_CAP_S)])
    except Exception as exc:  # noqa: BLE001 - then the usual way: visibility timeout, dead-letter queue
        logger.warning("Could not hand a failing tick on to the timers", extra={"error": type(exc).__name__})
        return True
    logger.info("A tick failing for a while was handed on to a timer", extra={
        "campaign_id": message.body.get("campaign_id"), "receives": message.receive_count})
    return False


def _queue_url(queue_arn: str) -> str:
    name = queue_arn.rsplit(":", 1)[-1]
    settings = campaign_settings()
    for url in (settings.ticks_queue_url, settings.timers_queue_url):
        if url.rstrip("/").rsplit("/", 1)[-1] == name:
            return url
    raise LookupError(f"no queue URL known for {name}")
