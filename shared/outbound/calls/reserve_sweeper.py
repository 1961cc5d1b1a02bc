"""Release the reserves of calls nobody will ever hear about: a crash between the reserve
transaction and the provider's answer, or a provider that never answered in time
(``unconfirmed``), and then no status webhook either.

Design:
- Index, not Scan: the reserve transaction writes ``initiating_shard`` / ``initiating_since`` on
  the call record and every status write that proves the provider has the call (or refused it)
  removes them, so the sparse ``ByInitiating`` GSI holds only the calls still ``initiating`` or
  ``unconfirmed``. One Query per shard (``initiating_since < now - threshold``) finds them.
- Such a call may have been placed: the function may have died after the provider accepted it,
  before the record said so. Its reserve is what pays for it while it runs, so it is never
  released on a guess: only once no call could still be running, i.e. after the longest time
  a function may take to place it (its timeout, 30 s), the longest ring (``RING_TIMEOUT_SECONDS``,
  or the 120 s a request may ask for), the longest call (``MAX_CALL_SECONDS``: every provider is
  told to hang up by then) and a grace for late webhooks (``RESERVE_SWEEP_AFTER_SECONDS``,
  default 600 s). A placed call's webhooks arrive long before that (the first within seconds) and move
  it out of the index; its final one settles it, charging the minutes and releasing the reserve.
- Each call is failed and released in ONE TransactWriteItems conditional on it still being in
  the status read, with that reserve: a late placement or webhook and the sweeper never both
  settle it; a stale (eventually consistent) index entry just fails the condition.
- If a webhook of a released call does come later (every one was lost for over an hour), its
  final status still charges the minutes used, once (see usecases.status_webhook).
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

from outbound import metrics, store
from outbound.calls.models import MAX_RING_TIMEOUT_S
from outbound.config import settings

logger = Logger(child=True)

DEFAULT_GRACE_SECONDS = 600
PLACING_SECONDS = 30  # the longest a function that places calls runs (API, schedules, campaigns)
MAX_PER_RUN = 500  # a run at rate(5 minutes) releases at most this many; the next run continues


def sweep_after_seconds() -> int:
    """How old a stuck call must be: no call placed then can still be running or unreported."""
    grace = settings().reserve_sweep_grace_s or DEFAULT_GRACE_SECONDS
    ring = max(settings().ring_timeout_s, MAX_RING_TIMEOUT_S)  # a request may ask for up to 120 s
    return PLACING_SECONDS + ring + settings().max_call_seconds + grace


def cutoff(now: datetime, after_s: int) -> str:
    """``now - after_s`` in created_at's format (ISO, milliseconds, Z): comparable as strings."""
    return (now - timedelta(seconds=after_s)).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def sweep(now: datetime | None = None, after_s: int | None = None, limit: int = MAX_PER_RUN) -> dict[str, Any]:
    now = now or datetime.now(timezone.utc)
    after_s = sweep_after_seconds() if after_s is None else after_s
    stuck = store.find_stuck_initiating(cutoff(now, after_s), limit)
    released, skipped, deferred = [], 0, 0
    for call in stuck:
        try:
            abandoned = store.abandon_call(call)
        except ClientError as exc:  # a conflict or throttling on this call: the next run retries it
            logger.warning("Stuck call not released this run", extra={
                "call_id": call["call_id"], "error": exc.response.get("Error", {}).get("Code")})
            deferred += 1
            continue
        if abandoned:
            released.append(call["call_id"])
            logger.warning("Stuck call released", extra={
                "call_id": call["call_id"], "organization_id": call["organization_id"], "status": call.get("status"),
                "released_cents": int(call.get("reserve_cents") or 0), "initiating_since": call.get("initiating_since")})
        else:
            skipped += 1
    if released:
        metrics.count(metrics.STUCK_CALLS_RELEASED, value=len(released))
    return {"found": len(stuck), "released": len(released), "skipped": skipped, "deferred": deferred,
            "call_ids": released,
            "threshold_seconds": after_s}
