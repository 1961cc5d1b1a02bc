"""The calls API's part of the OpenAPI 3.1 document (initiate, calls, balance, schedules,
provider webhooks, the document itself).

Written as a plain dict, not generated: the API functions validate by hand (no pydantic, no
Powertools resolver on their cold-start path; see models.py), so there are no models to
generate from. The limits, statuses and enums come from the modules that enforce them
(models.py, lifecycle.py, the use cases), so the document cannot drift from the code.
Nothing on a request path imports this module: only functions/open_api/app.py does.
"""
from __future__ import annotations

from typing import Any

E164_PATTERN = r"^\+[1-9][0-9]{1,14}$"
E164_NOTE = ("E.164: `+`, a country code and a number of possible length for that country "
             "(e.g. +15551234567). Digits of other scripts (e.g. Arabic-Indic, fullwidth) are read as "
             "the same number; records, answers and providers only ever get this ASCII form.")
JSON = "application/json"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """OpenAPI 3.1 (JSON Schema 2020-12): null allowed beside the given schema."""
    return {"anyOf": [schema, {"type": "null"}]}


def _error(description: str, *examples: str, schema: str = "Error",
           headers: dict[str, Any] | None = None) -> dict[str, Any]:
    content: dict[str, Any] = {"schema": _ref(schema)}
    if examples:
        content["examples"] = {f"example{i + 1}": {"value": {"detail": text}} for i, text in enumerate(examples)}
    answer: dict[str, Any] = {"description": description, "content": {JSON: content}}
    if headers:
        answer["headers"] = headers
    return answer


def _ok(description: str, schema: str, example: dict[str, Any] | None = None,
        headers: dict[str, Any] | None = None) -> dict[str, Any]:
    content: dict[str, Any] = {"schema": _ref(schema)}
    if example is not None:
        content["example"] = example
    answer: dict[str, Any] = {"description": description, "content": {JSON: content}}
    if headers:
        answer["headers"] = headers
    return answer


def _common_errors() -> dict[str, Any]:
    """What every API-key route may answer besides its own statuses."""
    from outbound.errors import INVALID_API_KEY

    return {
        "401": _error("No, unknown or revoked API key (API Gateway's authorizer answer).", INVALID_API_KEY),
        "429": _error("Throttled by the stage's rate limits.", "Too many requests. Retry with backoff."),
    }


