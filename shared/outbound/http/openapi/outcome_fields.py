"""The outcome fields of the initiate (and schedule) body and of the call record, for the calls
fragment: metadata, external_id, the per-call limits and answering-machine detection. The
limits come from models.py, which enforces them."""
from __future__ import annotations

from typing import Any


def outcome_field_schemas() -> dict[str, Any]:
    from outbound.calls.models import (
        AMD_MODES,
        MAX_EXTERNAL_ID_CHARS,
        MAX_METADATA_ENTRIES,
        MAX_METADATA_KEY_CHARS,
        MAX_METADATA_VALUE_CHARS,
        MAX_RING_TIMEOUT_S,
        MIN_MAX_DURATION_S,
        MIN_RING_TIMEOUT_S,
    )
    from outbound.config import settings

    return {
        "metadata": {
            "type": ["object", "null"], "maxProperties": MAX_METADATA_ENTRIES,
            "propertyNames": {"minLength": 1, "maxLength": MAX_METADATA_KEY_CHARS},
            "additionalProperties": {"anyOf": [{"type": "string", "maxLength": MAX_METADATA_VALUE_CHARS},
                                               {"type": "number"}, {"type": "boolean"}]},
            "description": "Your own flat data (string/number/boolean values), kept on the call record and "
                           "echoed in every call event.", "example": {"crm_id": "A-17"}},
        "external_id": {"type": ["string", "null"], "minLength": 1, "maxLength": MAX_EXTERNAL_ID_CHARS,
                        "description": "Your id for this call, echoed in every call event.", "example": "order-9"},
        "max_duration_seconds": {"type": ["integer", "null"], "minimum": MIN_MAX_DURATION_S,
                                 "maximum": settings().max_call_seconds,
                                 "description": "Hang up after this many answered seconds (default and upper bound: "
                                                "the stack's MaxCallSeconds)."},
        "ring_timeout_seconds": {"type": ["integer", "null"], "minimum": MIN_RING_TIMEOUT_S,
                                 "maximum": MAX_RING_TIMEOUT_S,
                                 "description": "How long the phone rings before the call is no-answer (default: "
                                                "the stack's RingTimeoutSeconds)."},
        "answering_machine_detection": {
            "anyOf": [{"type": "boolean"}, {"type": "null"},
                      {"type": "object", "required": ["mode"], "additionalProperties": False,
                       "properties": {"mode": {"type": "string", "enum": list(AMD_MODES)}}}],
            "description": "`true` (= `{\"mode\": \"detect\"}`): human or machine, reported in `answered_by`; "
                           "`detect_beep` also waits for a voicemail greeting's beep."},
    }


def outcome_record_types() -> dict[str, Any]:
    return {
        "metadata": {"type": "object"},
        "external_id": {"type": ["string", "null"]},
        "max_duration_seconds": {"type": ["integer", "null"]},
        "ring_timeout_seconds": {"type": ["integer", "null"]},
        "answering_machine_detection": {"anyOf": [{"type": "object"}, {"type": "null"}]},
        "answered_by": {"type": ["string", "null"], "enum": ["human", "machine", "unknown", None]},
    }
