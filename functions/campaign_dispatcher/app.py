"""CampaignDispatcherFunction: the campaigns' ticks (SQS FIFO) and timers (SQS standard: wake-ups,
heartbeats, checks of unknown outcomes), one dispatch per campaign per batch
(outbound.campaigns.messages).

The batch's messages are grouped by campaign, so several ticks of one campaign (endings of
several attempts) cost one read and one transaction. A campaign whose dispatch fails reports its
messages as failed: while AWS is throttled or failing they come back within seconds (every event
is idempotent); any other error takes the queue's usual way. Grouping is why this handler does
not use Powertools' per-record BatchProcessor.
"""
from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from aws_lambda_powertools import Logger

from outbound import deadline
from outbound.campaigns.messages import Message, retry_soon, run, transient

logger = Logger(service="outbound-campaign-dispatcher")


@logger.inject_lambda_context
def lambda_handler(event: dict, context: Any) -> dict:
    deadline.start(context)
    by_campaign: dict[str, list[Message]] = defaultdict(list)
    for record in event.get("Records", []):
        try:
            body = json.loads(record["body"])
            by_campaign[str(body["campaign_id"])].append(Message(
                record["messageId"], record.get("receiptHandle", ""), record.get("eventSourceARN", ""),
                int((record.get("attributes") or {}).get("ApproximateReceiveCount") or 1), body))
        except (ValueError, KeyError, TypeError):
            logger.error("Malformed tick dropped", extra={"message_id": record.get("messageId")})
    failures = []
    for campaign_id, messages in by_campaign.items():
        try:
            result = run(campaign_id, [m.body for m in messages])
            logger.info("Campaign tick", extra={"campaign_id": campaign_id, "status": result.status,
                                                "applied": result.applied, "claimed": result.claimed,
                                                "moved_to_window": result.moved_to_window, "canceled": result.canceled})
        except Exception as exc:
            if transient(exc):
                logger.warning("Campaign tick failed (AWS throttled or failing): tried again within seconds",
                               extra={"campaign_id": campaign_id, "error": type(exc).__name__})
                failures += [{"itemIdentifier": m.message_id} for m in messages if retry_soon(m)]
            else:
                logger.exception("Campaign tick failed; its messages will be retried", extra={"campaign_id": campaign_id})
                failures += [{"itemIdentifier": m.message_id} for m in messages]
    return {"batchItemFailures": failures}