def _schemas() -> dict[str, Any]:
    from outbound.calls.lifecycle import ALL_STATUSES, FINAL_STATUSES, PROVIDER_STATUSES
    from outbound.calls.models import (
        CALL_RECORD_FIELDS,
        MAX_TEXT_CHARS,
        MAX_VARIABLE_NAME_CHARS,
        MAX_VARIABLE_VALUE_CHARS,
        MAX_VARIABLES,
    )
    from outbound.http.openapi.compliance import compliance_field_schemas
    from outbound.http.openapi.outcome_fields import outcome_field_schemas, outcome_record_types
    from outbound.http.openapi.schedule_reads import recent_fires_schema
    from outbound.schedules.manage import RECURRENCE_FIELDS

    text = {"type": ["string", "null"], "maxLength": MAX_TEXT_CHARS,
            "description": "`{{variable}}` placeholders are filled from `variables` (one pass, no expressions)."}
    variables = {
        "type": "object", "maxProperties": MAX_VARIABLES,
        "propertyNames": {"minLength": 1, "maxLength": MAX_VARIABLE_NAME_CHARS},
        "additionalProperties": {"anyOf": [{"type": "string", "maxLength": MAX_VARIABLE_VALUE_CHARS},
                                           {"type": "number"}, {"type": "boolean"}]},
        "description": "Flat name -> string/number/boolean, substituted into welcome_message and agenda. "
                       "Numbers are 0 or of magnitude 1e-130 to 1e125 (what the call record can store).",
        "example": {"name": "Ada", "time": "3pm"},
    }
    call_fields = {
        "from_phone_number": {"type": "string", "pattern": E164_PATTERN, "example": "+15551234567",
                              "description": "A number of the caller's organization. " + E164_NOTE},
        "to_phone_number": {"type": "string", "pattern": E164_PATTERN, "example": "+15559876543",
                            "description": "The destination. " + E164_NOTE},
        "assistant_id": {"type": ["integer", "null"], "description": "Override the number's assistant.",
                         "example": 123},
        "welcome_message": text,
        "agenda": text,
        "variables": variables,
        **outcome_field_schemas(),
        **compliance_field_schemas(),
    }
    record_types: dict[str, Any] = {name: {"type": ["string", "null"]} for name in CALL_RECORD_FIELDS}
    record_types.update({
        "call_id": {"type": "string"},
        "organization_id": {"type": "string"},
        "assistant_id": {"type": ["integer", "null"]},
        "status": {"type": "string", "enum": list(ALL_STATUSES)},
        "provider": {"type": "string", "enum": ["twilio", "telnyx", "vonage", "sip"]},
        "variables": {"type": "object"},
        "reserve_cents": {"type": ["integer", "null"]},
        "duration_seconds": {"type": ["integer", "null"]},
        "charged_cents": {"type": ["integer", "null"]},
        "attempt": {"type": ["integer", "null"]},
        "provider_adjusted_cents": {"type": ["integer", "null"]},
        **outcome_record_types(),
    })
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
        "Error": {
            "type": "object", "required": ["detail"],
            "properties": {"detail": {"type": "string", "description": "A sentence saying what went wrong."}},
            "example": {"detail": "to_phone_number is required"},
        },
        "TimeoutError": {
            "type": "object", "required": ["detail", "call_id"],
            "properties": {"detail": {"type": "string"}, "call_id": {"type": "string"}},
            "description": "The provider did not answer in time; the call may exist. Its record "
                           "(GET /calls/{call_id}) is reconciled by the provider's status webhook.",
        },
        "InitiateCallRequest": {
            "type": "object", "required": ["from_phone_number", "to_phone_number"], "additionalProperties": False,
            "properties": call_fields,
        },
        "TerminateCallResponse": {
            "type": "object", "required": ["message", "call_id", "call_sid", "provider", "status"],
            "properties": {
                "message": {"type": "string"},
                "call_id": {"type": "string"},
                "call_sid": {"type": "string", "description": "The provider's call id, which it was asked to hang up."},
                "provider": {"type": "string", "enum": ["twilio", "telnyx", "vonage", "sip"]},
                "status": {"type": "string", "enum": [s for s in ALL_STATUSES if s not in FINAL_STATUSES],
                           "description": "The call's status when the hang-up was asked (it ends with the "
                                          "provider's final status webhook)."},
            },
        },
        "InitiateCallResponse": {
            "type": "object", "required": ["message", "call_sid"],
            "properties": {
                "message": {"type": "string", "const": "Call initiated successfully"},
                "call_sid": {"type": "string", "description": "The provider's call id."},
                "call_id": {"type": "string"},
                "assistant_id": {"type": "integer"},
                "provider": {"type": "string", "enum": ["twilio", "telnyx", "vonage", "sip"]},
                "status": {"type": "string", "enum": ["queued"]},
            },
        },
        "CallRecord": {
            "type": "object", "required": list(CALL_RECORD_FIELDS), "properties": record_types,
        },
        "CallList": {
            "type": "object", "required": ["calls", "next_token"],
            "properties": {"calls": {"type": "array", "items": _ref("CallRecord")},
                           "next_token": {"type": ["string", "null"],
                                          "description": "Pass it as `next_token` for the next page."}},
        },
        "Balance": {
            "type": "object", "required": ["balance_cents", "reserved_cents", "available_cents"],
            "properties": {name: {"type": "integer"} for name in ("balance_cents", "reserved_cents",
                                                                   "available_cents")},
            "example": {"balance_cents": 2500, "reserved_cents": 100, "available_cents": 2400},
        },
        "ScheduleCallRequest": {
            "type": "object", "required": ["from_phone_number", "to_phone_number"], "additionalProperties": False,
            "description": "A POST /calls/initiate body plus when: `scheduled_at` (one call) or `recurrence`.",
            "properties": {
                **call_fields,
                "scheduled_at": {"type": ["string", "null"], "example": "2030-01-15T09:30:00",
                                 "description": "ISO 8601, in the future; local to `timezone` when it has no offset."},
                "timezone": {"type": ["string", "null"], "example": "America/New_York",
                             "description": "IANA time zone."},
                "recurrence": _nullable(recurrence),
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
                "recurrence": _nullable({"type": "object"}),
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
                "recurrence": _nullable({"type": "object"}),
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
            "properties": {"schedules": {"type": "array", "items": _ref("Schedule")},
                           "next_token": {"type": ["string", "null"]}},
        },
        "ScheduleCanceled": {
            "type": "object", "required": ["message", "schedule_id", "status"],
            "properties": {"message": {"type": "string", "const": "Schedule canceled"},
                           "schedule_id": {"type": "string"}, "status": {"type": "string", "const": "canceled"}},
        },
        "WebhookResult": {
            "type": "object", "required": ["call_id", "status", "applied"],
            "properties": {"call_id": {"type": "string"},
                           "status": {"type": ["string", "null"], "enum": [*ALL_STATUSES, None]},
                           "applied": {"type": "boolean"},
                           "reason": {"type": "string"}},
            "description": f"Statuses a webhook can report: {', '.join(PROVIDER_STATUSES)}.",
        },
        "OpenApiDocument": {"type": "object", "required": ["openapi", "paths"]},
    }


