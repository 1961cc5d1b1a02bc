"""Counts what one call, one webhook delivery and one campaign attempt make the stack do, on a local
server (the figures behind the README's cost table): API requests, function invocations (the
requests' functions, and the event-source batches of the table stream and the queues), DynamoDB
operations by function, SQS messages, EventBridge events.

  python scripts/count_costs.py [--server URL]      (default: starts `outbound serve --port 0`)

Counted with one Twilio call ending `completed` after 125 s through `outbound emulate-call` (the
status callbacks Twilio sends). Stream consumers batch what arrives within a second, so at low
volume each status change is about one invocation; under load fewer. Secrets Manager reads are not
counted here (the functions cache a secret for 5 minutes per warm environment).
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
KEY = {"Authorization": "Bearer sk_live_acme_demo", "Content-Type": "application/json"}
FUNCTIONS = ["ApiKeyAuthorizerFunction", "CallsApiFunction", "ProviderCallbacksFunction", "CallEventsFunction",
             "WebhookDeliveryFunction", "WebhookEndpointsFunction", "CampaignsApiFunction", "CampaignDispatcherFunction",
             "CampaignDialerFunction", "CampaignOutcomesFunction"]


def snapshot(url: str) -> dict:
    operations = {f: requests.get(f"{url}/_local/dynamodb-operations?function={f}", timeout=10).json()
                  for f in FUNCTIONS}
    sources = requests.get(f"{url}/_local/event-sources", timeout=10).json()
    return {"operations": operations,
            "batches": Counter({f"{s['function']} ({s['kind']})": s["batches"] for s in sources}),
            "records": Counter({f"{s['function']} ({s['kind']})": s["delivered"] for s in sources}),
            "events": len(requests.get(f"{url}/_local/events", timeout=10).json())}


def difference(before: dict, after: dict, api_requests: int, webhooks: int) -> dict:
    operations = {f: dict(Counter(after["operations"][f]) - Counter(before["operations"][f])) for f in FUNCTIONS}
    return {"api_requests": api_requests, "provider_webhooks": webhooks,
            "event_source_invocations": dict(after["batches"] - before["batches"]),
            "event_source_records": dict(after["records"] - before["records"]),
            "eventbridge_events": after["events"] - before["events"],
            "dynamodb_operations": {f: ops for f, ops in operations.items() if ops},
            "dynamodb_total": sum(sum(ops.values()) for ops in operations.values())}


def settle(url: str, seconds: float = 4.0) -> None:
    """Let the stream and queue pollers catch up (each idles up to 0.5 s between polls)."""
    time.sleep(seconds)


def emulate(url: str, call_sid: str) -> int:
    done = subprocess.run([sys.executable, "-m", "outbound_cli", "emulate-call", call_sid, "--outcome", "completed",
                           "--duration", "125", "--server", url], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    return len([line for line in done.stdout.splitlines() if "->" in line])


def one_call(url: str, to: str) -> tuple[dict, int]:
    response = requests.post(f"{url}/calls/initiate", headers=KEY, timeout=30,
                             json={"from_phone_number": "+15551234567", "to_phone_number": to})
    assert response.status_code == 200, response.text
    return response.json(), emulate(url, response.json()["call_sid"])


def daytime_zone() -> str:
    offset = 12 - datetime.now(timezone.utc).hour
    offset = offset - 24 if offset > 14 else offset + 24 if offset < -12 else offset
    return f"Etc/GMT{-offset:+d}" if offset else "UTC"


def campaign_attempt(url: str) -> tuple[int, int]:
    """One campaign of one contact, started, its attempt ended by its webhooks: (API requests, webhooks)."""
    days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    campaign = requests.post(f"{url}/campaigns", headers=KEY, timeout=30, json={
        "name": "costs", "from_phone_number": "+15551234567", "timezone": daytime_zone(),
        "calling_window": {"days": days, "start": "08:00", "end": "21:00"}}).json()["campaign_id"]
    requests.post(f"{url}/campaigns/{campaign}/contacts", headers=KEY, timeout=30,
                  json={"contacts": [{"phone_number": "+12125590001", "timezone": daytime_zone()}]}).raise_for_status()
    requests.post(f"{url}/campaigns/{campaign}/start", headers=KEY, timeout=30).raise_for_status()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        contacts = requests.get(f"{url}/campaigns/{campaign}/contacts", headers=KEY, timeout=30).json()["contacts"]
        if contacts and contacts[0].get("current_call_id"):
            break
        time.sleep(0.5)
    call_id, call = contacts[0]["current_call_id"], {}
    deadline = time.monotonic() + 30
    while not call.get("call_sid") and time.monotonic() < deadline:  # until the provider's id is recorded
        time.sleep(0.5)
        call = requests.get(f"{url}/calls/{call_id}", headers=KEY, timeout=30).json()
    webhooks = emulate(url, call["call_sid"])
    deadline = time.monotonic() + 60
    while requests.get(f"{url}/campaigns/{campaign}", headers=KEY, timeout=30).json()["status"] != "completed":
        assert time.monotonic() < deadline, "the campaign did not complete"
        time.sleep(0.5)
    return 3, webhooks


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", help="a running `outbound serve` (default: start one)")
    args = parser.parse_args()
    process = None
    url = args.server
    if not url:
        process = subprocess.Popen([sys.executable, "-m", "outbound_cli", "serve", "--port", "0"], cwd=ROOT,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for line in process.stdout:
            found = re.match(r"Listening on (http://\S+)", line)
            if found:
                url = found.group(1)
                break
    try:
        one_call(url, "+12125590100")  # warm: the authorizer's cache, the functions' imports
        settle(url)
        results = {}
        before = snapshot(url)
        _, webhooks = one_call(url, "+12125590101")
        settle(url)
        results["call, no webhook endpoint"] = difference(before, snapshot(url), 1, webhooks)

        endpoint = requests.post(f"{url}/webhook-endpoints", headers=KEY, timeout=30, json={
            "url": f"{url}/_local/webhook-receiver/costs",
            "events": ["call.queued", "call.ringing", "call.answered", "call.completed"]}).json()
        before = snapshot(url)
        _, webhooks = one_call(url, "+12125590102")
        settle(url, 8)
        results["call, one endpoint subscribed to its 4 events"] = difference(before, snapshot(url), 1, webhooks)
        requests.delete(f"{url}/webhook-endpoints/{endpoint['id']}", headers=KEY, timeout=30)

        before = snapshot(url)
        api_requests, webhooks = campaign_attempt(url)
        settle(url)
        results["campaign of one contact: create, add, start, one attempt"] = difference(
            before, snapshot(url), api_requests, webhooks)
        print(json.dumps(results, indent=2))
    finally:
        if process is not None:
            process.terminate()
    return 0


if __name__ == "__main__":
    sys.exit(main())
