"""Pydantic models at the boundaries: the initiate request, the call record, the responses."""
from __future__ import annotations

import json
from typing import Any, Union

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr, ValidationError

from .errors import BadRequest
from .phone import require_e164

# Limits keep records well under DynamoDB's 400 KB item size and give clients a clear 400.
MAX_TEXT_CHARS = 4000
MAX_VARIABLES = 50
MAX_VARIABLE_NAME_CHARS = 64
MAX_VARIABLE_VALUE_CHARS = 1000

VariableValue = Union[StrictStr, StrictBool, StrictInt, StrictFloat]


class InitiateCallRequest(BaseModel):
    """The body of ``POST /calls/initiate`` (DESIGN.md section 3)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    from_phone_number: StrictStr = Field(description="E.164; a number of your organization",
                                         examples=["+15551234567"])
    to_phone_number: StrictStr = Field(description="E.164 destination", examples=["+15559876543"])
    assistant_id: StrictInt | None = Field(default=None, description="Override the number's assistant")
    welcome_message: StrictStr | None = Field(default=None, max_length=MAX_TEXT_CHARS)
    agenda: StrictStr | None = Field(default=None, max_length=MAX_TEXT_CHARS)
    variables: dict[StrictStr, VariableValue] = Field(default_factory=dict, max_length=MAX_VARIABLES)


_TYPE_NAMES = {
    "from_phone_number": "a string",
    "to_phone_number": "a string",
    "assistant_id": "an integer",
    "welcome_message": "a string or null",
    "agenda": "a string or null",
    "variables": "an object",
}


def _sentence(error: dict[str, Any]) -> str:
    """One pydantic error -> a sentence naming the field."""
    loc = [str(part) for part in error["loc"]]
    field = loc[0] if loc else "body"
    kind = error["type"]
    if kind == "extra_forbidden":
        return f"Unknown field: {field}"
    if kind == "missing":
        return f"{field} is required"
    if field == "variables" and len(loc) > 1:
        if kind == "too_long":
            return f"variables must have at most {MAX_VARIABLES} entries"
        return f"variables.{loc[1]} must be a string, number or boolean"
    if kind in ("string_too_long", "too_long"):
        limit = MAX_VARIABLES if field == "variables" else MAX_TEXT_CHARS
        unit = "entries" if field == "variables" else "characters"
        return f"{field} must have at most {limit} {unit}"
    return f"{field} must be {_TYPE_NAMES.get(field, 'valid')}"


def parse_initiate_request(raw_body: str | bytes | None) -> InitiateCallRequest:
    """Parse and validate the request body, answering 400 with the contract's sentences."""
    try:
        data = json.loads(raw_body or "")
    except (ValueError, TypeError):
        raise BadRequest("Request body must be a JSON object") from None
    if not isinstance(data, dict):
        raise BadRequest("Request body must be a JSON object")
    # The contract's exact sentences for the two required fields come first; "" counts as missing.
    for name in ("from_phone_number", "to_phone_number"):
        if data.get(name) in (None, ""):
            raise BadRequest(f"{name} is required")
    try:
        request = InitiateCallRequest.model_validate(data)
    except ValidationError as exc:
        raise BadRequest(_sentence(exc.errors()[0])) from None
    require_e164(request.from_phone_number)
    require_e164(request.to_phone_number)
    _check_variables(request.variables)
    return request


def _check_variables(variables: dict[str, Any]) -> None:
    for name, value in variables.items():
        if not name or len(name) > MAX_VARIABLE_NAME_CHARS:
            raise BadRequest(f"Variable names must have 1 to {MAX_VARIABLE_NAME_CHARS} characters")
        if isinstance(value, str) and len(value) > MAX_VARIABLE_VALUE_CHARS:
            raise BadRequest(f"variables.{name} must have at most {MAX_VARIABLE_VALUE_CHARS} characters")


class InitiateCallResponse(BaseModel):
    message: str = "Call initiated successfully"
    call_sid: str
    call_id: str
    assistant_id: int
    provider: str
    status: str


class CallRecord(BaseModel):
    """A call as ``GET /calls/{call_ref}`` returns it."""

    call_id: str
    call_sid: str | None = None
    organization_id: str
    assistant_id: int
    from_phone_number: str
    to_phone_number: str
    provider: str
    status: str
    welcome_message: str | None = None
    agenda: str | None = None
    variables: dict[str, Any] = Field(default_factory=dict)
    reserve_cents: int = 0
    failure_reason: str | None = None
    created_at: str
    updated_at: str
