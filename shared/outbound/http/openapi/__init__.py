"""The API's OpenAPI 3.1 document (``GET /openapi.json``, served by OpenApiFunction).

Assembled from one fragment per API area: each module in ``FRAGMENTS`` has ``fragment()``
returning ``{"tags": [...], "paths": {...}, "schemas": {...}}`` (written by hand for the
hand-validated request path, or generated from a Powertools resolver's pydantic models for the
APIs off it). Nothing on a request path imports this package: only functions/open_api/app.py does.
"""
from __future__ import annotations

import importlib
from functools import lru_cache
from typing import Any

FRAGMENTS = (
    "outbound.http.openapi.calls",
    "outbound.http.openapi.schedules",
    "outbound.http.openapi.provider_callbacks",  # POST /webhooks/{provider}
    "outbound.http.openapi.compliance",  # initiate's compliance fields, a call's evidence
    "outbound.http.openapi.opt_out",  # POST /calls/{call_ref}/opt-out
    "outbound.http.openapi.ledger",  # GET /organization/ledger
    "outbound.http.openapi.call_reads",  # a call's timeline and ledger entries, spend per day (the console's reads)
    "outbound.http.openapi.webhook_endpoints",  # webhook endpoints and deliveries (generated from their resolver)
    "outbound.http.openapi.campaigns",  # campaigns and do-not-call (generated from their resolver)
    "outbound.http.openapi.burki",  # Burki's API under /burki, for its SDK (generated from its resolver)
    "outbound.http.openapi.console",  # the web console's static files
)


@lru_cache(maxsize=1)
def openapi_document() -> dict[str, Any]:
    tags: list[str] = []
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    for name in FRAGMENTS:
        part = importlib.import_module(name).fragment()
        tags += [tag for tag in part.get("tags", []) if tag not in tags]
        for path, operations in part["paths"].items():
            paths.setdefault(path, {}).update(operations)
        for schema, body in part.get("schemas", {}).items():
            if schema in schemas and schemas[schema] != body:
                raise ValueError(f"two fragments define the schema {schema} differently")
            schemas[schema] = body
    _add_shared_answers(paths)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Outbound calls API",
            "version": "1.0.0",
            "description": "Place outbound calls from AI voice assistants through Twilio, Telnyx, Vonage or a "
                           "BYO SIP trunk, schedule them, and track them to their end. Every error answers "
                           '`{"detail": "<sentence>"}`.',
        },
        # Relative: the API's base URL is where this document was served from (the stage's URL on
        # API Gateway, a custom domain, or `outbound serve` locally).
        "servers": [{"url": ".", "description": "The base URL this document was served from."}],
        "security": [{"bearerAuth": []}],
        "tags": [{"name": name} for name in tags],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearerAuth": {
                "type": "http", "scheme": "bearer", "bearerFormat": "API key",
                "description": "`Authorization: Bearer <api key>`; a key belongs to one organization."}},
            "schemas": schemas,
        },
    }


def _error(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _add_shared_answers(paths: dict[str, Any]) -> None:
    """What every route may answer whatever its own statuses (outbound.http.router.check_request and
    failure_answer): 400 for an oversized body or query parameter, 415 for a body that is not of
    the route's media type, 503 with Retry-After when AWS stays unavailable beyond the retries."""
    unavailable = {**_error("AWS stayed throttled or unavailable beyond the retries: retry after Retry-After "
                            "(POST /calls/initiate: with the same Idempotency-Key)."),
                   "headers": {"Retry-After": {"description": "Seconds to wait before retrying.",
                                               "schema": {"type": "integer"}}}}
    for path, item in paths.items():
        if path == "/openapi.json":
            continue
        for method, operation in item.items():
            if method == "parameters":
                continue
            responses = operation.setdefault("responses", {})
            responses.setdefault("400", _error("A query parameter over 1,024 characters, or a body over 262,144 "
                                               "bytes, nested too deeply or with an oversized number."))
            if "requestBody" in operation:
                types = " or ".join(operation["requestBody"].get("content", {}))
                responses.setdefault("415", _error(f"The body is not {types} (its Content-Type says so)."))
            responses.setdefault("503", unavailable)
            operation["responses"] = dict(sorted(responses.items()))
