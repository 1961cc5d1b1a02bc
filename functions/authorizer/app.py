"""ApiKeyAuthorizerFunction: a TOKEN authorizer for ``Authorization: Bearer <api key>``.

The key is looked up by its SHA-256 (keys are never stored in clear). API Gateway caches the
result per token (AuthorizerResultTtlInSeconds), so a warm client's calls skip this lookup;
the policy therefore allows every route of the stage, not just the one first called.
Refusal raises "Unauthorized", which API Gateway answers with the UNAUTHORIZED gateway
response: 401 {"detail": "Invalid or missing API key"}.
"""
from __future__ import annotations

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerResponse, APIGatewayAuthorizerTokenEvent,
)

from outbound import store

logger = Logger(service="outbound-authorizer")


def bearer_token(header: str | None) -> str | None:
    scheme, _, token = (header or "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def lambda_handler(event: dict, context) -> dict:
    token_event = APIGatewayAuthorizerTokenEvent(event)
    api_key = bearer_token(token_event.authorization_token)
    organization_id = store.organization_for_api_key(api_key) if api_key else None
    if organization_id is None:
        logger.info("API key refused")
        raise Exception("Unauthorized")  # API Gateway's contract for a 401
    arn = token_event.parsed_arn
    policy = APIGatewayAuthorizerResponse(
        principal_id=organization_id, region=arn.region, aws_account_id=arn.aws_account_id,
        api_id=arn.api_id, stage=arn.stage, context={"organization_id": organization_id},
    )
    policy.allow_all_routes()
    return policy.asdict()
