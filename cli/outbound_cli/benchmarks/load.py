"""``outbound bench load``: POST /calls/initiate at a fixed concurrency against ``outbound serve``.

What it prints, and why each figure matters:
- requests/s over the first and the last tenth of the answers: a local stack whose throughput
  falls as its table grows cannot be trusted with a load test (nor with a campaign);
- p50 / p99 latency, and errors by status: the target is none at all;
- provider requests vs 200 answers: every call the provider placed must have been answered 200
  (a 5xx for a placed call makes the client retry, and ring the person twice);
- leftover reserves: reserved cents not accounted for by the calls answered 200 (a reserve held
  by a call nobody was told about), and calls still ``initiating`` at the end.

Without ``--server`` it starts ``outbound serve --port 0`` in a child process (so the load
generator does not share the server's interpreter) with the demo data, and funds org_acme for
every request. Each request calls its own destination, so every figure is this run's own.
"""
from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

API_KEY = "sk_live_acme_demo"
ORGANIZATION = "org_acme"
FROM_NUMBER = "+15551234567"  # Twilio in the demo data
RESERVE_CENTS = 100  # org_acme's call_reserve_cents in the demo data


@dataclass
class Answer:
    started: float
    finished: float
    status: int  # 0: no HTTP answer (connection error)
    detail: str = ""


def destination(run: int, index: int) -> str:
    """A +1555 number per request and run: the records and provider requests are this run's."""
    return f"+1555{(run * 100003 + index) % 10_000_000:07d}"


