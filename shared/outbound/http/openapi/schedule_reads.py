"""The Schedules API's reads beside the schedule itself: a recurring schedule's recent fires
(outbound.schedules.fires). Written by hand like outbound.http.openapi.calls; nothing on a request
path imports this module."""
from __future__ import annotations

from typing import Any


def recent_fires_schema() -> dict[str, Any]:
    from outbound.schedules.fires import RECENT_FIRES

    return {
        "type": "array", "maxItems": RECENT_FIRES,
        "description": f"A recurring schedule's last {RECENT_FIRES} fire times since it was created (and before it "
                       "was canceled or ended), newest first, each with what it placed: `placed` or `firing` (with "
                       "the call), `failed` (the call, or the failure of a fire refused), `no_call` (nothing yet: "
                       "Scheduler may still be retrying it). Every call it placed: GET /calls?schedule_id=.",
        "items": {
            "type": "object", "required": ["scheduled_time", "status"],
            "properties": {
                "scheduled_time": {"type": "string", "description": "ISO 8601, in the schedule's `timezone`."},
                "status": {"type": "string", "enum": ["placed", "firing", "failed", "no_call"]},
                "call_id": {"type": "string"},
                "call_sid": {"type": ["string", "null"]},
                "call_status": {"type": ["string", "null"]},
                "failure": {"type": "object", "properties": {"status_code": {"type": ["integer", "null"]},
                                                             "detail": {"type": ["string", "null"]}}},
            },
        },
    }
