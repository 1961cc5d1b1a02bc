"""Vonage's call records, read with the organization's application (an RS256 application JWT)."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

from outbound.provider_callbacks import iso_from_epoch, normalize_iso
from outbound.provider_callbacks.vonage import STATUSES

from ..providers.vonage import _api_url, application_jwt
from . import ProviderRecord, RecordsUnavailable, get_json, seconds

PAGE_SIZE = 100  # Vonage's largest page
MAX_PAGES = 5


def _headers(credentials: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {application_jwt(credentials['application_id'], credentials['private_key'])}"}


def _time(value: Any) -> str | None:
    """Vonage's call records give ``YYYY-MM-DD HH:MM:SS`` (UTC); ISO 8601 is read too."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace(" ", "T").replace("Z", "+00:00"))
    except ValueError:
        return None
    return iso_from_epoch((parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)).timestamp())


def _number(endpoint: Any) -> str | None:
    number = endpoint.get("number") if isinstance(endpoint, dict) else None
    return f"+{str(number).lstrip('+')}" if number else None


def record(data: Any) -> ProviderRecord:
    if not isinstance(data, dict) or not data.get("uuid"):
        raise RecordsUnavailable("Vonage answered a call record without a uuid")
    raw = str(data.get("status") or "")
    status = STATUSES.get(raw, "in-progress" if raw == "machine" else "unknown")
    return ProviderRecord(
        provider_call_id=str(data["uuid"]), status=status, provider_status=raw,
        duration_s=seconds(data.get("duration")) if status not in ("unknown", "queued", "ringing", "in-progress")
        else None,
        to_number=_number(data.get("to")), from_number=_number(data.get("from")),
        started_at=_time(data.get("start_time")), ended_at=_time(data.get("end_time")))


def fetch(credentials: dict[str, Any], call_sid: str) -> ProviderRecord | None:
    data = get_json("Vonage", f"{_api_url()}/v1/calls/{quote(call_sid, safe='')}", _headers(credentials))
    return None if data is None else record(data)


def search(credentials: dict[str, Any], to: str, from_: str, since: str, until: str) -> list[ProviderRecord]:
    """Vonage filters its list by time (and status), not by number: the numbers are compared here."""
    found: list[ProviderRecord] = []
    index = 0
    for _ in range(MAX_PAGES):
        page = get_json("Vonage", f"{_api_url()}/v1/calls", _headers(credentials), {
            "date_start": (normalize_iso(since) or since)[:19] + "Z", "date_end": (normalize_iso(until) or until)[:19] + "Z",
            "page_size": PAGE_SIZE, "record_index": index, "order": "asc"}) or {}
        calls = ((page.get("_embedded") or {}).get("calls")) or []
        found += [r for r in map(record, calls) if r.to_number == to and r.from_number == from_]
        if not ((page.get("_links") or {}).get("next")) or not calls:
            break
        index += len(calls)
    return found
