"""The calls API's part of the OpenAPI 3.1 document (initiate, read, list and terminate calls,
the balance, the document itself); schedules and the providers' callbacks have their own parts.

Written as a plain dict, not generated: the API functions validate by hand (no pydantic, no
Powertools resolver on their cold-start path; see calls/models.py), so there are no models to
generate from. The limits, statuses and enums come from the modules that enforce them
(models.py, lifecycle.py, the use cases), so the document cannot drift from the code.
Nothing on a request path imports this module: only functions/open_api/app.py does.
"""
from __future__ import annotations

from typing import Any

from outbound.http.openapi.parts import (
    E164_NOTE,
    E164_PATTERN,
    JSON,
    PAGE_TOKEN,
    REPLAYED,
    SECURED,
    common_errors,
    error,
    idempotency_key_parameter,
    ok,
    ref,
)


def call_fields() -> dict[str, Any]:
    """The POST /calls/initiate body's fields (a schedule's body has them too)."""
    from outbound.calls.models import (
        MAX_TEXT_CHARS,
        MAX_VARIABLE_NAME_CHARS,
        MAX_VARIABLE_VALUE_CHARS,
        MAX_VARIABLES,
    )
    from outbound.http.openapi.compliance import compliance_field_schemas
    from outbound.http.openapi.outcome_fields import outcome_field_schemas

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
    return {
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


def _schemas() -> dict[str, Any]:
    from outbound.calls.lifecycle import ALL_STATUSES, FINAL_STATUSES
    from outbound.calls.models import CALL_RECORD_FIELDS
    from outbound.http.openapi.outcome_fields import outcome_record_types

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
            "properties": call_fields(),
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
            "properties": {"calls": {"type": "array", "items": ref("CallRecord")},
                           "next_token": {"type": ["string", "null"],
                                          "description": "Pass it as `next_token` for the next page."}},
        },
        "Balance": {
            "type": "object", "required": ["balance_cents", "reserved_cents", "available_cents"],
            "properties": {name: {"type": "integer"} for name in ("balance_cents", "reserved_cents",
                                                                   "available_cents")},
            "example": {"balance_cents": 2500, "reserved_cents": 100, "available_cents": 2400},
        },
        "OpenApiDocument": {"type": "object", "required": ["openapi", "paths"]},
    }


