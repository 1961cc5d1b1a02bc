"""Consent records and recipient zones as a request gives them, checked by hand (the call path
does not load pydantic; the Campaigns API's ``ConsentIn`` is the same shape, compliance.models).

``consent``: ``{"type", "obtained_at", "source"?, "proof_reference"?}``: how the person agreed to
be called (``express_written``, ``express``, ``existing_business_relationship``, ``other``), when
(ISO 8601 with an offset, not in the future), where (a form, a call...) and a reference to the
proof kept in your systems. It is stored as given (``obtained_at`` in UTC) in the evidence of
every dial it covers; an opt-out revokes it (the number is then suppressed).
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from outbound.errors import BadRequest

CONSENT_TYPES = ("express_written", "express", "existing_business_relationship", "other")
CONSENT_FIELDS = ("type", "obtained_at", "source", "proof_reference")
MAX_SOURCE_CHARS, MAX_PROOF_CHARS = 200, 500
CLOCK_SKEW = timedelta(minutes=5)  # an obtained_at this far ahead of our clock is still "now"


def parse_consent(value: Any, field: str = "consent") -> dict[str, str] | None:
    """A consent object, checked and normalised; None when not given. BadRequest names the problem."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise BadRequest(f"{field} must be an object with type and obtained_at")
    unknown = [name for name in value if name not in CONSENT_FIELDS]
    if unknown:
        raise BadRequest(f"Unknown field: {field}.{unknown[0]}")
    if value.get("type") not in CONSENT_TYPES:
        raise BadRequest(f"{field}.type must be one of: {', '.join(CONSENT_TYPES)}")
    consent = {"type": value["type"], "obtained_at": parse_obtained_at(value.get("obtained_at"), field)}
    for name, limit in (("source", MAX_SOURCE_CHARS), ("proof_reference", MAX_PROOF_CHARS)):
        text = value.get(name)
        if text is None:
            continue
        if not isinstance(text, str) or not 1 <= len(text) <= limit:
            raise BadRequest(f"{field}.{name} must be a string of 1 to {limit} characters")
        consent[name] = text
    return consent


def parse_obtained_at(value: Any, field: str = "consent") -> str:
    if not isinstance(value, str):
        raise BadRequest(f"{field}.obtained_at is required (ISO 8601 with a UTC offset)")
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        raise BadRequest(f"{field}.obtained_at must be ISO 8601 with a UTC offset (e.g. 2026-11-02T15:04:05Z)")
    if when > datetime.now(timezone.utc) + CLOCK_SKEW:
        raise BadRequest(f"{field}.obtained_at must not be in the future")
    return when.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def parse_zone_name(value: Any, field: str) -> str | None:
    """An IANA zone name, or None when not given."""
    if value is None:
        return None
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if isinstance(value, str) and 0 < len(value) <= 64 and not value.startswith(("/", ".")) and ".." not in value:
        try:
            ZoneInfo(value)
            return value
        except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a directory such as "America"
            pass
    raise BadRequest(f"{field} must be an IANA time zone name (e.g. America/New_York)")
