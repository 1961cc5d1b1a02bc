"""ScheduledCallFunction: one fire of a scheduled, recurring or event-driven call.

Invoked (asynchronously) by EventBridge Scheduler with the target input
``{"organization_id", "schedule_id", "scheduled_time", "call": {<POST /calls/initiate body>}}``,
and by EventBridge rules with an event whose ``detail`` has that shape (detail-type
``Outbound Call Requested`` from an application's PutEvents, or a scheduled rule's input).
It runs the same use case as POST /calls/initiate; every delivery of one fire shares one call
id, so a repeated delivery never places a second call (see outbound.schedules.fire).

Result: ``{"outcome": "placed" | "duplicate" | "canceled" | "rejected" | "provider_failed" |
"provider_timeout", ...}`` with ``call_sid`` when a call was placed. Failures that retrying
cannot fix are recorded and returned (not retried); anything else raises, so Lambda's and
Scheduler's retry policies retry it and the dead-letter queue receives what never succeeds.
"""
from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from outbound import deadline
from outbound.config import public_api_url
from outbound.errors import BadRequest
from outbound.metrics import emits_metrics
from outbound.schedules.fire import parse_fire, run_fire

logger = Logger(service="outbound-scheduled-calls")


@logger.inject_lambda_context
@emits_metrics  # business metrics as EMF lines (outbound.metrics)
def lambda_handler(event: Any, context: Any) -> dict:
    deadline.start(context)
    try:
        fire = parse_fire(event)
    except BadRequest as exc:  # a malformed input never becomes valid: not retried
        logger.warning("Scheduled call input refused", extra={"detail": exc.detail})
        return {"outcome": "rejected", "status_code": exc.status, **exc.body()}
    logger.append_keys(schedule_id=fire.schedule_id, fire_id=fire.fire_id)
    return run_fire(fire, public_api_url())
