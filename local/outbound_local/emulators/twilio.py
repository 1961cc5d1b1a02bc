"""Twilio's REST API (``POST /2010-04-01/Accounts/{sid}/Calls.json``), as Twilio checks it."""
from __future__ import annotations

import base64
import secrets
from email.utils import formatdate
from urllib.parse import parse_qs

from .base import (DROPPED_NUMBER, FAILING_NUMBER, REFUSED_NUMBER, SILENT_NUMBER, SILENT_SECONDS, Credentials,
                   EmulatorRequest, EmulatorResponse)

DEFAULT_CREDENTIALS = {"account_sid": "AC" + "0" * 31 + "1", "auth_token": "local-twilio-auth-token"}
MAX_TWIML_CHARS = 4000


def error(status: int, code: int, message: str) -> EmulatorResponse:
    """Twilio's documented error body."""
    return EmulatorResponse.json(status, {"code": code, "message": message,
                                          "more_info": f"https://www.twilio.com/docs/errors/{code}",
                                          "status": status})


def basic_auth(request: EmulatorRequest) -> tuple[str, str] | None:
    scheme, _, encoded = (request.header("Authorization") or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, _, password = base64.b64decode(encoded).decode().partition(":")
    except ValueError:
        return None
    return user, password


def handle(request: EmulatorRequest, credentials: Credentials) -> EmulatorResponse:
    parts = request.path.strip("/").split("/")  # 2010-04-01 Accounts {sid} Calls.json
    if request.method != "POST" or len(parts) != 4 or parts[1] != "Accounts" or parts[3] != "Calls.json":
        return error(404, 20404, f"The requested resource {request.path} was not found")
    account_sid = parts[2]
    auth = basic_auth(request)
    accepted = {(c["account_sid"], c["auth_token"]) for c in credentials("twilio")}
    if auth is None or auth not in accepted or auth[0] != account_sid:
        return error(401, 20003, "Authenticate")
    form = {k: v[0] for k, v in parse_qs(request.body.decode(), keep_blank_values=True).items()}
    to, from_ = form.get("To"), form.get("From")
    if not to:
        return error(400, 21201, "No 'To' number is specified")
    if not from_:
        return error(400, 21603, "A 'From' phone number is required.")
    if not (form.get("Url") or form.get("Twiml") or form.get("ApplicationSid")):
        return error(400, 21205, "Url parameter is required. Please provide either a Url, Twiml or ApplicationSid.")
    if len(form.get("Twiml", "")) > MAX_TWIML_CHARS:
        return error(400, 21232, f"Twiml exceeds the maximum of {MAX_TWIML_CHARS} characters.")
    if to == REFUSED_NUMBER:
        return error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
    if to == DROPPED_NUMBER:
        return EmulatorResponse(0, drop_connection=True)
    if to == FAILING_NUMBER:
        return error(503, 20503, "Service Unavailable")
    resource = call_resource(account_sid, to, from_)
    # A silent destination is placed too, but answered only after any adapter gave up.
    return EmulatorResponse.json(201, resource, delay_s=SILENT_SECONDS if to == SILENT_NUMBER else 0.0,
                                 provider_call_id=resource["sid"])


def call_resource(account_sid: str, to: str, from_: str) -> dict:
    """Twilio's Call resource as ``calls.create`` answers it."""
    sid = "CA" + secrets.token_hex(16)
    now = formatdate(usegmt=True)
    uri = f"/2010-04-01/Accounts/{account_sid}/Calls/{sid}.json"
    return {
        "sid": sid, "account_sid": account_sid, "to": to, "to_formatted": to, "from": from_,
        "from_formatted": from_, "status": "queued", "direction": "outbound-api",
        "api_version": "2010-04-01", "date_created": now, "date_updated": now, "start_time": None,
        "end_time": None, "duration": None, "price": None, "price_unit": "USD", "answered_by": None,
        "caller_name": None, "forwarded_from": None, "group_sid": None, "parent_call_sid": None,
        "phone_number_sid": None, "queue_time": "0", "trunk_sid": None, "annotation": None,
        "uri": uri,
        "subresource_uris": {"notifications": uri.replace(".json", "/Notifications.json"),
                             "recordings": uri.replace(".json", "/Recordings.json")},
    }
