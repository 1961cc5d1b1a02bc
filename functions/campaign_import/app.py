"""CampaignImportFunction: a CSV uploaded for a campaign import (S3's notification, through an
SQS queue) is read and its rows added as contacts (outbound.campaigns.imports)."""
from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)

from outbound.campaigns.imports import process_uploaded

logger = Logger(service="outbound-campaign-imports")
processor = BatchProcessor(event_type=EventType.SQS)


def handle(record: Any) -> list:
    notification = json.loads(record.body)
    done = []
    for entry in notification.get("Records", []):  # S3's test event has none
        if not str(entry.get("eventName", "")).startswith("ObjectCreated"):
            continue
        s3 = entry["s3"]
        result = process_uploaded(s3["bucket"]["name"], s3["object"]["key"])
        logger.info("Import processed", extra=result)
        done.append(result)
    return done


@logger.inject_lambda_context
def lambda_handler(event: dict, context: Any) -> dict:
    return process_partial_response(event=event, record_handler=handle, processor=processor, context=context)
