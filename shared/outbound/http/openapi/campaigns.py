"""The Campaigns API's part of the OpenAPI document: generated from its routes and pydantic
models (outbound.http.campaigns), with Powertools' default 422 validation answer removed (this
API answers a 400 ``{"detail"}`` naming the field, like every route)."""
from __future__ import annotations

from typing import Any

from outbound.http.openapi.parts import without_default_validation_answer


def fragment() -> dict[str, Any]:
    from outbound.http.campaigns import openapi_fragment

    return without_default_validation_answer(openapi_fragment())
