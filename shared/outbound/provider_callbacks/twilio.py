"""Twilio status callbacks: a form POST signed with ``X-Twilio-Signature``.

The signature is HMAC-SHA1 (or HMAC-SHA256 when ``X-Twilio-Webhooks-Signature-Settings`` says
so) of the exact URL Twilio called — scheme, host, stage path and query, as handed to Twilio in
``StatusCallback`` — followed by the sorted form parameters, keyed with the account's auth token.
Checked with the twilio SDK's own ``RequestValidator`` (a cheap import). Twilio signs no time, so
a replayed callback verifies: harmless here, since statuses only move forward and settle once.
"""
from __future__ import annotations

import re
from datetime import datetime
from email.utils import parsedate_to_datetime

from outbound.calls.lifecycle import StatusEvent
from outbound.provider_callbacks import (
    JSON,
    BadPayload,
    InvalidSignature,
    WebhookRequest,
    int_or_none,
    iso_from_epoch,
)

SIGNATURE_HEADER = "x-twilio-signature"
SETTINGS_HEADER = "x-twilio-webhooks-signature-settings"
_BASE64 = re.compile(r"[A-Za-z0-9+/]{20,100}={0,2}")  # an HMAC-SHA1 or -SHA256, base64

# CallStatus -> ours. "initiated" is the status of the "initiated" event.
STATUSES = {
    "queued": "queued", "initiated": "queued", "ringing": "ringing", "in-progress": "in-progress",
    "answered": "in-progress", "completed": "completed", "busy": "busy", "no-answer": "no-answer",
    "failed": "failed", "canceled": "canceled",
}


class _Form(dict):
    """Form values as lists; the validator reads repeated keys through ``getlist``."""

    def getlist(self, name: str) -> list[str]:
        return self[name]


def has_signature(request: WebhookRequest) -> bool:
    return bool(_BASE64.fullmatch(request.header(SIGNATURE_HEADER) or ""))


def _single(form: dict[str, list[str]], name: str) -> str | None:
    values = form.get(name)
    return values[-1] if values else None


def references(request: WebhookRequest) -> tuple[str | None, str | None]:
    return request.query_value("call_id"), _single(request.form(), "CallSid")


def signed_call_id(request: WebhookRequest) -> str | None:
    """Twilio signs the whole URL it called, so the ``?call_id=`` we handed it is covered."""
    return request.query_value("call_id")


def verify(request: WebhookRequest, credentials: dict) -> None:
    from twilio.request_validator import RequestValidator, get_signature_algorithm

    settings_header = request.header(SETTINGS_HEADER)
    algorithm = get_signature_algorithm(settings_header)
    # A signature-settings header means a SharedKey signed it (if the organization set one).
    token = (credentials.get("webhook_shared_key") if settings_header else None) or credentials.get("auth_token")
    if not token:
        raise InvalidSignature("no Twilio auth token configured")
    if request.media_type() == JSON:
        # Twilio signs a JSON body through the URL's ?bodySHA256= (its hash): without one there
        # is nothing to check it against (and the validator would take the text for a form).
        if not request.query_value("bodySHA256"):
            raise InvalidSignature("a JSON body needs ?bodySHA256= in the signed URL")
        params: object = request.body.decode("utf-8", "replace")
    else:
        params = _Form(request.form())
    if not RequestValidator(token).validate(request.url, params, request.header(SIGNATURE_HEADER) or "",
                                            algorithm):
        raise InvalidSignature("X-Twilio-Signature does not match")


def _timestamp(value: str | None) -> str | None:
    if not value or len(value) > 64:
        return None
    try:
        parsed: datetime = parsedate_to_datetime(value)  # RFC 2822, e.g. "Mon, 23 Nov 2026 ..."
        return iso_from_epoch(parsed.timestamp())
    except (TypeError, ValueError, OverflowError):  # unreadable, or beyond the years a datetime holds
        return None


def parse(request: WebhookRequest) -> StatusEvent:
    form = request.form()
    call_status = (_single(form, "CallStatus") or "").lower()
    if not call_status and _single(form, "AnsweredBy"):
        # The AsyncAmdStatusCallback: the machine-detection result alone, no status.
        return StatusEvent(_single(form, "CallSid"), None, answered_by=_single(form, "AnsweredBy"))
    if call_status not in STATUSES:
        raise BadPayload(f"unknown CallStatus {call_status!r}")
    status = STATUSES[call_status]
    cause = _single(form, "SipResponseCode") if status in ("failed", "busy", "no-answer") else None
    return StatusEvent(
        provider_call_id=_single(form, "CallSid"),
        status=status,
        answered_by=_single(form, "AnsweredBy"),
        duration_s=int_or_none(_single(form, "CallDuration")) if status == "completed" else None,
        hangup_cause=f"sip {cause}" if cause else None,
        occurred_at=_timestamp(_single(form, "Timestamp")),
    )
