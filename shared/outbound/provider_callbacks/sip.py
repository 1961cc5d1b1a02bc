"""Status events from the FreeSWITCH bridge of a BYO SIP trunk (our own scheme).

The bridge POSTs one JSON event per channel state change to ``<PublicApiUrl>/webhooks/sip``:

    {"call_id": "call_...",              # the channel variable outbound_call_id
     "channel_uuid": "...",              # the channel's Unique-ID (our call_sid)
     "event": "CHANNEL_PROGRESS" | "CHANNEL_PROGRESS_MEDIA" | "CHANNEL_ANSWER" | "CHANNEL_HANGUP_COMPLETE",
     "hangup_cause": "NORMAL_CLEARING",  # on CHANNEL_HANGUP_COMPLETE
     "duration": 125,                    # answered seconds (FreeSWITCH's billsec), on hang-up
     "answered_by": "human",             # optional (answering-machine detection)
     "timestamp": "2026-11-23T09:00:00Z"}  # optional, when it happened

with headers ``X-Outbound-Timestamp: <epoch seconds>`` and ``X-Outbound-Signature: <hex
HMAC-SHA256(webhook_secret, f"{timestamp}.{raw body}")>``, where ``webhook_secret`` is a field of
the organization's ``sip`` credentials secret. Requests outside the 300 s window are refused.
"""
from __future__ import annotations

import hashlib
import hmac
import re

from outbound.calls.lifecycle import StatusEvent
from outbound.provider_callbacks import (
    BadPayload,
    InvalidSignature,
    WebhookRequest,
    check_timestamp,
    epoch_seconds,
    int_or_none,
    normalize_iso,
)

SIGNATURE_HEADER = "x-outbound-signature"
TIMESTAMP_HEADER = "x-outbound-timestamp"
_HEX_SHA256 = re.compile(r"[0-9a-fA-F]{64}")

EVENTS = {"CHANNEL_PROGRESS": "ringing", "CHANNEL_PROGRESS_MEDIA": "ringing", "CHANNEL_ANSWER": "in-progress"}
HANGUP_STATUSES = {
    "NORMAL_CLEARING": "completed", "ALLOTTED_TIMEOUT": "completed",  # ALLOTTED_TIMEOUT: our time limit
    "USER_BUSY": "busy", "CALL_REJECTED": "busy",
    "NO_ANSWER": "no-answer", "NO_USER_RESPONSE": "no-answer", "PROGRESS_TIMEOUT": "no-answer",
    "ORIGINATOR_CANCEL": "canceled",
}  # every other cause: failed


def signature(secret: str, timestamp: str, body: bytes) -> str:
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def has_signature(request: WebhookRequest) -> bool:
    """Both headers, well-formed: a hex SHA-256 and epoch seconds in ASCII digits."""
    return bool(_HEX_SHA256.fullmatch(request.header(SIGNATURE_HEADER) or "")
                and epoch_seconds(request.header(TIMESTAMP_HEADER)) is not None)


def references(request: WebhookRequest) -> tuple[str | None, str | None]:
    try:
        body = request.json_object()
    except BadPayload:
        return request.query_value("call_id"), None
    call_id = body.get("call_id") if isinstance(body.get("call_id"), str) else request.query_value("call_id")
    uuid = body.get("channel_uuid")
    return call_id, uuid if isinstance(uuid, str) else None


def signed_call_id(request: WebhookRequest) -> str | None:
    """The bridge signs the body, which carries our call_id (the URL carries none)."""
    try:
        call_id = request.json_object().get("call_id")
    except BadPayload:
        return None
    return call_id if isinstance(call_id, str) else None


def verify(request: WebhookRequest, credentials: dict) -> None:
    secret = credentials.get("webhook_secret")
    if not secret:
        raise InvalidSignature("no webhook_secret in the organization's sip credentials")
    timestamp = request.header(TIMESTAMP_HEADER) or ""
    check_timestamp(timestamp, request.received_at)
    if not hmac.compare_digest(signature(secret, timestamp, request.body),
                               (request.header(SIGNATURE_HEADER) or "").lower()):
        raise InvalidSignature("X-Outbound-Signature does not match")


def parse(request: WebhookRequest) -> StatusEvent:
    body = request.json_object()
    event = body.get("event")
    if event is not None and not isinstance(event, str):
        raise BadPayload("event must be a string")
    uuid = body.get("channel_uuid") if isinstance(body.get("channel_uuid"), str) else None
    occurred_at = normalize_iso(body.get("timestamp"))
    answered_by = body.get("answered_by") if isinstance(body.get("answered_by"), str) else None
    if event in EVENTS:
        return StatusEvent(uuid, EVENTS[event], answered_by=answered_by, occurred_at=occurred_at)
    if event == "CHANNEL_HANGUP_COMPLETE":
        cause = str(body.get("hangup_cause") or "NORMAL_CLEARING")
        return StatusEvent(uuid, HANGUP_STATUSES.get(cause, "failed"), answered_by=answered_by,
                           duration_s=int_or_none(body.get("duration")), hangup_cause=cause,
                           occurred_at=occurred_at)
    if event is None:
        raise BadPayload("event is required")
    return StatusEvent(uuid, None, answered_by=answered_by, occurred_at=occurred_at)
