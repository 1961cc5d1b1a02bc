"""The balance ledger's part of the OpenAPI document: GET /organization/ledger.

Limits and kinds come from the code that enforces them (store.ledger, usecases.list_calls), so
the document cannot drift from it. Nothing on a request path imports this module."""
from __future__ import annotations

from typing import Any

from outbound.http.openapi.parts import common_errors, error, ok, ref


def _schemas() -> dict[str, Any]:
    from outbound.store.ledger import EFFECTS

    text = {"type": ["string", "null"]}
    return {
        "LedgerEntry": {
            "type": "object",
            "required": ["entry_id", "kind", "amount_cents", "balance_delta_cents", "reserved_delta_cents",
                         "created_at"],
            "description": "One money movement, written in the same transaction as the balance change: "
                           "`balance_cents` is the sum of every entry's `balance_delta_cents`, `reserved_cents` "
                           "the sum of their `reserved_delta_cents`.",
            "properties": {
                "entry_id": {"type": "string"},
                "kind": {"type": "string", "enum": list(EFFECTS),
                         "description": "credit (+balance), reserve (+reserved), release (-reserved), "
                                        "charge (-balance); extra_charge (-balance) and refund (+balance) "
                                        "correct a settled call's charge to the provider's own record of it."},
                "amount_cents": {"type": "integer", "minimum": 0},
                "balance_delta_cents": {"type": "integer"},
                "reserved_delta_cents": {"type": "integer"},
                "call_id": {**text, "description": "The call a reserve, release or charge belongs to."},
                "cause": {**text, "description": "Why a call's reserve moved: call, refused, abandoned, "
                                                 "settled <status>, ..."},
                "reference": {**text, "description": "A credit's reference (unique per organization)."},
                "reason": {**text, "description": "A credit's reason."},
                "created_at": {"type": "string"},
            },
        },
        "LedgerPage": {
            "type": "object", "required": ["entries", "next_token"],
            "properties": {"entries": {"type": "array", "items": ref("LedgerEntry")},
                           "next_token": {"type": ["string", "null"],
                                          "description": "Pass it as `next_token` for the next page."}},
        },
    }


def _paths() -> dict[str, Any]:
    from outbound.calls.list_calls import DEFAULT_LIMIT, MAX_LIMIT

    example = {"entries": [
        {"entry_id": "call#call_3f9a1c2b4d5e6f708192a3b4#2030-01-15T14:30:00.000Z#charge", "kind": "charge",
         "amount_cents": 36, "balance_delta_cents": -36, "reserved_delta_cents": 0,
         "call_id": "call_3f9a1c2b4d5e6f708192a3b4", "cause": "settled completed", "reference": None,
         "reason": None, "created_at": "2030-01-15T14:32:06.000Z"},
        {"entry_id": "credit#invoice-1042", "kind": "credit", "amount_cents": 5000, "balance_delta_cents": 5000,
         "reserved_delta_cents": 0, "call_id": None, "cause": None, "reference": "invoice-1042",
         "reason": "Invoice 1042 paid", "created_at": "2030-01-15T09:00:00.000Z"}], "next_token": None}
    return {"/organization/ledger": {"get": {
        "operationId": "getLedger", "tags": ["organization"],
        "summary": "The organization's balance ledger, newest first",
        "description": "Every credit, reserve, release and charge of the organization's balance.",
        "security": [{"bearerAuth": []}],
        "parameters": [
            {"name": "limit", "in": "query", "required": False, "allowEmptyValue": True,
             "description": f"Page size (empty: {DEFAULT_LIMIT}).",
             "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT}},
            {"name": "next_token", "in": "query", "required": False, "allowEmptyValue": True,
             "schema": {"type": "string", "minLength": 1, "maxLength": 512},
             "description": "The previous page's `next_token` (empty: the first page)."}],
        "responses": {
            "200": ok("A page of ledger entries.", "LedgerPage", example),
            "400": error("A bad, repeated or unknown query parameter.",
                          f"limit must be an integer from 1 to {MAX_LIMIT}", "Invalid next_token"),
            **common_errors(),
        }}}}


def fragment() -> dict[str, Any]:
    return {"tags": ["organization"], "paths": _paths(), "schemas": _schemas()}
