"""CallEventsFunction: the table's stream -> outcome events.

Each call record whose status changed becomes an event (outbound.outcome_events.catalog): put on the stack's
EventBridge bus and queued for every subscribed webhook endpoint of its organization
(outbound.outcome_events.publish). Powertools' BatchProcessor reports the records that failed,
so Lambda retries from the first of them (the stream is in order per item), and a record
published twice makes no second delivery. The template's FilterCriteria passes only MODIFY
events of call items, campaigns' status moves and contacts reaching a final status (the
campaign.* events, outbound.campaigns.events) and opt-outs' evidence records being written
(contact.opted_out, outbound.compliance.opt_out_events), so nothing else invokes this function.
"""
from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)

from outbound.campaigns.events import is_campaign_change, publish_campaign_change
from outbound.compliance.opt_out_events import is_opt_out, publish_opt_out
from outbound.outcome_events.publish import publish_call_change

logger = Logger(service="outbound-call-events")
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


@logger.inject_lambda_context
def lambda_handler(event: dict, context: Any) -> dict:
    endpoints_by_org: dict[str, list] = {}  # one endpoints Query per organization per batch

    def handle(record: Any) -> None:
        if is_campaign_change(record.raw_event):  # a campaign's or a contact's item (campaign.* events)
            kind = publish_campaign_change(record.raw_event, endpoints_by_org)
            if kind:
                logger.info("Campaign event published", extra={"event_type": kind})
            return
        if is_opt_out(record.raw_event):  # an opt-out's evidence record (contact.opted_out)
            if publish_opt_out(record.raw_event, endpoints_by_org):
                logger.info("Opt-out event published", extra={"event_type": "contact.opted_out"})
            return
        published = publish_call_change(record.raw_event, endpoints_by_org)
        if published is not None:
            logger.info("Call event published", extra={"call_id": published.subject, "event_type": published.type,
                                                       "sequence": published.sequence})

    return process_partial_response(event=event, record_handler=handle, processor=processor, context=context)
