"""Vonage Voice API emulator: ``POST /v1/calls`` (create call), checked the way Vonage does
(RS256 application JWT verified against the application's public key) and answered in its
documented shapes (RFC 7807 errors, ``201 {"uuid", "status", "direction", "conversation_uuid"}``);
``PUT /v1/calls/{uuid}`` with ``{"action": "hangup"}`` (204; the final event follows, see hangups);
and the application's call records, ``GET /v1/calls/{uuid}`` and ``GET /v1/calls`` (HAL pages)."""
from __future__ import annotations

import base64
import json
import math
import re
import time
import uuid
from typing import Any
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

# An RSA-2048 key made once for the local stack (PKCS8, as Vonage's dashboard hands it out).
LOCAL_PRIVATE_KEY = """-----BEGIN PRIVATE KEY-----
MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQDF53EQozXgyl3W
RdhLES4UZ3D0Gw90mArqEmOI4JdskL8/U9p/TLeeGZju3Ykr75OmTXclYNHTp9KH
/QgSV54PpcBLIHIQRm/cHm1Aw4NzM5wEKQjhTepaQ2C8Nn7HsVz0WK+kSlW9rzU1
HaP6sHAXY8uC0U2T9Ru1vpiC8hHuoTVWQn8qmHgfXwGARYiVya9MrLda6wnr+uWM
ikQ9v4CzcdAvmxpkzDvzy0jNSdaOSy5ZfT0T3zK6XBT/ojtsj0hsTQ+b4zLQIn8D
a2vw89bqzp85xNOEPrnw4iowQ5o4VPl/h1914Xz1o4dIxPhOJVCKhO2Lihg8n12j
6Tb0ccXHAgMBAAECggEAWVLZCXVhABDWwbvMoDUk4zi9FrCQDUQCyRt7qXAVaH78
kwy59fMefVF4YXfETfxYXBtix5AnpKx+rbpbRkwdn1pkrIP8d7QTEPr6vNyCHCET
Lh2HUInmWM9Ifirqlh9LoU3WGQUkJfVKwqqaNLAmJ6h3Vpg5t6pN034vQAsaZOW6
A4Slf8Cg0Xw8MtYPwMiekUVyiUL3+XbGE5q5NN7XtbUpw7lZnTBynccpPT/pRxyN
AA3TwW8yYrRsWVRx6w5FhtssKhDbTpezwS49z3wEcyGZk9JQPFFA5D3uiUrllPS5
UAbLnsInlq3JpFozQMN8yxcn8Xou2eXoCLHgHRUG4QKBgQD41OFSO23NNLwphUD6
ouqtB5Kmp3bpjBtyyxIE3LaoHlzM4K3JsgNWpzYo2lZqInRk5drBZFY1Br4AhlHR
fhKwxkIIM0OV3jAgCqK6iw0cV+wiptxfYCvgfuOsD1AWNfXb1bD/rOFDIBaNc3qM
17WauAJxk0JJ//QEwgDpIZA+RQKBgQDLmvlQEWuJbDO9b8PDBzBMKbgHXYTNN+Zg
NuvvEZ7XOjyns5G0V3HVSVAjwOIglOosCdovZN+JnG8K1by9bzq1lVnlrhfLefgq
nyzi2irSrN11+/CffpY21Ohqv9XbmBMKX+1UNZUHQAYRHNAVTrSwvuqWwjkxqL14
ZZzCs/3qmwKBgQC7QUCbaJu17LSZLm168DVYpzVGcwn6sXRKi+VwgUR3+fluOLqv
6WW3xTftwHl9f5ZGA+/+z2pMl1lO/cX+uDiKjXhNwX5f/wgKZNaXOWNRbB0I6rc2
kyIR3IurBQ8I1+zAVezQS6JtqG0wX7He4coJt+Ym4GHnXFWfavvSdW6eXQKBgQC+
zkAAaiLWCUG/sQLLPWxko+Ajft+all1eI3odc+zglGINYzoTwLMcB3WD3BnOIOAH
X0BKlATs6F4j0EPtX1SsoQc7OFhyRp5sCvm8qmnhP0DXdcB9J9tMDWC10YtwHGcT
nOxDs2czASvuU4spvLWWwYQEvoVs5U6Sit9Kk/VMKwKBgDNWPL2BRCbcDY1l1RPc
Pi0f4HdiZi6hxaHe6hwC3Pc/TqBxbU5YY43Yr67uZ4q7oSGbjwbG4wPe8oL/9KVj
ER96Wap1s8EvtZvy1c3YV6sHjBWtniguAs4/0ZDTu0UB91biWhCtMGDgJPfyO6Rk
Rx7O8KOVCdGzu3vdRrZ7nTcd
-----END PRIVATE KEY-----
"""

