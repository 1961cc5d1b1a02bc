"""The request and record shapes at the API boundary, validated by hand.

Why not pydantic here: importing pydantic and building these models measured ~100 ms of a
~330 ms cold-start floor (``outbound bench cold-start``), a budget the whole request must fit
in 1.5x of. The checks below are the few the contract needs, each with its exact sentence.
(The local tooling, off the request path, does use pydantic: see outbound_local.fixture.)
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from .errors import BadRequest
from .phone import require_e164

# Limits keep records well under DynamoDB's 400 KB item size and give clients a clear 400.
MAX_TEXT_CHARS = 4000
MAX_VARIABLES = 50
MAX_VARIABLE_NAME_CHARS = 64
MAX_VARIABLE_VALUE_CHARS = 1000
# What a DynamoDB number can hold (a variable is stored in the call record): 0, or a magnitude
# from 1e-130 to below 1e126, with at most 38 significant digits.
MIN_NUMBER_MAGNITUDE = 1e-130
MAX_NUMBER_MAGNITUDE = 1e126
MAX_NUMBER_DIGITS = 38

REQUIRED = ("from_phone_number", "to_phone_number")
OPTIONAL = ("assistant_id", "welcome_message", "agenda", "variables")


@dataclass(frozen=True)
class InitiateCallRequest:
    """The body of ``POST /calls/initiate``, as Burki's public contract defines it."""

    from_phone_number: str
    to_phone_number: str
    assistant_id: int | None = None
    welcome_message: str | None = None
    agenda: str | None = None
    variables: dict[str, str | int | float | bool] = field(default_factory=dict)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")  # NaN / Infinity: Python accepts them, JSON does not


def parse_json_object(raw_body: str | bytes | None) -> dict[str, Any]:
    """A request body that must be a JSON object (strict JSON: no NaN or Infinity)."""
    try:
        data = json.loads(raw_body or "", parse_constant=_reject_constant)
    except (ValueError, TypeError):
        raise BadRequest("Request body must be a JSON object") from None
    if not isinstance(data, dict):
        raise BadRequest("Request body must be a JSON object")
    return data


def parse_initiate_request(raw_body: str | bytes | None) -> InitiateCallRequest:
    """Parse and validate the request body, answering 400 with the contract's sentences."""
    return initiate_request_from(parse_json_object(raw_body))


def initiate_request_from(data: dict[str, Any], allowed_extra: tuple[str, ...] = ()) -> InitiateCallRequest:
    """Validate an already-decoded initiate body (also the ``call`` of a scheduled fire, and the
    call fields of POST /calls/schedule, whose own fields are ``allowed_extra``)."""
    _check_text_is_unicode(data)
    for name in REQUIRED:  # "" counts as missing
        if data.get(name) in (None, ""):
            raise BadRequest(f"{name} is required")
        if not isinstance(data[name], str):
            raise BadRequest(f"{name} must be a string")
    assistant_id = data.get("assistant_id")
    if assistant_id is not None and (not isinstance(assistant_id, int) or isinstance(assistant_id, bool)):
        raise BadRequest("assistant_id must be an integer")
    for name in ("welcome_message", "agenda"):
        _check_text(name, data.get(name))
    variables = data.get("variables", {})
    _check_variables(variables)
    unknown = [name for name in data if name not in REQUIRED + OPTIONAL + allowed_extra]
    if unknown:
        raise BadRequest(f"Unknown field: {unknown[0]}")
    require_e164(data["from_phone_number"])
    require_e164(data["to_phone_number"])
    return InitiateCallRequest(data["from_phone_number"], data["to_phone_number"], assistant_id,
                               data.get("welcome_message"), data.get("agenda"), variables)


def _storable_number(value: int | float) -> bool:
    if isinstance(value, int):
        return len(str(abs(value)).rstrip("0")) <= MAX_NUMBER_DIGITS and abs(value) < MAX_NUMBER_MAGNITUDE
    return value == 0 or MIN_NUMBER_MAGNITUDE <= abs(value) < MAX_NUMBER_MAGNITUDE


def _check_text_is_unicode(data: dict[str, Any]) -> None:
    """JSON's ``\ud800`` escapes decode to lone surrogates, which no store or provider accepts
    (they have no UTF-8 form): refuse them here with a 400 rather than fail later."""
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise BadRequest("Request body must be valid Unicode text (it has an unpaired surrogate escape)") from None


def _check_text(name: str, value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, str):
        raise BadRequest(f"{name} must be a string or null")
    if len(value) > MAX_TEXT_CHARS:
        raise BadRequest(f"{name} must have at most {MAX_TEXT_CHARS} characters")


def _check_variables(variables: Any) -> None:
    if not isinstance(variables, dict):
        raise BadRequest("variables must be an object")
    if len(variables) > MAX_VARIABLES:
        raise BadRequest(f"variables must have at most {MAX_VARIABLES} entries")
    for name, value in variables.items():
        if not name or len(name) > MAX_VARIABLE_NAME_CHARS:
            raise BadRequest(f"Variable names must have 1 to {MAX_VARIABLE_NAME_CHARS} characters")
        if not isinstance(value, (str, int, float)) or (isinstance(value, float) and not math.isfinite(value)):
            raise BadRequest(f"variables.{name} must be a string, number or boolean")
        if isinstance(value, (int, float)) and not isinstance(value, bool) and not _storable_number(value):
            raise BadRequest(f"variables.{name} is out of range: numbers must be 0 or of magnitude "
                             f"1e-130 to 1e125, with at most {MAX_NUMBER_DIGITS} digits")
        if isinstance(value, str) and len(value) > MAX_VARIABLE_VALUE_CHARS:
            raise BadRequest(f"variables.{name} must have at most {MAX_VARIABLE_VALUE_CHARS} characters")


# What GET /calls/{call_ref} shows of a stored call record (never keys or index attributes).
CALL_RECORD_FIELDS = (
    "call_id", "call_sid", "organization_id", "assistant_id", "from_phone_number", "to_phone_number",
    "provider", "status", "welcome_message", "agenda", "variables", "reserve_cents", "failure_reason",
    "created_at", "updated_at",
    # call lifecycle (status webhooks and settlement)
    "answered_by", "answered_at", "ended_at", "duration_seconds", "hangup_cause", "charged_cents", "settled_at",
    # scheduled calls: the schedule and the fire that placed it (null for POST /calls/initiate)
    "schedule_id", "scheduled_time",
)


def call_record_view(item: dict[str, Any]) -> dict[str, Any]:
    return {name: item.get(name) for name in CALL_RECORD_FIELDS} | {"variables": item.get("variables") or {}}
