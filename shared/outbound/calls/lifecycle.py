"""One status model for every provider, and the settlement arithmetic (pure: no I/O).

Statuses and their ranks (a call only ever moves to a higher rank):

| rank | status                                                     | reserve          |
|------|------------------------------------------------------------|------------------|
| 0    | ``initiating`` (reserve held, provider not yet answered),  | held             |
|      | ``unconfirmed`` (the provider timed out: the call may exist)|                  |
| 1    | ``queued`` (the provider accepted the call)                | held             |
| 2    | ``ringing``                                                | held             |
| 3    | ``in-progress`` (answered)                                 | held             |
| 4    | ``completed``, ``busy``, ``no-answer``, ``failed``, ``canceled`` (final) | settled once |

``initiating`` and ``unconfirmed`` share the lowest rank so that any provider webhook can
reconcile them. A duplicate or late event (same or lower rank) changes nothing, and a final
status is final: the store's writes are conditional on the current status being of a lower
rank, so two concurrent webhooks cannot both apply.

Settlement (on the final status): ``ceil(duration / 60) * per_minute_rate_cents``, 0 for a
call that was never answered, and the call's reserve is released in the same transaction.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

FINAL_STATUSES = ("completed", "busy", "no-answer", "failed", "canceled")
PROVIDER_STATUSES = ("queued", "ringing", "in-progress", *FINAL_STATUSES)  # what webhooks report
RANKS: dict[str, int] = {
    "initiating": 0, "unconfirmed": 0,
    "queued": 1, "ringing": 2, "in-progress": 3,
    **{status: 4 for status in FINAL_STATUSES},
}
ALL_STATUSES = tuple(RANKS)  # every status a call record can have (GET /calls?status=)


def is_final(status: str) -> bool:
    return status in FINAL_STATUSES


def statuses_below(status: str) -> tuple[str, ...]:
    """The statuses a call may be in for ``status`` to apply (strictly lower rank)."""
    rank = RANKS[status]
    return tuple(s for s, r in RANKS.items() if r < rank)


def moves_forward(current: str | None, new: str) -> bool:
    return current in RANKS and RANKS[current] < RANKS[new]


@dataclass(frozen=True)
class StatusEvent:
    """What one provider webhook says about a call, in our terms.

    ``status`` None: the event carries information only (e.g. a machine-detection result) or
    nothing we track; it never moves the call.
    """

    provider_call_id: str | None  # the provider's id of the call (our call_sid)
    status: str | None = None
    answered_by: str | None = None  # human / machine / ... when the provider detects it
    duration_s: int | None = None  # answered seconds, on the final event
    hangup_cause: str | None = None  # the provider's own words for why the call ended
    occurred_at: str | None = None  # ISO 8601, when the provider says it happened
    extra: dict[str, Any] = field(default_factory=dict)
    provider_event: str | None = None  # the provider's own name for it (Twilio's CallStatus, Telnyx's event_type...)

    def __post_init__(self) -> None:
        if self.status is not None and self.status not in PROVIDER_STATUSES:
            raise ValueError(f"unknown status {self.status!r}")


# Answering-machine detection results, in every provider's words -> ours (human, machine, unknown).
# Twilio: human, machine_start, machine_end_beep/_silence/_other, fax, unknown; Telnyx: human,
# machine, not_sure (premium: human_residence, human_business, silence, fax_detected...);
# Vonage: human, machine; FreeSWITCH's mod_amd: HUMAN, MACHINE, NOTSURE.
ANSWERED_BY = ("human", "machine", "unknown")


def normalize_answered_by(raw: str | None) -> str | None:
    if not raw:
        return None
    value = raw.strip().lower()
    if value.startswith("human"):
        return "human"
    if value.startswith(("machine", "fax")):  # a fax is not a person either
        return "machine"
    return "unknown"


def billable_minutes(duration_s: int | None) -> int:
    """Started minutes: 0 s -> 0, 1..60 s -> 1, 61..120 s -> 2, 125 s -> 3."""
    if not duration_s or duration_s <= 0:
        return 0
    return math.ceil(duration_s / 60)


def charge_cents(duration_s: int | None, rate_cents: int) -> int:
    """What a final call costs: its answered seconds, per started minute. A call that was never
    answered has no answered seconds (busy, no-answer, canceled, most failed) and costs 0; one
    that was answered and then failed (a dropped line) is charged for the seconds it lasted."""
    return billable_minutes(duration_s) * max(0, int(rate_cents))


def settlement(reserve_cents: int, charge: int) -> dict[str, int]:
    """How the organization's three figures move when a call settles.

    ``balance -= charge``, ``reserved -= reserve``, ``available += reserve - charge``. The
    reserve was held with ``available >= reserve``, so available can only end below zero by
    the part of the charge above the reserve (a call longer than its reserve covers); the call
    has already happened, so it is charged in full rather than capped at its reserve, and the
    next call is refused (402) until the balance is topped up.
    """
    return {"balance_cents": -charge, "reserved_cents": -reserve_cents,
            "available_cents": reserve_cents - charge}
