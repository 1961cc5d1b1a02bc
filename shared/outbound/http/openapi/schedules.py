"""Scheduled calls' part of the OpenAPI document (POST /calls/schedule, GET /calls/schedules,
GET and DELETE /calls/schedules/{schedule_id}): written by hand, like the calls' part whose
initiate body a schedule carries."""
from __future__ import annotations

from typing import Any

from outbound.http.openapi.parts import (
    JSON,
    PAGE_TOKEN,
    REPLAYED,
    SECURED,
    common_errors,
    error,
    idempotency_key_parameter,
    nullable,
    ok,
    ref,
)


def _schemas() -> dict[str, Any]:
    from outbound.http.openapi.calls import call_fields
    from outbound.http.openapi.schedule_reads import recent_fires_schema
    from outbound.schedules.manage import RECURRENCE_FIELDS

    recurrence = {
        "type": "object", "required": ["cron"], "additionalProperties": False,
        "properties": {
            "cron": {"type": "string", "example": "cron(0 9 ? * MON-FRI *)",
                     "description": "An EventBridge cron expression, evaluated in `timezone`."},
            "timezone": {"type": ["string", "null"], "example": "America/New_York",
                         "description": "IANA time zone (default: the schedule's `timezone`, else UTC)."},
            "end_at": {"type": ["string", "null"], "description": "No fire after this ISO 8601 time."},
        },
    }
    assert set(recurrence["properties"]) == set(RECURRENCE_FIELDS)
    schedule_status = ["scheduled", "firing", "fired", "placed", "failed", "canceled", "active", "ended"]
    return {
        "ScheduleCallRequest": {
            "type": "object", "required": ["from_phone_number", "to_phone_number"], "additionalProperties": False,
            "description": "A POST /calls/initiate body plus when: `scheduled_at` (one call) or `recurrence`.",
            "properties": {
                **call_fields(),
                "scheduled_at": {"type": ["string", "null"], "example": "2030-01-15T09:30:00",
                                 "description": "ISO 8601, in the future; local to `timezone` when it has no offset."},
                "timezone": {"type": ["string", "null"], "example": "America/New_York",
                             "description": "IANA time zone."},
                "recurrence": nullable(recurrence),
            },
        },
        "ScheduleCreated": {
            "type": "object", "required": ["message", "schedule_id", "scheduled_at", "kind"],
            "properties": {
                "message": {"type": "string", "const": "Call scheduled"},
                "schedule_id": {"type": "string"},
                "scheduled_at": {"type": "string",
                                 "description": "The (first) fire, ISO 8601 in the schedule's `timezone` with its "
                                                "offset (`Z` without a time zone)."},
                "kind": {"type": "string", "enum": ["once", "recurring"]},
                "timezone": {"type": ["string", "null"]},
                "recurrence": nullable({"type": "object"}),
            },
        },
        "Schedule": {
            "type": "object", "required": ["schedule_id", "organization_id", "kind", "status", "call"],
            "properties": {
                "schedule_id": {"type": "string"},
                "organization_id": {"type": "string"},
                "kind": {"type": "string", "enum": ["once", "recurring"]},
                "status": {"type": "string", "enum": schedule_status},
                "scheduled_at": {"type": ["string", "null"],
                                 "description": "The (next) fire, ISO 8601 in the schedule's `timezone` with its offset."},
                "timezone": {"type": ["string", "null"]},
                "recurrence": nullable({"type": "object"}),
                "call": {"type": "object", "description": "The POST /calls/initiate body each fire sends."},
                "created_at": {"type": ["string", "null"]},
                "updated_at": {"type": ["string", "null"]},
                "canceled_at": {"type": ["string", "null"]},
                "call_id": {"type": "string"},
                "call_sid": {"type": ["string", "null"]},
                "call_status": {"type": ["string", "null"]},
                "failure": {"type": "object", "properties": {"status_code": {"type": ["integer", "null"]},
                                                             "detail": {"type": ["string", "null"]}}},
                "recent_fires": recent_fires_schema(),
            },
        },
        "ScheduleList": {
            "type": "object", "required": ["schedules", "next_token"],
            "properties": {"schedules": {"type": "array", "items": ref("Schedule")},
                           "next_token": {"type": ["string", "null"]}},
        },
        "ScheduleCanceled": {
            "type": "object", "required": ["message", "schedule_id", "status"],
            "properties": {"message": {"type": "string", "const": "Schedule canceled"},
                           "schedule_id": {"type": "string"}, "status": {"type": "string", "const": "canceled"}},
        },
    }


