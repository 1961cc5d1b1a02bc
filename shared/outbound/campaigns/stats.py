"""GET /campaigns/{id}/stats: what a campaign manager watches while it runs: calls in flight against
the cap, dials per minute against the pacing limit, outcomes over time, and the answer rate by the
recipient's local hour.

Computed from the campaign's own call records (each attempt is one; store.campaign_calls reads
the newest 5,000 at most, in a few Query pages) and the campaign item's counters: nothing is
written, so the engine's transactions stay as they are. ``complete`` says whether every attempt was
read; the dials and in-flight figures are exact either way (they concern the last minutes)."""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from outbound.calls.lifecycle import FINAL_STATUSES
from outbound.campaigns.lifecycle import iso, load, now_utc
from outbound.store.campaign_calls import campaign_calls

LIVE_MINUTES = 30  # the dials-per-minute series: the last half hour
BUCKETS = (1, 5, 15, 60, 360, 1440)  # outcome bucket sizes, minutes: the smallest giving at most MAX_BUCKETS
MAX_BUCKETS = 60


def campaign_stats(organization_id: str, campaign_id: str, now: datetime | None = None) -> dict[str, Any]:
    item = load(organization_id, campaign_id)
    now = now or now_utc()
    calls, complete = campaign_calls(organization_id, campaign_id, item["created_at"])
    pacing = item.get("pacing") or {}
    zone = item.get("timezone") or "UTC"
    dials = _minute_counts(calls, now)
    return {
        "campaign_id": campaign_id, "status": item["status"], "at": iso(now),
        "in_flight": int(item.get("in_flight") or 0),
        "max_concurrent_calls": int(pacing.get("max_concurrent_calls") or 0),
        "calls_per_minute": int(pacing.get("calls_per_minute") or 0),
        "dials_last_minute": sum(1 for call in calls if now - timedelta(seconds=60) < _at(call["created_at"]) <= now),
        "dials_per_minute": dials,
        "outcomes": _outcomes(calls, now),
        "answer_rate_by_local_hour": _answer_rate_by_hour(calls, zone),
        "calls_read": len(calls), "complete": complete,
    }


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _minute(at: datetime) -> datetime:
    return at.replace(second=0, microsecond=0)


def _minute_counts(calls: list[dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
    """Dials (attempts created) in each of the last LIVE_MINUTES minutes, oldest first."""
    first = _minute(now) - timedelta(minutes=LIVE_MINUTES - 1)
    counts = Counter(_minute(_at(call["created_at"])) for call in calls)
    return [{"minute": iso(first + timedelta(minutes=i)), "dials": counts.get(first + timedelta(minutes=i), 0)}
            for i in range(LIVE_MINUTES)]


def _ended(call: dict[str, Any]) -> datetime:
    return _at(call.get("ended_at") or call.get("settled_at") or call["created_at"])


def _outcomes(calls: list[dict[str, Any]], now: datetime) -> dict[str, Any]:
    """Final outcomes per time bucket, from the first attempt to now (bucket size chosen so that
    at most MAX_BUCKETS cover the span)."""
    finals = [call for call in calls if call.get("status") in FINAL_STATUSES]
    if not calls:
        return {"bucket_minutes": BUCKETS[0], "buckets": []}
    start = _minute(min(_at(call["created_at"]) for call in calls))
    span = (now - start).total_seconds() / 60 + 1
    size = next((b for b in BUCKETS if span / b <= MAX_BUCKETS), BUCKETS[-1])
    midnight = start.replace(hour=0, minute=0)
    start = midnight + timedelta(minutes=(start.hour * 60 + start.minute) // size * size)  # sizes divide a day
    count = int((now - start).total_seconds() // (size * 60)) + 1
    buckets = [{"start": iso(start + timedelta(minutes=size * i)), **{status: 0 for status in FINAL_STATUSES}}
               for i in range(min(count, MAX_BUCKETS * 2))]
    for call in finals:
        index = int((_ended(call) - start).total_seconds() // (size * 60))
        # An end the provider dates after our clock (clock skew; an emulated call played ahead)
        # counts in the last bucket: a final outcome never drops out of the totals.
        index = min(max(index, 0), len(buckets) - 1)
        buckets[index][call["status"]] += 1
    return {"bucket_minutes": size, "buckets": buckets}


@lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _answer_rate_by_hour(calls: list[dict[str, Any]], campaign_zone: str) -> list[dict[str, Any]]:
    """Ended attempts and how many were answered, by the hour the recipient's clock showed when
    the call was placed (the zone the engine dialed them in, else the campaign's)."""
    attempts, answered = Counter(), Counter()
    for call in calls:
        if call.get("status") not in FINAL_STATUSES:
            continue
        hour = _at(call["created_at"]).astimezone(_zone(call.get("recipient_timezone") or campaign_zone)).hour
        attempts[hour] += 1
        answered[hour] += bool(call.get("answered_at")) or call.get("status") == "completed"
    return [{"hour": hour, "attempts": attempts[hour], "answered": answered[hour],
             "answer_rate": round(answered[hour] / attempts[hour], 4) if attempts[hour] else None}
            for hour in range(24)]