DEFAULT_CREDENTIALS = {"application_id": "local-vonage-app", "private_key": LOCAL_PRIVATE_KEY,
                       "signature_secret": "local-vonage-signature-secret-32bytes+"}  # >= 32 bytes for HS256

CLOCK_SKEW_S = 60  # how far in the future an iat may be
VONAGE_NUMBER = re.compile(r"[1-9][0-9]{6,14}")  # E.164 without the "+"

_public_keys: dict[str, Any] = {}  # private PEM -> its public key (parsing is slow)


def problem(status: int, kind: str, title: str, detail: str, **extra: Any) -> EmulatorResponse:
    return EmulatorResponse.json(status, {
        "type": f"https://developer.nexmo.com/api-errors#{kind}", "title": title,
        "detail": detail, "instance": str(uuid.uuid4()), **extra})


def _b64url_decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _public_key(private_pem: str) -> Any:
    from cryptography.hazmat.primitives import serialization

    if private_pem not in _public_keys:
        _public_keys[private_pem] = serialization.load_pem_private_key(
            private_pem.encode(), password=None).public_key()
    return _public_keys[private_pem]


def _application_id(authorization: str | None) -> str:
    """The application a (verified) token speaks for: whose calls it may read."""
    _, _, token = (authorization or "").partition(" ")
    try:
        return str(json.loads(_b64url_decode(token.split(".")[1])).get("application_id") or "")
    except (ValueError, IndexError, AttributeError):
        return ""


def verify_application_jwt(authorization: str | None, credentials: Credentials) -> str | None:
    """None when the token is good, else why it is not (Vonage's detail is generic anyway)."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    scheme, _, token = (authorization or "").partition(" ")
    parts = token.split(".")
    if scheme != "Bearer" or len(parts) != 3:
        return "missing or malformed bearer token"
    try:
        header = json.loads(_b64url_decode(parts[0]))
        claims = json.loads(_b64url_decode(parts[1]))
        signature = _b64url_decode(parts[2])
    except ValueError:
        return "token is not valid JSON/base64url"
    if not isinstance(header, dict) or header.get("alg") != "RS256" or not isinstance(claims, dict):
        return "token algorithm must be RS256"
    app_keys = [c["private_key"] for c in credentials("vonage")
                if c.get("application_id") == claims.get("application_id") and c.get("private_key")]
    if not app_keys:
        return "unknown application_id"
    signed = f"{parts[0]}.{parts[1]}".encode()
    for pem in app_keys:
        try:
            _public_key(pem).verify(signature, signed, padding.PKCS1v15(), hashes.SHA256())
            break
        except InvalidSignature:
            continue
    else:
        return "bad signature"
    now = time.time()
    iat, exp = claims.get("iat"), claims.get("exp")
    if not isinstance(iat, (int, float)) or isinstance(iat, bool) or not math.isfinite(iat) \
            or iat > now + CLOCK_SKEW_S:  # NaN would pass any comparison
        return "iat missing or in the future"
    if isinstance(exp, (int, float)) and (not math.isfinite(exp) or exp <= now):
        return "token expired"
    if not claims.get("jti"):
        return "jti missing"
    return None


def _invalid_endpoint(endpoint: Any) -> bool:
    return not (isinstance(endpoint, dict) and endpoint.get("type") == "phone"
                and VONAGE_NUMBER.fullmatch(str(endpoint.get("number", ""))))


def validate(body: Any) -> list[dict[str, str]]:
    """Vonage's invalid_parameters list for a create-call body (empty when valid)."""
    if not isinstance(body, dict):
        return [{"name": "body", "reason": "must be a JSON object"}]
    invalid = []
    to = body.get("to")
    if not isinstance(to, list) or not to or any(_invalid_endpoint(e) for e in to):
        invalid.append({"name": "to", "reason": "must be a list of phone endpoints, numbers in E.164 without '+'"})
    if _invalid_endpoint(body.get("from")) and not body.get("random_from_number"):
        invalid.append({"name": "from", "reason": "must be a phone endpoint, number in E.164 without '+'"})
    ncco, answer_url = body.get("ncco"), body.get("answer_url")
    if ncco is None and answer_url is None:
        invalid.append({"name": "ncco", "reason": "either ncco or answer_url is required"})
    elif ncco is not None and (not isinstance(ncco, list) or not ncco
                               or not all(isinstance(a, dict) and a.get("action") for a in ncco)):
        invalid.append({"name": "ncco", "reason": "must be a list of actions"})
    elif answer_url is not None and not (isinstance(answer_url, list) and answer_url):
        invalid.append({"name": "answer_url", "reason": "must be a list of URLs"})
    return invalid


