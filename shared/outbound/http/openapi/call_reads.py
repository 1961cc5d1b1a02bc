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
