"""CampaignDialerFunction: one campaign attempt per dial message (SQS), through the initiate use
case (outbound.usecases.campaign_dial). Powertools' BatchProcessor reports the messages that
failed (AWS unavailable, a bug) so only those come back; the attempt's derived call id makes a
repeated delivery place nothing twice."""
from __future__ import annotations

import json
import os
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

from outbound import deadline
from outbound.config import settings
from outbound.usecases.campaign_dial import dial

logger = Logger(service="outbound-campaign-dialer")
processor = BatchProcessor(event_type=EventType.SQS)


def public_api_url() -> str:
    return settings().public_api_url or os.environ.get("API_BASE_URL", "").rstrip("/")


def handle(record: Any) -> dict:
    result = dial(json.loads(record.body), public_api_url())
    logger.info("Campaign dial", extra={k: v for k, v in result.items() if k != "call_sid"})
    return result


@logger.inject_lambda_context
def lambda_handler(event: dict, context: Any) -> dict:
    deadline.start(context)
    return process_partial_response(event=event, record_handler=handle, processor=processor, context=context)
