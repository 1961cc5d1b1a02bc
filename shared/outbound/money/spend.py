"""GET /organization/spend?days=: what the organization's calls were charged per day (UTC), oldest
day first, every day of the range present (0 on a day without charges).

Each charge and each correction to a provider's record (extra_charge, refund) adds to its day's
total in the transaction that writes it (store.spend_items), so this is one Query whatever the
number of calls; a day's total equals its ledger entries' charges net of refunds."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

from outbound import store
from outbound.digits import ascii_int
from outbound.errors import BadRequest

DEFAULT_DAYS, MAX_DAYS = 30, 366


def spend_per_day(organization_id: str, days: str | None = None, today: date | None = None) -> dict[str, Any]:
    count = DEFAULT_DAYS if days in (None, "") else ascii_int(days)
    if count is None or not 1 <= count <= MAX_DAYS:
        raise BadRequest(f"days must be an integer from 1 to {MAX_DAYS}")
    last = today or datetime.now(timezone.utc).date()
    first = last - timedelta(days=count - 1)
    found = {item["sk"].removeprefix("DAY#"): item
             for item in store.spend_days(organization_id, first.isoformat(), last.isoformat())}
    series = []
    for offset in range(count):
        day = (first + timedelta(days=offset)).isoformat()
        item = found.get(day) or {}
        series.append({"day": day, "charged_cents": int(item.get("charged_cents") or 0),
                       "charges": int(item.get("charges") or 0)})
    return {"first_day": first.isoformat(), "last_day": last.isoformat(), "time_zone": "UTC",
            "total_cents": sum(day["charged_cents"] for day in series), "days": series}
