"""GET /calls/{call_ref}/timeline: a call's status changes as they happened, each with what made it
(our API placing it, a provider's status event with the provider's own name and time for it, the
reserve sweeper, the provider reconciliation reading the provider's records).

Every status write appends its entry to the record in the same write (store.timeline_entry), so
this is one read of the record. The first entry, the record's creation with its reserve, is the
record's own ``created_at``. Records written before the timeline existed (and fixture calls) get
what their fields say: answered_at and ended_at."""
from __future__ import annotations

from typing import Any

from outbound import store
from outbound.errors import NotFound

ENTRY_FIELDS = ("at", "status", "source", "provider_event", "occurred_at", "detail", "duration_seconds",
                "charged_cents")


def call_timeline(organization_id: str, call_ref: str) -> dict[str, Any]:
    call = store.find_call(organization_id, call_ref)
    if call is None:
        raise NotFound(f"Call {call_ref} not found")
    events = [_created(call), *(call.get("timeline") or _from_fields(call))]
    events.sort(key=lambda event: event["at"])  # stable: same-millisecond entries keep their write order
    return {"call_id": call["call_id"], "call_sid": call.get("call_sid"), "status": call.get("status"),
            "events": [{name: event.get(name) for name in ENTRY_FIELDS} for event in events]}


def _created(call: dict[str, Any]) -> dict[str, Any]:
    reserve = call.get("settled_reserve_cents") or call.get("released_reserve_cents") or call.get("reserve_cents")
    held = f"; reserve of {int(reserve)} cents held" if reserve else ""
    origin = ("campaign " + call["campaign_id"]) if call.get("campaign_id") else \
        ("schedule " + call["schedule_id"]) if call.get("schedule_id") else "POST /calls/initiate"
    return {"at": call["created_at"], "status": "initiating", "source": "api", "detail": f"created by {origin}{held}"}


def _from_fields(call: dict[str, Any]) -> list[dict[str, Any]]:
    events = []
    if call.get("answered_at"):
        events.append({"at": call["answered_at"], "status": "in-progress", "source": "record"})
    if call.get("ended_at") or call.get("settled_at"):
        events.append({"at": call.get("settled_at") or call["ended_at"], "status": call.get("status"),
                       "source": "record", "detail": call.get("hangup_cause") or call.get("failure_reason"),
                       "charged_cents": call.get("charged_cents")})
    return events
