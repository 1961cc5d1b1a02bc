"""ReserveSweeperFunction: every 5 minutes (EventBridge schedule), release the reserve of calls
stuck in ``initiating`` longer than the threshold and mark them failed.

A crash between the reserve transaction and the provider's answer (or before the answer is
recorded) would otherwise hold the reserve forever. See outbound.calls.reserve_sweeper for
the index, the threshold and the transaction. The event's content is not used (a scheduled
event, or ``{}`` by hand: ``outbound invoke ReserveSweeperFunction events/sweep-reserves.json``).

Result: ``{"found", "released", "skipped", "call_ids", "threshold_seconds"}``.
"""
from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from outbound.calls.reserve_sweeper import sweep
from outbound.metrics import emits_metrics

logger = Logger(service="outbound-reserve-sweeper")


@logger.inject_lambda_context
@emits_metrics  # business metrics as EMF lines (outbound.metrics)
def lambda_handler(event: Any, context: Any) -> dict:
    result = sweep()
    logger.info("Reserve sweep done", extra={k: v for k, v in result.items() if k != "call_ids"})
    return result
