"""Telephony provider adapters behind one small interface.

Every adapter turns an :class:`OutboundCall` into a provider call id, or raises one of the
typed :class:`ProviderError` subclasses; and hangs a call up by that id (``hang_up``). Adapters
are imported only when a call needs them (``get_adapter``), so one provider's import cost never
lands on another provider's cold start.

No adapter retries a create-call request on its own: a create-call POST is not idempotent at
any provider, so a retry could ring a person twice. Retrying is decided by the caller.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Protocol

from outbound.config import provider_settings

PROVIDERS = ("twilio", "telnyx", "vonage", "sip")


def provider_timeout_s() -> float:
    """How long a create-call may wait for its provider (the SIP adapter's trunk failover
    included): the stack's ProviderTimeoutSeconds, read per call."""
    return provider_settings().timeout_s


@dataclass(frozen=True)
class OutboundCall:
    """What every provider needs to place one call."""

    call_id: str  # our id; carried to the voice runtime and back in status webhooks
    from_number: str  # E.164
    to_number: str  # E.164
    stream_url: str  # the voice runtime's media WebSocket (wss://...)
    status_callback_url: str  # this API's webhook for the provider, call_id in the query
    provider_settings: dict[str, Any] = field(default_factory=dict)  # from the phone number
    ring_timeout_s: int = 30  # how long the callee's phone rings before no-answer
    time_limit_s: int = 3600  # hard cap on the call's duration
    # Answering-machine detection: None (off), "detect" (human or machine, reported as soon as
    # known) or "detect_beep" (also wait for the greeting's end / beep, to leave a message).
    machine_detection: str | None = None


class ProviderError(Exception):
    """The provider did not place the call; ``message`` is the provider's own words."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class ProviderRefused(ProviderError):
    """The provider answered and refused (invalid number, rate limit, 5xx...)."""


class ProviderAuthError(ProviderError):
    """The provider rejected our credentials."""


class ProviderTimeout(ProviderError):
    """No answer in time, the connection dropped after the request was sent, or a success
    answer without the call's id (the provider accepted something we cannot identify).

    Ambiguous: the provider may have placed the call. Never retried, never released blindly.
    """


class ProviderAdapter(Protocol):
    name: str

    def place_call(self, call: OutboundCall, credentials: dict[str, Any]) -> str:
        """Place ``call`` and return the provider's call id (the API's ``call_sid``)."""
        ...

    def hang_up(self, call_sid: str, credentials: dict[str, Any]) -> None:
        """End the call, ringing or answered, with the provider's own hang-up. Idempotent: a call
        the provider has already ended (or no longer knows) is no error. Its end then arrives as
        the provider's final status webhook."""
        ...


_ADAPTER_MODULES = {
    "twilio": "outbound.providers.twilio",
    "telnyx": "outbound.providers.telnyx",
    "vonage": "outbound.providers.vonage",
    "sip": "outbound.providers.sip",
}


def get_adapter(provider: str) -> ProviderAdapter:
    """The adapter for ``provider``, importing its module on first use only."""
    try:
        module_name = _ADAPTER_MODULES[provider]
    except KeyError:
        raise ProviderError(f"Unsupported provider: {provider}") from None
    return importlib.import_module(module_name).ADAPTER
