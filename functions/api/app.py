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
from outbound.errors import INVALID_API_KEY, ApiError, NotFound, Unauthenticated
from outbound.models import parse_initiate_request
from outbound.usecases.get_call import get_call
from outbound.usecases.initiate_call import initiate_call
from outbound.usecases.list_calls import get_balance, list_calls

logger = Logger(service="outbound-calls")


def initiate(event: dict) -> dict:
    request = parse_initiate_request(_body(event))
    return initiate_call(organization_id(event), request, public_api_url(event))


def read_call(event: dict) -> dict:
    return get_call(organization_id(event), event["pathParameters"]["call_ref"])


def list_organization_calls(event: dict) -> dict:
    query = event.get("queryStringParameters") or {}
    return list_calls(organization_id(event), query.get("status"), query.get("limit"), query.get("next_token"))


def read_balance(event: dict) -> dict:
    return get_balance(organization_id(event))


ROUTES: dict[tuple[str, str], Callable[[dict], dict]] = {
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


def _body(event: dict) -> str | None:
    body = event.get("body")
    if body and event.get("isBase64Encoded"):
        import base64

        body = base64.b64decode(body).decode("utf-8", "replace")
    return body


def response(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}


@logger.inject_lambda_context(correlation_id_path="requestContext.requestId")
def lambda_handler(event: dict, context: Any) -> dict:
    route = ROUTES.get((event.get("httpMethod", ""), event.get("resource", "")))
    if route is None:
        return response(404, NotFound("Not found").body())
    try:
        return response(200, route(event))
    except ApiError as exc:
        return response(exc.status, exc.body())
    except Exception:
        logger.exception("Unhandled error")
        return response(500, {"detail": "Internal server error"})
