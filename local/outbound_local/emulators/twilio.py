"""Twilio's REST API, as Twilio checks it: ``POST /2010-04-01/Accounts/{sid}/Calls.json``
(create a call), ``POST .../Calls/{CallSid}.json`` with ``Status=completed`` or ``canceled`` (end a
live call: its final status callback follows, see hangups), and the account's call records: ``GET
.../Calls/{CallSid}.json`` and ``GET .../Calls.json`` (filtered by To, From, Status, StartTime)."""
from __future__ import annotations

import base64
import secrets
from email.utils import formatdate
from urllib.parse import parse_qs, unquote

from .base import (
    DROPPED_NUMBER,
    FAILING_NUMBER,
    REFUSED_NUMBER,
    SILENT_NUMBER,
    SILENT_SECONDS,
    Credentials,
    EmulatorRequest,
    EmulatorResponse,
    is_magic,
)
from .provider_calls import PlacedCall

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
    parts = request.path.strip("/").split("/")  # 2010-04-01 Accounts {sid} Calls.json | Calls {CallSid}.json
    listing = len(parts) == 4 and parts[3] == "Calls.json"
    one = len(parts) == 5 and parts[3] == "Calls" and parts[4].endswith(".json")
    if len(parts) < 4 or parts[1] != "Accounts" or not (listing or one) or request.method not in ("GET", "POST"):
        return error(404, 20404, f"The requested resource {request.path} was not found")
    account_sid = parts[2]
    auth = basic_auth(request)
    accepted = {(c["account_sid"], c["auth_token"]) for c in credentials("twilio")}
    if auth is None or auth not in accepted or auth[0] != account_sid:
        return error(401, 20003, "Authenticate")
    if request.method == "GET":
        return call_page(request, account_sid) if listing else fetch_call(request, account_sid,
                                                                          unquote(parts[4].removesuffix(".json")))
    if one:
        return update_call(request, account_sid, unquote(parts[4].removesuffix(".json")), credentials)
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
    if is_magic(to, REFUSED_NUMBER):
        return error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
    if is_magic(to, DROPPED_NUMBER):
        return EmulatorResponse(0, drop_connection=True)
    if is_magic(to, FAILING_NUMBER):
        return error(503, 20503, "Service Unavailable")
    resource = call_resource(account_sid, to, from_)
    # A silent destination is placed too, but answered only after any adapter gave up.
    return EmulatorResponse.json(201, resource, delay_s=SILENT_SECONDS if is_magic(to, SILENT_NUMBER) else 0.0,
                                 provider_call_id=resource["sid"],
                                 placed_call={"account": account_sid, "to": to, "from_": from_})


# --- the account's call records: GET Calls/{CallSid}.json and the Calls.json list ---------------

# Our outcome words -> Twilio's CallStatus (the same words, but for answered calls).
STATUSES = {"queued": "queued", "in-progress": "in-progress", "completed": "completed", "busy": "busy",
            "no-answer": "no-answer", "failed": "failed", "canceled": "canceled"}
PRICE_PER_MINUTE = "-0.01400"  # what the account pays Twilio per started minute (negative: a cost)


def record_resource(call: PlacedCall) -> dict:
    """The Call resource as Twilio serves it once the call has moved on: status, RFC 2822
    start/end times and ``duration`` (answered seconds, as a string) once it ended."""
    resource = call_resource(call.account, call.to, call.from_, call.call_sid, call.created_at)
    minutes = -(-(call.duration or 0) // 60)
    resource.update({
        "status": STATUSES[call.status], "start_time": formatdate(call.created_at, usegmt=True),
        "end_time": formatdate(call.ended_at, usegmt=True) if call.ended_at else None,
        "duration": str(call.duration) if call.finished else None,
        "price": f"{float(PRICE_PER_MINUTE) * minutes:.5f}" if call.finished else None,
        "date_updated": formatdate(call.ended_at or call.answered_at or call.created_at, usegmt=True)})
    return resource


def fetch_call(request: EmulatorRequest, account_sid: str, call_sid: str) -> EmulatorResponse:
    call = request.calls.get("twilio", call_sid) if request.calls else None
    if call is None or call.account != account_sid:  # another account's call is not found either
        return error(404, 20404, f"The requested resource {request.path} was not found")
    return EmulatorResponse.json(200, record_resource(call))


def update_call(request: EmulatorRequest, account_sid: str, call_sid: str,
                credentials: Credentials) -> EmulatorResponse:
    """``Status=completed`` ends the call whether ringing or answered; ``canceled`` only one not yet
    answered (an answered call is left as it is). An ended call cannot be updated (21220)."""
    from .hangups import final_callback_sender

    form = {k: v[0] for k, v in parse_qs(request.body.decode(), keep_blank_values=True).items()}
    if form.get("Status") not in ("completed", "canceled"):
        return error(400, 20001, "Status must be canceled or completed (the emulator updates nothing else)")
    call = request.calls.get("twilio", call_sid) if request.calls else None
    if call is None or call.account != account_sid:
        return error(404, 20404, f"The requested resource {request.path} was not found")
    if call.finished:
        return error(400, 21220, "Call is not in-progress. Cannot redirect.")
    if form["Status"] == "canceled" and call.status == "in-progress":
        return EmulatorResponse.json(200, record_resource(call))
    call, _ = request.calls.hang_up("twilio", call_sid)
    return EmulatorResponse.json(200, record_resource(call),
                                 after=final_callback_sender(call, credentials("twilio")))


def _date_or_iso(value: str) -> float | None:
    """Twilio's list filters take a date (YYYY-MM-DD) or a date-time (the SDK sends ISO 8601)."""
    from datetime import datetime, timezone

    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)).timestamp()


def call_page(request: EmulatorRequest, account_sid: str) -> EmulatorResponse:
    """``GET Calls.json`` with To, From, Status, StartTime>= / StartTime<= and PageSize (one
    page: the emulator's accounts never hold more than a page of matches), newest first."""
    params = request.query_params()
    after, before = params.get("StartTime>="), params.get("StartTime<=")
    bounds = [(_date_or_iso(v) if v else None) for v in (after, before)]
    if (after and bounds[0] is None) or (before and bounds[1] is None):
        return error(400, 20001, "StartTime must be a date (YYYY-MM-DD) or an ISO 8601 date-time")
    try:
        size = int(params.get("PageSize") or 50)
    except ValueError:
        return error(400, 20001, "PageSize must be an integer")
    calls = [c for c in (request.calls.of_account("twilio", account_sid) if request.calls else [])
             if (not params.get("To") or c.to == params["To"]) and (not params.get("From") or c.from_ == params["From"])
             and (not params.get("Status") or STATUSES[c.status] == params["Status"])
             and (bounds[0] is None or c.created_at >= bounds[0]) and (bounds[1] is None or c.created_at <= bounds[1])]
    page = [record_resource(c) for c in reversed(calls)][:max(1, min(size, 1000))]
    uri = f"/2010-04-01/Accounts/{account_sid}/Calls.json?PageSize={size}&Page=0"
    return EmulatorResponse.json(200, {
        "calls": page, "end": max(0, len(page) - 1), "first_page_uri": uri, "next_page_uri": None, "page": 0,
        "page_size": size, "previous_page_uri": None, "start": 0, "uri": uri})


def call_resource(account_sid: str, to: str, from_: str, sid: str | None = None, created: float | None = None) -> dict:
    """Twilio's Call resource as ``calls.create`` answers it."""
    sid = sid or "CA" + secrets.token_hex(16)
    now = formatdate(created, usegmt=True)
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
