"""CampaignDialerFunction: one campaign attempt per dial message (SQS), through the initiate use
case (outbound.campaigns.dial). Powertools' BatchProcessor reports the messages that
failed (AWS unavailable, a bug) so only those come back; the attempt's derived call id makes a
repeated delivery place nothing twice."""
from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)

from outbound import aws, deadline
from outbound.campaigns.dial import ClaimNotWritten, dial
from outbound.config import campaign_settings, public_api_url
from outbound.metrics import emits_metrics

logger = Logger(service="outbound-campaign-dialer")
processor = BatchProcessor(event_type=EventType.SQS)


RETRY_SOON_S = 2
MAX_EARLY_RECEIVES = 5


def handle(record: Any) -> dict:
    try:
        result = dial(json.loads(record.body), public_api_url())
    except ClaimNotWritten:
        if int(record.attributes.approximate_receive_count) >= MAX_EARLY_RECEIVES:
            logger.warning("Dial message whose claim never landed: dropped", extra={"message_id": record.message_id})
            return {"outcome": "stale"}
        # Back in a couple of seconds rather than after the queue's visibility timeout.
        aws.client("sqs").change_message_visibility(QueueUrl=campaign_settings().dial_queue_url,
                                                   ReceiptHandle=record.receipt_handle, VisibilityTimeout=RETRY_SOON_S)
        raise
    logger.info("Campaign dial", extra={k: v for k, v in result.items() if k != "call_sid"})
    return result


@logger.inject_lambda_context
@emits_metrics  # calls placed, dials the rules refused, the pre-dial checks' results
def lambda_handler(event: dict, context: Any) -> dict:
    deadline.start(context)
    return process_partial_response(event=event, record_handler=handle, processor=processor, context=context)
