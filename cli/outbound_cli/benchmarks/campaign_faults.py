"""``outbound bench campaign --faults``: one campaign through a schedule of injected faults, and
whether it heals:

- DynamoDB (``POST /_local/faults/dynamodb``, every function of the stack alike): four throttled
  transactions right after the start; 10 s of throttled BatchGetItem (every dial's read); a 30 s
  outage of transactions, queries, updates and reads (everything stops); six failing queries;
- the providers (the emulators' magic destinations among the contacts): a refusal, a 5xx, a
  create-call never answered in time (the provider has the call) and a dropped connection (the
  provider never placed it).

It prints the longest time without a dial after the faults end (until the first dial; and the
longest gap between dials after it, while contacts still waited), the longest a slot was held by
a dial that placed nothing (no create-call reached a provider), the contacts left stuck (not in a
final status when the campaign ended or the bench gave up), and the provider create-call
requests per attempt (must be exactly 1: no attempt is ever placed twice). It exits 1 when the
campaign did not resume within 10 s, a contact was left stuck, or an attempt made more than one
request. Without ``--server`` it starts ``outbound serve`` in a child process.
"""
from __future__ import annotations

import json
import random
import sys
import threading
import time
from datetime import datetime
from typing import Any

from .campaign import FROM_NUMBER, Api, daytime_zone
from .load import LocalTable, start_server

# The emulators' failing destinations, as their twins of no known zone: a +1 500 number may be in
# any NANP zone, which a campaign's calling rules allow only 22:00-07:00 UTC.
SILENT, DROPPED, REFUSED, FAILING = "+15550000002", "+15550000003", "+15550000001", "+15550000004"
# (start s, end s | None, operations, error, count | None): a window is on from start to end; a
# count is served to the next requests of those operations.
SCHEDULE = (
    (3, None, ("TransactWriteItems",), "ThrottlingException", 4),
    (10, 20, ("BatchGetItem",), "ThrottlingException", None),
    (30, 60, ("TransactWriteItems", "Query", "UpdateItem", "BatchGetItem", "GetItem"), "InternalServerError", None),
    (70, None, ("Query",), "ThrottlingException", 6),
)
RESUME_TARGET_S = 10.0
SAMPLE_SLACK_S = 2.0  # a claim seen dialing up to this long before its call's record was created placed it
GIVE_UP_AFTER_FAULTS_S = 900  # an unknown outcome is resolved within minutes; a loaded machine is slow


