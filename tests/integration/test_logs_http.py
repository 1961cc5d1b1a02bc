"""The logs of a representative flow through a real `outbound serve` process.

Everything the handlers log goes to the server's stdout as Powertools JSON lines (one per
record). After calls through every provider, a refusal, a timeout, a refused API key, an
idempotent retry, a schedule and a call's status webhooks, every line printed after
"Listening on" must be JSON, each request-handling line must carry its correlation id, and
no full phone number, API key or provider credential may appear anywhere in the output.
"""
from __future__ import annotations

import json
import re
import subprocess
import time

import pytest
import requests

from outbound_local.emulators import freeswitch, telnyx, twilio, vonage
from tests.conftest import DEMO_KEY, EVENTS, OUTBOUND, ROOT, TEST_SERVER_ENV, start_server

pytestmark = pytest.mark.integration

NUMBERS = {"twilio": "+15551234567", "telnyx": "+15551230007", "vonage": "+15551230008", "sip": "+15551230009"}
TO = "+15559876543"
REFUSED, SILENT = "+15005550001", "+15005550002"  # the emulators' magic destinations
BAD_KEY = "sk_live_not_a_real_key_0123456789"
# Functions serving API Gateway requests log with the request's id as correlation_id.
REQUEST_SERVICES = {"outbound-calls", "outbound-schedules", "outbound-webhooks", "outbound-authorizer"}


def _secrets() -> set[str]:
    """Every credential the local stack knows: the emulators' defaults and the fixture's."""
    found: set[str] = {DEMO_KEY, BAD_KEY}
    for module in (twilio, telnyx, vonage, freeswitch):
        found |= {v for k, v in module.DEFAULT_CREDENTIALS.items()
                  if isinstance(v, str) and k not in ("account_sid", "application_id", "bridge")}
    fixture = json.loads((EVENTS / "fixture.json").read_text())
    for organization in fixture["organizations"]:
        found |= set(organization.get("api_keys", []))
        for credentials in (organization.get("provider_credentials") or {}).values():
            found |= {v for k, v in credentials.items()
                      if isinstance(v, str) and k not in ("account_sid", "application_id", "bridge")}
    for trunk in fixture.get("sip_trunks", []):
        if trunk.get("password"):
            found.add(trunk["password"])
    # A private key is checked by its body lines (a log would not keep the PEM header).
    for value in list(found):
        if "PRIVATE KEY" in value:
            found.discard(value)
            found |= {line for line in value.splitlines() if len(line) > 20 and "-----" not in line}
    return {value for value in found if len(value) >= 6}


@pytest.fixture(scope="module")
def flow():
    server = start_server(env=TEST_SERVER_ENV)
    try:
        server.add_funds("org_acme", 10_000)
        answers = {}
        # A signed webhook endpoint: its deliveries (and a rotation) run through the logs too.
        answers["endpoint"] = server.request("POST", "/webhook-endpoints", {
            "url": f"{server.url}/_local/webhook-receiver/logs", "events": ["call.answered", "call.completed"]})
        answers["rotated"] = server.request("POST", f"/webhook-endpoints/{answers['endpoint'].json()['id']}/rotate-secret")
        for provider, number in NUMBERS.items():
            answers[provider] = server.initiate({"from_phone_number": number, "to_phone_number": TO,
                                                 "variables": {"name": "Ada"},
                                                 "welcome_message": "Hi {{name}}"})
        answers["refused"] = server.initiate({"from_phone_number": NUMBERS["twilio"], "to_phone_number": REFUSED})
        answers["timeout"] = server.initiate({"from_phone_number": NUMBERS["telnyx"], "to_phone_number": SILENT})
        answers["bad_key"] = server.initiate({"from_phone_number": NUMBERS["twilio"], "to_phone_number": TO},
                                             key=BAD_KEY)
        answers["not_yours"] = server.initiate({"from_phone_number": "+15550001111", "to_phone_number": TO})
        idempotent = {"from_phone_number": NUMBERS["vonage"], "to_phone_number": TO}
        for attempt in ("idempotent", "replayed"):
            answers[attempt] = server.request("POST", "/calls/initiate", idempotent,
                                              headers={"Idempotency-Key": "logs-test-key-1"})
        answers["schedule"] = server.request("POST", "/calls/schedule", {
            "from_phone_number": NUMBERS["sip"], "to_phone_number": TO, "scheduled_at": "2099-01-01T09:00:00Z"})
        answers["get"] = server.request("GET", f"/calls/{answers['twilio'].json()['call_sid']}")
        answers["unsigned_webhook"] = requests.post(  # no signature: refused, counted as a rejection
            f"{server.url}/webhooks/twilio?call_id={answers['twilio'].json()['call_id']}",
            data={"CallSid": answers["twilio"].json()["call_sid"], "CallStatus": "completed"}, timeout=10)
        emulated = {}
        for provider in NUMBERS:
            emulated[provider] = subprocess.run(
                [*OUTBOUND, "emulate-call", answers[provider].json()["call_sid"], "--server", server.url],
                cwd=ROOT, capture_output=True, text=True, timeout=60)
        deadline = time.monotonic() + 30  # until the deliveries of the emulated calls arrived
        while time.monotonic() < deadline and len(_received(server)) < 2 * len(NUMBERS):
            time.sleep(0.2)
        yield server, answers, emulated
    finally:
        server.stop()


