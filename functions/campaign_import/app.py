"""CampaignImportFunction: a CSV uploaded for a campaign import (S3's notification, through an
SQS queue) is read and its rows added as contacts (outbound.campaigns.imports).

IMPORTS_MAX_RECEIVE_COUNT is the queue's maxReceiveCount: the delivery whose receive count
reaches it is the message's last (the next failure sends it to the dead-letter queue), so the
use case marks the import failed if that run fails too."""
from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)

from outbound import deadline
from outbound.campaigns.imports import process_uploaded
from outbound.config import campaign_settings

logger = Logger(service="outbound-campaign-imports")
processor = BatchProcessor(event_type=EventType.SQS)


def handle(record: Any) -> list:
    notification = json.loads(record.body)
    last = campaign_settings().imports_max_receive_count
    last_delivery = last is not None and int(record.attributes.approximate_receive_count or 1) >= last
    done = []
    for entry in notification.get("Records", []):  # S3's test event has none
        if not str(entry.get("eventName", "")).startswith("ObjectCreated"):
            continue
        s3 = entry["s3"]
        result = process_uploaded(s3["bucket"]["name"], s3["object"]["key"], last_delivery)
        logger.info("Import processed", extra=result)
        done.append(result)
    return done


@logger.inject_lambda_context
def lambda_handler(event: dict, context: Any) -> dict:
    deadline.start(context)
    return process_partial_response(event=event, record_handler=handle, processor=processor, context=context)
