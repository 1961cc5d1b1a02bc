"""Twilio's Call resources, read with the organization's account SID and auth token (Basic)."""
from __future__ import annotations

import base64
from datetime import timezone
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

from outbound.provider_callbacks import iso_from_epoch, normalize_iso
from outbound.provider_callbacks.twilio import STATUSES

from ..providers.twilio import _api_url
from . import ProviderRecord, RecordsUnavailable, get_json, seconds

MAX_PAGES = 5  # a search window of a few minutes for one pair of numbers holds far fewer calls


def _headers(credentials: dict[str, Any]) -> dict[str, str]:
    basic = base64.b64encode(f"{credentials['account_sid']}:{credentials['auth_token']}".encode()).decode()
    return {"Authorization": f"Basic {basic}"}


def _time(value: Any) -> str | None:
    """Twilio's times are RFC 2822 (``Mon, 07 Dec 2026 14:00:00 +0000``)."""
    if not value:
        return None
    try:
        return iso_from_epoch(parsedate_to_datetime(str(value)).astimezone(timezone.utc).timestamp())
    except (TypeError, ValueError):
        return None


def record(data: Any) -> ProviderRecord:
    if not isinstance(data, dict) or not data.get("sid"):
        raise RecordsUnavailable("Twilio answered a call resource without a sid")
    raw = str(data.get("status") or "")
    status = STATUSES.get(raw, "unknown")
    return ProviderRecord(
        provider_call_id=str(data["sid"]), status=status, provider_status=raw,
        duration_s=seconds(data.get("duration")) if status not in ("unknown", "queued", "ringing", "in-progress")
        else None,
        to_number=data.get("to"), from_number=data.get("from"),
        started_at=_time(data.get("start_time")), ended_at=_time(data.get("end_time")))


def fetch(credentials: dict[str, Any], call_sid: str) -> ProviderRecord | None:
    url = f"{_api_url()}/2010-04-01/Accounts/{credentials['account_sid']}/Calls/{quote(call_sid, safe='')}.json"
    data = get_json("Twilio", url, _headers(credentials))
    return None if data is None else record(data)


def _twilio_time(iso: str) -> str:
    """What the twilio SDK sends for a datetime filter: ISO 8601, seconds, Z."""
    return (normalize_iso(iso) or iso)[:19] + "Z"


def search(credentials: dict[str, Any], to: str, from_: str, since: str, until: str) -> list[ProviderRecord]:
    base = _api_url()
    url: str | None = f"{base}/2010-04-01/Accounts/{credentials['account_sid']}/Calls.json"
    fields: dict[str, Any] | None = {"To": to, "From": from_, "StartTime>=": _twilio_time(since),
                                     "StartTime<=": _twilio_time(until), "PageSize": 50}
    found: list[ProviderRecord] = []
    for _ in range(MAX_PAGES):
        page = get_json("Twilio", url, _headers(credentials), fields) or {}
        found += [record(call) for call in page.get("calls") or []]
        next_uri = page.get("next_page_uri")
        if not next_uri:
            break
        url, fields = base + next_uri, None
    return found


def queued(credentials: dict[str, Any], to: str, from_: str) -> list[ProviderRecord]:
    """Calls between the two numbers still waiting in Twilio's queue (an account over its calls
    per second): not dialed yet, so without the ``start_time`` the search filters on."""
    url = f"{_api_url()}/2010-04-01/Accounts/{credentials['account_sid']}/Calls.json"
    page = get_json("Twilio", url, _headers(credentials), {"To": to, "From": from_, "Status": "queued",
                                                            "PageSize": 50}) or {}
    return [record(call) for call in page.get("calls") or []]