def start_server() -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen([sys.executable, "-m", "outbound_cli", "serve", "--port", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1", "POWERTOOLS_LOG_LEVEL": "ERROR"})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        found = re.match(r"Listening on (http://\S+)", line)
        if found:
            threading.Thread(target=lambda: [None for _ in process.stdout], daemon=True).start()  # drain
            return process, found.group(1)
    process.kill()
    raise RuntimeError("outbound serve did not start")


class LocalTable:
    """The local server's DynamoDB, for the bench's own bookkeeping (funding, reserves)."""

    def __init__(self, server: str):
        import boto3
        import requests

        info = requests.get(server + "/_local/aws", timeout=10).json()
        self.table = info["table_name"]
        self.dynamodb = boto3.client("dynamodb", endpoint_url=info["endpoint_url"], region_name=info["region"],
                                     aws_access_key_id="local", aws_secret_access_key="local")

    def organization(self) -> dict[str, int]:
        item = self.dynamodb.get_item(TableName=self.table, ConsistentRead=True,
                                      Key={"pk": {"S": f"ORG#{ORGANIZATION}"}, "sk": {"S": "ORG"}})["Item"]
        return {k: int(v["N"]) for k, v in item.items() if "N" in v}

    def fund(self, cents: int, server: str) -> None:
        """A ledgered credit (`outbound admin credit`), as an operator adds funds."""
        done = subprocess.run([sys.executable, "-m", "outbound_cli", "admin", "credit", ORGANIZATION,
                               str(cents), "--reason", "outbound bench load", "--reference",
                               f"bench-load-{time.time_ns()}", "--local-server", server],
                              capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            raise RuntimeError(f"could not fund {ORGANIZATION}: {done.stderr.strip()}")

    def still_initiating(self) -> int:
        """The organization's calls whose reserve is held with no provider answer recorded (the
        sparse ByInitiating index)."""
        count = 0
        for shard in range(8):
            pages = self.dynamodb.get_paginator("query").paginate(
                TableName=self.table, IndexName="ByInitiating", Select="COUNT",
                KeyConditionExpression="initiating_shard = :s", FilterExpression="organization_id = :o",
                ExpressionAttributeValues={":s": {"S": f"INITIATING#{shard}"}, ":o": {"S": ORGANIZATION}})
            count += sum(page["Count"] for page in pages)
        return count


def fire(server: str, total: int, concurrency: int, run: int, progress: bool) -> tuple[list[Answer], float]:
    import requests

    answers: list[Answer] = []
    lock = threading.Lock()
    counter = iter(range(total))
    started = time.perf_counter()

    def worker() -> None:
        session = requests.Session()
        headers = {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"}
        while True:
            with lock:
                index = next(counter, None)
            if index is None:
                return
            body = json.dumps({"from_phone_number": FROM_NUMBER, "to_phone_number": destination(run, index)})
            begin = time.perf_counter()
            try:
                response = session.post(server + "/calls/initiate", data=body, headers=headers, timeout=60)
                answer = Answer(begin, time.perf_counter(), response.status_code,
                                "" if response.status_code == 200 else response.text[:200])
            except requests.RequestException as exc:
                answer = Answer(begin, time.perf_counter(), 0, type(exc).__name__)
            with lock:
                answers.append(answer)
                done = len(answers)
            if progress and done % max(1, total // 20) == 0:
                elapsed = time.perf_counter() - started
                print(f"  {done}/{total} answered, {done / elapsed:.1f} requests/s", file=sys.stderr, flush=True)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers, started


def tenth_rates(answers: list[Answer], started: float) -> tuple[float, float]:
    """Requests/s over the first and the last tenth of the answers, by completion time."""
    finished = sorted(a.finished for a in answers)
    tenth = max(1, len(finished) // 10)
    first = tenth / max(1e-9, finished[tenth - 1] - started)
    last_start = finished[-tenth - 1] if len(finished) > tenth else started
    last = tenth / max(1e-9, finished[-1] - last_start)
    return first, last


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def load(requests_total: int = 2000, concurrency: int = 32, server: str | None = None,
         as_json: bool = False) -> int:
    import requests

    process = None
    if server is None:
        process, server = start_server()
    server = server.rstrip("/")
    try:
        table = LocalTable(server)
        table.fund(requests_total * RESERVE_CENTS, server)
        before = table.organization()
        run = int(time.time()) % 1000
        known = len(requests.get(server + "/_local/provider-requests", timeout=60).json())
        if not as_json:
            print(f"POST /calls/initiate x {requests_total} at concurrency {concurrency} against {server}",
                  file=sys.stderr, flush=True)
        answers, started = fire(server, requests_total, concurrency, run, progress=not as_json)
        elapsed = max(a.finished for a in answers) - started
        ours = {destination(run, i) for i in range(requests_total)}
        provider_posts = sum(
            1 for r in requests.get(server + "/_local/provider-requests", timeout=120).json()[known:]
            if r["method"] == "POST" and _destination_of(r) in ours)
        after = table.organization()
        ok = sum(1 for a in answers if a.status == 200)
        first, last = tenth_rates(answers, started)
        latencies = [(a.finished - a.started) * 1000 for a in answers]
        figures = {
            "requests": requests_total, "concurrency": concurrency, "seconds": round(elapsed, 1),
            "requests_per_s": round(requests_total / elapsed, 1),
            "first_tenth_per_s": round(first, 1), "last_tenth_per_s": round(last, 1),
            "last_over_first": round(last / first, 2),
            "p50_ms": round(statistics.median(latencies), 1), "p99_ms": round(percentile(latencies, 0.99), 1),
            "errors_by_status": dict(sorted(Counter(str(a.status) for a in answers if a.status != 200).items())),
            "answered_200": ok, "provider_requests": provider_posts,
            "leftover_reserved_cents": after["reserved_cents"] - before["reserved_cents"] - ok * RESERVE_CENTS,
            "calls_still_initiating": table.still_initiating(),
        }
        details = Counter(a.detail for a in answers if a.status != 200)
    finally:
        if process is not None:
            process.terminate()
            process.wait(10)
    if as_json:
        print(json.dumps(figures))
    else:
        _print(figures, details)
    healthy = (not figures["errors_by_status"] and figures["provider_requests"] == ok
               and figures["leftover_reserved_cents"] == 0)
    return 0 if healthy else 1


def _destination_of(request: dict[str, Any]) -> str | None:
    body = request.get("body")
    if isinstance(body, dict):  # Twilio's form (lists of values), Telnyx / Vonage JSON
        to = body.get("To") or body.get("to")
        if isinstance(to, list) and to:
            to = to[0] if isinstance(to[0], str) else "+" + str(to[0].get("number", ""))
        return to if isinstance(to, str) else None
    return None


def _print(figures: dict[str, Any], details: Counter) -> None:
    print(f"requests            {figures['requests']} at concurrency {figures['concurrency']} "
          f"in {figures['seconds']} s ({figures['requests_per_s']} requests/s)")
    print(f"throughput          first tenth {figures['first_tenth_per_s']}/s, last tenth "
          f"{figures['last_tenth_per_s']}/s (last/first {figures['last_over_first']})")
    print(f"latency             p50 {figures['p50_ms']} ms, p99 {figures['p99_ms']} ms")
    print(f"errors by status    {figures['errors_by_status'] or 'none'}")
    for detail, count in details.most_common(5):
        print(f"                    {count} x {detail}")
    print(f"placed vs answered  {figures['provider_requests']} provider requests, "
          f"{figures['answered_200']} answers 200")
    print(f"leftover reserves   {figures['leftover_reserved_cents']} cents; "
          f"{figures['calls_still_initiating']} calls still initiating")
