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

from outbound.compliance.consent import parse_consent, parse_zone_name
from outbound.config import settings
from outbound.errors import BadRequest
from outbound.phone import canonical_e164
from outbound.safe_json import JsonRefused, loads_object

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

# --- outcome fields (issue #11): echoed in every call event, and per-call limits ---------------
# metadata: the application's own flat data, stored on the record and echoed in every event.
MAX_METADATA_ENTRIES = 20
MAX_METADATA_KEY_CHARS = 40
MAX_METADATA_VALUE_CHARS = 500
MAX_EXTERNAL_ID_CHARS = 255
# Per-call limits. Ringing: every provider accepts 5-120 s (Vonage's ringing_timer tops at 120).
# A call's length may only be shortened below the stack's MaxCallSeconds: the reserve sweeper
# counts on no call running longer.
MIN_RING_TIMEOUT_S, MAX_RING_TIMEOUT_S = 5, 120
MIN_MAX_DURATION_S = 10
# answering_machine_detection: true (= "detect") or {"mode": ...}
AMD_MODES = ("detect", "detect_beep")
OUTCOME_FIELDS = ("metadata", "external_id", "max_duration_seconds", "ring_timeout_seconds",
                  "answering_machine_detection")
OPTIONAL += OUTCOME_FIELDS
# Compliance (issue #17): the recipient's own zone and the consent to call them, judged by the
# organization's calling rules when it turned them on, and kept in the dial's evidence.
COMPLIANCE_FIELDS = ("recipient_timezone", "consent")
OPTIONAL += COMPLIANCE_FIELDS


@dataclass(frozen=True)
class InitiateCallRequest:
    """The body of ``POST /calls/initiate``, as Burki's public contract defines it."""

    from_phone_number: str
    to_phone_number: str
    assistant_id: int | None = None
    welcome_message: str | None = None
    agenda: str | None = None
    variables: dict[str, str | int | float | bool] = field(default_factory=dict)
    metadata: dict[str, str | int | float | bool] = field(default_factory=dict)
    external_id: str | None = None
    max_duration_seconds: int | None = None  # None: the stack's MaxCallSeconds
    ring_timeout_seconds: int | None = None  # None: the stack's RingTimeoutSeconds
    answering_machine_detection: dict[str, str] | None = None  # {"mode": "detect" | "detect_beep"}
    recipient_timezone: str | None = None  # the recipient's own IANA zone, beside their number's
    consent: dict[str, str] | None = None  # {"type", "obtained_at", "source"?, "proof_reference"?}


def parse_json_object(raw_body: str | bytes | None) -> dict[str, Any]:
    """A request body that must be a JSON object, read by outbound.safe_json: strict JSON (no
    NaN or Infinity), bounded depth and numbers, no key twice, no lone surrogates."""
    try:
        return loads_object(raw_body)
    except JsonRefused as exc:
        raise BadRequest(str(exc)) from None


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
    outcome = _outcome_fields(data)
    compliance = {"recipient_timezone": parse_zone_name(data.get("recipient_timezone"), "recipient_timezone"),
                  "consent": parse_consent(data.get("consent"))}
    unknown = [name for name in data if name not in REQUIRED + OPTIONAL + allowed_extra]
    if unknown:
        raise BadRequest(f"Unknown field: {unknown[0]}")
    # From here on only the canonical forms exist: every check, the record and the provider see them.
    from_number, to_number = canonical_e164(data["from_phone_number"]), canonical_e164(data["to_phone_number"])
    return InitiateCallRequest(from_number, to_number, assistant_id,
                               data.get("welcome_message"), data.get("agenda"), variables, **outcome, **compliance)


def check_metadata(metadata: Any) -> None:
    """The ``metadata`` rules (flat, its limits), for a call's metadata changed after the fact too."""
    _check_flat_object("metadata", metadata, MAX_METADATA_ENTRIES, MAX_METADATA_KEY_CHARS, MAX_METADATA_VALUE_CHARS)


