"""GET /calls: the organization's calls, newest first, paginated; optionally only a campaign's or a
schedule's, and only those created in ``[from, to)``.

The time range narrows the ByOrganization Query's key condition (its sort key starts with the
call's ``created_at``); campaign and schedule are filters on that Query, so a page of a rare
campaign may take a few reads (bounded: store.list_calls) and end early with a next_token. Give
``from`` (e.g. the campaign's creation) to keep such reads short."""
from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime, timezone
from typing import Any

from outbound import store
from outbound.calls.lifecycle import ALL_STATUSES
from outbound.calls.models import call_record_view
from outbound.errors import BadRequest
from outbound.pages import DEFAULT_LIMIT, MAX_LIMIT, parse_limit  # noqa: F401 - one page-size rule; the documents quote these


def encode_token(position: dict[str, str]) -> str:
    raw = json.dumps({"k": position["gsi1sk"], "c": position["call_id"]}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_token(token: str) -> dict[str, str]:
    """The opaque next_token -> a position. It only says where to continue inside the caller's
    own partition (the organization always comes from the API key), so a forged token can at
    worst skip calls, never reveal another organization's."""
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, binascii.Error):
        data = None
    if (not isinstance(data, dict) or not isinstance(data.get("k"), str) or not isinstance(data.get("c"), str)
            or not data["c"].startswith("call_") or len(token) > 512):
        raise BadRequest("Invalid next_token")
    return {"gsi1sk": data["k"], "call_id": data["c"]}


MAX_FILTER_ID_CHARS = 100
TIME_FORMAT = "from must be an ISO 8601 date or time with an offset (e.g. 2026-11-21 or 2026-11-21T09:00:00Z)"


def list_calls(organization_id: str, status: str | None = None, limit: str | None = None,
               next_token: str | None = None, campaign_id: str | None = None, schedule_id: str | None = None,
               created_from: str | None = None, created_to: str | None = None) -> dict[str, Any]:
    if status in ("",):
        status = None
    if status is not None and status not in ALL_STATUSES:
        raise BadRequest(f"status must be one of: {', '.join(ALL_STATUSES)}")
    size = parse_limit(limit)
    filters = {"campaign_id": _filter_id("campaign_id", campaign_id),
               "schedule_id": _filter_id("schedule_id", schedule_id)}
    since, until = _instant("from", created_from), _instant("to", created_to)
    if since and until and since >= until:
        raise BadRequest("from must be before to")
    position = decode_token(next_token) if next_token else None
    items, last = store.list_calls(organization_id, size, status, position,
                                   filters={k: v for k, v in filters.items() if v}, since=since, until=until)
    return {"calls": [call_record_view(item) for item in items],
            "next_token": encode_token(last) if last else None}


def _filter_id(name: str, value: str | None) -> str | None:
    if not value:
        return None
    if len(value) > MAX_FILTER_ID_CHARS:
        raise BadRequest(f"{name} must be at most {MAX_FILTER_ID_CHARS} characters")
    if not (value.isascii() and value.isprintable()):
        raise BadRequest(f"{name} must be printable ASCII")
    return value


def _instant(name: str, value: str | None) -> str | None:
    """``2026-11-21`` (midnight UTC) or an ISO 8601 time with its offset -> the records'
    ``created_at`` form (UTC, milliseconds, ``Z``), which sorts as the index's key does."""
    if not value:
        return None
    try:
        if not value.isascii():
            raise ValueError(value)
        at = datetime.fromisoformat(value.replace("Z", "+00:00") if len(value) > 10 else value + "T00:00:00+00:00")
    except ValueError:
        at = None
    if at is None or at.tzinfo is None:
        raise BadRequest(TIME_FORMAT.replace("from", name, 1))
    return at.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