def _received(server) -> list[dict]:
    import requests

    return requests.get(server.url + "/_local/webhook-receiver/logs", timeout=10).json()["received"]


def test_the_flow_ran(flow):
    server, answers, emulated = flow
    assert answers["endpoint"].status_code == 201 and answers["rotated"].status_code == 200
    assert len(_received(server)) >= 2 * len(NUMBERS)  # answered + completed of each emulated call
    assert [answers[p].status_code for p in NUMBERS] == [200, 200, 200, 200]
    assert answers["refused"].status_code == 502
    assert answers["timeout"].status_code == 504
    assert answers["bad_key"].status_code == 401
    assert answers["not_yours"].status_code == 403
    assert answers["replayed"].headers.get("Idempotent-Replayed") == "true"
    assert answers["schedule"].status_code == 201
    assert answers["get"].status_code == 200
    assert answers["unsigned_webhook"].status_code == 403
    for provider, result in emulated.items():
        assert result.returncode == 0, (provider, result.stdout, result.stderr)


def _log_lines(server) -> list[str]:
    lines = "".join(server.output).splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Listening on"))
    return [line for line in lines[start + 1:] if line.strip()]


def test_every_log_line_is_json_with_a_correlation_id(flow):
    server, _, _ = flow
    lines = _log_lines(server)
    assert len(lines) >= 10  # calls placed, refused, timed out, settled, the refused key...
    services = set()
    for line in lines:
        record = json.loads(line)  # every line is one JSON record
        if "_aws" in record:  # a business metrics line (EMF): see the next test
            continue
        assert {"level", "message", "timestamp", "service"} <= set(record), line
        services.add(record["service"])
        if record["service"] in REQUEST_SERVICES - {"outbound-authorizer"}:
            assert record.get("correlation_id"), line
    assert {"outbound-calls", "outbound-webhooks"} <= services


def test_business_metrics_are_written_as_embedded_metric_format_lines(flow):
    """Each invocation writes its metrics as one CloudWatch EMF line per provider: calls placed,
    refused and timed out per provider, settlements and charged cents, webhook rejections."""
    server, _, _ = flow
    totals: dict[tuple[str, str], float] = {}
    for line in _log_lines(server):
        record = json.loads(line)
        if "_aws" not in record:
            continue
        directive, = record["_aws"]["CloudWatchMetrics"]
        assert directive["Namespace"] == "OutboundCalls/local"  # OutboundCalls/<stack name>
        assert directive["Dimensions"] == [["provider", "service"], ["service"]]
        assert record["service"] == "outbound" and isinstance(record["_aws"]["Timestamp"], int)
        for metric in directive["Metrics"]:
            assert metric["Unit"] == "Count"
            key = (metric["Name"], record["provider"])
            totals[key] = totals.get(key, 0) + sum(record[metric["Name"]])
    placed = {p: totals.get(("CallsPlaced", p)) for p in NUMBERS}
    assert placed == {"twilio": 1, "telnyx": 1, "vonage": 2, "sip": 1}, totals  # vonage: the idempotent call too
    assert totals[("CallsRefused", "twilio")] == 1 and totals[("CallsTimedOut", "telnyx")] == 1
    assert all(totals[("CallsSettled", p)] == 1 for p in NUMBERS), totals  # emulate-call: one per provider
    assert all(totals[("ChargedCents", p)] == 12 for p in NUMBERS), totals  # 60 s at org_acme's 12/min
    assert totals[("WebhookRejections", "twilio")] == 1


def test_no_phone_number_key_or_credential_in_the_output(flow):
    server, _, _ = flow
    # Everything after "Listening on": the function logs. (The startup banner before it prints the
    # public demo fixture's number and key on purpose: it is the how-to for a developer.)
    output = "\n".join(_log_lines(server))
    numbers = {*NUMBERS.values(), TO, REFUSED, SILENT, "+15550001111"}
    for number in numbers:
        assert number not in output, f"full phone number {number} in the logs"
        assert number[1:] not in output, f"full phone number {number} (without +) in the logs"
    _, answers, _ = flow
    signing = {answers["endpoint"].json()["secret"], answers["rotated"].json()["secret"]}
    for secret in _secrets() | signing | {s.removeprefix("whsec_") for s in signing}:
        assert secret not in output, f"a credential ({secret[:4]}...) in the logs"
    assert "whsec_" not in output
    assert not re.search(r"sk_live_\w+", output), "an API key in the logs"
    # Masked numbers are what the logs show instead.
    assert "+1555***6543" in output
