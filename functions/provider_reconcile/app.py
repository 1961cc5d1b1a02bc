"""ProviderReconcileFunction: every hour (EventBridge schedule), compare the charges of calls
placed through Twilio, Telnyx or Vonage with those providers' own records of them, correct each
difference with a ledger entry, settle calls whose final webhook never came, and flag calls the
provider does not report as finished (never charged on a guess).

The calls come from the sparse ByProviderCheck index (calls not matched yet), once no call placed
then can still be running; see outbound.money.provider_reconcile. The event's content is not
used (a scheduled event, or by hand: ``outbound invoke ProviderReconcileFunction
events/reconcile-providers.json``).

Result: ``{"checked", "matched", "corrected", "adjusted", "settled", "flagged", "not_checked", ...,
"adjustment_cents", "calls": [...]}``.
"""
from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from outbound.metrics import emits_metrics
from outbound.money.provider_reconcile import reconcile_due

logger = Logger(service="outbound-provider-reconcile")


@logger.inject_lambda_context
@emits_metrics  # ProviderAdjustments, ProviderCallsFlagged, CallsSettled... as EMF lines (outbound.metrics)
def lambda_handler(event: Any, context: Any) -> dict:
    result = reconcile_due().as_dict()
    for name in ("organization_id", "since", "unproven_events"):
        result.pop(name)
    logger.info("Provider reconciliation done", extra={k: v for k, v in result.items() if k != "calls"})
    return result
