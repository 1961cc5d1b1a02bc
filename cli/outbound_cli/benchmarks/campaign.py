"""``outbound bench campaign --contacts N``: one campaign on the local stack, every call ended by
the provider emulators' signed webhooks, and what the engine did:

- dials per second (first to last placement) against what the pacing allows;
- the highest number of calls in flight, two ways: the campaign's own slot counter sampled
  while it runs, and, exactly, the most call records overlapping between creation and
  settlement; both against ``max_concurrent_calls``;
- the calls-per-minute error: the most placements in any 60-second window, against
  ``calls_per_minute``;
- DynamoDB round trips per attempt made by the engine (dispatcher, dialer, outcomes), beyond the
  call's own 4 (budget: 3), and what each status webhook costs;
- with the calling rules, caps and evidence on: the organization's rules get a 7-day cap beside the
  24-hour one, the campaign requires consent (every contact carries it), and every attempt's
  evidence record is read back and counted.

Without ``--server`` it starts ``outbound serve`` in a child process. The contacts are put in a
zone where it is daytime now, so the calling window is open.
"""
from __future__ import annotations

import json
import random
import statistics
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Any

from .load import LocalTable, start_server

API_KEY = "sk_live_acme_demo"
FROM_NUMBER = "+15551234567"
ENGINE = ("CampaignDispatcherFunction", "CampaignDialerFunction", "CampaignOutcomesFunction")
OUTCOMES = (("completed", 0.7), ("busy", 0.15), ("no-answer", 0.15))


def daytime_zone() -> str:
    offset = 12 - datetime.now(timezone.utc).hour
    offset = offset - 24 if offset > 14 else offset + 24 if offset < -12 else offset
    return f"Etc/GMT{-offset:+d}" if offset else "UTC"


class Api:
    def __init__(self, server: str):
        import requests

        self.server, self.session = server.rstrip("/"), requests.Session()
        self.session.headers.update({"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"})

    def __call__(self, method: str, path: str, body: Any = None) -> Any:
        response = self.session.request(method, self.server + path, data=json.dumps(body) if body is not None else None,
                                        timeout=60)
        if response.status_code >= 300:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:300]}")
        return response.json()

    def local(self, path: str) -> Any:
        return self.session.get(self.server + path, timeout=60).json()


def ops(api: Api, functions: tuple[str, ...]) -> int:
    query = "&".join(f"function={f}" for f in functions)
    return sum(api.local(f"/_local/dynamodb-operations?{query}").values())


