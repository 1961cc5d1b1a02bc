"""Telnyx Call Control emulator: ``POST /v2/calls`` (dial) and ``POST /v2/calls/{id}/actions/hangup``
(its final ``call.hangup`` webhook follows, see hangups), checked and answered the way Telnyx
documents it (Bearer API key, JSON, ``{"errors": [{"code", "title", "detail"}]}``); and the
account's records: ``GET /v2/detail_records`` (call-control detail records of finished calls) and
``GET /v2/calls/{call_control_id}`` (a call's status)."""
from __future__ import annotations

import base64
import secrets
import time
import uuid
from urllib.parse import unquote

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

# The emulator's webhook signing key pair (ed25519, raw 32 bytes, base64), made once for the
# local stack. The public half is what an organization stores as its Telnyx "public_key".
WEBHOOK_PRIVATE_KEY = "tYssMSwneQ7Rsj7rvvoPjgNUU4Zu0gDBXNt+2nKMZwo="
WEBHOOK_PUBLIC_KEY = "hKgEInHhSHzIC1mE1qBrtq/wvF/KXi0oCSLlp76xcaI="

DEFAULT_CREDENTIALS = {"api_key": "KEY_LOCAL_TELNYX", "public_key": WEBHOOK_PUBLIC_KEY}

REQUIRED_FIELDS = ("connection_id", "to", "from")


def error(status: int, code: str, title: str, detail: str, pointer: str | None = None) -> EmulatorResponse:
    item = {"code": code, "title": title, "detail": detail,
            "meta": {"url": f"https://developers.telnyx.com/docs/overview/errors/{code}"}}
    if pointer:
        item["source"] = {"pointer": pointer}
    return EmulatorResponse.json(status, {"errors": [item]})


def handle(request: EmulatorRequest, credentials: Credentials) -> EmulatorResponse:
    path = request.path.rstrip("/")
    reads = request.method == "GET" and (path == "/v2/detail_records" or path.startswith("/v2/calls/"))
    hangup = request.method == "POST" and path.startswith("/v2/calls/") and path.endswith("/actions/hangup")
    if not (reads or hangup) and (request.method != "POST" or path != "/v2/calls"):
        return error(404, "10005", "Resource not found", f"No route for {request.method} {request.path}")
    scheme, _, api_key = (request.header("Authorization") or "").partition(" ")
    accepted = {c.get("api_key") for c in credentials("telnyx")}
    if scheme != "Bearer" or not api_key or api_key not in accepted:
        return error(401, "10009", "Authentication failed",
                     "The API key provided is invalid or missing.")
    if reads:
        return detail_records(request, api_key) if path == "/v2/detail_records" else \
            call_status(request, api_key, unquote(path.removeprefix("/v2/calls/")))
    if hangup:
        return hang_up(request, api_key, unquote(path.removeprefix("/v2/calls/").removesuffix("/actions/hangup")),
                       credentials)
    try:
        body = request.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return error(400, "10015", "Bad Request", "The request body must be a JSON object.")
    for name in REQUIRED_FIELDS:
        if not body.get(name):
            return error(422, "10032", "Missing required parameter",
                         f"The '{name}' parameter is required.", f"/{name}")
    to = body["to"]
    if is_magic(to, REFUSED_NUMBER):
        return error(422, "10016", "Invalid phone number",
                     f"Invalid number: {to} is not a routable destination.", "/to")
    if is_magic(to, DROPPED_NUMBER):
        return EmulatorResponse(0, drop_connection=True)
    if is_magic(to, FAILING_NUMBER):
        return error(500, "10007", "Unexpected error", "An unexpected error occurred.")
    control_id = "v3:" + base64.urlsafe_b64encode(secrets.token_bytes(36)).decode().rstrip("=")
    # A silent destination is placed too, but answered only after any adapter gave up.
    delay_s = SILENT_SECONDS if is_magic(to, SILENT_NUMBER) else 0.0
    return EmulatorResponse.json(200, {"data": {
        "call_control_id": control_id,
        "call_leg_id": str(uuid.uuid4()),
        "call_session_id": str(uuid.uuid4()),
        "is_alive": False,
        "record_type": "call",
        "client_state": body.get("client_state"),
    }}, delay_s=delay_s, provider_call_id=control_id,
        placed_call={"account": api_key, "to": to, "from_": str(body["from"])})


# --- the account's records: detail records (CDRs) of finished calls, and a live call's status -----

# Our outcome words -> the hangup_cause Telnyx records for it.
HANGUP_CAUSES = {"completed": "normal_clearing", "busy": "user_busy", "no-answer": "timeout",
                 "failed": "not_found", "canceled": "originator_cancel"}
RATE = "0.0070"  # per minute, what the account pays Telnyx


def _iso(epoch: float | None) -> str | None:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch)) if epoch else None