def _paths() -> dict[str, Any]:
    from outbound.calls.lifecycle import ALL_STATUSES
    from outbound.calls.list_calls import DEFAULT_LIMIT, MAX_LIMIT
    from outbound.errors import INSUFFICIENT_BALANCE, INVALID_E164
    from outbound.http.openapi.call_reads import list_filters

    common = common_errors()
    replayed, secured, token = REPLAYED, SECURED, PAGE_TOKEN
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
    return {
        "/calls/initiate": {"post": {
            "operationId": "initiateCall", "tags": ["calls"], "summary": "Place an outbound call",
            "description": "Places a call from one of the organization's numbers through its provider. "
                           "With an `Idempotency-Key`, a retried request (same key, same body) answers "
                           "the first answer again instead of placing a second call (keys are kept 24 hours).",
            "security": secured,
            "parameters": [idempotency_key_parameter()],
            "requestBody": {"required": True, "content": {JSON: {
                "schema": ref("InitiateCallRequest"),
                "examples": {
                    "minimal": {"value": {"from_phone_number": "+15551234567", "to_phone_number": "+15559876543"}},
                    "templates": {"value": call_example},
                    "telnyx": {"value": {"from_phone_number": "+15551230007", "to_phone_number": "+15559876543"}},
                    "vonage": {"value": {"from_phone_number": "+15551230008", "to_phone_number": "+15559876543"}},
                    "sip": {"value": {"from_phone_number": "+15551230009", "to_phone_number": "+15559876543",
                                      "assistant_id": 123}},
                }}}},
            "responses": {
                "200": ok("The provider accepted the call.", "InitiateCallResponse",
                           {"message": "Call initiated successfully", "call_sid": "CA0123456789abcdef0123456789abcdef",
                            "call_id": "call_3f9a1c2b4d5e6f708192a3b4", "assistant_id": 123,
                            "provider": "twilio", "status": "queued"}, replayed),
                "400": error("Malformed JSON, a missing field, a wrong type, a limit exceeded, a missing "
                              "template variable, a refused destination, or a bad Idempotency-Key.",
                              "from_phone_number is required", INVALID_E164, "Missing template variables: name, time"),
                **common,
                "402": error("Available balance below the per-call reserve.", INSUFFICIENT_BALANCE),
                "403": error("The from number or assistant_id is not the organization's (unknown ones too).",
                              "Unauthorized: phone number +15551234567 does not belong to your organization",
                              "Unauthorized: assistant 456 does not belong to your organization"),
                "404": error("No assistant resolves for the from number.",
                              "No assistant found for phone number +15551234567"),
                "409": error("A request with this Idempotency-Key is still in progress; or your calling rules "
                              "(when on) refuse the call now: outside the window in a zone the recipient may be "
                              "in, or at a frequency cap (`next_allowed_at` says when).",
                              "A request with this Idempotency-Key is still in progress", schema="RulesRefusal",
                              headers=replayed),
                "422": error("The Idempotency-Key was used with a different body, or has expired; or your calling "
                              "rules refuse the call and waiting cannot help (consent required and missing, the "
                              "recipient's zone unknown, no common window).",
                              "Idempotency-Key was already used with a different request", schema="RulesRefusal"),
                "502": error("The provider refused or failed the call; nothing was charged.",
                              "Telephony provider error: invalid number", headers=replayed),
                "504": {"description": "The provider did not answer in time; the call may still be placed.",
                        "headers": replayed,
                        "content": {JSON: {"schema": ref("TimeoutError")}}},
            }}},
        "/calls/{call_ref}": {"get": {
            "operationId": "getCall", "tags": ["calls"], "summary": "Read a call record",
            "security": secured,
            "parameters": [{"name": "call_ref", "in": "path", "required": True,
                            "description": "The `call_sid` initiate returned, or the record's `call_id`.",
                            "schema": {"type": "string", "minLength": 1}, "example": "call_3f9a1c2b4d5e6f708192a3b4"}],
            "responses": {
                "200": ok("The call record.", "CallRecord", record_example),
                **common,
                "404": error("No such call in the organization (another organization's calls too).",
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
                "202": ok("The provider was asked to hang up (or had ended the call already).",
                           "TerminateCallResponse",
                           {"message": "Hang-up requested: the call ends with its provider's final status webhook",
                            "call_id": "call_3f9a1c2b4d5e6f708192a3b4",
                            "call_sid": "CA0123456789abcdef0123456789abcdef", "provider": "twilio",
                            "status": "in-progress"}),
                **common,
                "404": error("No such call in the organization (another organization's calls too).",
                              "Call CA0123 not found"),
                "409": error("The call has already ended, or its provider's id of it is not known yet.",
                              "Call call_3f9a1c2b4d5e6f708192a3b4 has already ended (completed)"),
                "502": error("The provider refused the hang-up (e.g. rejected credentials).",
                              "Telephony provider error: Authenticate"),
                "504": {"description": "The provider did not answer the hang-up in time: ask again.",
                        "content": {JSON: {"schema": ref("TimeoutError")}}},
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
                "200": ok("A page of call records.", "CallList", {"calls": [record_example], "next_token": None}),
                "400": error("A bad, repeated or unknown query parameter.", f"limit must be an integer from 1 to {MAX_LIMIT}",
                              "Invalid next_token"),
                **common,
            }}},
        "/organization/balance": {"get": {
            "operationId": "getBalance", "tags": ["organization"], "summary": "The organization's prepaid balance",
            "security": secured,
            "responses": {
                "200": ok("Balance, reserves held by calls in progress, and what is available (cents).", "Balance"),
                **common,
                "404": error("The API key's organization no longer exists.", "Organization not found"),
            }}},
        "/openapi.json": {"get": {
            "operationId": "getOpenApi", "tags": ["meta"], "summary": "This document",
            "security": [],
            "responses": {"200": ok("The OpenAPI 3.1 document.", "OpenApiDocument")}}},
    }


def fragment() -> dict[str, Any]:
    # The tags' order in the document: the schedules' and the callbacks' parts name theirs too.
    return {"tags": ["calls", "organization", "schedules", "webhooks", "meta"], "paths": _paths(),
            "schemas": _schemas()}
