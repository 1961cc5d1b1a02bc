"""Provider status webhooks: each provider's signature scheme and its events in our status model.

Every provider module offers the same five functions:

- ``has_signature(request)``: the signature headers are there (cheap refusal before any read);
- ``references(request) -> (call_id, provider_call_id)``: where the event points, UNVERIFIED
  (only used to find the call record, whose organization's credentials then verify it);
- ``signed_call_id(request)``: our call_id where the provider's signature covers it (Twilio: the
  URL; Telnyx: ``client_state`` in the body; SIP: the body), None where nothing signed names our
  call (Vonage signs only the body, which carries its own uuid): what proves an event is a call's
  before the call's provider id is known (usecases.status_webhook);
- ``verify(request, credentials)``: raises :class:`InvalidSignature` unless the provider signed
  exactly this request with the organization's credentials, recently enough;
- ``parse(request) -> StatusEvent``: the event in our terms (:mod:`outbound.calls.lifecycle`).

Before any of them, :func:`precheck` makes the cheap checks every provider's request must pass
(size, media type, a JSON body's shape): anyone on the internet can call these routes, so
nothing that costs a read or a signature check happens for a body no provider would send.

Modules are imported on first use (``module(provider)``), like the adapters. No provider SDK
beyond ``twilio.request_validator``: Telnyx's ed25519 check uses ``cryptography`` (the telnyx
SDK's verifier needs PyNaCl and imports ~2,000 modules), Vonage's HS256 JWT uses ``hmac`` (and
checks ``payload_hash``, which vonage-jwt's verifier ignores).
"""
from __future__ import annotations

import importlib
import math
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from types import ModuleType
from urllib.parse import parse_qs

from ..errors import BadRequest, UnsupportedMediaType
from ..safe_json import MAX_BODY_BYTES, JsonRefused, loads_object

# How old (or how far in the future) a signed timestamp may be: Telnyx's own tolerance, used for
# every provider that signs a time. Older requests are refused as replays.
REPLAY_WINDOW_S = 300

_MODULES = {
    "twilio": "outbound.provider_callbacks.twilio",
    "telnyx": "outbound.provider_callbacks.telnyx",
    "vonage": "outbound.provider_callbacks.vonage",
    "sip": "outbound.provider_callbacks.sip",
}
PROVIDERS = tuple(_MODULES)
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
# What each provider sends: Twilio's status callbacks are form-encoded (its JSON webhooks carry
# ?bodySHA256=); the others send JSON.
MEDIA_TYPES = {"twilio": (FORM, JSON), "telnyx": (JSON,), "vonage": (JSON,), "sip": (JSON,)}
# A signed time: epoch seconds, ASCII digits only (headers), within what a clock can say.
_EPOCH_DIGITS = re.compile(r"[0-9]{1,11}")
MAX_EPOCH_S = 10**11
# The longest call duration a provider event may report (a week: far above any call's limit).
MAX_EVENT_DURATION_S = 7 * 24 * 3600


class InvalidSignature(Exception):
    """Missing, wrong, stale or not verifiable: answered 403, nothing written."""


class BadPayload(Exception):
    """Signed, but not an event we can read: answered 400."""


@dataclass(frozen=True)
class WebhookRequest:
    provider: str
    url: str  # the public URL the provider called: scheme, host, stage path and query
    headers: dict[str, str]  # names lower-cased
    body: bytes  # exactly as received: signatures cover these bytes
    query: dict[str, list[str]]
    received_at: float  # epoch seconds when API Gateway received the request

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def query_value(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None

    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode("utf-8", "replace"), keep_blank_values=True)

    def media_type(self) -> str:
        return (self.header("content-type") or "").split(";", 1)[0].strip().lower()

    def json_object(self) -> dict:
        try:
            return loads_object(self.body, "the body")
        except JsonRefused as exc:
            raise BadPayload(str(exc)) from None


def module(provider: str) -> ModuleType:
    return importlib.import_module(_MODULES[provider])


def precheck(request: WebhookRequest) -> None:
    """The cheap checks, before any read or signature check: the body fits MAX_BODY_BYTES
    (400), has the media type the provider sends (415; none at all is taken as that type), and
    a JSON body is a JSON object within outbound.safe_json's limits (400)."""
    if len(request.body) > MAX_BODY_BYTES:
        raise BadRequest(f"Request body must be at most {MAX_BODY_BYTES} bytes")
    allowed = MEDIA_TYPES[request.provider]
    media = request.media_type() or allowed[0]
    if media not in allowed:
        raise UnsupportedMediaType(f"Content-Type must be {' or '.join(allowed)} for {request.provider} "
                                   "status events")
    if media == JSON:
        try:
            loads_object(request.body, "Request body")
        except JsonRefused as exc:
            raise BadRequest(str(exc)) from None


def epoch_seconds(value: object) -> float | None:
    """A signed time as epoch seconds, or None unless it is a finite number in range: a JSON
    number (not a boolean) or a header of ASCII digits. ``nan`` compares false with everything,
    so it would pass any window; ``1e400`` and ``١٢٣`` are not times either."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        value = int(value) if _EPOCH_DIGITS.fullmatch(value) else None
    if not isinstance(value, (int, float)) or (isinstance(value, float) and not math.isfinite(value)):
        return None
    if not 0 < value < MAX_EPOCH_S:  # an int is compared as an int: 10**400 is not a float
        return None
    return float(value)


def check_timestamp(timestamp: object, received_at: float) -> None:
    stamp = epoch_seconds(timestamp)
    if stamp is None:
        raise InvalidSignature("missing or malformed timestamp")
    if abs(received_at - stamp) > REPLAY_WINDOW_S:
        raise InvalidSignature("timestamp outside the replay window")


def iso_from_epoch(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def normalize_iso(value: str | None) -> str | None:
    """ISO 8601 from a provider -> our UTC ``...Z`` form; None when absent or unreadable."""
    if not value:
        return None
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=timezone.utc)
        return iso_from_epoch(parsed.timestamp())
    except (ValueError, OverflowError):  # not ISO 8601, or beyond the years a datetime holds
        return None


def int_or_none(value: object) -> int | None:
    """A duration a provider reported, in whole seconds; None when unreadable or out of range
    (``1e999``, ``nan``, more than MAX_EVENT_DURATION_S): the call's times decide instead."""
    if isinstance(value, bool) or (isinstance(value, str) and not value.isascii()):
        return None
    try:
        seconds = float(value) if isinstance(value, (str, int, float)) and len(str(value)) <= 32 else math.nan
    except ValueError:
        return None
    if not math.isfinite(seconds) or seconds > MAX_EVENT_DURATION_S:
        return None
    return max(0, int(seconds))
