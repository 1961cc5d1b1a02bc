"""Outcome events: which call status changes become which events, and what they carry (pure).

| call status (record)                                   | event            | sequence |
|--------------------------------------------------------|------------------|----------|
| ``queued``                                             | ``call.queued``    | 1 |
| ``ringing``                                            | ``call.ringing``   | 2 |
| ``in-progress``                                        | ``call.answered``  | 3 |
| ``completed``, ``busy``, ``no-answer``, ``failed``, ``canceled`` | ``call.completed`` | 4 (5: see below) |

``initiating`` and ``unconfirmed`` are internal (no provider answer recorded yet): no event.
A call's status only ever moves to a higher rank, so the sequence (the rank) strictly grows with
each event of a call, and a receiver orders a call's events by ``data.sequence`` whatever order
they arrive in (deliveries are retried independently, so arrival order is not guaranteed). The
one final-to-final move (a call the reserve sweeper gave up as ``failed`` whose provider then
reports its real end) is ``call.completed`` again with sequence 5.

Campaign events (``campaign.status_changed``, ``campaign.contact_finalized``) are accepted in
endpoint subscriptions now and published through the same ``usecases.publish_events`` once the
campaign engine emits them.

``contact.opted_out``: the person asked during a call not to be called again (POST
/calls/{call_ref}/opt-out); published from the stream when its evidence record is written
(outbound.compliance.opt_out_events), about the call, with sequence OPT_OUT_SEQUENCE: apart from
the call's status sequence (1-5), so it never takes the place of one of them.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from outbound.calls.lifecycle import RANKS, is_final
from outbound.calls.models import call_record_view

CALL_EVENT_TYPES = ("call.queued", "call.ringing", "call.answered", "call.completed")
CAMPAIGN_EVENT_TYPES = ("campaign.status_changed", "campaign.contact_finalized")
CONTACT_EVENT_TYPES = ("contact.opted_out",)
EVENT_TYPES = CALL_EVENT_TYPES + CAMPAIGN_EVENT_TYPES + CONTACT_EVENT_TYPES
OPT_OUT_SEQUENCE = 100
CALL_EVENT_FOR_STATUS = {"queued": "call.queued", "ringing": "call.ringing", "in-progress": "call.answered"}
FINAL_CORRECTION_SEQUENCE = 5

# EventBridge: detail-type and source of each event family on the stack's bus.
DETAIL_TYPES = {"call": ("Call Status Changed", "outbound.calls"),
                "campaign": ("Campaign Event", "outbound.campaigns"),
                "contact": ("Contact Opted Out", "outbound.compliance")}


@dataclass(frozen=True)
class Event:
    organization_id: str
    type: str
    subject: str  # what the event is about (a call id): its deliveries' partition
    sequence: int  # increasing per subject
    timestamp: str  # ISO 8601, when it happened
    data: dict[str, Any]

    @property
    def id(self) -> str:
        """The same for every delivery and retry of this event: receivers deduplicate on it
        (it is the ``webhook-id`` header)."""
        digest = hashlib.sha256(f"{self.subject}|{self.sequence}|{self.type}".encode()).hexdigest()
        return f"evt_{digest[:24]}"

    def payload(self) -> dict[str, Any]:
        return {"type": self.type, "timestamp": self.timestamp, "data": self.data}

    @property
    def detail_type(self) -> tuple[str, str]:
        return DETAIL_TYPES[self.type.split(".", 1)[0]]


def call_event(old: dict[str, Any] | None, new: dict[str, Any]) -> Event | None:
    """The event for one change of a call record (stream images as plain dicts), or None when
    its status did not change to one customers hear about."""
    status, previous = new.get("status"), (old or {}).get("status")
    if status == previous or status not in RANKS:
        return None
    if is_final(status):
        kind = "call.completed"
        sequence = FINAL_CORRECTION_SEQUENCE if previous and is_final(previous) else RANKS[status]
    elif status in CALL_EVENT_FOR_STATUS:
        kind, sequence = CALL_EVENT_FOR_STATUS[status], RANKS[status]
    else:
        return None  # initiating / unconfirmed: internal
    data = {**call_record_view(new), "sequence": sequence}
    return Event(new["organization_id"], kind, new["call_id"], sequence,
                 new.get("updated_at") or new.get("created_at") or "", data)
