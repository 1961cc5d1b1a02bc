"""What an emulated provider does after an API hang-up: its record of the call ends (an answered
call ``completed`` with its talk time, one still ringing ``canceled``; ProviderCalls.hang_up), and
its final status callback tells the same story, signed as that provider signs
(outbound_local.emulators.webhooks), sent to the URL the create-call gave it (the SIP bridge: the
stack's ``<PublicApiUrl>/webhooks/sip``). Only loopback URLs are called: the emulators serve the
local stack and the tests, nothing beyond this machine.
"""
from __future__ import annotations

import os
from typing import Any, Callable
from urllib.parse import urlsplit

from .provider_calls import PlacedCall

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def signing_credentials(call: PlacedCall, accepted: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The account credentials the provider signs this call's callbacks with."""
    from . import telnyx

    if call.provider == "telnyx":
        return {"public_key": telnyx.WEBHOOK_PUBLIC_KEY}  # Telnyx signs with its own key
    field = {"twilio": "account_sid", "vonage": "application_id", "sip": "password"}[call.provider]
    return next((c for c in accepted if c.get(field) == call.account), None)


def callback_url(call: PlacedCall) -> str:
    if call.provider == "sip":
        base = os.environ.get("PUBLIC_API_URL", "")
        return f"{base.rstrip('/')}/webhooks/sip" if base else ""
    return call.callback_url


def final_callback_sender(call: PlacedCall, accepted: list[dict[str, Any]]) -> Callable[[], None] | None:
    """What sends the call's final status callback (run after the hang-up was answered), or None
    when there is nowhere (on loopback) to send it or nothing to sign it with."""
    from . import webhooks

    url, credentials = callback_url(call), signing_credentials(call, accepted)
    if not call.call_id or not credentials or urlsplit(url).hostname not in LOOPBACK:
        return None
    ours = {"call_id": call.call_id, "call_sid": call.call_sid, "provider": call.provider,
            "from_phone_number": call.from_, "to_phone_number": call.to}

    def send() -> None:
        final = webhooks.BUILDERS[call.provider](ours, credentials, url, call.status, call.duration or 0)[-1]
        try:
            webhooks.send(final)
        except OSError:
            pass  # the server went away: a real provider would retry, the local one gives up
    return send
