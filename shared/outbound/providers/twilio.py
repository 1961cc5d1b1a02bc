"""Twilio: ``POST /2010-04-01/Accounts/{sid}/Calls.json`` with inline TwiML built by the SDK.

The twilio SDK builds the TwiML (its ``twilio.twiml`` builder: XML escaping, attribute names;
~20 ms to import). The create-call POST itself goes through the shared urllib3 path instead of
``Client.calls.create``: ``twilio.rest`` plus ``requests`` cost ~150 ms on a cold start
(measured with ``outbound bench cold-start``), a third of the whole budget, for one form POST.
tests/unit/test_adapters_twilio.py proves the wire request equals what ``calls.create`` sends.
"""
from __future__ import annotations

import base64
from typing import Any
from urllib.parse import quote, urlencode

from twilio.twiml.voice_response import Connect, VoiceResponse

from outbound.config import provider_settings

from . import OutboundCall, ProviderTimeout, _http

DEFAULT_API_URL = "https://api.twilio.com"
STATUS_EVENTS = ["initiated", "ringing", "answered", "completed"]
# A hang-up of a call Twilio no longer has live: not found (20404), not in a state to update (21220).
ENDED_CODES = (20404, 21220)
# Our detection modes -> Twilio's MachineDetection. Always asynchronous (AsyncAmd): the TwiML
# (the stream to the voice runtime) runs at once and the result arrives on its own callback
# (AsyncAmdStatusCallback, our status webhook), instead of the callee hearing silence meanwhile.
MACHINE_DETECTION = {"detect": "Enable", "detect_beep": "DetectMessageEnd"}


def _api_url() -> str:
    # The local stack points this at its emulator; unset in a deployment.
    return (provider_settings().twilio_api_url or DEFAULT_API_URL).rstrip("/")


def twiml(call: OutboundCall) -> str:
    """Connect the call's media to the voice runtime, telling it which call this is."""
    response = VoiceResponse()
    connect = Connect()
    connect.stream(url=call.stream_url).parameter(name="call_id", value=call.call_id)
    response.append(connect)
    return str(response)


def create_call_form(call: OutboundCall) -> list[tuple[str, str]]:
    """The form ``calls.create`` sends for these arguments (list values as repeated keys)."""
    return [
        ("To", call.to_number),
        ("From", call.from_number),
        ("Twiml", twiml(call)),
        ("StatusCallback", call.status_callback_url),
        *(("StatusCallbackEvent", event) for event in STATUS_EVENTS),
        ("StatusCallbackMethod", "POST"),
        ("Timeout", str(call.ring_timeout_s)),  # ring seconds before no-answer
        ("TimeLimit", str(call.time_limit_s)),
        *machine_detection_form(call),
    ]


def machine_detection_form(call: OutboundCall) -> list[tuple[str, str]]:
    if not call.machine_detection:
        return []
    return [("MachineDetection", MACHINE_DETECTION[call.machine_detection]), ("AsyncAmd", "true"),
            ("AsyncAmdStatusCallback", call.status_callback_url), ("AsyncAmdStatusCallbackMethod", "POST")]


def error_message(data: Any, status: int) -> str:
    """Twilio's own words: ``{"code", "message", "more_info", "status"}``."""
    if isinstance(data, dict) and data.get("message"):
        return str(data["message"])
    return f"HTTP {status}"


class TwilioAdapter:
    name = "twilio"

    def place_call(self, call: OutboundCall, credentials: dict[str, Any]) -> str:
        sid, token = credentials["account_sid"], credentials["auth_token"]
        basic = base64.b64encode(f"{sid}:{token}".encode()).decode()
        data = _http.post("Twilio", f"{_api_url()}/2010-04-01/Accounts/{sid}/Calls.json",
                          urlencode(create_call_form(call)).encode(),
                          {"Authorization": f"Basic {basic}", "Content-Type": "application/x-www-form-urlencoded"},
                          error_message)
        if not isinstance(data, dict) or not data.get("sid"):
            raise ProviderTimeout("Twilio accepted the request but its answer carried no call sid")
        return str(data["sid"])

    def hang_up(self, call_sid: str, credentials: dict[str, Any]) -> None:
        """Update the call to ``Status=completed`` (Twilio ends it whether ringing or answered)."""
        sid, token = credentials["account_sid"], credentials["auth_token"]
        basic = base64.b64encode(f"{sid}:{token}".encode()).decode()
        url = f"{_api_url()}/2010-04-01/Accounts/{sid}/Calls/{quote(call_sid, safe='')}.json"
        headers = {"Authorization": f"Basic {basic}", "Content-Type": "application/x-www-form-urlencoded"}
        status, data = _http.send("POST", "Twilio", url, urlencode({"Status": "completed"}).encode(), headers)
        ended = status == 404 or (isinstance(data, dict) and data.get("code") in ENDED_CODES)
        _http.hang_up_answer("Twilio", status, data, error_message, ended)


ADAPTER = TwilioAdapter()
