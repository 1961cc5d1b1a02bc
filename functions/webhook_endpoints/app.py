"""WebhookEndpointsFunction: the webhook-endpoint API (POST/GET /webhook-endpoints, GET and
DELETE /webhook-endpoints/{endpoint_id}, POST /webhook-endpoints/{endpoint_id}/rotate-secret,
GET /calls/{call_ref}/webhook-deliveries, POST /webhook-deliveries/{delivery_id}/retry).

Off the call path, so Powertools' resolver with pydantic validation routes and validates
(outbound.http.webhook_endpoints); the organization comes from the API-key authorizer's context.
"""
from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from outbound.http.webhook_endpoints import app
from outbound.metrics import emits_metrics

logger = Logger(service="outbound-webhook-endpoints")


@logger.inject_lambda_context(correlation_id_path="requestContext.requestId")
@emits_metrics  # AwsConfigurationErrors (outbound.http.router.failure_answer)
def lambda_handler(event: dict, context: Any) -> dict:
    return app.resolve(event, context)
