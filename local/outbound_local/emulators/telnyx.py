"""Telnyx Call Control emulator: ``POST /v2/calls`` (dial), checked and answered the way
Telnyx documents it (Bearer API key, JSON, ``{"errors": [{"code", "title", "detail"}]}``)."""
from __future__ import annotations

import base64
import secrets
import time
import uuid

from .base import (DROPPED_NUMBER, FAILING_NUMBER, REFUSED_NUMBER, SILENT_NUMBER, SILENT_SECONDS, Credentials,
                   EmulatorRequest, EmulatorResponse)

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
    if request.method != "POST" or request.path.rstrip("/") != "/v2/calls":
        return error(404, "10005", "Resource not found", f"No route for {request.method} {request.path}")
    scheme, _, api_key = (request.header("Authorization") or "").partition(" ")
    accepted = {c.get("api_key") for c in credentials("telnyx")}
    if scheme != "Bearer" or not api_key or api_key not in accepted:
        return error(401, "10009", "Authentication failed",
                     "The API key provided is invalid or missing.")
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
    if to == REFUSED_NUMBER:
        return error(422, "10016", "Invalid phone number",
                     f"Invalid number: {to} is not a routable destination.", "/to")
    if to == DROPPED_NUMBER:
        return EmulatorResponse(0, drop_connection=True)
    if to == FAILING_NUMBER:
        return error(500, "10007", "Unexpected error", "An unexpected error occurred.")
    control_id = "v3:" + base64.urlsafe_b64encode(secrets.token_bytes(36)).decode().rstrip("=")
    # A silent destination is placed too, but answered only after any adapter gave up.
    delay_s = SILENT_SECONDS if to == SILENT_NUMBER else 0.0
    return EmulatorResponse.json(200, {"data": {
        "call_control_id": control_id,
        "call_leg_id": str(uuid.uuid4()),
        "call_session_id": str(uuid.uuid4()),
        "is_alive": False,
        "record_type": "call",
        "client_state": body.get("client_state"),
    }}, delay_s=delay_s, provider_call_id=control_id)


def webhook_signature_headers(raw_body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """The headers Telnyx signs a webhook with: ed25519 over ``f"{timestamp}|{raw_body}"``."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    stamp = str(int(time.time()) if timestamp is None else timestamp)
    key = Ed25519PrivateKey.from_private_bytes(base64.b64decode(WEBHOOK_PRIVATE_KEY))
    signature = key.sign(stamp.encode() + b"|" + raw_body)
    return {"telnyx-timestamp": stamp,
            "telnyx-signature-ed25519": base64.b64encode(signature).decode()}
