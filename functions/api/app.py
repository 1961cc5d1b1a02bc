"""CallsApiFunction: POST /calls/initiate, GET /calls/{call_ref}, GET /calls (list) and
GET /organization/balance.

Thin: parse the event, call one use case, shape the response. The organization comes from
the API-key authorizer's (cached) context, never from the request body.

Routing is a dict lookup on the REST API's ``resource`` rather than Powertools' event-handler
resolver: importing the resolver measured ~110 ms of a ~330 ms cold-start floor
(``outbound bench cold-start``), for routes that API Gateway has already matched.
Powertools' Logger (~25 ms) stays: structured JSON logs with the request's correlation id.
"""
from __future__ import annotations

import json
from typing import Any, Callable

from aws_lambda_powertools import Logger

from outbound.config import settings
from outbound.errors import INVALID_API_KEY, ApiError, BadRequest, NotFound, Unauthenticated
from outbound.models import parse_initiate_request
from outbound.usecases.get_call import get_call
from outbound.usecases.idempotent_initiate import initiate_call_once
from outbound.usecases.initiate_call import initiate_call
from outbound.usecases.list_calls import get_balance, list_calls

logger = Logger(service="outbound-calls")

# The whole body: the contract's fields at their limits (2 x 4,000 characters, 50 variables of
# up to 1,000 characters, even in 4-byte UTF-8) fit below this.
MAX_BODY_BYTES = 256 * 1024


def initiate(event: dict) -> dict | tuple[dict, dict[str, str]]:
    request = parse_initiate_request(_body(event))
    key = header(event, "Idempotency-Key")
    if key is not None:
        return initiate_call_once(organization_id(event), request, public_api_url(event), key)
    return initiate_call(organization_id(event), request, public_api_url(event))


def read_call(event: dict) -> dict:
    return get_call(organization_id(event), event["pathParameters"]["call_ref"])


def list_organization_calls(event: dict) -> dict:
    query = single_valued_query(event, ("status", "limit", "next_token"))
    return list_calls(organization_id(event), query.get("status"), query.get("limit"), query.get("next_token"))


def read_balance(event: dict) -> dict:
    return get_balance(organization_id(event))


ROUTES: dict[tuple[str, str], Callable[[dict], Any]] = {
    ("POST", "/calls/initiate"): initiate,
    ("GET", "/calls/{call_ref}"): read_call,
    ("GET", "/calls"): list_organization_calls,
    ("GET", "/organization/balance"): read_balance,
}


def organization_id(event: dict) -> str:
    org = ((event.get("requestContext") or {}).get("authorizer") or {}).get("organization_id")
    if not org:  # only if a route were deployed without the authorizer
        raise Unauthenticated(INVALID_API_KEY)
    return org


def public_api_url(event: dict) -> str:
    """Where providers send status webhooks: the configured URL (custom domain), else the URL
    this request came in on."""
    if settings().public_api_url:
        return settings().public_api_url
    context = event["requestContext"]
    return f"https://{context['domainName']}/{context['stage']}"


def single_valued_query(event: dict, allowed: tuple[str, ...]) -> dict[str, str]:
    """The query string, refusing an unknown parameter (like an unknown body field: a typo such
    as ``?stauts=`` would silently list everything) and a repeated one (``?status=a&status=b``:
    API Gateway would keep the last value, so the answer would depend on parameter order)."""
    for name, values in (event.get("multiValueQueryStringParameters") or {}).items():
        if name not in allowed:
            raise BadRequest(f"Unknown query parameter: {name}")
        if len(values) > 1:
            raise BadRequest(f"{name} must be given at most once")
    return event.get("queryStringParameters") or {}


def header(event: dict, name: str) -> str | None:
    """A request header, whatever its case (REST API events keep the client's casing)."""
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == name.lower():
            return value
    return None


def _body(event: dict) -> str | None:
    body = event.get("body")
    if body and event.get("isBase64Encoded"):
        import base64

        body = base64.b64decode(body).decode("utf-8", "replace")
    if body and len(body.encode()) > MAX_BODY_BYTES:
        raise BadRequest(f"Request body must be at most {MAX_BODY_BYTES} bytes")
    return body


def response(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"Content-Type": "application/json", **(headers or {})},
            "body": json.dumps(body)}


@logger.inject_lambda_context(correlation_id_path="requestContext.requestId")
def lambda_handler(event: dict, context: Any) -> dict:
    route = ROUTES.get((event.get("httpMethod", ""), event.get("resource", "")))
    if route is None:
        return response(404, NotFound("Not found").body())
    try:
        result = route(event)
        body, headers = result if isinstance(result, tuple) else (result, None)
        return response(200, body, headers)
    except ApiError as exc:
        return response(exc.status, exc.body(), exc.headers)
    except Exception as exc:
        logger.exception("Unhandled error")
        if aws_unavailable(exc):
            return response(503, {"detail": UNAVAILABLE}, {"Retry-After": "1"})
        return response(500, {"detail": "Internal server error"})


UNAVAILABLE = ("The service is temporarily unavailable. Retry the request (with the same Idempotency-Key "
               "to be sure no second call is placed).")


def aws_unavailable(exc: Exception) -> bool:
    """An AWS error that outlasted the SDK's retries (throttling, 5xx): botocore's ClientError,
    recognised by its response so nothing new is imported on the request path."""
    error = getattr(exc, "response", None)
    if not isinstance(error, dict):
        return False
    status = (error.get("ResponseMetadata") or {}).get("HTTPStatusCode") or 0
    code = (error.get("Error") or {}).get("Code", "")
    return status >= 500 or code in ("ProvisionedThroughputExceededException", "ThrottlingException",
                                     "RequestLimitExceeded", "TransactionInProgressException")
