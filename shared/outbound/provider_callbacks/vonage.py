"""Vonage Voice event webhooks: JSON with ``Authorization: Bearer <JWT>``, HS256-signed with the
account's signature secret.

Checked here with ``hmac``: the header must be HS256, the signature must match, ``iat`` must be
within the replay window, ``exp`` (if any) not passed, and ``payload_hash`` must equal
``sha256(raw body)`` — vonage-jwt's ``verify_signature`` does not check that claim, so without
this a tampered body with a genuine token would pass.

The webhook URL carries our ``?call_id=``; the JWT does not cover the URL, and the body carries
Vonage's ``uuid``, never our call_id. So nothing signed names our call: an event applies only to
the call whose provider id is its ``uuid`` (an event for a call whose uuid we do not know yet,
e.g. a create-call that timed out, is recorded and not applied; see usecases.status_webhook).
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

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
from outbound.safe_json import loads_object

STATUSES = {
    "started": "queued", "ringing": "ringing", "answered": "in-progress",
    "completed": "completed", "busy": "busy", "rejected": "busy",
    "timeout": "no-answer", "unanswered": "no-answer",
    "cancelled": "canceled", "failed": "failed",
}
DETECTION = ("human", "machine")  # answering-machine detection results: no status change
MAX_JWT_CHARS = 8192


def _token(request: WebhookRequest) -> str | None:
    scheme, _, token = (request.header("authorization") or "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > MAX_JWT_CHARS or not token.isascii():
        return None
    return token


def has_signature(request: WebhookRequest) -> bool:
    return _token(request) is not None


def _b64url(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))



def references(request: WebhookRequest) -> tuple[str | None, str | None]:
    try:
        uuid = request.json_object().get("uuid")
    except BadPayload:
        uuid = None
    return request.query_value("call_id"), uuid if isinstance(uuid, str) else None


def signed_call_id(request: WebhookRequest) -> str | None:
    return None  # the JWT covers the body (Vonage's uuid), not the URL's ?call_id=


def verify(request: WebhookRequest, credentials: dict) -> None:
    secret = credentials.get("signature_secret")
    if not secret:
        raise InvalidSignature("no Vonage signature secret configured")
    parts = (_token(request) or "").split(".")
    if len(parts) != 3:
        raise InvalidSignature("malformed JWT")
    try:
        header = loads_object(_b64url(parts[0]), "the JWT header")
        claims = loads_object(_b64url(parts[1]), "the JWT claims")
        signature = _b64url(parts[2])
    except (ValueError, binascii.Error):  # JsonRefused is a ValueError
        raise InvalidSignature("malformed JWT") from None
    if header.get("alg") != "HS256":
        raise InvalidSignature("the JWT must be HS256")
    expected = hmac.new(secret.encode(), f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(expected, signature):
        raise InvalidSignature("the JWT signature does not match")
    check_timestamp(claims.get("iat"), request.received_at)
    if "exp" in claims:
        exp = epoch_seconds(claims["exp"])
        if exp is None or exp <= request.received_at:
            raise InvalidSignature("the JWT has expired (or its exp is not a time)")
    payload_hash = claims.get("payload_hash")
    if not isinstance(payload_hash, str) or not hmac.compare_digest(
            payload_hash.lower().encode(), hashlib.sha256(request.body).hexdigest().encode()):
        raise InvalidSignature("payload_hash does not match the body")


def parse(request: WebhookRequest) -> StatusEvent:
    body = request.json_object()
    raw_status = str(body.get("status") or "")
    uuid = body.get("uuid") if isinstance(body.get("uuid"), str) else None
    occurred_at = normalize_iso(body.get("timestamp"))
    if raw_status in DETECTION:
        return StatusEvent(uuid, None, answered_by=raw_status, occurred_at=occurred_at)
    status = STATUSES.get(raw_status)
    if status is None:
        return StatusEvent(uuid, None, occurred_at=occurred_at)  # e.g. "disconnected" (the stream)
    cause = body.get("detail") or body.get("reason")
    return StatusEvent(
        provider_call_id=uuid, status=status,
        duration_s=int_or_none(body.get("duration")) if status == "completed" else None,
        hangup_cause=(f"{raw_status}: {cause}" if cause else raw_status) if status != "completed" else None,
        occurred_at=occurred_at,
    )
