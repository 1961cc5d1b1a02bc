"""Telnyx's call-control detail records (and a live call's status), read with the organization's
API key. A detail record exists once the call has ended; before that, ``GET /v2/calls/{id}``
says whether it is alive."""
from __future__ import annotations

from typing import Any
from urllib.parse import quote

from outbound.provider_callbacks import normalize_iso
from outbound.provider_callbacks.telnyx import HANGUP_STATUSES

from ..providers.telnyx import _api_url
from . import ProviderRecord, RecordsUnavailable, get_json, seconds

RECORD_TYPE = "call-control"
PAGE_SIZE = 50  # Telnyx's largest page
MAX_PAGES = 5


def _headers(credentials: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {credentials['api_key']}"}


def record(data: Any) -> ProviderRecord:
    """A detail record: the call ended. ``call_sec`` is the answered time (``billed_sec`` is it
    rounded up to Telnyx's own billing increment: not what we charge)."""
    if not isinstance(data, dict) or not data.get("telnyx_call_control_id"):
        raise RecordsUnavailable("Telnyx answered a detail record without telnyx_call_control_id")
    answered = seconds(data.get("call_sec")) or 0
    cause = str(data.get("hangup_cause") or "")
    status = "completed" if answered > 0 else HANGUP_STATUSES.get(cause, "failed")
    return ProviderRecord(
        provider_call_id=str(data["telnyx_call_control_id"]), status=status, provider_status=cause or "ended",
        duration_s=answered, to_number=data.get("cld"), from_number=data.get("cli"),
        started_at=normalize_iso(data.get("started_at")), ended_at=normalize_iso(data.get("finished_at")))


def _detail_records(credentials: dict[str, Any], filters: dict[str, Any]) -> list[ProviderRecord]:
    found: list[ProviderRecord] = []
    for number in range(1, MAX_PAGES + 1):
        page = get_json("Telnyx", f"{_api_url()}/detail_records", _headers(credentials), {
            "filter[record_type]": RECORD_TYPE, **filters, "page[number]": number, "page[size]": PAGE_SIZE}) or {}
        found += [record(item) for item in page.get("data") or []]
        if number >= int((page.get("meta") or {}).get("total_pages") or 1):
            break
    return found


def fetch(credentials: dict[str, Any], call_sid: str) -> ProviderRecord | None:
    ended = _detail_records(credentials, {"filter[telnyx_call_control_id]": call_sid})
    if ended:
        return ended[0]
    data = get_json("Telnyx", f"{_api_url()}/calls/{quote(call_sid, safe='')}", _headers(credentials))
    call = (data or {}).get("data") if isinstance(data, dict) else None
    if not isinstance(call, dict):
        return None
    alive = bool(call.get("is_alive"))
    return ProviderRecord(provider_call_id=call_sid, status="in-progress" if alive else "unknown",
                          provider_status="alive" if alive else "ended, no detail record yet",
                          started_at=normalize_iso(call.get("start_time")))


def search(credentials: dict[str, Any], to: str, from_: str, since: str, until: str) -> list[ProviderRecord]:
    """Finished calls only (detail records): a call still running is not found until it ends."""
    return _detail_records(credentials, {"filter[cld]": to, "filter[cli]": from_,
                                         "filter[created_at][gte]": normalize_iso(since) or since,
                                         "filter[created_at][lt]": normalize_iso(until) or until})