def detail_record(call: PlacedCall) -> dict:
    """A call-control detail record, as the Detail Records search serves it once the call ended:
    ``call_sec`` (answered seconds), ``billed_sec`` (rounded up to Telnyx's 60 s increment)."""
    billed = -(-(call.duration or 0) // 60) * 60
    return {
        "record_type": "call-control", "id": str(uuid.uuid5(uuid.NAMESPACE_URL, call.call_sid)),
        "telnyx_call_control_id": call.call_sid, "telnyx_leg_id": str(uuid.uuid5(uuid.NAMESPACE_OID, call.call_sid)),
        "direction": "outbound", "cli": call.from_, "cld": call.to, "connection_id": "1494404757140276705",
        "created_at": _iso(call.created_at), "started_at": _iso(call.created_at),
        "answered_at": _iso(call.answered_at), "finished_at": _iso(call.ended_at),
        "call_sec": call.duration, "billed_sec": billed, "hangup_cause": HANGUP_CAUSES[call.status],
        "rate": RATE, "cost": f"{float(RATE) * billed / 60:.4f}", "currency": "USD"}


DETAIL_FILTERS = ("telnyx_call_control_id", "cli", "cld", "direction", "hangup_cause")


def detail_records(request: EmulatorRequest, api_key: str) -> EmulatorResponse:
    """``GET /v2/detail_records``: ``filter[record_type]`` is required (only ``call-control`` is
    served here); attribute filters ``filter[<attribute>]=<value>``, ``filter[created_at][gte]``
    and ``[lt]`` (ISO 8601); ``page[number]``, ``page[size]`` (1-50); ``sort=-created_at`` (default)
    or ``created_at``. Only finished calls have a detail record."""
    from datetime import datetime

    params = request.query_params()
    record_type = params.get("filter[record_type]")
    if not record_type:
        return error(422, "10032", "Missing required parameter", "filter[record_type] must be specified.",
                     "/filter/record_type")
    bounds = []
    for name in ("filter[created_at][gte]", "filter[created_at][lt]"):
        try:
            bounds.append(datetime.fromisoformat(params[name].replace("Z", "+00:00")).timestamp()
                          if params.get(name) else None)
        except ValueError:
            return error(422, "10015", "Invalid parameter", f"{name} must be an ISO 8601 date or date-time.")
    try:
        number, size = int(params.get("page[number]") or 1), int(params.get("page[size]") or 20)
    except ValueError:
        return error(422, "10015", "Invalid parameter", "page[number] and page[size] must be integers.")
    if number < 1 or not 1 <= size <= 50:
        return error(422, "10015", "Invalid parameter", "page[number] must be 1 or more, page[size] 1 to 50.")
    records = [detail_record(c) for c in (request.calls.of_account("telnyx", api_key) if request.calls else [])
               if c.finished and record_type == "call-control"
               and (bounds[0] is None or c.created_at >= bounds[0]) and (bounds[1] is None or c.created_at < bounds[1])]
    records = [r for r in records if all(str(r.get(name)) == params[f"filter[{name}]"]
                                         for name in DETAIL_FILTERS if f"filter[{name}]" in params)]
    if params.get("sort", "-created_at") == "-created_at":
        records.reverse()
    page = records[(number - 1) * size:number * size]
    return EmulatorResponse.json(200, {"data": page, "meta": {
        "total_pages": max(1, -(-len(records) // size)), "total_results": len(records),
        "page_number": number, "page_size": size}})


def call_status(request: EmulatorRequest, api_key: str, call_control_id: str) -> EmulatorResponse:
    """``GET /v2/calls/{call_control_id}``: whether the call is alive (Telnyx keeps it ten
    minutes after the end; the emulator keeps it)."""
    call = request.calls.get("telnyx", call_control_id) if request.calls else None
    if call is None or call.account != api_key:
        return error(404, "10005", "Resource not found", "Call not found.")
    return EmulatorResponse.json(200, {"data": {
        "record_type": "call", "call_control_id": call.call_sid, "call_leg_id": str(uuid.uuid5(uuid.NAMESPACE_OID, call.call_sid)),
        "call_session_id": str(uuid.uuid5(uuid.NAMESPACE_DNS, call.call_sid)), "is_alive": not call.finished,
        "call_duration": call.duration, "start_time": _iso(call.created_at), "end_time": _iso(call.ended_at)}})


def hang_up(request: EmulatorRequest, api_key: str, call_control_id: str, credentials: Credentials) -> EmulatorResponse:
    """The ``hangup`` command: 200 ``{"data": {"result": "ok"}}``; a call that has ended already is
    Telnyx's 422 "Call has already ended" (90018)."""
    from .hangups import final_callback_sender

    call = request.calls.get("telnyx", call_control_id) if request.calls else None
    if call is None or call.account != api_key:
        return error(404, "10005", "Resource not found", "Call not found.")
    if call.finished:
        return error(422, "90018", "Call has already ended",
                     "This call is no longer active and can't receive commands.")
    call, _ = request.calls.hang_up("telnyx", call_control_id)
    return EmulatorResponse.json(200, {"data": {"result": "ok"}},
                                 after=final_callback_sender(call, credentials("telnyx")))


def webhook_signature_headers(raw_body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """The headers Telnyx signs a webhook with: ed25519 over ``f"{timestamp}|{raw_body}"``."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    stamp = str(int(time.time()) if timestamp is None else timestamp)
    key = Ed25519PrivateKey.from_private_bytes(base64.b64decode(WEBHOOK_PRIVATE_KEY))
    signature = key.sign(stamp.encode() + b"|" + raw_body)
    return {"telnyx-timestamp": stamp,
            "telnyx-signature-ed25519": base64.b64encode(signature).decode()}
