"""Telnyx Call Control "dial" over its documented REST API (``POST /v2/calls``), not the SDK.

Why not the ``telnyx`` SDK: ``import telnyx`` measured 1.5-1.8 s (its ``__init__`` loads ~2,000
type modules) plus ~1 s more on the first ``client.calls``; the cold-start budget is 1.5x a bare
boto3 import. urllib3 is already loaded by botocore, so this module costs a few milliseconds.
And the SDK's default ``max_retries=2`` re-sends the create-call POST on a dropped connection,
408, 409, 429 and 5xx: up to three calls placed for one request. Here the POST goes out once.
"""
from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import quote

from outbound.config import provider_settings

from . import OutboundCall, ProviderRefused, ProviderTimeout, _http

DEFAULT_API_URL = "https://api.telnyx.com/v2"
CALL_ENDED = "90018"  # Telnyx's error code for a command to a call that has already ended



def _api_url() -> str:
    # Read per call: the local stack and the tests point it at the emulator.
    return (provider_settings().telnyx_api_url or DEFAULT_API_URL).rstrip("/")



def client_state(call_id: str) -> str:
    """Telnyx echoes this in every webhook of the call: how a webhook finds our record."""
    return base64.b64encode(json.dumps({"call_id": call_id}).encode()).decode()


def dial_body(call: OutboundCall) -> dict[str, Any]:
    connection_id = call.provider_settings.get("connection_id")
    if not connection_id:
        raise ProviderRefused("This Telnyx number has no connection_id in its provider settings")
    # No custom SIP header with the call id: those go to the callee's carrier, and
    # client_state already brings the id back to us.
    body = {
        "connection_id": str(connection_id),
        "to": call.to_number,
        "from": call.from_number,
        "webhook_url": call.status_callback_url,
        "webhook_url_method": "POST",
        "client_state": client_state(call.call_id),
        "stream_url": call.stream_url,
        "stream_track": "both_tracks",
        # The assistant talks back over the same stream (Telnyx streams one way by default).
        "stream_bidirectional_mode": "rtp",
        "timeout_secs": call.ring_timeout_s,
        "time_limit_secs": call.time_limit_s,
    }
    if call.machine_detection:  # our modes are Telnyx's own names ("detect", "detect_beep")
        body["answering_machine_detection"] = call.machine_detection
    return body


def error_message(data: Any, status: int) -> str:
    """Telnyx's own words: ``{"errors": [{"code", "title", "detail"}]}``."""
    try:
        first = data["errors"][0]
        return str(first.get("detail") or first.get("title"))
    except (KeyError, IndexError, TypeError, AttributeError):
        return f"HTTP {status}"


class TelnyxAdapter:
    name = "telnyx"

    def place_call(self, call: OutboundCall, credentials: dict[str, Any]) -> str:
        body = dial_body(call)
        data = _http.post("Telnyx", f"{_api_url()}/calls", json.dumps(body).encode(),
                          {"Authorization": f"Bearer {credentials['api_key']}", "Content-Type": "application/json"},
                          error_message)
        try:
            return str(data["data"]["call_control_id"])
        except (KeyError, TypeError):
            raise ProviderTimeout("Telnyx accepted the request but its answer carried no call_control_id") from None

    def hang_up(self, call_sid: str, credentials: dict[str, Any]) -> None:
        """The Call Control ``hangup`` command; a call that has ended (or is gone) needs none."""
        status, data = _http.send("POST", "Telnyx", f"{_api_url()}/calls/{quote(call_sid, safe=':')}/actions/hangup",
                                  b"{}", {"Authorization": f"Bearer {credentials['api_key']}",
                                          "Content-Type": "application/json"})
        codes = [str(e.get("code")) for e in (data or {}).get("errors") or [] if isinstance(e, dict)] \
            if isinstance(data, dict) else []
        _http.hang_up_answer("Telnyx", status, data, error_message, status == 404 or CALL_ENDED in codes)


ADAPTER = TelnyxAdapter()
