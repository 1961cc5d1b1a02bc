"""The calls API's read routes beside the call record: the calls list's filters, a call's timeline
and ledger entries, and the organization's spend per day (what the web console shows).

Written by hand like outbound.http.openapi.calls (the calls API validates by hand); limits come
from the modules that enforce them. Nothing on a request path imports this module."""
from __future__ import annotations

from typing import Any


def list_filters() -> list[dict[str, Any]]:
    """GET /calls' filters besides status, limit and next_token."""
    from outbound.calls.list_calls import MAX_FILTER_ID_CHARS

    def identifier(name: str, what: str) -> dict[str, Any]:
        return {"name": name, "in": "query", "required": False, "allowEmptyValue": True,
                "description": f"Only the calls {what} (empty: every call).",
                "schema": {"type": "string", "maxLength": MAX_FILTER_ID_CHARS}}

    def instant(name: str, what: str) -> dict[str, Any]:
        return {"name": name, "in": "query", "required": False, "allowEmptyValue": True,
                "description": f"Only the calls created {what}: an ISO 8601 date (midnight UTC) or a time with "
                               "its offset.",
                "schema": {"type": "string"}, "example": "2030-01-15"}

    return [identifier("campaign_id", "of this campaign (its attempts)"),
            identifier("schedule_id", "this schedule placed"),
            instant("from", "at or after this time"), instant("to", "before this time")]


def _schemas() -> dict[str, Any]:
    from outbound.calls.lifecycle import ALL_STATUSES
    from outbound.http.openapi.parts import ref

    text = {"type": ["string", "null"]}
    return {
        "TimelineEvent": {
            "type": "object", "required": ["at", "status", "source"],
            "properties": {
                "at": {"type": "string", "description": "When we recorded the change (ISO 8601, UTC)."},
                "status": {"type": "string", "enum": list(ALL_STATUSES)},
                "source": {"type": "string", "description": "What made it: `api` (created, placed or refused "
                                                            "by the API), `<provider> webhook`, `<provider> records` "
                                                            "(the provider reconciliation), `reserve sweeper`, "
                                                            "`record` (a call older than timelines)."},
                "provider_event": {**text, "description": "The provider's own name for the event (Twilio's "
                                                          "CallStatus, Telnyx's event_type, Vonage's status, the "
                                                          "SIP bridge's event)."},
                "occurred_at": {**text, "description": "When the provider says it happened."},
                "detail": {**text, "description": "The hangup cause, the failure, or what was held."},
                "duration_seconds": {"type": ["integer", "null"]},
                "charged_cents": {"type": ["integer", "null"], "description": "On the final status: the charge."},
            },
        },
        "CallTimeline": {
            "type": "object", "required": ["call_id", "call_sid", "status", "events"],
            "properties": {"call_id": {"type": "string"}, "call_sid": text,
                           "status": {"type": "string", "enum": list(ALL_STATUSES)},
                           "events": {"type": "array", "items": ref("TimelineEvent")}},
        },
        "SpendPerDay": {
            "type": "object", "required": ["first_day", "last_day", "time_zone", "total_cents", "days"],
            "properties": {
                "first_day": {"type": "string", "format": "date"}, "last_day": {"type": "string", "format": "date"},
                "time_zone": {"type": "string", "const": "UTC"},
                "total_cents": {"type": "integer", "description": "The range's charges, net of refunds."},
                "days": {"type": "array", "description": "Every day of the range, oldest first.", "items": {
                    "type": "object", "required": ["day", "charged_cents", "charges"],
                    "properties": {"day": {"type": "string", "format": "date"},
                                   "charged_cents": {"type": "integer", "description": "Charges net of refunds."},
                                   "charges": {"type": "integer", "description": "Calls charged that day."}}}},
            },
        },
        "CallLedger": {
            "type": "object", "required": ["call_id", "entries"],
            "properties": {"call_id": {"type": "string"},
                           "entries": {"type": "array", "items": ref("LedgerEntry")}},
        },
    }


def _call_path(operation_id: str, summary: str, description: str, schema: str,
               example: dict[str, Any]) -> dict[str, Any]:
    from outbound.http.openapi.parts import common_errors, error, ok

    return {"get": {
        "operationId": operation_id, "tags": ["calls"], "summary": summary, "description": description,
        "security": [{"bearerAuth": []}],
        "parameters": [{"name": "call_ref", "in": "path", "required": True,
                        "description": "The `call_sid` initiate returned, or the record's `call_id`.",
                        "schema": {"type": "string", "minLength": 1}, "example": "call_3f9a1c2b4d5e6f708192a3b4"}],
        "responses": {
            "200": ok(summary + ".", schema, example),
            "400": error("A query parameter (this route takes none).", "Unknown query parameter: x"),
            **common_errors(),
            "404": error("No such call in the organization (another organization's calls too).",
                          "Call CA0123 not found"),
        }}}


