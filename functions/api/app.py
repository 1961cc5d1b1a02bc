"""CallsApiFunction: POST /calls/initiate and GET /calls/{call_ref}.

Thin: parse the event, call one use case, shape the response. The organization comes from
the API-key authorizer's (cached) context, never from the request body.
"""
from __future__ import annotations

import json

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.logging import correlation_paths

from outbound.config import settings
from outbound.errors import INVALID_API_KEY, ApiError, NotFound, Unauthenticated
from outbound.models import parse_initiate_request
from outbound.usecases.get_call import get_call
from outbound.usecases.initiate_call import initiate_call

logger = Logger(service="outbound-calls")
app = APIGatewayRestResolver()


@app.post("/calls/initiate")
def initiate():
    request = parse_initiate_request(app.current_event.decoded_body)
    result = initiate_call(organization_id(), request, public_api_url())
    return result.model_dump()


@app.get("/calls/<call_ref>")
def read_call(call_ref: str):
    return get_call(organization_id(), call_ref).model_dump()


def organization_id() -> str:
    authorizer = app.current_event.request_context.authorizer or {}
    org = authorizer.get("organization_id")
    if not org:  # only if the route were deployed without the authorizer
        raise Unauthenticated(INVALID_API_KEY)
    return org


def public_api_url() -> str:
    """Where providers send status webhooks: the configured URL (custom domain), else the URL
    this request came in on."""
    if settings().public_api_url:
        return settings().public_api_url
    context = app.current_event.request_context
    return f"https://{context.domain_name}/{context.stage}"


def detail(status: int, body: dict) -> Response:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=json.dumps(body))


@app.exception_handler(ApiError)
def on_api_error(exc: ApiError) -> Response:
    return detail(exc.status, exc.body())


@app.not_found
def on_not_found(_exc: Exception) -> Response:
    return detail(404, NotFound("Not found").body())


@app.exception_handler(Exception)
def on_unexpected(exc: Exception) -> Response:
    logger.exception("Unhandled error")
    return detail(500, {"detail": "Internal server error"})


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def lambda_handler(event: dict, context) -> dict:
    return app.resolve(event, context)