def campaign(contacts: int = 200, max_concurrent: int = 10, calls_per_minute: int = 300, hold_s: float = 0.5,
             server: str | None = None, as_json: bool = False) -> int:
    from outbound_local.emulators.emulate import emulate_call

    process = None
    if server is None:
        process, server = start_server()
    api = Api(server)
    try:
        LocalTable(api.server).fund(contacts * 1000, api.server)
        rules_before = api("GET", "/organization/calling-rules")
        api("PUT", "/organization/calling-rules", {**_settable(rules_before), "max_dials_24h": 3, "max_dials_7d": 10})
        created = api("POST", "/campaigns", {"require_consent": True,
            "name": f"bench {contacts}", "from_phone_number": FROM_NUMBER,
            "calling_window": {"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "start": "08:00", "end": "21:00"},
            "retry_policy": {"max_attempts": 2, "delays_minutes": [0], "retry_on": ["busy", "no-answer"]},
            "pacing": {"max_concurrent_calls": max_concurrent, "calls_per_minute": calls_per_minute}})
        campaign_id = created["campaign_id"]
        zone, run = daytime_zone(), random.randrange(100_000)
        # +1555 8xx xxxx: numbers phonenumbers knows no zone of, so the contacts' own (daytime) zone decides
        consent = {"type": "express_written", "obtained_at": "2026-01-05T10:00:00Z", "proof_reference": "bench"}
        rows = [{"phone_number": f"+15558{(run * 1000 + i) % 1_000_000:06d}", "timezone": zone, "consent": consent}
                for i in range(contacts)]
        for start in range(0, contacts, 1000):
            api("POST", f"/campaigns/{campaign_id}/contacts", {"contacts": rows[start:start + 1000]})
        engine_before, webhooks_before = ops(api, ENGINE), ops(api, ("ProviderCallbacksFunction",))
        per_function_before = {f: api.local(f"/_local/dynamodb-operations?function={f}") for f in ENGINE}
        known = set(api.local("/_local/provider-calls"))
        sampled: list[int] = []
        placed: dict[str, float] = {}
        ender = _Ender(server, hold_s, emulate_call)
        api("POST", f"/campaigns/{campaign_id}/start")
        began = shown = time.monotonic()
        while True:
            state = api("GET", f"/campaigns/{campaign_id}")
            sampled.append(state["progress"]["in_flight"])
            for call_id in set(api.local("/_local/provider-calls")) - known - set(placed):
                placed[call_id] = time.monotonic()
                ender.end(call_id)
            if not as_json and time.monotonic() - shown > 5:
                shown = time.monotonic()
                print(f"  {state['progress']['finished']}/{contacts} finished, {len(placed)} calls, "
                      f"in flight {state['progress']['in_flight']}", file=sys.stderr, flush=True)
            if state["status"] in ("completed", "canceled"):
                break
            time.sleep(0.2)
        ender.join()
        elapsed = time.monotonic() - began
        records = [api("GET", f"/calls/{call_id}") for call_id in placed]
        figures = _figures(state, records, sampled, elapsed, max_concurrent, calls_per_minute,
                           ops(api, ENGINE) - engine_before, ops(api, ("ProviderCallbacksFunction",)) - webhooks_before,
                           ender.status_changes)
        proofs = [api("GET", f"/calls/{call_id}/evidence")["evidence"] for call_id in placed]
        figures["evidence_records"] = sum(1 for p in proofs for r in p if r["kind"] == "dial" and r["hmac"]
                                          and r["verdict"]["allowed"] and r["rules_applied"])
        figures["engine_round_trips_by_function"] = {
            f: {op: round((n - per_function_before[f].get(op, 0)) / max(1, len(records)), 2)
                for op, n in api.local(f"/_local/dynamodb-operations?function={f}").items()
                if n - per_function_before[f].get(op, 0)} for f in ENGINE}
        api("PUT", "/organization/calling-rules", _settable(rules_before))
    finally:
        if process is not None:
            process.terminate()
            process.wait(10)
    print(json.dumps(figures) if as_json else _text(figures))
    healthy = (figures["max_in_flight_sampled"] <= max_concurrent and figures["max_calls_overlapping"] <= max_concurrent
               and figures["max_calls_in_60s"] <= calls_per_minute + 1 and figures["engine_round_trips_beyond_call"] <= 3
               and figures["evidence_records"] == figures["attempts"])
    return 0 if healthy else 1


class _Ender:
    """Ends each placed call after ``hold_s`` with a random outcome, through the emulators' webhooks."""

    def __init__(self, server: str, hold_s: float, emulate: Any):
        self.server, self.hold_s, self.emulate = server, hold_s, emulate
        self.threads: list[threading.Thread] = []
        self.status_changes = 0
        self._lock = threading.Lock()

    def end(self, call_id: str) -> None:
        thread = threading.Thread(target=self._run, args=(call_id,), daemon=True)
        thread.start()
        self.threads.append(thread)

    def _run(self, call_id: str) -> None:
        time.sleep(self.hold_s)
        outcome = random.choices([o for o, _ in OUTCOMES], [w for _, w in OUTCOMES])[0]
        results = self.emulate(self.server, call_id, outcome, 30 if outcome == "completed" else 0)
        with self._lock:
            self.status_changes += sum(1 for _, status, body in results if status == 200 and body.get("applied"))

    def join(self) -> None:
        for thread in self.threads:
            thread.join()


def _settable(rules: dict[str, Any]) -> dict[str, Any]:
    """The rules as GET answers them, as a PUT body."""
    return {k: v for k, v in rules.items() if k not in ("version", "updated_at", "legal_floor")}


def _instant(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _figures(state: dict, records: list[dict], sampled: list[int], elapsed: float, max_concurrent: int,
             calls_per_minute: int, engine_ops: int, webhook_ops: int, status_changes: int) -> dict[str, Any]:
    created = sorted(_instant(r["created_at"]) for r in records)
    spans = [(_instant(r["created_at"]), _instant(r["settled_at"] or r["updated_at"])) for r in records]
    edges = sorted([(a, 1) for a, _ in spans] + [(b, -1) for _, b in spans])
    running = peak = 0
    for _, step in edges:
        running += step
        peak = max(peak, running)
    in_60 = max((sum(1 for t in created[i:] if t - start < timedelta(seconds=60)) for i, start in enumerate(created)),
                default=0)
    span = (created[-1] - created[0]).total_seconds() if len(created) > 1 else 0
    attempts = len(records)
    return {
        "contacts": state["progress"]["contacts_total"], "attempts": attempts, "seconds": round(elapsed, 1),
        "by_status": {k: v for k, v in state["progress"]["by_status"].items() if v},
        "dials_per_s": round((attempts - 1) / span, 2) if span else None,
        "pacing_allows_per_s": round(calls_per_minute / 60, 2),
        "max_concurrent_calls": max_concurrent, "max_in_flight_sampled": max(sampled, default=0),
        "max_calls_overlapping": peak, "calls_per_minute": calls_per_minute, "max_calls_in_60s": in_60,
        "engine_round_trips_per_attempt": round(engine_ops / attempts, 2) if attempts else None,
        "engine_round_trips_beyond_call": round(engine_ops / attempts - 4, 2) if attempts else None,
        "webhook_round_trips_per_status_change": round(webhook_ops / status_changes, 2) if status_changes else None,
        "median_in_flight_sampled": statistics.median(sampled) if sampled else 0,
    }


def _text(f: dict[str, Any]) -> str:
    return "\n".join([
        f"campaign            {f['contacts']} contacts, {f['attempts']} attempts in {f['seconds']} s: {f['by_status']}",
        f"dials               {f['dials_per_s']}/s (pacing allows {f['pacing_allows_per_s']}/s)",
        f"in flight           max {f['max_in_flight_sampled']} slots sampled, {f['max_calls_overlapping']} calls "
        f"overlapping (max_concurrent_calls {f['max_concurrent_calls']})",
        f"calls per minute    at most {f['max_calls_in_60s']} in any 60 s (calls_per_minute {f['calls_per_minute']})",
        f"DynamoDB            {f['engine_round_trips_per_attempt']} round trips per attempt by the engine = "
        f"the call's 4 + {f['engine_round_trips_beyond_call']} (budget: 3); "
        f"{f['webhook_round_trips_per_status_change']} per status webhook",
        f"evidence            {f['evidence_records']} sealed records of allowed dials for {f['attempts']} attempts "
        f"(rules, a 24 h and a 7-day cap, consent required)",
        *(f"  per attempt       {name}: {counts}" for name, counts in f["engine_round_trips_by_function"].items()),
    ])
