"""``outbound bench pre-dial``: the latency one dial gains from the organization's pre-dial check.

One dial = one scheduled fire handed to ScheduledCallFunction by the local scheduler
(``POST /_local/scheduler/deliver``, answered when the function returns): the whole dial, from
the organization's data read to the provider's answer recorded, as a campaign's dialer makes it.
``--fires`` fires without a check and as many with one registered (a loopback endpoint in this
process answering ``{"allow": true}`` at once), in two rounds of each so drift hits both sides
(after each registration one unmeasured fire: a warm dialer has the check's secret cached). Prints the medians and p90s of both and the median added per dial: the check's request
(DNS of the checked URL, the signing secret, Standard Webhooks signing, one POST) on loopback, so
a customer's real endpoint adds its own network round trip and processing on top.
"""
from __future__ import annotations

import json
import statistics
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .load import FROM_NUMBER, ORGANIZATION, RESERVE_CENTS, LocalTable, destination, start_server
from .webhook_delivery import _percentile, _request


class _Allow(BaseHTTPRequestHandler):
    asked = 0

    def do_POST(self):  # noqa: N802 - the http.server API
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        _Allow.asked += 1
        body = b'{"allow": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def _fire(server_url: str, to: str) -> float:
    started = time.perf_counter()
    result = _request(f"{server_url}/_local/scheduler/deliver", "POST", {
        "organization_id": ORGANIZATION, "call": {"from_phone_number": FROM_NUMBER, "to_phone_number": to}}, key=None)
    elapsed = (time.perf_counter() - started) * 1000
    if result.get("outcome") != "placed":
        raise RuntimeError(f"a fire was not placed: {result}")
    return elapsed


def pre_dial(fires: int, server_url: str | None, as_json: bool) -> int:
    process = None
    if server_url is None:
        process, server_url = start_server()
    endpoint = ThreadingHTTPServer(("127.0.0.1", 0), _Allow)
    threading.Thread(target=endpoint.serve_forever, daemon=True).start()
    run = int(time.time()) % 10_000
    without: list[float] = []
    with_check: list[float] = []
    check = {"url": f"http://127.0.0.1:{endpoint.server_address[1]}/check"}
    count = iter(range(10 * fires + 100))
    try:
        LocalTable(server_url).fund((2 * fires + 10) * RESERVE_CENTS, server_url)  # each call holds its reserve
        _fire(server_url, destination(run, next(count)))  # warm the path (imports, clients, connection pools)
        for half in (fires // 2, fires - fires // 2):  # two rounds of each, so drift hits both sides
            without += [_fire(server_url, destination(run, next(count))) for _ in range(half)]
            _request(f"{server_url}/organization/pre-dial-check", "PUT", check)
            _fire(server_url, destination(run, next(count)))  # warm: the new check's secret read once, then cached
            with_check += [_fire(server_url, destination(run, next(count))) for _ in range(half)]
            _request(f"{server_url}/organization/pre-dial-check", "DELETE")
    finally:
        endpoint.shutdown()
        if process is not None:
            process.terminate()
            process.wait(10)
    figures: dict[str, Any] = {
        "fires_each": fires, "checks_answered": _Allow.asked,
        "without_ms": {"p50": round(statistics.median(without), 1), "p90": round(_percentile(without, 0.9), 1)},
        "with_check_ms": {"p50": round(statistics.median(with_check), 1),
                          "p90": round(_percentile(with_check, 0.9), 1)},
        "added_p50_ms": round(statistics.median(with_check) - statistics.median(without), 1),
    }
    if as_json:
        print(json.dumps(figures))
    else:
        print(f"one dial (a scheduled fire, provider answer included), {fires} each:")
        print(f"  without a pre-dial check: p50 {figures['without_ms']['p50']} ms, p90 {figures['without_ms']['p90']} ms")
        print(f"  with one (loopback, allow): p50 {figures['with_check_ms']['p50']} ms, "
              f"p90 {figures['with_check_ms']['p90']} ms ({_Allow.asked} checks answered)")
        print(f"  added per dial (p50): {figures['added_p50_ms']} ms, plus the customer's own network round trip")
    return 0
