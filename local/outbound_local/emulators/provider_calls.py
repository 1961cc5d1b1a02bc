"""What each emulated provider knows of the calls it placed: its own call records.

A real provider keeps a record of every call it placed (Twilio's Call resource, Vonage's call,
Telnyx's detail record) and serves it to the account that placed it, whatever any webhook said.
The emulators do the same: every accepted create-call is kept here with the account, the numbers
and the time, as ``queued``; what happens next is what ``outbound emulate-call`` plays (the same
outcome, duration and times as the status callbacks it sends, through ``play``). So a status
webhook someone forged (e.g. ``completed`` with 0 s) disagrees with the emulated provider's record,
as it would with the real one.
"""
from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass
from typing import Any

FINAL = ("completed", "busy", "no-answer", "failed", "canceled")
PLAYABLE = ("in-progress", *FINAL)


@dataclass
class PlacedCall:
    provider: str
    call_sid: str
    call_id: str | None  # ours, as the create-call carried it (status URL, client_state, channel variable)
    account: str = ""  # whose call it is: Twilio's account_sid, Telnyx's api key, Vonage's application_id
    to: str = ""  # E.164
    from_: str = ""
    created_at: float = 0.0  # epoch seconds: when the provider accepted the call (it dials at once)
    status: str = "queued"  # in our words: queued, in-progress, completed, busy, no-answer, failed, canceled
    answered_at: float | None = None
    ended_at: float | None = None
    duration: int | None = None  # answered seconds, once ended (0 for a call never answered)
    callback_url: str = ""  # where the provider sends the call's status callbacks (the create-call's)

    @property
    def finished(self) -> bool:
        return self.status in FINAL


class ProviderCalls:
    """Thread-safe: the emulators' handlers run a thread per request."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: dict[tuple[str, str], PlacedCall] = {}

    def place(self, provider: str, call_sid: str, call_id: str | None, **details: Any) -> PlacedCall:
        call = PlacedCall(provider, call_sid, call_id, created_at=time.time(), **details)
        with self._lock:
            self._calls[(provider, call_sid)] = call
        return call

    def get(self, provider: str, call_sid: str) -> PlacedCall | None:
        with self._lock:
            return self._calls.get((provider, call_sid))

    def of_account(self, provider: str, account: str) -> list[PlacedCall]:
        """The account's calls, oldest first: a provider shows an account its own calls only."""
        with self._lock:
            calls = [c for (p, _), c in self._calls.items() if p == provider and c.account == account]
        return sorted(calls, key=lambda c: c.created_at)

    def play(self, call_sid: str, outcome: str, duration: int, now: float | None = None) -> dict | None:
        """What happened to the call, as the provider records it: ``in-progress`` (answered
        ``now``, still talking) or a final outcome ending ``now`` after ``duration`` answered
        seconds (0 unless completed). None when no provider placed such a call."""
        if outcome not in PLAYABLE:
            raise ValueError(f"outcome must be one of {', '.join(PLAYABLE)}")
        now = time.time() if now is None else now
        with self._lock:
            call = next((c for (_, sid), c in self._calls.items() if sid == call_sid), None)
            if call is None:
                return None
            call.status = outcome
            if outcome == "in-progress":
                call.answered_at, call.ended_at, call.duration = now, None, None
            else:
                seconds = max(0, int(duration)) if outcome == "completed" else 0
                call.answered_at = now - seconds if outcome == "completed" else None
                call.ended_at, call.duration = now, seconds
            return self.view(call)

    def hang_up(self, provider: str, call_sid: str, now: float | None = None) -> tuple[PlacedCall | None, bool]:
        """End a live call as its provider does on an API hang-up: an answered call completes with
        its talk time so far, one not answered yet is canceled. (call, True) when it ended now,
        (call, False) when it had ended already, (None, False) for a call it never placed."""
        now = time.time() if now is None else now
        with self._lock:
            call = self._calls.get((provider, call_sid))
            if call is None or call.finished:
                return call, False
            if call.status == "in-progress":
                call.status, call.duration = "completed", max(0, int(now - (call.answered_at or now)))
            else:
                call.status, call.duration = "canceled", 0
            call.ended_at = now
            return call, True

    def by_call_id(self) -> dict[str, dict[str, str]]:
        """Our call id -> {provider, call_sid}: what ``/_local/provider-calls`` lists."""
        with self._lock:
            return {c.call_id: {"provider": c.provider, "call_sid": c.call_sid}
                    for c in self._calls.values() if c.call_id}

    def clear(self) -> None:
        with self._lock:
            self._calls.clear()

    @staticmethod
    def view(call: PlacedCall) -> dict[str, Any]:
        data = asdict(call)
        data["from"] = data.pop("from_")
        data.pop("account")  # a credential (Telnyx's is the api key, the bridge's its password): never shown
        return data
