"""Compliance's part of the calls API's hand-written document: the fields initiate (and schedule)
take for the calling rules, their refusals, and ``GET /calls/{call_ref}/evidence``. (The
calling-rules and pre-dial-check routes are generated from their resolver: outbound.http.compliance;
the pre-dial check's request, answer and result are described here.)"""
from __future__ import annotations

from typing import Any

from outbound.http.openapi.parts import JSON, nullable, ref


def compliance_field_schemas() -> dict[str, Any]:
    """recipient_timezone and consent, as compliance.consent checks them."""
    from outbound.compliance.consent import CONSENT_TYPES, MAX_PROOF_CHARS, MAX_SOURCE_CHARS

    return {
        "recipient_timezone": {
            "type": ["string", "null"], "maxLength": 64, "example": "America/New_York",
            "description": "The recipient's own IANA zone. When your calling rules are on, the call must be inside "
                           "the window there AND in every zone the number itself maps to."},
        "consent": {
            "anyOf": [{"type": "object", "required": ["type", "obtained_at"], "additionalProperties": False,
                       "properties": {
                           "type": {"type": "string", "enum": list(CONSENT_TYPES)},
                           "obtained_at": {"type": "string", "description": "ISO 8601 with a UTC offset, not in "
                                                                             "the future."},
                           "source": {"type": "string", "minLength": 1, "maxLength": MAX_SOURCE_CHARS},
                           "proof_reference": {"type": "string", "minLength": 1, "maxLength": MAX_PROOF_CHARS}}},
                      {"type": "null"}],
            "description": "How and when the person agreed to be called; kept in the call's evidence (required "
                           "when your calling rules require consent).",
            "example": {"type": "express_written", "obtained_at": "2026-11-02T15:04:05Z", "source": "web form",
                        "proof_reference": "consent-7781"}},
    }


def _schemas() -> dict[str, Any]:
    return {
        "RulesRefusal": {
            "type": "object", "required": ["detail"],
            "description": "An error; a refusal by the calling rules also says why and, when waiting helps, when.",
            "properties": {
                "detail": {"type": "string"},
                "reasons": {"type": "array", "items": {"type": "string", "enum": [
                    "outside_window", "day_not_allowed", "no_calls_date", "cap_24h", "cap_7d", "consent_missing",
                    "zone_unknown", "no_common_window"]}},
                "recipient_local_times": {"type": "array", "items": {"type": "object", "properties": {
                    "zone": {"type": "string"}, "source": {"type": "string", "enum": ["contact", "number", "fallback"]},
                    "local_time": {"type": "string"}}}},
                "next_allowed_at": {"type": ["string", "null"], "description": "The next instant the rules allow (UTC)."},
            },
        },
        "EvidenceRecord": {
            "type": "object", "required": ["evidence_id", "kind", "call_id", "recorded_at", "hmac"],
            "description": "`verdict` on a dial or a refusal; `opt_out` (what was said) and `result` (what was "
                           "done) on an opt-out.",
            "properties": {
                "evidence_id": {"type": "string"}, "kind": {"type": "string", "enum": ["dial", "refusal", "opt_out"]},
                "call_id": {"type": "string"}, "organization_id": {"type": "string"},
                "recorded_at": {"type": "string"},
                "requested_by": {"type": "object", "description": "`via` (api, schedule, eventbridge, campaign) with "
                                                                  "the API key's prefix, schedule, fire or campaign, "
                                                                  "contact and attempt."},
                "caller_id": {"type": "string"}, "recipient": {"type": "string"},
                "provider": {"type": ["string", "null"]},
                "rules_applied": {"type": "boolean"}, "rules_note": {"type": ["string", "null"]},
                "verdict": {"type": "object", "description": "allowed, reasons, every zone with its local time, "
                                                             "next_allowed_at, frequency, the rules and their "
                                                             "version, consent."},
                "suppression": {"type": "object"},
                "pre_dial": nullable(ref("PreDialResult")),
                "key_version": {"type": "string"},
                "hmac": {"type": "string", "description": "HMAC-SHA256 of the record (stack key): `outbound admin "
                                                          "evidence` checks it."},
            },
        },
        "PreDialResult": {
            "type": "object", "required": ["check_id", "result", "asked_at"],
            "description": "Your pre-dial check's answer to this dial (null when none is registered, or the "
                           "calling rules refused the dial before it was asked).",
            "properties": {
                "check_id": {"type": "string"}, "host": {"type": "string"},
                "result": {"type": "string", "enum": ["allowed", "denied", "failed"],
                           "description": "failed: no answer, a timeout, a non-2xx or an unreadable answer "
                                          "(no call: it fails closed)."},
                "reason": {"type": ["string", "null"], "description": "Your reason (denied), or what failed."},
                "status_code": {"type": ["integer", "null"]}, "latency_ms": {"type": "integer"},
                "asked_at": {"type": "string"},
            },
        },
        "PreDialCheckRequest": {
            "type": "object", "required": ["type", "check_id", "dial_at", "from_phone_number", "to_phone_number", "via"],
            "description": "What your pre-dial check receives (POST, Standard Webhooks headers signed with the "
                           "secret shown at registration). Answer 2xx with PreDialCheckAnswer within timeout_ms.",
            "properties": {
                "type": {"type": "string", "enum": ["pre_dial.check"]}, "check_id": {"type": "string"},
                "call_id": {"type": ["string", "null"]}, "dial_at": {"type": "string"},
                "from_phone_number": {"type": "string"}, "to_phone_number": {"type": "string"},
                "via": {"type": "string", "enum": ["campaign", "schedule", "eventbridge"]},
                "campaign_id": {"type": "string"}, "contact_id": {"type": "string"}, "attempt": {"type": "integer"},
                "external_id": {"type": "string"}, "schedule_id": {"type": "string"}, "fire_id": {"type": "string"},
                "scheduled_time": {"type": "string"}, "variables": {"type": "object"},
            },
        },
        "PreDialCheckAnswer": {
            "type": "object", "required": ["allow"],
            "properties": {"allow": {"type": "boolean"},
                           "reason": {"type": "string", "description": "Why not (kept, cut to 300 characters)."}},
        },
        "CallEvidence": {
            "type": "object", "required": ["call_id", "evidence"],
            "properties": {"call_id": {"type": "string"},
                           "evidence": {"type": "array", "items": ref("EvidenceRecord")}},
        },
    }


def _paths() -> dict[str, Any]:
    from outbound.http.openapi.parts import common_errors, error

    return {"/calls/{call_ref}/evidence": {"get": {
        "operationId": "getCallEvidence", "tags": ["compliance"],
        "summary": "Why a call was dialed, and whether it was allowed (every evidence record of it)",
        "security": [{"bearerAuth": []}],
        "parameters": [{"name": "call_ref", "in": "path", "required": True, "schema": {"type": "string", "minLength": 1},
                        "description": "A call's `call_id` or `call_sid`; or the call id a refused campaign attempt "
                                       "or scheduled fire would have had."}],
        "responses": {
            "200": {"description": "The records, oldest first.", "content": {JSON: {"schema": ref("CallEvidence")}}},
            **common_errors(),
            "404": error("No such call (or evidence) in the organization.", "Call call_0123 not found"),
        }}}}


def fragment() -> dict[str, Any]:
    return {"tags": ["compliance"], "paths": _paths(), "schemas": _schemas()}
