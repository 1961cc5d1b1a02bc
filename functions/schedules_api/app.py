"""SchedulesApiFunction: POST /calls/schedule, GET /calls/schedules, GET and DELETE
/calls/schedules/{schedule_id}.

A function of its own, so scheduling (the Scheduler client, cron and time-zone code) adds
nothing to CallsApiFunction's cold start. Same thin style (outbound.http.router): the organization
from the API-key authorizer's context, never from the body; errors as ``{"detail": ...}``.
"""
from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from outbound.calls.models import parse_json_object
from outbound.http.router import body_text, dispatch, header, organization_id, single_valued_query
from outbound.metrics import emits_metrics
from outbound.schedules.manage import cancel_schedule, get_schedule, list_schedules, schedule_call

logger = Logger(service="outbound-schedules")


def create(event: dict) -> tuple[int, dict, dict[str, str]]:
    body = parse_json_object(body_text(event))
    created, headers = schedule_call(organization_id(event), body, header(event, "Idempotency-Key"))
    return 201, created, headers


def index(event: dict) -> dict:
    single_valued_query(event, ("limit", "next_token"))
    return list_schedules(organization_id(event), event.get("queryStringParameters"))


def read(event: dict) -> dict:
    return get_schedule(organization_id(event), event["pathParameters"]["schedule_id"])


def cancel(event: dict) -> dict:
    return cancel_schedule(organization_id(event), event["pathParameters"]["schedule_id"])


ROUTES = {
    ("POST", "/calls/schedule"): create,
    ("GET", "/calls/schedules"): index,
    ("GET", "/calls/schedules/{schedule_id}"): read,
    ("DELETE", "/calls/schedules/{schedule_id}"): cancel,
}


@logger.inject_lambda_context(correlation_id_path="requestContext.requestId")
@emits_metrics  # AwsConfigurationErrors (outbound.http.router.failure_answer)
def lambda_handler(event: dict, context: Any) -> dict:
    return dispatch(ROUTES, event, logger)
