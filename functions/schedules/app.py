"""SchedulesApiFunction: POST /calls/schedule, GET /calls/schedules, GET and DELETE
/calls/schedules/{schedule_id}.

A function of its own, so scheduling (the Scheduler client, cron and time-zone code) adds
nothing to CallsApiFunction's cold start. Same lightweight style: a dict of routes on the REST
API's ``resource``, errors as ``{"detail": ...}``, the organization from the API-key
authorizer's context, never from the body.
"""
from __future__ import annotations

import json
from typing import Any, Callable

from aws_lambda_powertools import Logger

from outbound.errors import INVALID_API_KEY, ApiError, BadRequest, NotFound, Unauthenticated
from outbound.usecases.schedules import cancel_schedule, get_schedule, list_schedules, schedule_call

logger = Logger(service="outbound-schedules")


def create(event: dict) -> tuple[int, dict, dict[str, str]]:
    body, headers = schedule_call(organization_id(event), _json_body(event), header(event, "Idempotency-Key"))
    return 201, body, headers


def header(event: dict, name: str) -> str | None:
    """A request header, whatever its case (REST API events keep the client's casing)."""
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == name.lower():
            return value
    return None


def index(event: dict) -> tuple[int, dict]:
    for name, values in (event.get("multiValueQueryStringParameters") or {}).items():
        if name not in ("limit", "next_token"):  # like an unknown body field
            raise BadRequest(f"Unknown query parameter: {name}")
        if len(values) > 1:  # API Gateway would keep the last one: refuse the ambiguity
            raise BadRequest(f"{name} must be given at most once")
    return 200, list_schedules(organization_id(event), event.get("queryStringParameters"))


def read(event: dict) -> tuple[int, dict]:
    return 200, get_schedule(organization_id(event), event["pathParameters"]["schedule_id"])


def cancel(event: dict) -> tuple[int, dict]:
    return 200, cancel_schedule(organization_id(event), event["pathParameters"]["schedule_id"])


ROUTES: dict[tuple[str, str], Callable[[dict], tuple[int, dict]]] = {
    ("POST", "/calls/schedule"): create,
    ("GET", "/calls/schedules"): index,
    ("GET", "/calls/schedules/{schedule_id}"): read,
    ("DELETE", "/calls/schedules/{schedule_id}"): cancel,
}


def organization_id(event: dict) -> str:
    org = ((event.get("requestContext") or {}).get("authorizer") or {}).get("organization_id")
    if not org:  # only if a route were deployed without the authorizer
        raise Unauthenticated(INVALID_API_KEY)
    return org


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _json_body(event: dict) -> dict[str, Any]:
    body = event.get("body")
    if body and event.get("isBase64Encoded"):
        import base64

        body = base64.b64decode(body).decode("utf-8", "replace")
    try:
        data = json.loads(body or "", parse_constant=_reject_constant)
    except (ValueError, TypeError):
        data = None
    if not isinstance(data, dict):
        raise BadRequest("Request body must be a JSON object")
    return data


def response(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"Content-Type": "application/json", **(headers or {})},
            "body": json.dumps(body)}


@logger.inject_lambda_context(correlation_id_path="requestContext.requestId")
def lambda_handler(event: dict, context: Any) -> dict:
    route = ROUTES.get((event.get("httpMethod", ""), event.get("resource", "")))
    if route is None:
        return response(404, NotFound("Not found").body())
    try:
        return response(*route(event))
    except ApiError as exc:
        return response(exc.status, exc.body(), exc.headers)
    except Exception:
        logger.exception("Unhandled error")
        return response(500, {"detail": "Internal server error"})
