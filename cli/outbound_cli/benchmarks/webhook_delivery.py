"""``outbound bench webhook-delivery``: from a provider's status webhook to the customer's endpoint.

Places ``--calls`` calls (Twilio, demo data) with one webhook endpoint subscribed to every call
event (the local loopback receiver), then sends each call's signed status callbacks (ringing,
answered, completed), one at a time, and measures for each status change the time from sending
its status webhook to the signed delivery arriving at the receiver: the table's stream, the
events function, the queue and the deliverer, as the local stack runs them (its pollers idle up
to 0.5 s between empty polls, as Lambda's own pollers have latencies of their own).

Also counted at the local DynamoDB, per status change: the round trips the events function and
the deliverer made (all off the request path), and those of the status-webhook requests themselves
(the request path: unchanged by outcome events).
"""
from __future__ import annotations

import json
import statistics
import time
import urllib.request
from typing import Any

from .load import API_KEY, destination, start_server

FUNCTIONS = ("CallEventsFunction", "WebhookDeliveryFunction", "ProviderCallbacksFunction")
STEPS = ("ringing", "in-progress", "completed")  # what each call's status webhooks change
SEQUENCE = {"ringing": 2, "in-progress": 3, "completed": 4}


def _request(url: str, method: str = "GET", body: Any = None, key: str | None = API_KEY) -> Any:
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    data = json.dumps(body).encode() if body is not None else None
    with urllib.request.urlopen(urllib.request.Request(url, data=data, headers=headers, method=method),
                                timeout=30) as response:
        return json.load(response)


def _operations(url: str) -> dict[str, dict[str, int]]:
    return {f: _request(f"{url}/_local/dynamodb-operations/by-function?function={f}", key=None) for f in FUNCTIONS}


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def webhook_delivery(calls: int, server_url: str | None, as_json: bool) -> int:
    from outbound_local.emulators import twilio as twilio_emulator
    from outbound_local.emulators import webhooks

    process = None
    if server_url is None:
        process, server_url = start_server()
    try:
        receiver = f"bench-{int(time.time())}"
        _request(f"{server_url}/webhook-endpoints", "POST", {
            "url": f"{server_url}/_local/webhook-receiver/{receiver}",
            "events": ["call.queued", "call.ringing", "call.answered", "call.completed"]})
        before = _operations(server_url)
        sent: dict[tuple[str, int], float] = {}
        run = int(time.time()) % 1000
        for index in range(calls):
            placed = _request(f"{server_url}/calls/initiate", "POST",
                              {"from_phone_number": "+15551234567", "to_phone_number": destination(run, index)})
            record = _request(f"{server_url}/calls/{placed['call_id']}")
            url = f"{server_url}/webhooks/twilio?call_id={placed['call_id']}"
            for callback in webhooks.callbacks(record, twilio_emulator.DEFAULT_CREDENTIALS, url, "completed", 30):
                if callback.label in STEPS:
                    sent[(placed["call_id"], SEQUENCE[callback.label])] = time.time()
                status, _ = webhooks.send(callback)
                if status != 200:
                    raise RuntimeError(f"status webhook answered {status}")
        expected = calls * 4  # queued (from initiate) + the three changes above
        deadline = time.monotonic() + 60 + calls
        arrived: list[dict] = []
        while time.monotonic() < deadline:
            arrived = _request(f"{server_url}/_local/webhook-receiver/{receiver}", key=None)["received"]
            if len(arrived) >= expected:
                break
            time.sleep(0.2)
        after = _operations(server_url)
    finally:
        if process is not None:
            process.terminate()
            process.wait(10)
    latencies = []
    for entry in arrived:
        data = json.loads(entry["body"])["data"]
        started = sent.get((data["call_id"], data["sequence"]))
        if started is not None and entry["answered"] == 200:
            latencies.append((entry["received_at"] - started) * 1000)
    changes = calls * 4
    spent = {f: sum(after[f].values()) - sum(before[f].values()) for f in FUNCTIONS}
    result = {
        "calls": calls, "status_changes": changes, "deliveries_arrived": len(arrived),
        "latency_ms": {"median": round(statistics.median(latencies), 1) if latencies else None,
                       "p99": round(_percentile(latencies, 0.99), 1) if latencies else None,
                       "max": round(max(latencies), 1) if latencies else None, "measured": len(latencies)},
        "dynamodb_round_trips_per_status_change": {
            "events_function": round(spent["CallEventsFunction"] / changes, 2),
            "deliverer": round(spent["WebhookDeliveryFunction"] / changes, 2),
            "request_path_added": 0},
        "dynamodb_round_trips_per_status_webhook_request": round(spent["ProviderCallbacksFunction"] / (calls * 4), 2),
        "operations": {f: {op: n - before[f].get(op, 0) for op, n in after[f].items() if n - before[f].get(op, 0)}
                       for f in FUNCTIONS},
    }
    if as_json:
        print(json.dumps(result, indent=2))
    else:
        latency, trips = result["latency_ms"], result["dynamodb_round_trips_per_status_change"]
        print(f"{calls} calls, {changes} status changes, {len(arrived)} deliveries arrived "
              f"({latency['measured']} timed from their status webhook)")
        print(f"status webhook -> customer endpoint: median {latency['median']} ms, p99 {latency['p99']} ms, "
              f"max {latency['max']} ms")
        print(f"DynamoDB round trips per status change: events function {trips['events_function']}, "
              f"deliverer {trips['deliverer']} (request paths: +0)")
        print(f"status webhook requests (4 per call, 1 a duplicate): "
              f"{result['dynamodb_round_trips_per_status_webhook_request']} round trips each")
        for function, operations in result["operations"].items():
            print(f"  {function}: {operations}")
    return 0 if len(arrived) >= calls * 4 else 1
