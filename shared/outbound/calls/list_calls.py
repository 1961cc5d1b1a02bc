"""GET /calls: the organization's calls, newest first, paginated."""
from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from outbound import store
from outbound.calls.lifecycle import ALL_STATUSES
from outbound.calls.models import call_record_view
from outbound.errors import BadRequest
from outbound.pages import DEFAULT_LIMIT, MAX_LIMIT, parse_limit  # noqa: F401 - one page-size rule; the documents quote these
from outbound.safe_json import loads_object


def encode_token(position: dict[str, str]) -> str:
    raw = json.dumps({"k": position["gsi1sk"], "c": position["call_id"]}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_token(token: str) -> dict[str, str]:
    """The opaque next_token -> a position. It only says where to continue inside the caller's
    own partition (the organization always comes from the API key), so a forged token can at
    worst skip calls, never reveal another organization's."""
    data = None
    if len(token) <= 512:  # the cheap check first; then outbound.safe_json (bounded depth and numbers)
        try:
            data = loads_object(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)), "next_token")
        except (ValueError, binascii.Error):  # JsonRefused is a ValueError
            data = None
    if (not isinstance(data, dict) or not isinstance(data.get("k"), str) or not isinstance(data.get("c"), str)
            or not data["c"].startswith("call_")):
        raise BadRequest("Invalid next_token")
    return {"gsi1sk": data["k"], "call_id": data["c"]}


def list_calls(organization_id: str, status: str | None = None, limit: str | None = None,
               next_token: str | None = None) -> dict[str, Any]:
    if status in ("",):
        status = None
    if status is not None and status not in ALL_STATUSES:
        raise BadRequest(f"status must be one of: {', '.join(ALL_STATUSES)}")
    size = parse_limit(limit)
    position = decode_token(next_token) if next_token else None
    items, last = store.list_calls(organization_id, size, status, position)
    return {"calls": [call_record_view(item) for item in items],
            "next_token": encode_token(last) if last else None}