def _instant(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def campaign_faults(contacts: int = 100, max_concurrent: int = 5, calls_per_minute: int = 60, hold_s: float = 1.0,
                    server: str | None = None, as_json: bool = False) -> int:
    process = None
    if server is None:
        process, server = start_server()
    api = Api(server)
    try:
        LocalTable(api.server).fund(contacts * 1000, api.server)
        campaign_id = _create(api, contacts, max_concurrent, calls_per_minute)
        run = _Run(api, campaign_id, hold_s)
        faults = _Faults(api)
        api("POST", f"/campaigns/{campaign_id}/start")
        faults.start()
        state = run.until_done(faults, say=not as_json)
        figures = run.figures(state, faults.ended_at)
    finally:
        _clear_faults(api)
        if process is not None:
            process.terminate()
            process.wait(10)
    print(json.dumps(figures) if as_json else _text(figures))
    healthy = (figures["first_dial_after_faults_s"] is not None and figures["first_dial_after_faults_s"] <= RESUME_TARGET_S
               and figures["contacts_stuck"] == 0 and figures["max_requests_per_attempt"] <= 1)
    return 0 if healthy else 1


def _create(api: Api, contacts: int, max_concurrent: int, calls_per_minute: int) -> str:
    created = api("POST", "/campaigns", {
        "name": f"bench faults {contacts}", "from_phone_number": FROM_NUMBER,
        "calling_window": {"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "start": "08:00", "end": "21:00"},
        "retry_policy": {"max_attempts": 2, "delays_minutes": [0], "retry_on": ["busy", "no-answer", "failed"]},
        "pacing": {"max_concurrent_calls": max_concurrent, "calls_per_minute": calls_per_minute}})
    zone, run = daytime_zone(), random.randrange(100_000)
    phones = [SILENT, DROPPED, REFUSED, FAILING] + [f"+1646{(run * 1000 + i) % 10_000_000:07d}" for i in range(contacts)]
    api("POST", f"/campaigns/{created['campaign_id']}/contacts",
        {"contacts": [{"phone_number": p, "timezone": zone} for p in phones]})
    return created["campaign_id"]


def _clear_faults(api: Api) -> None:
    try:
        api.session.delete(api.server + "/_local/faults/dynamodb", timeout=10)
    except Exception:  # noqa: BLE001 - the server may be gone
        pass


class _Faults(threading.Thread):
    """Plays SCHEDULE; ``ended_at`` (epoch s): when the last fault stopped (a window cleared, a
    count served)."""

    def __init__(self, api: Api):
        super().__init__(daemon=True)
        self.api, self.ended_at = api, None
        self.url = api.server + "/_local/faults/dynamodb"

    def run(self) -> None:
        began = time.monotonic()
        for start, end, operations, error, count in SCHEDULE:
            time.sleep(max(0.0, began + start - time.monotonic()))
            for operation in operations:
                self.api.session.post(self.url, json={"operation": operation, "error": error,
                                                      "count": count or 1_000_000}, timeout=10)
            if end is not None:
                time.sleep(max(0.0, began + end - time.monotonic()))
                self.api.session.delete(self.url, timeout=10)
            else:
                while self.api.session.get(self.url, timeout=10).json()["pending"]:
                    time.sleep(0.1)
            self.ended_at = time.time()
        print(f"  faults over at +{time.monotonic() - began:.0f} s", file=sys.stderr, flush=True)


class _Run:
    """Watches the campaign (tolerating the faults' 5xx), ends each placed call after ``hold_s``
    through the emulators' signed webhooks (sent again until the server takes them), and samples
    which contacts are dialing."""

    def __init__(self, api: Api, campaign_id: str, hold_s: float):
        self.api, self.campaign_id, self.hold_s = api, campaign_id, hold_s
        self.table = LocalTable(api.server)
        self.known = set(api.local("/_local/provider-calls"))
        self.ending: set[str] = set()
        self.dialing: dict[tuple[str, str, str], list] = {}  # one claim (contact, call, its slot) -> [first, last seen]
        self.threads: list[threading.Thread] = []

    def until_done(self, faults: _Faults, say: bool) -> dict[str, Any]:
        state, shown = None, time.monotonic()
        while True:
            try:
                state = self.api("GET", f"/campaigns/{self.campaign_id}")
                for call_id in set(self.api.local("/_local/provider-calls")) - self.known - self.ending:
                    self.ending.add(call_id)
                    thread = threading.Thread(target=self._end, args=(call_id,), daemon=True)
                    thread.start()
                    self.threads.append(thread)
                self._sample()
            except Exception:  # noqa: BLE001 - a 5xx while DynamoDB fails: the next round
                pass
            if say and time.monotonic() - shown > 5 and state:
                shown = time.monotonic()
                progress = state["progress"]
                print(f"  {progress['finished']}/{progress['contacts_total']} finished, {len(self.ending)} calls, "
                      f"in flight {progress['in_flight']}", file=sys.stderr, flush=True)
            if state and state["status"] in ("completed", "canceled"):
                break
            if faults.ended_at and time.time() - faults.ended_at > GIVE_UP_AFTER_FAULTS_S:
                break
            time.sleep(0.25)
        for thread in self.threads:
            thread.join(30)
        return state or {}

    def _sample(self) -> None:
        page = self.api("GET", f"/campaigns/{self.campaign_id}/contacts?status=dialing&limit=100")
        now = time.time()
        for contact in page["contacts"]:
            if contact.get("current_call_id"):
                dial_at = self._dial_at(contact["contact_id"], contact["current_call_id"])
                if dial_at is None:
                    continue
                seen = self.dialing.setdefault((contact["contact_id"], contact["current_call_id"], dial_at), [now, now])
                seen[1] = now

    def _dial_at(self, contact_id: str, call_id: str) -> str | None:
        """The claim's pacing slot (not in the API's view of a contact), read from the table as
        bookkeeping: it tells one claim of an attempt from the next (a deferred dial keeps its call
        id), and a dial waiting for its slot from one that failed."""
        try:
            item = self.table.dynamodb.get_item(TableName=self.table.table, Key={
                "pk": {"S": f"CAMPAIGN#{self.campaign_id}"}, "sk": {"S": f"K#{contact_id}"}}).get("Item") or {}
        except Exception:  # noqa: BLE001 - a fault: read again at the next sample
            return None
        if item.get("current_call_id", {}).get("S") != call_id or "dial_at" not in item:
            return None
        return item["dial_at"]["S"]

    def _end(self, call_id: str) -> None:
        from outbound_local.emulators.emulate import emulate_call

        time.sleep(self.hold_s)
        outcome = random.choices(["completed", "busy", "no-answer"], [0.7, 0.15, 0.15])[0]
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            try:
                results = emulate_call(self.api.server, call_id, outcome, 30 if outcome == "completed" else 0)
                if all(status < 500 and status != 429 for _, status, _ in results):
                    return
            except Exception:  # noqa: BLE001 - the server failing meanwhile: again
                pass
            time.sleep(1)

    def figures(self, state: dict[str, Any], faults_ended: float | None) -> dict[str, Any]:
        contacts = self._all_contacts()
        call_ids = sorted({cid for c in contacts for cid in [*c["call_ids"], c["current_call_id"]] if cid})
        records = {cid: r for cid in call_ids if (r := self._record(cid))}
        requests: dict[str, int] = {cid: 0 for cid in records}
        for entry in self.api.local("/_local/provider-requests"):
            if entry["method"] == "GET":
                continue
            text = json.dumps(entry["body"])
            for cid in records:
                if cid in text:
                    requests[cid] += 1
        dials = sorted(_instant(r["created_at"]) for cid, r in records.items() if requests[cid])
        after = [d for d in dials if faults_ended and d >= faults_ended]
        first_after = (after[0] - faults_ended) if after else None
        gaps = [b - a for a, b in zip(after, after[1:])]
        # A claim placed nothing if no create-call of its call id reached a provider while it held
        # the slot (a deferred dial's next claim keeps the call id, and may place it).
        nothing = [max(0.0, last - max(first, _instant(dial_at))) for (_, cid, dial_at), (first, last)
                   in self.dialing.items()
                   if not (requests.get(cid) and _instant(records[cid]["created_at"]) <= last + SAMPLE_SLACK_S)]
        stuck = [c for c in contacts if c["status"] in ("pending", "waiting_window", "retry_scheduled", "dialing",
                                                        "in_progress")]
        return {
            "contacts": len(contacts), "status": state.get("status"), "attempts": len(records),
            "by_status": {k: v for k, v in (state.get("progress") or {}).get("by_status", {}).items() if v},
            "first_dial_after_faults_s": round(first_after, 1) if first_after is not None else None,
            "longest_gap_between_dials_after_faults_s": round(max(gaps), 1) if gaps else None,
            "longest_slot_held_by_a_dial_that_placed_nothing_s": round(max(nothing), 1) if nothing else 0.0,
            "dials_that_placed_nothing": len(nothing),
            "contacts_stuck": len(stuck),
            "provider_requests": sum(requests.values()),
            "provider_requests_per_attempt": round(sum(requests.values()) / len(records), 2) if records else None,
            "max_requests_per_attempt": max(requests.values(), default=0),
            "attempts_without_a_request": sum(1 for n in requests.values() if n == 0),
        }

    def _all_contacts(self) -> list[dict[str, Any]]:
        found, token = [], None
        while True:
            query = f"?limit=100{'&next_token=' + token if token else ''}"
            body = self.api("GET", f"/campaigns/{self.campaign_id}/contacts{query}")
            found += body["contacts"]
            token = body["next_token"]
            if not token:
                return found

    def _record(self, call_id: str) -> dict[str, Any] | None:
        response = self.api.session.get(f"{self.api.server}/calls/{call_id}", timeout=30)
        return response.json() if response.status_code == 200 else None


def _text(f: dict[str, Any]) -> str:
    return "\n".join([
        f"campaign            {f['contacts']} contacts, {f['attempts']} attempts, {f['status']}: {f['by_status']}",
        f"after the faults    first dial {f['first_dial_after_faults_s']} s after the last fault ended "
        f"(target {RESUME_TARGET_S:g}); longest gap between dials after it {f['longest_gap_between_dials_after_faults_s']} s",
        f"slots               longest held by a dial that placed nothing: "
        f"{f['longest_slot_held_by_a_dial_that_placed_nothing_s']} s ({f['dials_that_placed_nothing']} such dials)",
        f"stuck               {f['contacts_stuck']} contacts not in a final status",
        f"provider            {f['provider_requests']} create-call requests for {f['attempts']} attempts = "
        f"{f['provider_requests_per_attempt']} per attempt (max {f['max_requests_per_attempt']}; "
        f"{f['attempts_without_a_request']} attempts without one)",
    ])
