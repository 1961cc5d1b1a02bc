"""CampaignsApiFunction: campaigns, their contacts, CSV imports, results, and the organization's
do-not-call list (routes: outbound.http.campaigns). Off the call's cold path, so Powertools'
event handler and pydantic do the routing and validation here."""
from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from outbound import deadline
from outbound.http.campaigns import app
from outbound.metrics import emits_metrics

logger = Logger(service="outbound-campaigns")


@logger.inject_lambda_context(correlation_id_path="requestContext.requestId")
@emits_metrics  # AwsConfigurationErrors (outbound.http.router.failure_answer)
def lambda_handler(event: dict, context: Any) -> dict:
    deadline.start(context, event)  # a preview stops counting in time to answer within API Gateway's 29 s
    return app.resolve(event, context)