def _paths() -> dict[str, Any]:
    call_id = "call_3f9a1c2b4d5e6f708192a3b4"
    timeline = {"call_id": call_id, "call_sid": "CA0123456789abcdef0123456789abcdef", "status": "completed", "events": [
        {"at": "2030-01-15T14:30:00.000Z", "status": "initiating", "source": "api",
         "detail": "created by POST /calls/initiate; reserve of 100 cents held"},
        {"at": "2030-01-15T14:30:00.412Z", "status": "queued", "source": "api", "detail": "placed with the provider"},
        {"at": "2030-01-15T14:30:03.100Z", "status": "ringing", "source": "twilio webhook",
         "provider_event": "ringing", "occurred_at": "2030-01-15T14:30:03.000Z"},
        {"at": "2030-01-15T14:30:09.050Z", "status": "in-progress", "source": "twilio webhook",
         "provider_event": "in-progress", "occurred_at": "2030-01-15T14:30:09.000Z"},
        {"at": "2030-01-15T14:32:14.070Z", "status": "completed", "source": "twilio webhook",
         "provider_event": "completed", "occurred_at": "2030-01-15T14:32:14.000Z", "duration_seconds": 125,
         "charged_cents": 36}]}
    entry = {"amount_cents": 100, "call_id": call_id, "reference": None, "reason": None}
    ledger = {"call_id": call_id, "entries": [
        {**entry, "entry_id": f"call#{call_id}#2030-01-15T14:30:00.000Z#reserve", "kind": "reserve",
         "balance_delta_cents": 0, "reserved_delta_cents": 100, "cause": "call", "created_at": "2030-01-15T14:30:00.000Z"},
        {**entry, "entry_id": f"call#{call_id}#2030-01-15T14:30:00.000Z#charge", "kind": "charge", "amount_cents": 36,
         "balance_delta_cents": -36, "reserved_delta_cents": 0, "cause": "settled completed",
         "created_at": "2030-01-15T14:32:14.070Z"},
        {**entry, "entry_id": f"call#{call_id}#2030-01-15T14:30:00.000Z#release", "kind": "release",
         "balance_delta_cents": 0, "reserved_delta_cents": -100, "cause": "settled completed",
         "created_at": "2030-01-15T14:32:14.070Z"}]}
    return {
        "/calls/{call_ref}/timeline": _call_path(
            "getCallTimeline", "A call's status changes, in order",
            "Each status the call took, when, and what moved it: the API, a provider's status event (named in the "
            "provider's own words, with the provider's time), the provider reconciliation or the reserve sweeper. "
            "Events that moved nothing (duplicates, late ones) are not listed.", "CallTimeline", timeline),
        "/calls/{call_ref}/ledger": _call_path(
            "getCallLedger", "A call's ledger entries, oldest first",
            "What the call moved: its reserve, its release, its charge and any correction to the provider's own "
            "record (`extra_charge`, `refund`).", "CallLedger", ledger),
    }


def _spend_path() -> dict[str, Any]:
    from outbound.http.openapi.parts import common_errors, error, ok
    from outbound.money.spend import DEFAULT_DAYS, MAX_DAYS

    example = {"first_day": "2030-01-14", "last_day": "2030-01-15", "time_zone": "UTC", "total_cents": 84,
               "days": [{"day": "2030-01-14", "charged_cents": 48, "charges": 3},
                        {"day": "2030-01-15", "charged_cents": 36, "charges": 1}]}
    return {"/organization/spend": {"get": {
        "operationId": "getSpendPerDay", "tags": ["organization"], "summary": "What calls were charged per day",
        "description": "Charges per UTC day (net of corrections to the providers' records), the last `days` days "
                       "up to today. Each charge adds to its day's total in the transaction that writes it, so this "
                       "reads one small item per day.",
        "security": [{"bearerAuth": []}],
        "parameters": [{"name": "days", "in": "query", "required": False, "allowEmptyValue": True,
                        "description": f"How many days, ending today (empty: {DEFAULT_DAYS}).",
                        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_DAYS, "default": DEFAULT_DAYS}}],
        "responses": {
            "200": ok("Every day of the range.", "SpendPerDay", example),
            "400": error("A bad, repeated or unknown query parameter.", f"days must be an integer from 1 to {MAX_DAYS}"),
            **common_errors(),
        }}}}


def fragment() -> dict[str, Any]:
    return {"tags": ["calls", "organization"], "paths": {**_paths(), **_spend_path()}, "schemas": _schemas()}