def _paths() -> dict[str, Any]:
    from outbound.schedules.manage import DEFAULT_PAGE, MAX_PAGE

    common = common_errors()
    replayed, secured, token = REPLAYED, SECURED, PAGE_TOKEN
    return {
        "/calls/schedule": {"post": {
            "operationId": "scheduleCall", "tags": ["schedules"],
            "summary": "Schedule a call (one-time or recurring)",
            "description": "Validates everything POST /calls/initiate would (without placing a call or holding "
                           "balance), then creates an EventBridge Scheduler schedule.",
            "security": secured,
            "parameters": [idempotency_key_parameter()],
            "requestBody": {"required": True, "content": {JSON: {
                "schema": ref("ScheduleCallRequest"),
                "examples": {
                    "once": {"value": {"from_phone_number": "+15551234567", "to_phone_number": "+15559876543",
                                       "scheduled_at": "2035-01-15T09:30:00", "timezone": "America/New_York"}},
                    "recurring": {"value": {"from_phone_number": "+15551234567", "to_phone_number": "+15559876543",
                                            "recurrence": {"cron": "cron(0 9 ? * MON-FRI *)",
                                                           "timezone": "America/New_York"}}},
                }}}},
            "responses": {
                "201": ok("Scheduled.", "ScheduleCreated",
                           {"message": "Call scheduled", "schedule_id": "sch_0123456789abcdef01234567",
                            "scheduled_at": "2035-01-15T09:30:00-05:00", "kind": "once",
                            "timezone": "America/New_York", "recurrence": None}, replayed),
                "400": error("Bad body, time in the past, bad time zone or cron, or what initiate refuses.",
                              "scheduled_at or recurrence is required"),
                **common,
                "403": error("The from number or assistant_id is not the organization's.",
                              "Unauthorized: phone number +15551234567 does not belong to your organization"),
                "404": error("No assistant resolves for the from number.",
                              "No assistant found for phone number +15551234567"),
                "502": error("The organization has no credentials for the number's provider.",
                              "Telephony provider error: no twilio credentials"),
                "409": error("A request with this Idempotency-Key is still in progress.",
                              "A request with this Idempotency-Key is still in progress", headers=replayed),
                "422": error("The Idempotency-Key was used with a different body, or has expired.",
                              "Idempotency-Key was already used with a different request"),
                "503": error("The scheduler could not create the schedule (nothing was kept).",
                              "The scheduler could not create the schedule. Try again."),
            }}},
        "/calls/schedules": {"get": {
            "operationId": "listSchedules", "tags": ["schedules"], "summary": "List the organization's schedules",
            "security": secured,
            "parameters": [
                {"name": "limit", "in": "query", "required": False, "allowEmptyValue": True,
                 "description": f"Page size (empty: {DEFAULT_PAGE}).",
                 "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": DEFAULT_PAGE}},
                {"name": "next_token", "in": "query", "required": False, "schema": token,
                 "allowEmptyValue": True, "description": "The previous page's `next_token` (empty: the first page)."}],
            "responses": {
                "200": ok("A page of schedules.", "ScheduleList"),
                "400": error("A bad, repeated or unknown query parameter.",
                              "next_token is not valid: use the next_token of the previous page"),
                **common,
            }}},
        "/calls/schedules/{schedule_id}": {
            "parameters": [{"name": "schedule_id", "in": "path", "required": True,
                            "schema": {"type": "string", "minLength": 1},
                            "example": "sch_0123456789abcdef01234567"}],
            "get": {
                "operationId": "getSchedule", "tags": ["schedules"], "summary": "Read a schedule and its outcome (a recurring one: its recent fires)",
                "security": secured,
                "responses": {
                    "200": ok("The schedule.", "Schedule"),
                    **common,
                    "404": error("No such schedule in the organization.", "Schedule sch_0123 not found"),
                }},
            "delete": {
                "operationId": "cancelSchedule", "tags": ["schedules"], "summary": "Cancel a schedule",
                "security": secured,
                "responses": {
                    "200": ok("Canceled: no further fire places a call.", "ScheduleCanceled"),
                    **common,
                    "404": error("No such schedule in the organization.", "Schedule sch_0123 not found"),
                    "409": error("Already canceled, or a one-time schedule that has fired.",
                                  "Schedule sch_0123 is already canceled"),
                }}},
    }


def fragment() -> dict[str, Any]:
    return {"tags": ["schedules"], "paths": _paths(), "schemas": _schemas()}
