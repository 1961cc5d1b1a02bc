"""Provider status webhooks: each provider's signature scheme and its events in our status model.

Every provider module offers the same four functions:

- ``has_signature(request)``: the signature headers are there (cheap refusal before any read);
- ``references(request) -> (call_id, provider_call_id)``: where the event points, UNVERIFIED
  (only used to find the call record, whose organization's credentials then verify it);
- ``verify(request, credentials)``: raises :class:`InvalidSignature` unless the provider signed
  exactly this request with the organization's credentials, recently enough;
- ``parse(request) -> StatusEvent``: the event in our terms (:mod:`outbound.calls.lifecycle`).

Modules are imported on first use (``module(provider)``), like the adapters. No provider SDK
beyond ``twilio.request_validator``: Telnyx's ed25519 check uses ``cryptography`` (the telnyx
SDK's verifier needs PyNaCl and imports ~2,000 modules), Vonage's HS256 JWT uses ``hmac`` (and
checks ``payload_hash``, which vonage-jwt's verifier ignores).
"""
from __future__ import annotations

import importlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from types import ModuleType
from urllib.parse import parse_qs

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

    def json_object(self) -> dict:
        try:
            body = json.loads(self.body)
        except ValueError:
            raise BadPayload("the body is not JSON") from None
        if not isinstance(body, dict):
            raise BadPayload("the body is not a JSON object")
        return body


def module(provider: str) -> ModuleType:
    return importlib.import_module(_MODULES[provider])


def check_timestamp(timestamp: str | int | float | None, received_at: float) -> None:
    try:
        stamp = float(timestamp)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InvalidSignature("missing or malformed timestamp") from None
    if abs(received_at - stamp) > REPLAY_WINDOW_S:
        raise InvalidSignature("timestamp outside the replay window")


def iso_from_epoch(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def normalize_iso(value: str | None) -> str | None:
    """ISO 8601 from a provider -> our UTC ``...Z`` form; None when absent or unreadable."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return iso_from_epoch(parsed.timestamp())


def int_or_none(value: object) -> int | None:
    try:
        return max(0, int(float(value)))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
