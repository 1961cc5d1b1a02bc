"""What every hand-written part of the OpenAPI document shares: the E.164 note, references,
the answer builders and the errors every API-key route may answer."""
from __future__ import annotations

from typing import Any

E164_PATTERN = r"^\+[1-9][0-9]{1,14}$"
E164_NOTE = ("E.164: `+`, a country code and a number of possible length for that country "
             "(e.g. +15551234567). Digits of other scripts (e.g. Arabic-Indic, fullwidth) are read as "
             "the same number; records, answers and providers only ever get this ASCII form.")
JSON = "application/json"
SECURED = [{"bearerAuth": []}]
PAGE_TOKEN = {"type": "string", "minLength": 1, "maxLength": 512}
REPLAYED = {"Idempotent-Replayed": {
    "description": "`true` when this is the stored answer of an earlier request with the same "
                   "Idempotency-Key (no second call was placed).",
    "schema": {"type": "string", "enum": ["true"]}}}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """OpenAPI 3.1 (JSON Schema 2020-12): null allowed beside the given schema."""
    return {"anyOf": [schema, {"type": "null"}]}


def error(description: str, *examples: str, schema: str = "Error",
          headers: dict[str, Any] | None = None) -> dict[str, Any]:
    content: dict[str, Any] = {"schema": ref(schema)}
    if examples:
        content["examples"] = {f"example{i + 1}": {"value": {"detail": text}} for i, text in enumerate(examples)}
    answer: dict[str, Any] = {"description": description, "content": {JSON: content}}
    if headers:
        answer["headers"] = headers
    return answer


def ok(description: str, schema: str, example: dict[str, Any] | None = None,
       headers: dict[str, Any] | None = None) -> dict[str, Any]:
    content: dict[str, Any] = {"schema": ref(schema)}
    if example is not None:
        content["example"] = example
    answer: dict[str, Any] = {"description": description, "content": {JSON: content}}
    if headers:
        answer["headers"] = headers
    return answer


def common_errors() -> dict[str, Any]:
    """What every API-key route may answer besides its own statuses."""
    from outbound.errors import INVALID_API_KEY

    return {
        "401": error("No, unknown or revoked API key (API Gateway's authorizer answer).", INVALID_API_KEY),
        "429": error("Throttled by the stage's rate limits.", "Too many requests. Retry with backoff."),
    }


def idempotency_key_parameter() -> dict[str, Any]:
    from outbound.idempotency import MAX_KEY_CHARS

    return {
        "name": "Idempotency-Key", "in": "header", "required": False,
        "description": "Any unique string per intended request (e.g. a UUID): retries with the same key and "
                       "body answer the first answer again (`Idempotent-Replayed: true`), never a second "
                       "call or schedule. Keys are kept 24 hours.",
        "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_CHARS,
                   "pattern": "^[\\x21-\\x7e]([\\x20-\\x7e]*[\\x21-\\x7e])?$"},
        "example": "7c1e5d4a-9f0b-4c2e-8a57-2d7f0e3b9c11"}


def without_default_validation_answer(part: dict[str, Any]) -> dict[str, Any]:
    """A resolver-generated fragment without Powertools' default 422 validation answer: these APIs
    answer a 400 ``{"detail"}`` naming the field, like every route."""
    for operations in part["paths"].values():
        for operation in operations.values():
            responses = operation.get("responses", {})
            generated = responses.get("422", {}).get("content", {}).get(JSON, {}).get("schema", {})
            if generated.get("$ref", "").endswith("/HTTPValidationError"):
                del responses["422"]
    part["schemas"] = {name: schema for name, schema in part["schemas"].items() if name != "ResponseValidationError"}
    return part
