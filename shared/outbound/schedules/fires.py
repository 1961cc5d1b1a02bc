"""A recurring schedule's recent fires (GET /calls/schedules/{id}): what each of its last fire
times placed, without a query.

Every fire's call record is ``call_<fire id>`` and its failure record is keyed by the same id,
``sha256("<schedule_id>|<scheduled time>")`` (outbound.schedules.fire), and the fire times are the
schedule's cron evaluated since it was created. So the last RECENT_FIRES fire times give the keys
of everything they wrote: one BatchGetItem. A fire time with neither record has placed nothing
yet (Scheduler is still retrying it, or it went to the dead-letter queue). Every call a schedule
placed, beyond these: GET /calls?schedule_id=.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from outbound import store
from outbound.schedules.times import iso_local, iso_utc, parse_cron, parse_instant, zone

RECENT_FIRES = 10


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def recent_fires(record: dict[str, Any], now: datetime) -> list[dict[str, Any]]:
    """The newest RECENT_FIRES fire times since the schedule was created (and before it was
    canceled or ended), newest first, each with its outcome."""
    recurrence = record.get("recurrence") or {}
    tz_name = recurrence.get("timezone")
    until = min([now, *([_at(record["canceled_at"])] if record.get("canceled_at") else []),
                 *([parse_instant(recurrence["end_at"], tz_name)] if recurrence.get("end_at") else [])])
    times = parse_cron(recurrence["cron"]).previous_times(until, zone(tz_name or "UTC"), RECENT_FIRES,
                                                          since=_at(record["created_at"]))
    ids = [store.fire_id_for(record["schedule_id"], iso_utc(at)) for at in times]
    keys = {fire_id: (store.call_key(f"call_{fire_id}"), store.fire_failure_key(fire_id)) for fire_id in ids}
    found = store.get_items([key for pair in keys.values() for key in pair]) if ids else {}
    fires = []
    for at, fire_id in zip(times, ids):
        call_key, failure_key = keys[fire_id]
        call, failure = found.get(tuple(call_key.values())), found.get(tuple(failure_key.values()))
        fire: dict[str, Any] = {"scheduled_time": iso_local(at, record.get("timezone"))}
        if call is not None:
            fire.update(status={"initiating": "firing", "failed": "failed"}.get(call.get("status"), "placed"),
                        call_id=call["call_id"], call_sid=call.get("call_sid"), call_status=call.get("status"))
        elif failure is not None:
            fire.update(status="failed", failure={"status_code": failure.get("status_code"),
                                                  "detail": failure.get("detail")})
        else:
            fire["status"] = "no_call"
        fires.append(fire)
    return fires
