"""CampaignDispatcherFunction: the campaigns' ticks (SQS), one dispatch per campaign per batch.

The batch's messages are grouped by campaign, so several ticks of one campaign (endings of
several attempts) cost one read and one transaction; a campaign whose dispatch fails reports
all its messages as failed (they come back; every event is idempotent). Grouping is why this
handler does not use Powertools' per-record BatchProcessor.
"""
from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from aws_lambda_powertools import Logger

from outbound.campaigns.dispatch import run_tick

logger = Logger(service="outbound-campaign-dispatcher")


@logger.inject_lambda_context
def lambda_handler(event: dict, context: Any) -> dict:
    by_campaign: dict[str, list[dict[str, Any]]] = defaultdict(list)
    failures = []
    for record in event.get("Records", []):
        try:
            body = json.loads(record["body"])
            by_campaign[str(body["campaign_id"])].append({"id": record["messageId"], "events": body.get("events") or []})
        except (ValueError, KeyError, TypeError):
            logger.error("Malformed tick dropped", extra={"message_id": record.get("messageId")})
    for campaign_id, messages in by_campaign.items():
        events = [e for m in messages for e in m["events"]]
        try:
            result = run_tick(campaign_id, events)
            logger.info("Campaign tick", extra={"campaign_id": campaign_id, "status": result.status,
                                                "applied": result.applied, "claimed": result.claimed,
                                                "moved_to_window": result.moved_to_window, "canceled": result.canceled})
        except Exception:
            logger.exception("Campaign tick failed; its messages will be retried", extra={"campaign_id": campaign_id})
            failures += [{"itemIdentifier": m["id"]} for m in messages]
    return {"batchItemFailures": failures}
