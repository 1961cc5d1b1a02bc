"""Shared fixtures: a real `outbound serve` process on loopback, and HTTP helpers."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[1]
EVENTS = ROOT / "events"
DEMO_KEY = "sk_live_acme_demo"
OUTBOUND = [sys.executable, "-m", "outbound_cli"]


class Server:
    def __init__(self, url: str, process: subprocess.Popen, output: list[str]):
        self.url = url
        self.process = process
        self.output = output

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()

    def request(self, method: str, path: str, body=None, key: str | None = DEMO_KEY, raw: str | None = None,
                headers: dict | None = None) -> requests.Response:
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        if key is not None:
            all_headers["Authorization"] = f"Bearer {key}"
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        return requests.request(method, self.url + path, data=data, headers=all_headers, timeout=30)

    def initiate(self, body, key: str = DEMO_KEY) -> requests.Response:
        return self.request("POST", "/calls/initiate", body, key=key)

    def provider_requests(self) -> list[dict]:
        return requests.get(self.url + "/_local/provider-requests", timeout=10).json()

    def dynamodb_operations(self) -> dict[str, int]:
        """What requests made (not the background consumers of queues and the table's stream)."""
        return requests.get(self.url + "/_local/dynamodb-operations?exclude=event-sources", timeout=10).json()

    def aws(self) -> dict:
        return requests.get(self.url + "/_local/aws", timeout=10).json()

    def dynamodb(self):
        import boto3

        info = self.aws()
        return boto3.client("dynamodb", endpoint_url=info["endpoint_url"], region_name=info["region"],
                            aws_access_key_id="local", aws_secret_access_key="local")

    def organization(self, organization_id: str) -> dict:
        item = self.dynamodb().get_item(TableName=self.aws()["table_name"],
                                        Key={"pk": {"S": f"ORG#{organization_id}"}, "sk": {"S": "ORG"}})["Item"]
        return {k: int(v["N"]) for k, v in item.items() if "N" in v}

    def add_funds(self, organization_id: str, cents: int) -> None:
        """Top up a balance, as an operator would: a ledgered credit (`outbound admin credit`), so
        the organization still reconciles. Reserves are settled only by status webhooks, so every
        call a test places keeps its reserve for the rest of the session: a module that places
        many calls on a shared demo organization funds them here."""
        self.outbound("admin", "credit", organization_id, str(cents), "--reason", "test funds",
                      "--reference", f"test-{uuid.uuid4().hex}", "--local-server", self.url)

    def outbound(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """An `outbound` CLI command (a process of its own, as an operator runs it)."""
        done = subprocess.run([*OUTBOUND, *args], cwd=ROOT, capture_output=True, text=True, timeout=60)
        if check:
            assert done.returncode == 0, done.stdout + done.stderr
        return done

    def reconcile(self, organization_id: str) -> subprocess.CompletedProcess:
        """`outbound admin reconcile`: exit 0 when balance and reserves match the ledger."""
        return self.outbound("admin", "reconcile", organization_id, "--local-server", self.url, check=False)


# The session server's settings:
# - credentials are read from Secrets Manager on every call (no 5-minute cache), so a test that
#   rewrites an organization's secret sees its effect at once, and restores it just as fast;
# - providers that do not answer are given up after 1 s (3 s by default locally), which is
#   what a timeout test waits for;
# - functions time out after 12 s (29 s in template.yaml), so a test of a write that keeps
#   failing after the provider's answer reaches the request's deadline in seconds.
TEST_SERVER_ENV = {"OUTBOUND_SECRETS_CACHE_SECONDS": "0", "OUTBOUND_LOCAL_PROVIDER_TIMEOUT_S": "1",
                   "OUTBOUND_LOCAL_FUNCTION_TIMEOUT_S": "12"}


def start_server(*extra: str, env: dict[str, str] | None = None) -> Server:
    """`outbound serve --port 0`, as a user runs it; waits for its "Listening on" line."""
    process = subprocess.Popen([*OUTBOUND, "serve", "--port", "0", *extra], cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})})
    output: list[str] = []
    deadline = time.monotonic() + 60
    url = None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        output.append(line)
        found = re.match(r"Listening on (http://\S+)", line)
        if found:
            url = found.group(1)
            break
    if url is None:
        process.kill()
        raise RuntimeError("outbound serve did not start:\n" + "".join(output))
    # Keep draining its output so the server never blocks on a full pipe.
    threading.Thread(target=lambda: output.extend(process.stdout), daemon=True).start()
    return Server(url, process, output)


def in_process_stack(*fixtures):
    """A local stack (moto over HTTP, emulators) in the test process, seeded with the demo data and
    ``fixtures``; yields it, then stops it and restores the environment it set."""
    from outbound_local.stack import DEMO_FIXTURE, LocalStack, reset_cached_clients

    saved = dict(os.environ)
    local = LocalStack().start()
    try:
        for fixture in (DEMO_FIXTURE, *fixtures):
            local.seed(fixture)
        yield local
    finally:
        local.stop()
        os.environ.clear()
        os.environ.update(saved)
        reset_cached_clients()


@pytest.fixture(scope="session")
def server():
    srv = start_server(env=TEST_SERVER_ENV)
    yield srv
    srv.stop()


def wait_for(check, timeout: float = 30.0, every: float = 0.2, what: str = "condition"):
    """``check()``'s first truthy value, polled every ``every`` s; fails the test after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def faults(server):
    """POST /_local/faults/dynamodb, cleared after the test whatever happens. ``faults(operation,
    error, count, **options)`` (options: skip, after_commit, delay_seconds); ``faults.state()``."""
    url = server.url + "/_local/faults/dynamodb"
    requests.delete(url, timeout=10)

    def inject(operation, error, count, **options):
        answer = requests.post(url, json={"operation": operation, "error": error, "count": count, **options},
                               timeout=10).json()
        assert "error" not in answer, answer
        return answer

    inject.state = lambda: requests.get(url, timeout=10).json()
    inject.clear = lambda: requests.delete(url, timeout=10)
    yield inject
    requests.delete(url, timeout=10)


def served_faults(state: dict) -> dict[tuple[str, str], int]:
    return {(f["operation"], f["error"]): f["count"] for f in state["served"]}
