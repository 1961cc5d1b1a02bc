"""CampaignOutcomesFunction: campaign attempts' status moves, from the table's stream (filtered
to call records with a campaign), in order per call (outbound.campaigns.outcomes).
Powertools' BatchProcessor reports a failed record, so the stream resumes there."""
from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)

from outbound.campaigns.outcomes import handle_change

logger = Logger(service="outbound-campaign-outcomes")
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def handle(record: Any) -> str:
    return handle_change(record.raw_event)


@logger.inject_lambda_context
def lambda_handler(event: dict, context: Any) -> dict:
    return process_partial_response(event=event, record_handler=handle, processor=processor, context=context)
