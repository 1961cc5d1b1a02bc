"""Telnyx Call Control webhooks: JSON signed with ed25519.

Headers ``telnyx-signature-ed25519`` (base64 signature) and ``telnyx-timestamp`` (epoch seconds);
the signed message is ``f"{timestamp}|{raw body}"``; the key is the account's public key (raw 32
bytes, base64: the organization's ``public_key``); Telnyx's tolerance is 300 s. Verified with
``cryptography``: the telnyx SDK's own verifier needs PyNaCl and costs ~2 s of imports.

The event points at our call through ``client_state`` (base64 JSON ``{"call_id"}``, set when we
dialled, signed in the body) and falls back to the ``?call_id=`` of the webhook URL, which Telnyx
does not sign: such an event is only a hint (it applies if its call_control_id is the call's).

Telnyx's ``call.hangup`` has no duration: it is the time from the ``call.answered`` event
(recorded on the call as ``answered_at``) to the hang-up. If the hang-up arrives before the
answer event, the hang-up's ``start_time`` is used instead (this may include ringing time).
"""
from __future__ import annotations

import base64
import binascii
import re

from outbound.calls.lifecycle import StatusEvent
from outbound.provider_callbacks import (
    BadPayload,
    InvalidSignature,
    WebhookRequest,
    check_timestamp,
    epoch_seconds,
    normalize_iso,
)
from outbound.safe_json import JsonRefused, loads_object

SIGNATURE_HEADER = "telnyx-signature-ed25519"
TIMESTAMP_HEADER = "telnyx-timestamp"
_BASE64 = re.compile(r"[A-Za-z0-9+/]{80,100}={0,2}")  # a 64-byte ed25519 signature, base64
MAX_CLIENT_STATE_CHARS = 4096

# hangup_cause -> our final status
HANGUP_STATUSES = {
    "normal_clearing": "completed", "time_limit": "completed",
    "user_busy": "busy", "call_rejected": "busy",
    "timeout": "no-answer", "no_answer": "no-answer",
    "originator_cancel": "canceled",
    "not_found": "failed", "unspecified": "failed",
}
MACHINE_DETECTION_EVENTS = ("call.machine.detection.ended", "call.machine.premium.detection.ended")


def has_signature(request: WebhookRequest) -> bool:
    """Both headers, well-formed: a base64 ed25519 signature and epoch seconds in ASCII digits."""
    return bool(_BASE64.fullmatch(request.header(SIGNATURE_HEADER) or "")
                and epoch_seconds(request.header(TIMESTAMP_HEADER)) is not None)


def _data(request: WebhookRequest) -> dict:
    data = request.json_object().get("data")
    if not isinstance(data, dict) or not isinstance(data.get("payload"), dict):
        raise BadPayload("expected {\"data\": {\"event_type\", \"payload\"}}")
    return data


def _call_id_from_client_state(value: object) -> str | None:
    if not isinstance(value, str) or len(value) > MAX_CLIENT_STATE_CHARS:
        return None
    try:
        state = loads_object(base64.b64decode(value, validate=True), "client_state")
    except (JsonRefused, ValueError, binascii.Error):
        return None
    return state.get("call_id") if isinstance(state.get("call_id"), str) else None


def references(request: WebhookRequest) -> tuple[str | None, str | None]:
    try:
        payload = _data(request)["payload"]
    except BadPayload:
        return request.query_value("call_id"), None
    call_id = _call_id_from_client_state(payload.get("client_state")) or request.query_value("call_id")
    return call_id, payload.get("call_control_id")


def signed_call_id(request: WebhookRequest) -> str | None:
    """Telnyx signs the body, not the URL: only the ``client_state`` we set names our call."""
    try:
        return _call_id_from_client_state(_data(request)["payload"].get("client_state"))
    except BadPayload:
        return None


def verify(request: WebhookRequest, credentials: dict) -> None:
    from cryptography.exceptions import InvalidSignature as BadEd25519
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    timestamp = request.header(TIMESTAMP_HEADER) or ""
    check_timestamp(timestamp, request.received_at)
    try:
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(credentials.get("public_key") or ""))
        signature = base64.b64decode(request.header(SIGNATURE_HEADER) or "", validate=True)
    except (ValueError, binascii.Error):
        raise InvalidSignature("bad public key or signature encoding") from None
    try:
        key.verify(signature, timestamp.encode() + b"|" + request.body)
    except BadEd25519:
        raise InvalidSignature("telnyx-signature-ed25519 does not match") from None


def parse(request: WebhookRequest) -> StatusEvent:
    data = _data(request)
    payload, event_type = data["payload"], data.get("event_type")
    occurred_at = normalize_iso(data.get("occurred_at"))
    call_control_id = payload.get("call_control_id")
    if call_control_id is not None and not isinstance(call_control_id, str):
        raise BadPayload("payload.call_control_id must be a string")
    if event_type == "call.initiated":
        return StatusEvent(call_control_id, "queued", occurred_at=occurred_at)
    if event_type == "call.answered":
        return StatusEvent(call_control_id, "in-progress", occurred_at=occurred_at)
    if event_type in MACHINE_DETECTION_EVENTS:
        result = payload.get("result")
        return StatusEvent(call_control_id, None, answered_by=result if isinstance(result, str) else None,
                           occurred_at=occurred_at)
    if event_type == "call.hangup":
        cause = payload.get("hangup_cause") if isinstance(payload.get("hangup_cause"), str) else None
        cause = cause or "unspecified"
        status = HANGUP_STATUSES.get(cause, "failed")
        return StatusEvent(call_control_id, status, hangup_cause=cause, occurred_at=occurred_at,
                           extra={"start_time": normalize_iso(payload.get("start_time"))}
                           if status == "completed" else {})
    return StatusEvent(call_control_id, None, occurred_at=occurred_at)  # other events: not tracked
