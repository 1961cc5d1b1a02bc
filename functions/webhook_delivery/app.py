"""WebhookDeliveryFunction: the delivery queue -> signed POSTs to customer endpoints.

One message = one attempt of one delivery (outbound.outcome_events.deliver): signed per the
Standard Webhooks specification, POSTed to the address the SSRF guard checked, recorded, and
retried with exponential backoff for 24 hours through the queue itself. Powertools'
BatchProcessor reports failed messages only (ReportBatchItemFailures); a message that keeps
failing goes to the queue's dead-letter queue by its redrive policy.
"""
from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)

from outbound.outcome_events.deliver import handle_message

logger = Logger(service="outbound-webhook-delivery")
processor = BatchProcessor(event_type=EventType.SQS)


@logger.inject_lambda_context
def lambda_handler(event: dict, context: Any) -> dict:
    invocation_ms = context.get_remaining_time_in_millis()

    def handle(record: Any) -> str:  # a message with no time left for its attempt is deferred
        return handle_message(json.loads(record.body), remaining_ms=context.get_remaining_time_in_millis(),
                              invocation_ms=invocation_ms)

    return process_partial_response(event=event, record_handler=handle, processor=processor, context=context)