def handle(request: EmulatorRequest, credentials: Credentials) -> EmulatorResponse:
    path = request.path.rstrip("/")
    one = path.startswith("/v1/calls/") and path.count("/") == 3
    if not ((path == "/v1/calls" and request.method in ("GET", "POST")) or (one and request.method in ("GET", "PUT"))):
        return problem(404, "not-found", "Not Found", f"No route for {request.method} {request.path}")
    if verify_application_jwt(request.header("Authorization"), credentials):
        return problem(401, "unauthorized", "Unauthorized",
                       "You did not provide correct credentials.")
    if request.method == "PUT":
        return modify_call(request, _application_id(request.header("Authorization")),
                           unquote(path.rpartition("/")[2]), credentials)
    if request.method == "GET":
        application_id = _application_id(request.header("Authorization"))
        return get_call(request, application_id, unquote(path.rpartition("/")[2])) if one else \
            list_calls(request, application_id)
    try:
        body = request.json()
    except ValueError:
        body = None
    invalid = validate(body)
    if invalid:
        return problem(400, "bad-request", "Bad Request",
                       "The request failed due to validation errors", invalid_parameters=invalid)
    to = "+" + str(body["to"][0]["number"])
    if is_magic(to, REFUSED_NUMBER):
        return problem(400, "bad-request", "Bad Request", f"Invalid number: {to[1:]} cannot be called",
                       invalid_parameters=[{"name": "to", "reason": "invalid number"}])
    if is_magic(to, DROPPED_NUMBER):
        return EmulatorResponse(0, drop_connection=True)
    if is_magic(to, FAILING_NUMBER):
        return problem(503, "service-unavailable", "Service Unavailable",
                       "The service is temporarily unavailable, please retry later")
    # A silent destination is placed too, but answered only after any adapter gave up.
    delay_s = SILENT_SECONDS if is_magic(to, SILENT_NUMBER) else 0.0
    call_uuid = str(uuid.uuid4())
    claims = _application_id(request.header("Authorization"))
    return EmulatorResponse.json(201, {
        "uuid": call_uuid, "status": "started", "direction": "outbound",
        "conversation_uuid": f"CON-{uuid.uuid4()}"}, delay_s=delay_s, provider_call_id=call_uuid,
        placed_call={"account": claims, "to": to, "from_": "+" + str(body["from"]["number"])})


def modify_call(request: EmulatorRequest, application_id: str, call_uuid: str,
                credentials: Credentials) -> EmulatorResponse:
    """``{"action": "hangup"}`` ends a live call (204). Other actions are not emulated. A call that
    has ended already is refused (400), one of another application or unknown is not found."""
    from .hangups import final_callback_sender

    try:
        body = request.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or body.get("action") != "hangup":
        return problem(400, "bad-request", "Bad Request", "The request failed due to validation errors",
                       invalid_parameters=[{"name": "action", "reason": "the emulator supports hangup only"}])
    call = request.calls.get("vonage", call_uuid) if request.calls else None
    if call is None or call.account != application_id:
        return problem(404, "not-found", "Not Found", f"Call {call_uuid} doesn't exist.")
    if call.finished:
        return problem(400, "bad-request", "Bad Request", f"Call {call_uuid} has already ended.")
    call, _ = request.calls.hang_up("vonage", call_uuid)
    return EmulatorResponse(204, after=final_callback_sender(call, credentials("vonage")))