def _paths() -> dict[str, Any]:
    from outbound.calls.lifecycle import ALL_STATUSES
    from outbound.calls.list_calls import DEFAULT_LIMIT, MAX_LIMIT
    from outbound.errors import INSUFFICIENT_BALANCE, INVALID_E164
    from outbound.http.openapi.call_reads import list_filters
    from outbound.idempotency import MAX_KEY_CHARS
    from outbound.schedules.manage import DEFAULT_PAGE, MAX_PAGE

    common = _common_errors()
    replayed = {"Idempotent-Replayed": {
        "description": "`true` when this is the stored answer of an earlier request with the same "
                       "Idempotency-Key (no second call was placed).",
        "schema": {"type": "string", "enum": ["true"]}}}
    secured = [{"bearerAuth": []}]
    idempotency_key = {
        "name": "Idempotency-Key", "in": "header", "required": False,
        "description": "Any unique string per intended request (e.g. a UUID): retries with the same key and "
                       "body answer the first answer again (`Idempotent-Replayed: true`), never a second "
                       "call or schedule. Keys are kept 24 hours.",
        "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_CHARS,
                   "pattern": "^[\\x21-\\x7e]([\\x20-\\x7e]*[\\x21-\\x7e])?$"},
        "example": "7c1e5d4a-9f0b-4c2e-8a57-2d7f0e3b9c11"}
    call_example = {"from_phone_number": "+15551234567", "to_phone_number": "+15559876543",
                    "welcome_message": "Hi {{name}}, this is Sarah.", "variables": {"name": "Ada"}}
    record_example = {
        "call_id": "call_3f9a1c2b4d5e6f708192a3b4", "call_sid": "CA0123456789abcdef0123456789abcdef",
        "organization_id": "org_acme", "assistant_id": 123, "from_phone_number": "+15551234567",
        "to_phone_number": "+15559876543", "provider": "twilio", "status": "queued",
        "welcome_message": "Hi Ada, this is Sarah.", "agenda": "Help the caller with their appointment.",
        "variables": {"name": "Ada"}, "reserve_cents": 100, "failure_reason": None,
        "created_at": "2030-01-15T14:30:00.000Z", "updated_at": "2030-01-15T14:30:01.000Z",
        "answered_by": None, "answered_at": None, "ended_at": None, "duration_seconds": None,
        "hangup_cause": None, "charged_cents": None, "settled_at": None, "schedule_id": None,
        "scheduled_time": None}
    token = {"type": "string", "minLength": 1, "maxLength": 512}
    return {
        "/calls/initiate": {"post": {
            "operationId": "initiateCall", "tags": ["calls"], "summary": "Place an outbound call",
            "description": "Places a call from one of the organization's numbers through its provider. "
                           "With an `Idempotency-Key`, a retried request (same key, same body) answers "
                           "the first answer again instead of placing a second call (keys are kept 24 hours).",
            "security": secured,
            "parameters": [idempotency_key],
            "requestBody": {"required": True, "content": {JSON: {
                "schema": _ref("InitiateCallRequest"),
                "examples": {
                    "minimal": {"value": {"from_phone_number": "+15551234567", "to_phone_number": "+15559876543"}},
                    "templates": {"value": call_example},
                    "telnyx": {"value": {"from_phone_number": "+15551230007", "to_phone_number": "+15559876543"}},
                    "vonage": {"value": {"from_phone_number": "+15551230008", "to_phone_number": "+15559876543"}},
                    "sip": {"value": {"from_phone_number": "+15551230009", "to_phone_number": "+15559876543",
                                      "assistant_id": 123}},
                }}}},
            "responses": {
                "200": _ok("The provider accepted the call.", "InitiateCallResponse",
                           {"message": "Call initiated successfully", "call_sid": "CA0123456789abcdef0123456789abcdef",
                            "call_id": "call_3f9a1c2b4d5e6f708192a3b4", "assistant_id": 123,
                            "provider": "twilio", "status": "queued"}, replayed),
                "400": _error("Malformed JSON, a missing field, a wrong type, a limit exceeded, a missing "
                              "template variable, a refused destination, or a bad Idempotency-Key.",
                              "from_phone_number is required", INVALID_E164, "Missing template variables: name, time"),
                **common,
                "402": _error("Available balance below the per-call reserve.", INSUFFICIENT_BALANCE),
                "403": _error("The from number or assistant_id is not the organization's (unknown ones too).",
                              "Unauthorized: phone number +15551234567 does not belong to your organization",
                              "Unauthorized: assistant 456 does not belong to your organization"),
                "404": _error("No assistant resolves for the from number.",
                              "No assistant found for phone number +15551234567"),
                "409": _error("A request with this Idempotency-Key is still in progress; or your calling rules "
                              "(when on) refuse the call now: outside the window in a zone the recipient may be "
                              "in, or at a frequency cap (`next_allowed_at` says when).",
                              "A request with this Idempotency-Key is still in progress", schema="RulesRefusal",
                              headers=replayed),
                "422": _error("The Idempotency-Key was used with a different body, or has expired; or your calling "
                              "rules refuse the call and waiting cannot help (consent required and missing, the "
                              "recipient's zone unknown, no common window).",
                              "Idempotency-Key was already used with a different request", schema="RulesRefusal"),
                "502": _error("The provider refused or failed the call; nothing was charged.",
                              "Telephony provider error: invalid number", headers=replayed),
                "504": {"description": "The provider did not answer in time; the call may still be placed.",
                        "headers": replayed,
                        "content": {JSON: {"schema": _ref("TimeoutError")}}},
            }}},
        "/calls/{call_ref}": {"get": {
            "operationId": "getCall", "tags": ["calls"], "summary": "Read a call record",
            "security": secured,
            "parameters": [{"name": "call_ref", "in": "path", "required": True,
                            "description": "The `call_sid` initiate returned, or the record's `call_id`.",
                            "schema": {"type": "string", "minLength": 1}, "example": "call_3f9a1c2b4d5e6f708192a3b4"}],
            "responses": {
                "200": _ok("The call record.", "CallRecord", record_example),
                **common,
                "404": _error("No such call in the organization (another organization's calls too).",
                              "Call CA0123 not found"),
            }}},
        "/calls/{call_ref}/terminate": {"post": {
            "operationId": "terminateCall", "tags": ["calls"], "summary": "End a live call",
            "description": "Asks the call's provider to hang it up with its own hang-up (Twilio: the call updated "
                           "to `completed`; Telnyx: the `hangup` command; Vonage: `PUT` with `action: hangup`; "
                           "BYO SIP: `uuid_kill` on the bridge). The call then ends, is charged and releases its "
                           "reserve with the provider's final status webhook, as any call: an answered call "
                           "`completed` with its talk time, one still ringing `canceled`. Idempotent: asking "
                           "again before that webhook arrives is answered 202 again; once the call has ended, 409.",
            "security": secured,
            "parameters": [{"name": "call_ref", "in": "path", "required": True,
                            "description": "The call's `call_sid` or `call_id`.",
                            "schema": {"type": "string", "minLength": 1}, "example": "call_3f9a1c2b4d5e6f708192a3b4"}],
            "responses": {
                "202": _ok("The provider was asked to hang up (or had ended the call already).",
                           "TerminateCallResponse",
                           {"message": "Hang-up requested: the call ends with its provider's final status webhook",
                            "call_id": "call_3f9a1c2b4d5e6f708192a3b4",
                            "call_sid": "CA0123456789abcdef0123456789abcdef", "provider": "twilio",
                            "status": "in-progress"}),
                **common,
                "404": _error("No such call in the organization (another organization's calls too).",
                              "Call CA0123 not found"),
                "409": _error("The call has already ended, or its provider's id of it is not known yet.",
                              "Call call_3f9a1c2b4d5e6f708192a3b4 has already ended (completed)"),
                "502": _error("The provider refused the hang-up (e.g. rejected credentials).",
                              "Telephony provider error: Authenticate"),
                "504": {"description": "The provider did not answer the hang-up in time: ask again.",
                        "content": {JSON: {"schema": _ref("TimeoutError")}}},
            }}},
        "/calls": {"get": {
            "operationId": "listCalls", "tags": ["calls"], "summary": "List the organization's calls, newest first",
            "security": secured,
            "parameters": [
                {"name": "status", "in": "query", "required": False, "allowEmptyValue": True,
                 "description": "Only the calls in this status (empty: every status).",
                 "schema": {"type": "string", "enum": list(ALL_STATUSES)}},
                {"name": "limit", "in": "query", "required": False, "allowEmptyValue": True,
                 "description": f"Page size (empty: {DEFAULT_LIMIT}).",
                 "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT}},
                {"name": "next_token", "in": "query", "required": False, "schema": token,
                 "allowEmptyValue": True, "description": "The previous page's `next_token` (empty: the first page)."},
                *list_filters()],
            "responses": {
                "200": _ok("A page of call records.", "CallList", {"calls": [record_example], "next_token": None}),
                "400": _error("A bad, repeated or unknown query parameter.", f"limit must be an integer from 1 to {MAX_LIMIT}",
                              "Invalid next_token"),
                **common,
            }}},
        "/organization/balance": {"get": {
            "operationId": "getBalance", "tags": ["organization"], "summary": "The organization's prepaid balance",
            "security": secured,
            "responses": {
                "200": _ok("Balance, reserves held by calls in progress, and what is available (cents).", "Balance"),
                **common,
                "404": _error("The API key's organization no longer exists.", "Organization not found"),
            }}},
        "/calls/schedule": {"post": {
            "operationId": "scheduleCall", "tags": ["schedules"],
            "summary": "Schedule a call (one-time or recurring)",
            "description": "Validates everything POST /calls/initiate would (without placing a call or holding "
                           "balance), then creates an EventBridge Scheduler schedule.",
            "security": secured,
            "parameters": [idempotency_key],
            "requestBody": {"required": True, "content": {JSON: {
                "schema": _ref("ScheduleCallRequest"),
                "examples": {
                    "once": {"value": {"from_phone_number": "+15551234567", "to_phone_number": "+15559876543",
                                       "scheduled_at": "2035-01-15T09:30:00", "timezone": "America/New_York"}},
                    "recurring": {"value": {"from_phone_number": "+15551234567", "to_phone_number": "+15559876543",
                                            "recurrence": {"cron": "cron(0 9 ? * MON-FRI *)",
                                                           "timezone": "America/New_York"}}},
                }}}},
            "responses": {
                "201": _ok("Scheduled.", "ScheduleCreated",
                           {"message": "Call scheduled", "schedule_id": "sch_0123456789abcdef01234567",
                            "scheduled_at": "2035-01-15T09:30:00-05:00", "kind": "once",
                            "timezone": "America/New_York", "recurrence": None}, replayed),
                "400": _error("Bad body, time in the past, bad time zone or cron, or what initiate refuses.",
                              "scheduled_at or recurrence is required"),
                **common,
                "403": _error("The from number or assistant_id is not the organization's.",
                              "Unauthorized: phone number +15551234567 does not belong to your organization"),
                "404": _error("No assistant resolves for the from number.",
                              "No assistant found for phone number +15551234567"),
                "502": _error("The organization has no credentials for the number's provider.",
                              "Telephony provider error: no twilio credentials"),
                "409": _error("A request with this Idempotency-Key is still in progress.",
                              "A request with this Idempotency-Key is still in progress", headers=replayed),
                "422": _error("The Idempotency-Key was used with a different body, or has expired.",
                              "Idempotency-Key was already used with a different request"),
                "503": _error("The scheduler could not create the schedule (nothing was kept).",
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
                "200": _ok("A page of schedules.", "ScheduleList"),
                "400": _error("A bad, repeated or unknown query parameter.",
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
                    "200": _ok("The schedule.", "Schedule"),
                    **common,
                    "404": _error("No such schedule in the organization.", "Schedule sch_0123 not found"),
                }},
            "delete": {
                "operationId": "cancelSchedule", "tags": ["schedules"], "summary": "Cancel a schedule",
                "security": secured,
                "responses": {
                    "200": _ok("Canceled: no further fire places a call.", "ScheduleCanceled"),
                    **common,
                    "404": _error("No such schedule in the organization.", "Schedule sch_0123 not found"),
                    "409": _error("Already canceled, or a one-time schedule that has fired.",
                                  "Schedule sch_0123 is already canceled"),
                }}},
        "/webhooks/{provider}": {"post": {
            "operationId": "statusWebhook", "tags": ["webhooks"], "summary": "A provider's call status callback",
            "description": "Called by the providers, not by API clients: no API key, each request is verified "
                           "with its provider's signature scheme and the call's organization's credentials. "
                           "Statuses only move forward; the final one settles the balance exactly once.",
            "security": [],
            "parameters": [{"name": "provider", "in": "path", "required": True,
                            "schema": {"type": "string", "enum": ["twilio", "telnyx", "vonage", "sip"]}},
                           {"name": "call_id", "in": "query", "required": False,
                            "description": "Our call id, in the status callback URL given to the provider.",
                            "schema": {"type": "string"}}],
            "requestBody": {"required": True, "content": {
                "application/x-www-form-urlencoded": {"schema": {
                    "type": "object", "description": "Twilio's status callback parameters."}},
                JSON: {"schema": {"type": "object", "description": "Telnyx, Vonage and SIP bridge events."}}}},
            "responses": {
                "200": _ok("Verified; `applied` says whether the call moved.", "WebhookResult",
                           {"call_id": "call_3f9a1c2b4d5e6f708192a3b4", "status": "completed", "applied": True}),
                "400": _error("Signed, but not a readable status event.", "Unreadable twilio status event: ..."),
                "403": _error("Bad or missing signature (or an unknown call).", "Invalid or missing webhook signature"),
                "404": _error("Unknown provider.", "Not found"),
                "429": _error("Throttled by the stage's rate limits.", "Too many requests. Retry with backoff."),
            }}},
        "/openapi.json": {"get": {
            "operationId": "getOpenApi", "tags": ["meta"], "summary": "This document",
            "security": [],
            "responses": {"200": _ok("The OpenAPI 3.1 document.", "OpenApiDocument")}}},
    }


def fragment() -> dict[str, Any]:
    return {"tags": ["calls", "organization", "schedules", "webhooks", "meta"], "paths": _paths(),
            "schemas": _schemas()}
