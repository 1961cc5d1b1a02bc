"""Release the reserves of calls abandoned between the reserve transaction and the provider's
answer (a crash, a Lambda timeout, a lost process: nothing ever moved them out of
``initiating``).

Design:
- Index, not Scan: the reserve transaction writes ``initiating_shard`` / ``initiating_since``
  on the call record and every later status write (placed, refused, unconfirmed, any webhook)
  removes them, so the sparse ``ByInitiating`` GSI holds only the calls still initiating. One
  Query per shard (``initiating_since < now - threshold``) finds the stuck ones.
- Threshold (``RESERVE_SWEEP_AFTER_SECONDS``, default 600 s) is far beyond the longest an
  initiate can legitimately be in flight (provider timeout <= 20 s, Lambda timeout 29 s), so a
  call still being placed is never swept.
- Each stuck call is failed and released in ONE TransactWriteItems conditional on it still
  being ``initiating`` with that reserve: a late placement or webhook and the sweeper can never
  both settle it; a GSI entry that is stale (eventually consistent) just fails the condition.
- A call the provider did place (the crash came after its answer) is then reconciled by its
  status webhooks: the final one charges the minutes used, once, without touching the released
  reserve (see usecases.status_webhook).
"""
from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from typing import Any

from aws_lambda_powertools import Logger

from .. import store

logger = Logger(child=True)

DEFAULT_SWEEP_AFTER_SECONDS = 600
MAX_PER_RUN = 500  # a run at rate(5 minutes) releases at most this many; the next run continues


def sweep_after_seconds() -> int:
    return int(os.environ.get("RESERVE_SWEEP_AFTER_SECONDS") or DEFAULT_SWEEP_AFTER_SECONDS)


def cutoff(now: datetime, after_s: int) -> str:
    """``now - after_s`` in created_at's format (ISO, milliseconds, Z): comparable as strings."""
    return (now - timedelta(seconds=after_s)).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def sweep(now: datetime | None = None, after_s: int | None = None, limit: int = MAX_PER_RUN) -> dict[str, Any]:
    now = now or datetime.now(timezone.utc)
    after_s = sweep_after_seconds() if after_s is None else after_s
    stuck = store.find_stuck_initiating(cutoff(now, after_s), limit)
    released, skipped = [], 0
    for call in stuck:
        if store.abandon_call(call):
            released.append(call["call_id"])
            logger.warning("Abandoned call released", extra={
                "call_id": call["call_id"], "organization_id": call["organization_id"],
                "released_cents": int(call.get("reserve_cents") or 0), "initiating_since": call.get("initiating_since")})
        else:
            skipped += 1
    return {"found": len(stuck), "released": len(released), "skipped": skipped, "call_ids": released,
            "threshold_seconds": after_s}
