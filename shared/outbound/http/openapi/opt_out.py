"""``POST /calls/{call_ref}/opt-out`` in the calls API's hand-written document (the route is in
CallsApiFunction's route dict: outbound.compliance.opt_out)."""
from __future__ import annotations

from typing import Any

from outbound.http.openapi.parts import JSON, common_errors, error, ok, ref

CONTACT_REF = {"type": "object", "required": ["campaign_id", "contact_id"],
               "properties": {"campaign_id": {"type": "string"}, "contact_id": {"type": "string"}}}
EXAMPLE = {"call_id": "call_5e09", "phone_number": "+15559876543", "opted_out_at": "2026-12-07T18:02:11.000Z",
           "suppressed": True, "consent_revoked": True,
           "campaign_contacts_ended": [{"campaign_id": "cmp_1a2b", "contact_id": "ct_3c4d"}],
           "campaign_contacts_in_flight": [], "schedules_canceled": ["sch_5e6f"],
           "evidence_id": "call_5e09/OPTOUT"}


def _schemas() -> dict[str, Any]:
    from outbound.compliance.opt_out import METHODS
    from outbound.config import OPT_OUT_SAID_MAX_CHARS

    return {
        "OptOutRequest": {
            "type": "object", "additionalProperties": False,
            "description": "What the person said, optional (no body at all is fine); kept in the evidence.",
            "properties": {
                "method": {"type": "string", "enum": list(METHODS), "description": "How they asked: spoke, or "
                                                                                    "pressed a key."},
                "said": {"type": "string", "maxLength": OPT_OUT_SAID_MAX_CHARS,
                         "description": "Their words, as the voice runtime heard them."},
                "at": {"type": "string", "description": "When they said it: ISO 8601 with its offset (default: "
                                                         "when the request arrived)."}},
            "example": {"method": "voice", "said": "Please stop calling me.", "at": "2026-12-07T18:02:11Z"}},
        "OptOutResult": {
            "type": "object",
            "required": ["call_id", "phone_number", "opted_out_at", "suppressed", "consent_revoked",
                         "campaign_contacts_ended", "campaign_contacts_in_flight", "schedules_canceled", "evidence_id"],
            "properties": {
                "call_id": {"type": "string"}, "phone_number": {"type": "string"},
                "opted_out_at": {"type": "string"},
                "suppressed": {"type": "boolean", "description": "On your do-not-call list (GET /suppressions)."},
                "consent_revoked": {"type": "boolean"},
                "campaign_contacts_ended": {"type": "array", "items": CONTACT_REF,
                                            "description": "Contacts that were waiting: now `suppressed`."},
                "campaign_contacts_in_flight": {"type": "array", "items": CONTACT_REF,
                                                "description": "Contacts whose call goes on; no retry follows it."},
                "schedules_canceled": {"type": "array", "items": {"type": "string"}},
                "evidence_id": {"type": "string"}}},
    }


def _paths() -> dict[str, Any]:
    return {"/calls/{call_ref}/opt-out": {"post": {
        "operationId": "optOutOfCalls", "tags": ["compliance"],
        "summary": "The person on this call asked not to be called again: stop every dial to them, at once",
        "description": "For the voice runtime. Puts the call's recipient on your do-not-call list, ends their waiting "
                       "contacts in every campaign, cancels your schedules to them, revokes their consent, keeps "
                       "what was said as sealed evidence and emits `contact.opted_out`. Asking again for the same "
                       "call answers the same result and emits nothing.",
        "security": [{"bearerAuth": []}],
        "parameters": [{"name": "call_ref", "in": "path", "required": True, "schema": {"type": "string", "minLength": 1},
                        "description": "The call's `call_id` or `call_sid`."}],
        "requestBody": {"required": False, "content": {JSON: {"schema": ref("OptOutRequest")}}},
        "responses": {
            "200": ok("What was done (the first opt-out's answer when asked again).", "OptOutResult", EXAMPLE),
            "400": error("Invalid body (the field is named).", "method must be one of: voice, dtmf"),
            **common_errors(),
            "404": error("No such call in your organization.", "Call call_0123 not found"),
        }}}}


def fragment() -> dict[str, Any]:
    return {"tags": ["compliance"], "paths": _paths(), "schemas": _schemas()}