def _outcome_fields(data: dict[str, Any]) -> dict[str, Any]:
    """metadata, external_id, the per-call limits and answering-machine detection, checked."""
    metadata = data.get("metadata")
    metadata = {} if metadata is None else metadata
    _check_flat_object("metadata", metadata, MAX_METADATA_ENTRIES, MAX_METADATA_KEY_CHARS, MAX_METADATA_VALUE_CHARS)
    external_id = data.get("external_id")
    if external_id is not None and (not isinstance(external_id, str)
                                    or not 1 <= len(external_id) <= MAX_EXTERNAL_ID_CHARS):
        raise BadRequest(f"external_id must be a string of 1 to {MAX_EXTERNAL_ID_CHARS} characters")
    return {"metadata": metadata, "external_id": external_id,
            "max_duration_seconds": _bounded_int(data, "max_duration_seconds", MIN_MAX_DURATION_S,
                                                 settings().max_call_seconds),
            "ring_timeout_seconds": _bounded_int(data, "ring_timeout_seconds", MIN_RING_TIMEOUT_S, MAX_RING_TIMEOUT_S),
            "answering_machine_detection": _amd(data.get("answering_machine_detection"))}


def _bounded_int(data: dict[str, Any], name: str, low: int, high: int) -> int | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise BadRequest(f"{name} must be an integer from {low} to {high}")
    return value


def _amd(value: Any) -> dict[str, str] | None:
    """``true`` means ``{"mode": "detect"}``; ``false``/null: no detection."""
    if value is None or value is False:
        return None
    if value is True:
        return {"mode": "detect"}
    if not isinstance(value, dict) or set(value) - {"mode"} or value.get("mode") not in AMD_MODES:
        raise BadRequest('answering_machine_detection must be true, false or {"mode": "detect"} '
                         '(modes: ' + ", ".join(AMD_MODES) + ")")
    return {"mode": value["mode"]}


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
        _check_flat_value("variables", name, value, MAX_VARIABLE_VALUE_CHARS)


def _check_flat_object(what: str, value: Any, entries: int, key_chars: int, value_chars: int) -> None:
    if not isinstance(value, dict):
        raise BadRequest(f"{what} must be an object")
    if len(value) > entries:
        raise BadRequest(f"{what} must have at most {entries} entries")
    for name, item in value.items():
        if not name or len(name) > key_chars:
            raise BadRequest(f"{what} keys must have 1 to {key_chars} characters")
        _check_flat_value(what, name, item, value_chars)


def _check_flat_value(what: str, name: str, value: Any, value_chars: int) -> None:
    """A string, number or boolean a DynamoDB record can hold (no nesting)."""
    if not isinstance(value, (str, int, float)) or (isinstance(value, float) and not math.isfinite(value)):
        raise BadRequest(f"{what}.{name} must be a string, number or boolean")
    if isinstance(value, (int, float)) and not isinstance(value, bool) and not _storable_number(value):
        raise BadRequest(f"{what}.{name} is out of range: numbers must be 0 or of magnitude "
                         f"1e-130 to 1e125, with at most {MAX_NUMBER_DIGITS} digits")
    if isinstance(value, str) and len(value) > value_chars:
        raise BadRequest(f"{what}.{name} must have at most {value_chars} characters")


# What GET /calls/{call_ref} shows of a stored call record (never keys or index attributes).
CALL_RECORD_FIELDS = (
    "call_id", "call_sid", "organization_id", "assistant_id", "from_phone_number", "to_phone_number",
    "provider", "status", "welcome_message", "agenda", "variables", "reserve_cents", "failure_reason",
    "created_at", "updated_at",
    # call lifecycle (status webhooks and settlement)
    "answered_by", "answered_at", "ended_at", "duration_seconds", "hangup_cause", "charged_cents", "settled_at",
    # scheduled calls: the schedule and the fire that placed it (null for POST /calls/initiate)
    "schedule_id", "scheduled_time",
    # the application's own data and the per-call settings (echoed in every call event)
    "metadata", "external_id", "max_duration_seconds", "ring_timeout_seconds", "answering_machine_detection",
    # campaign attempts: the campaign, the contact and the attempt's number (null otherwise)
    "campaign_id", "contact_id", "attempt",
    # the provider reconciliation: why the provider's record did not settle it (null once it did),
    # when it was last compared, and how its charge was corrected in all (signed cents)
    "provider_flag", "provider_checked_at", "provider_adjusted_cents",
)


def call_record_view(item: dict[str, Any]) -> dict[str, Any]:
    return {name: item.get(name) for name in CALL_RECORD_FIELDS} | {"variables": item.get("variables") or {},
                                                                    "metadata": item.get("metadata") or {}}
