"""The Campaigns API's part of the OpenAPI document: generated from its routes and pydantic
models (outbound.http.campaigns), with Powertools' default 422 validation answer removed (this
API answers a 400 ``{"detail"}`` naming the field, like every route)."""
from __future__ import annotations

from typing import Any


def fragment() -> dict[str, Any]:
    from outbound.http.campaigns import openapi_fragment

    part = openapi_fragment()
    for operations in part["paths"].values():
        for operation in operations.values():
            responses = operation.get("responses", {})
            generated = responses.get("422", {}).get("content", {}).get("application/json", {}).get("schema", {})
            if generated.get("$ref", "").endswith("/HTTPValidationError"):
                del responses["422"]
    part["schemas"] = {name: schema for name, schema in part["schemas"].items() if name != "ResponseValidationError"}
    return part
