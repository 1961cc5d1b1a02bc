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
import os
from typing import Any

import urllib3

from . import OutboundCall, ProviderAuthError, ProviderError, ProviderRefused, ProviderTimeout

DEFAULT_API_URL = "https://api.telnyx.com/v2"

# retries=False: urllib3 must never re-send a create-call (it is not idempotent at Telnyx).
# One pool per process, kept warm across invocations (saves the TLS handshake).
_http = urllib3.PoolManager(retries=False)


def _api_url() -> str:
    # Read per call: the local stack and the tests point it at the emulator.
    return os.environ.get("OUTBOUND_TELNYX_API_URL", DEFAULT_API_URL).rstrip("/")


def _http_timeout() -> float:
    return float(os.environ.get("OUTBOUND_PROVIDER_TIMEOUT_S", "10"))


def client_state(call_id: str) -> str:
    """Telnyx echoes this in every webhook of the call: how a webhook finds our record."""
    return base64.b64encode(json.dumps({"call_id": call_id}).encode()).decode()


def dial_body(call: OutboundCall) -> dict[str, Any]:
    connection_id = call.provider_settings.get("connection_id")
    if not connection_id:
        raise ProviderRefused("This Telnyx number has no connection_id in its provider settings")
    # No custom SIP header with the call id: those go to the callee's carrier, and
    # client_state already brings the id back to us.
    return {
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
        timeout = _http_timeout()
        try:
            response = _http.request(
                "POST",
                f"{_api_url()}/calls",
                body=json.dumps(body).encode(),
                headers={"Authorization": f"Bearer {credentials['api_key']}",
                         "Content-Type": "application/json", "Accept": "application/json"},
                timeout=urllib3.Timeout(connect=timeout, read=timeout),
            )
        except urllib3.exceptions.NewConnectionError:  # before ConnectTimeoutError: a subclass
            raise ProviderRefused("Telnyx is unreachable: connection refused") from None
        except urllib3.exceptions.ConnectTimeoutError:
            # Nothing was sent, so nothing was placed: a plain refusal, safe to release.
            raise ProviderRefused("Telnyx is unreachable: connection timed out") from None
        except (urllib3.exceptions.ReadTimeoutError, urllib3.exceptions.ProtocolError):
            raise ProviderTimeout("No answer from Telnyx in time") from None
        except urllib3.exceptions.HTTPError as exc:  # TLS and other transport failures
            raise ProviderRefused(f"Telnyx is unreachable: {type(exc).__name__}") from None

        try:
            data = json.loads(response.data or b"null")
        except ValueError:
            data = None
        if response.status in (401, 403):
            raise ProviderAuthError(error_message(data, response.status))
        if response.status >= 300:
            raise ProviderRefused(error_message(data, response.status))
        try:
            return str(data["data"]["call_control_id"])
        except (KeyError, TypeError):
            raise ProviderError("Telnyx answered without a call_control_id") from None


ADAPTER = TelnyxAdapter()
