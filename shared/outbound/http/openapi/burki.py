"""Burki's API (under /burki) in the OpenAPI document: generated from its routes and pydantic
models (outbound.http.burki), with Powertools' default 422 validation answer removed (it answers a
400 ``{"detail"}`` naming the field, like every route). calls.initiate takes the native initiate
body (hand-validated: no model to generate from), so its request body is the native schema."""
from __future__ import annotations

from typing import Any

from outbound.http.openapi.parts import without_default_validation_answer


def fragment() -> dict[str, Any]:
    from outbound.http.burki import PREFIX, openapi_fragment

    part = without_default_validation_answer(openapi_fragment())
    native = {"$ref": "#/components/schemas/InitiateCallRequest"}  # the calls fragment defines it
    part["paths"][f"{PREFIX}/calls/initiate"]["post"]["requestBody"] = {
        "required": True, "content": {"application/json": {"schema": native}}}
    return part
