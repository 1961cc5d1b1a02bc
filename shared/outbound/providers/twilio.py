"""Twilio through its SDK (``calls.create`` with inline TwiML).

The SDK is cheap enough to keep on the request path (~0.2 s import, measured in the README's
cold-start table) and sends a create-call exactly once on a dropped connection (requests does
not retry a POST that was sent), so it needs no retry guard.
"""
from __future__ import annotations

import os
from typing import Any

from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from twilio.twiml.voice_response import Connect, VoiceResponse

from . import OutboundCall, ProviderAuthError, ProviderError, ProviderRefused, ProviderTimeout

STATUS_EVENTS = ["initiated", "ringing", "answered", "completed"]

_clients: dict[tuple[str, str, str], Client] = {}


def _api_url() -> str:
    # The local stack points this at its emulator; unset in a deployment (Twilio's own URL).
    return os.environ.get("OUTBOUND_TWILIO_API_URL", "").rstrip("/")


def _http_timeout() -> float:
    return float(os.environ.get("OUTBOUND_PROVIDER_TIMEOUT_S", "10"))


def _client(credentials: dict[str, Any]) -> Client:
    """One client per account, kept warm across invocations (connection reuse)."""
    key = (credentials["account_sid"], credentials["auth_token"], _api_url())
    if key not in _clients:
        client = Client(key[0], key[1], http_client=TwilioHttpClient(timeout=_http_timeout()))
        if key[2]:
            client.api.base_url = key[2]
        _clients[key] = client
    return _clients[key]


def twiml(call: OutboundCall) -> str:
    """Connect the call's media to the voice runtime, telling it which call this is."""
    response = VoiceResponse()
    connect = Connect()
    stream = connect.stream(url=call.stream_url)
    stream.parameter(name="call_id", value=call.call_id)
    response.append(connect)
    return str(response)


class TwilioAdapter:
    name = "twilio"

    def place_call(self, call: OutboundCall, credentials: dict[str, Any]) -> str:
        import requests  # already loaded by the twilio SDK

        try:
            created = _client(credentials).calls.create(
                to=call.to_number,
                from_=call.from_number,
                twiml=twiml(call),
                status_callback=call.status_callback_url,
                status_callback_event=STATUS_EVENTS,
                status_callback_method="POST",
                timeout=call.ring_timeout_s,
                time_limit=call.time_limit_s,
            )
        except TwilioRestException as exc:
            message = _provider_message(exc)
            if exc.status in (401, 403):
                raise ProviderAuthError(message) from None
            raise ProviderRefused(message) from None
        except TwilioException as exc:  # e.g. TwilioServiceException, not a TwilioRestException
            raise ProviderRefused(str(exc)) from None
        except requests.exceptions.ConnectTimeout as exc:
            raise ProviderRefused(f"Twilio is unreachable: {type(exc).__name__}") from None
        except requests.exceptions.ConnectionError as exc:
            if _never_sent(exc):
                raise ProviderRefused("Twilio is unreachable: connection refused") from None
            raise ProviderTimeout("No answer from Twilio (connection lost)") from None
        except requests.exceptions.Timeout:
            raise ProviderTimeout("No answer from Twilio in time") from None
        if not created.sid:
            raise ProviderError("Twilio answered without a call sid")
        return created.sid


def _provider_message(exc: TwilioRestException) -> str:
    """Twilio's own words, without the SDK's "Unable to create record: " preamble."""
    return str(exc.msg).split(": ", 1)[-1] if str(exc.msg).startswith("Unable to") else str(exc.msg)


def _never_sent(exc: Exception) -> bool:
    """True when the connection failed before the request went out (safe: nothing placed)."""
    from urllib3.exceptions import NewConnectionError

    reason = getattr(exc.args[0], "reason", None) if exc.args else None  # urllib3's MaxRetryError
    return isinstance(reason, NewConnectionError)


ADAPTER = TwilioAdapter()