# --- the application's call records: GET /v1/calls/{uuid} and GET /v1/calls ----------------------

# Our outcome words -> Vonage's call status.
STATUSES = {"queued": "started", "in-progress": "answered", "completed": "completed", "busy": "busy",
            "no-answer": "timeout", "failed": "failed", "canceled": "cancelled"}
RATE = "0.01390000"  # per minute, what the application's account pays Vonage


def _vonage_time(epoch: float | None) -> str | None:
    """Vonage's call records give times as ``YYYY-MM-DD HH:MM:SS`` (UTC)."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(epoch)) if epoch else None


def call_info(call: PlacedCall) -> dict[str, Any]:
    """A call as ``GET /v1/calls/{uuid}`` serves it: status, and once it ended ``duration``
    (answered seconds, as a string), price and times."""
    info: dict[str, Any] = {
        "_links": {"self": {"href": f"/v1/calls/{call.call_sid}"}},
        "uuid": call.call_sid, "conversation_uuid": f"CON-{call.call_sid}",
        "to": {"type": "phone", "number": call.to.lstrip("+")},
        "from": {"type": "phone", "number": call.from_.lstrip("+")},
        "status": STATUSES[call.status], "direction": "outbound",
        "start_time": _vonage_time(call.created_at)}
    if call.finished:
        minutes = -(-(call.duration or 0) // 60)
        info.update({"rate": RATE, "price": f"{float(RATE) * minutes:.8f}", "duration": str(call.duration),
                     "end_time": _vonage_time(call.ended_at), "network": "310090"})
    return info


def get_call(request: EmulatorRequest, application_id: str, call_uuid: str) -> EmulatorResponse:
    call = request.calls.get("vonage", call_uuid) if request.calls else None
    if call is None or call.account != application_id:  # another application's call is not found either
        return problem(404, "not-found", "Not Found", f"Call {call_uuid} doesn't exist.")
    return EmulatorResponse.json(200, call_info(call))


def list_calls(request: EmulatorRequest, application_id: str) -> EmulatorResponse:
    """``GET /v1/calls`` with date_start, date_end (ISO 8601), status, page_size (1-100),
    record_index and order (asc or desc, the default)."""
    from datetime import datetime

    params = request.query_params()
    bounds = []
    for name in ("date_start", "date_end"):
        try:
            bounds.append(datetime.fromisoformat(params[name].replace("Z", "+00:00")).timestamp()
                          if params.get(name) else None)
        except ValueError:
            return problem(400, "bad-request", "Bad Request", f"{name} must be an ISO 8601 date-time",
                           invalid_parameters=[{"name": name, "reason": "must be ISO 8601"}])
    try:
        size, index = int(params.get("page_size") or 10), int(params.get("record_index") or 0)
    except ValueError:
        return problem(400, "bad-request", "Bad Request", "page_size and record_index must be integers")
    if not 1 <= size <= 100 or index < 0:
        return problem(400, "bad-request", "Bad Request", "page_size must be 1 to 100, record_index 0 or more")
    calls = [c for c in (request.calls.of_account("vonage", application_id) if request.calls else [])
             if (bounds[0] is None or c.created_at >= bounds[0]) and (bounds[1] is None or c.created_at <= bounds[1])
             and (not params.get("status") or STATUSES[c.status] == params["status"])]
    if params.get("order", "desc") != "asc":
        calls.reverse()
    page = calls[index:index + size]
    links: dict[str, Any] = {"self": {"href": f"/v1/calls?page_size={size}&record_index={index}"}}
    if index + size < len(calls):
        links["next"] = {"href": f"/v1/calls?page_size={size}&record_index={index + size}"}
    return EmulatorResponse.json(200, {"count": len(calls), "page_size": size, "record_index": index,
                                       "_links": links, "_embedded": {"calls": [call_info(c) for c in page]}})
