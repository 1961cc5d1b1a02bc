"""The providers' status callbacks in the OpenAPI document (POST /webhooks/{provider}): called by
Twilio, Telnyx, Vonage and the SIP bridge, not by API clients."""
from __future__ import annotations

from typing import Any

from outbound.http.openapi.parts import JSON, error, ok


def _schemas() -> dict[str, Any]:
    from outbound.calls.lifecycle import ALL_STATUSES, PROVIDER_STATUSES

    return {
        "WebhookResult": {
            "type": "object", "required": ["call_id", "status", "applied"],
            "properties": {"call_id": {"type": "string"},
                           "status": {"type": ["string", "null"], "enum": [*ALL_STATUSES, None]},
                           "applied": {"type": "boolean"},
                           "reason": {"type": "string"}},
            "description": f"Statuses a webhook can report: {', '.join(PROVIDER_STATUSES)}.",
        },
    }


def _paths() -> dict[str, Any]:
    return {
        "/webhooks/{provider}": {"post": {
            "operationId": "statusWebhook", "tags": ["webhooks"], "summary": "A provider's call status callback",
            "description": "Called by the providers, not by API clients: no API key, each request is verified "
                           "with its provider's signature scheme and the call's organization's credentials. "
                           "Statuses only move forward; the final one settles the balance exactly once.",
            "security": [],
            "parameters": [{"name": "provider", "in": "path", "required": True,
                            "schema": {"type": "string", "enum": ["twilio", "telnyx", "vonage", "sip"]}},
                           {"name": "call_id", "in": "query", "required": False,
                            "description": "Our call id, in the status callback URL given to the provider.",
                            "schema": {"type": "string"}}],
            "requestBody": {"required": True, "content": {
                "application/x-www-form-urlencoded": {"schema": {
                    "type": "object", "description": "Twilio's status callback parameters."}},
                JSON: {"schema": {"type": "object", "description": "Telnyx, Vonage and SIP bridge events."}}}},
            "responses": {
                "200": ok("Verified; `applied` says whether the call moved.", "WebhookResult",
                           {"call_id": "call_3f9a1c2b4d5e6f708192a3b4", "status": "completed", "applied": True}),
                "400": error("Signed, but not a readable status event.", "Unreadable twilio status event: ..."),
                "403": error("Bad or missing signature (or an unknown call).", "Invalid or missing webhook signature"),
                "404": error("Unknown provider.", "Not found"),
                "429": error("Throttled by the stage's rate limits.", "Too many requests. Retry with backoff."),
            }}},
    }


def fragment() -> dict[str, Any]:
    return {"tags": ["webhooks"], "paths": _paths(), "schemas": _schemas()}
