"""``outbound bench cold-start``: a fresh Python process from import to the first placed call,
per provider, beside the floor ``python -c "import boto3; boto3.client('dynamodb', ...)"``.

The local stack (moto, emulators) runs in this process, already warm; each measured process
imports the API function from its CodeUri exactly as the Lambda runtime does, handles one
POST /calls/initiate event for a number of that provider, and must get a 200. Runs are
interleaved (floor, then each provider) so machine noise hits all of them alike; medians.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time

from outbound_local.gateway import LocalApiGateway
from outbound_local.stack import LocalStack
from outbound_local.template import load

BUDGET = 1.5  # cold start to the first placed call, as a multiple of the floor
FLOOR = "import boto3; boto3.client('dynamodb', region_name='us-east-1')"
NUMBERS = {"twilio": "+15551234567", "telnyx": "+15551230007", "vonage": "+15551230008", "sip": "+15551230009"}

# The measured process: what a Lambda cold start does (import the handler module, run one event).
CHILD = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("app", sys.argv[1])
app = importlib.util.module_from_spec(spec); spec.loader.exec_module(app)
class Context:
    function_name = "CallsApiFunction"; memory_limit_in_mb = 1024; aws_request_id = "bench"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:CallsApiFunction"
    def get_remaining_time_in_millis(self): return 29000
result = app.lambda_handler(json.loads(sys.argv[2]), Context())
if result["statusCode"] != 200:
    sys.exit("call not placed: " + result["body"])
"""


def _event(provider: str) -> dict:
    body = json.dumps({"from_phone_number": NUMBERS[provider], "to_phone_number": "+15559876543"})
    return LocalApiGateway().proxy_event(
        "POST", "/calls/initiate", "", {"Content-Type": "application/json"}, body.encode(), "127.0.0.1:3000",
        "127.0.0.1", "/calls/initiate", {}, {"principalId": "org_acme", "organization_id": "org_acme"})


def _timed(args: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(args, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:3])}...: {done.stderr.strip()[-800:]}")
    return elapsed * 1000


def cold_start(runs: int = 5, as_json: bool = False, check: bool = False) -> int:
    handler_path = str(load().functions()["CallsApiFunction"].code_uri / "app.py")
    with LocalStack(public_url="http://127.0.0.1:3000") as stack:
        stack.seed()
        # Plenty of balance so every run can hold its reserve (a ledgered credit, as an operator adds funds).
        from outbound import store

        store.credit_organization("org_acme", 100_000_000, "bench-cold-start", "outbound bench cold-start")
        env = {**os.environ, "POWERTOOLS_LOG_LEVEL": "WARNING"}
        floor: list[float] = []
        cold: dict[str, list[float]] = {p: [] for p in NUMBERS}
        for run in range(runs):
            floor.append(_timed([sys.executable, "-c", FLOOR], env))
            for provider in NUMBERS:
                # A fresh event per run: its requestTimeEpoch starts API Gateway's 29 s, and a slow
                # (loaded) machine must not see a later run refused for lack of time.
                event = json.dumps(_event(provider))
                cold[provider].append(_timed([sys.executable, "-c", CHILD, handler_path, event], env))
            if not as_json:
                print(f"run {run + 1}/{runs} done", file=sys.stderr, flush=True)
    floor_ms = statistics.median(floor)
    rows = [{"provider": p, "cold_ms": round(statistics.median(v), 1), "floor_ms": round(floor_ms, 1),
             "ratio": round(statistics.median(v) / floor_ms, 2)} for p, v in cold.items()]
    if as_json:
        print(json.dumps(rows))
    else:
        print(f"{'provider':<8} {'cold_ms':>8} {'floor_ms':>9} {'ratio':>6}   (median of {runs})")
        for row in rows:
            verdict = "ok" if row["ratio"] <= BUDGET else f"OVER BUDGET ({BUDGET})"
            print(f"{row['provider']:<8} {row['cold_ms']:>8} {row['floor_ms']:>9} {row['ratio']:>6}   {verdict}")
    over = [row["provider"] for row in rows if row["ratio"] > BUDGET]
    if over and not as_json:
        print(f"over the {BUDGET}x budget: {', '.join(over)}", file=sys.stderr)
    return 1 if check and over else 0
