"""ApiKeyAuthorizerFunction: a TOKEN authorizer for ``Authorization: Bearer <api key>``.

The key is looked up by its SHA-256 (keys are never stored in clear). API Gateway caches the
result per token (AuthorizerResultTtlInSeconds), so a warm client's calls skip this lookup;
the policy therefore allows every route of the stage, not just the one first called.
Refusal raises "Unauthorized", which API Gateway answers with the UNAUTHORIZED gateway
response: 401 {"detail": "Invalid or missing API key"}. When the lookup itself fails (DynamoDB
unavailable beyond its retries, or refusing the function's role) the error is logged the way the
API functions log it (outbound.http.router.failure_answer) and raised: API Gateway then answers the
AUTHORIZER_FAILURE gateway response, 503 with Retry-After (template.yaml).

The policy is built here rather than with Powertools' APIGatewayAuthorizerResponse: importing
its data_classes package measured ~75 ms, and this authorizer's cold start sits in series
with the API function's on a client's first request.
"""
from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from outbound import store
from outbound.http.router import failure_answer
from outbound.metrics import emits_metrics

logger = Logger(service="outbound-authorizer")


def bearer_token(header: str | None) -> str | None:
    scheme, _, token = (header or "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def stage_arn(method_arn: str) -> str:
    """arn:aws:execute-api:REGION:ACCOUNT:API/STAGE/METHOD/PATH -> .../API/STAGE/*/* (every route)."""
    prefix, _, path = method_arn.partition(":execute-api:")
    region_account_api = path.split("/", 2)[:2]
    return f"{prefix}:execute-api:{'/'.join(region_account_api)}/*/*"


def allow(principal: str, method_arn: str, context: dict[str, Any]) -> dict[str, Any]:
    return {
        "principalId": principal,
        "policyDocument": {"Version": "2012-10-17", "Statement": [
            {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": [stage_arn(method_arn)]}]},
        "context": context,
    }


@emits_metrics  # AwsConfigurationErrors, when the lookup is refused
def lambda_handler(event: dict, context: Any) -> dict:
    api_key = bearer_token(event.get("authorizationToken"))
    try:
        key = store.api_key_record(api_key) if api_key else None
    except Exception as exc:
        failure_answer(exc, logger)  # logged as unavailable, misconfigured or unexpected
        raise
    if key is None:
        logger.info("API key refused")
        raise Exception("Unauthorized")  # API Gateway's contract for a 401
    # The key's prefix (never the key): who asked, in the evidence of each call it places.
    context = {"organization_id": key["organization_id"], "api_key_prefix": key.get("prefix")}
    return allow(key["organization_id"], event["methodArn"], {k: v for k, v in context.items() if v})
