"""The organization's own pre-dial check over HTTP against a real `outbound serve` (issue 17,
part 5): an https endpoint of the customer's, asked before each campaign or scheduled dial,
signed like the outcome webhooks; it fails closed, and its answer is in the dial's evidence.

The customer's endpoint is a small loopback HTTP server in this test (the local stack allows
loopback URLs, as for webhook endpoints); its path says how it answers. A module-scoped server
of its own: a short deferral after an unreachable check, so the skip after a few failures in a
row is seen in seconds."""
from __future__ import annotations

import csv
import io
import itertools
import json
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from standardwebhooks.webhooks import Webhook

from tests.conftest import ROOT, TEST_SERVER_ENV, start_server, wait_for

pytestmark = pytest.mark.integration

UTC = timezone.utc
KEY, FROM = "sk_test_pre_dial", "+15551237801"  # org_pre_dial
OTHER_KEY, OTHER_FROM = "sk_test_pre_dial_other", "+15551237802"  # org_pre_dial_other: no check registered
ALL_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
DENIAL = "On the national do-not-call registry (scrub 2026-12-01)"
_numbers = itertools.count(1)


def number() -> str:
    """A destination no other test calls (+1 555 738 xxxx is this module's; a +1 555 number is in
    no known zone, so the contact's own zone decides)."""
    return f"+1555738{next(_numbers):04d}"


class Customer:
    """The customer's pre-dial endpoint: /allow, /deny, /slow (3 s, then allow), /error (500),
    /garbage (200, not JSON). Every request is kept (path, headers, body)."""

    def __init__(self):
        self.requests: list[dict] = []
        customer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the http.server API
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                customer.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                if self.path == "/slow":
                    time.sleep(3)
                if self.path == "/error":
                    return self._answer(500, b'{"allow": true}')
                if self.path == "/garbage":
                    return self._answer(200, b"<html>not json</html>")
                if self.path == "/deny":
                    return self._answer(200, json.dumps({"allow": False, "reason": DENIAL}).encode())
                return self._answer(200, b'{"allow": true}')

            def _answer(self, status: int, body: bytes):
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # the service gave up waiting (the timeout case)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, mode: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/{mode}"

    def asked_about(self, to: str) -> list[dict]:
        return [r for r in self.requests if f'"{to}"' in r["body"]]


@pytest.fixture(scope="module")
def api():
    server = start_server(env={**TEST_SERVER_ENV, "OUTBOUND_PRE_DIAL_RETRY_SECONDS": "1"})
    server.outbound("seed", str(ROOT / "tests" / "fixtures" / "pre_dial.json"), "--local-server", server.url)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def customer():
    endpoint = Customer()
    yield endpoint
    endpoint.httpd.shutdown()


def register(api, customer, mode: str, timeout_ms: int | None = None) -> dict:
    body = {"url": customer.url(mode), **({"timeout_ms": timeout_ms} if timeout_ms else {})}
    response = api.request("PUT", "/organization/pre-dial-check", body, key=KEY)
    assert response.status_code == 200, response.text
    return response.json()


def zone_at(hour: int) -> str:
    """An Etc/GMT zone where the local time is ``hour`` now (the calling rules allow a dial)."""
    offset = hour - datetime.now(UTC).hour
    offset = offset - 24 if offset > 14 else offset + 24 if offset < -12 else offset
    return f"Etc/GMT{-offset:+d}" if offset else "UTC"


def sent_to(server, destination: str) -> list[dict]:
    return [r for r in server.provider_requests()
            if r["method"] == "POST" and (r.get("body") or {}).get("To") == [destination]]


def run_campaign(server, contacts: list[dict], key: str = KEY, from_number: str = FROM) -> str:
    body = {"name": "Pre-dial", "from_phone_number": from_number, "variables": {"name": "Ada"},
            "calling_window": {"days": ALL_DAYS, "start": "08:00", "end": "21:00"}, "timezone": "UTC",
            "retry_policy": {"max_attempts": 1, "delays_minutes": [0], "retry_on": ["busy"]},
            "pacing": {"max_concurrent_calls": 5, "calls_per_minute": 600}}
    created = server.request("POST", "/campaigns", body, key=key)
    assert created.status_code == 201, created.text
    campaign_id = created.json()["campaign_id"]
    added = server.request("POST", f"/campaigns/{campaign_id}/contacts", {"contacts": contacts}, key=key)
    assert added.status_code == 200 and not added.json()["errors"], added.text
    assert server.request("POST", f"/campaigns/{campaign_id}/start", key=key).status_code == 200
    return campaign_id


def contact(server, campaign_id: str, phone: str, key: str = KEY) -> dict:
    body = server.request("GET", f"/campaigns/{campaign_id}/contacts?limit=100", key=key).json()
    return next(c for c in body["contacts"] if c["phone_number"] == phone)


def ended(server, campaign_id: str, phone: str, key: str = KEY) -> dict:
    return wait_for(lambda: (c := contact(server, campaign_id, phone, key))["status"] in
                    ("skipped", "failed", "completed", "no_answer", "busy") and c, timeout=40,
                    what=f"the contact {phone} to end")


def evidence(server, call_ref: str, key: str = KEY) -> list[dict]:
    response = server.request("GET", f"/calls/{call_ref}/evidence", key=key)
    assert response.status_code == 200, response.text
    return response.json()["evidence"]


# --- configuration ----------------------------------------------------------------------------------

def test_the_check_is_set_read_and_removed_with_the_organizations_key_and_its_secret_shown_once(api, customer):
    assert api.request("GET", "/organization/pre-dial-check", key=KEY).status_code == 404
    created = register(api, customer, "allow")
    assert created["url"] == customer.url("allow") and created["timeout_ms"] == 2000
    assert created["secret"].startswith("whsec_") and created["id"].startswith("pdc_")
    read = api.request("GET", "/organization/pre-dial-check", key=KEY)
    assert read.status_code == 200 and "secret" not in read.json() and read.json()["url"] == customer.url("allow")
    changed = register(api, customer, "deny", timeout_ms=5000)  # a change keeps the secret (not shown again)
    assert changed["timeout_ms"] == 5000 and "secret" not in changed and changed["id"] == created["id"]
    assert api.request("GET", "/organization/pre-dial-check", key=OTHER_KEY).status_code == 404  # isolation
    deleted = api.request("DELETE", "/organization/pre-dial-check", key=KEY)
    assert deleted.status_code == 200, deleted.text
    assert api.request("GET", "/organization/pre-dial-check", key=KEY).status_code == 404
    assert api.request("DELETE", "/organization/pre-dial-check", key=KEY).status_code == 404


@pytest.mark.parametrize("body, says", [
    ({"url": "https://example.com/check", "timeout_ms": 5001}, "timeout_ms"),
    ({"url": "https://example.com/check", "timeout_ms": 50}, "timeout_ms"),
    ({"url": "https://10.1.2.3/check"}, "private"),
    ({"url": "https://169.254.169.254/latest/meta-data"}, "metadata"),
    ({"url": "ftp://example.com/check"}, "https"),
    ({"url": "https://example.com/check", "secret": "mine"}, "secret"),
])
def test_a_bad_configuration_is_400_naming_the_problem(api, body, says):
    response = api.request("PUT", "/organization/pre-dial-check", body, key=KEY)
    assert response.status_code == 400 and says in response.json()["detail"], response.text


# --- campaigns ----------------------------------------------------------------------------------------

def test_an_allowed_dial_is_placed_signed_and_its_evidence_shows_the_check(api, customer):
    secret = register(api, customer, "allow")["secret"]
    to, zone = number(), zone_at(12)
    campaign_id = run_campaign(api, [{"phone_number": to, "timezone": zone, "external_id": "crm-42",
                                      "variables": {"name": "Grace"}}])
    wait_for(lambda: sent_to(api, to), what="the call")
    [asked] = customer.asked_about(to)
    Webhook(secret).verify(asked["body"], {k.lower(): v for k, v in asked["headers"].items()})  # raises if not
    body = json.loads(asked["body"])
    assert body["type"] == "pre_dial.check" and body["to_phone_number"] == to and body["from_phone_number"] == FROM
    assert body["campaign_id"] == campaign_id and body["external_id"] == "crm-42"
    assert body["variables"] == {"name": "Grace"} and body["attempt"] == 1 and body["dial_at"]
    call_id = wait_for(lambda: contact(api, campaign_id, to)["current_call_id"]
                       or (contact(api, campaign_id, to)["call_ids"] or [None])[-1])
    [record] = evidence(api, call_id)
    assert record["kind"] == "dial" and record["pre_dial"]["result"] == "allowed"
    assert record["pre_dial"]["check_id"] and record["pre_dial"]["status_code"] == 200
    assert "all intact" in api.outbound("admin", "evidence", call_id, "--local-server", api.url).stdout
    api.request("POST", f"/campaigns/{campaign_id}/cancel", key=KEY)


def test_a_denied_contact_is_skipped_with_the_customers_reason_and_not_called(api, customer):
    register(api, customer, "deny")
    to = number()
    campaign_id = run_campaign(api, [{"phone_number": to, "timezone": zone_at(12)}])
    done = ended(api, campaign_id, to)
    assert done["status"] == "skipped" and DENIAL in done["final_reason"], done
    assert done["last_evidence"]["evidence_verdict"] == "refused"
    assert done["last_evidence"]["evidence_reasons"] == "pre_dial_denied"
    assert sent_to(api, to) == [] and len(customer.asked_about(to)) == 1
    call_id = done["last_evidence"]["evidence_id"].split("/")[0]
    [record] = evidence(api, call_id)
    assert record["kind"] == "refusal" and record["pre_dial"]["result"] == "denied"
    assert record["pre_dial"]["reason"] == DENIAL
    rows = list(csv.DictReader(io.StringIO(api.request("GET", f"/campaigns/{campaign_id}/results.csv", key=KEY).text)))
    assert rows[0]["evidence_reasons"] == "pre_dial_denied" and rows[0]["evidence_hmac"] == record["hmac"]


@pytest.mark.parametrize("mode, timeout_ms, says", [
    ("slow", 500, "no answer within 0.5 s"),
    ("error", None, "HTTP 500"),
    ("garbage", None, "not a JSON object"),
])
def test_an_unreachable_check_defers_then_skips_after_three_failures_and_never_calls(api, customer, mode,
                                                                                     timeout_ms, says):
    register(api, customer, mode, timeout_ms)
    to = number()
    campaign_id = run_campaign(api, [{"phone_number": to, "timezone": zone_at(12)}])
    done = ended(api, campaign_id, to)
    assert done["status"] == "skipped" and says in done["final_reason"], done
    assert "3 tries" in done["final_reason"] and done["attempts"] == 0
    assert len(customer.asked_about(to)) == 3 and sent_to(api, to) == []
    assert done["last_evidence"]["evidence_reasons"] == "pre_dial_failed"
    [*_, last] = evidence(api, done["last_evidence"]["evidence_id"].split("/")[0])
    assert last["kind"] == "refusal" and last["pre_dial"]["result"] == "failed" and says in last["pre_dial"]["reason"]


def test_an_organization_without_a_check_is_not_asked_and_direct_calls_never_are(api, customer):
    register(api, customer, "deny")
    other = number()
    campaign_id = run_campaign(api, [{"phone_number": other, "timezone": zone_at(12)}], key=OTHER_KEY,
                               from_number=OTHER_FROM)
    wait_for(lambda: sent_to(api, other), what="the other organization's call")
    direct = number()
    placed = api.initiate({"from_phone_number": FROM, "to_phone_number": direct, "variables": {"name": "Ada"}}, key=KEY)
    assert placed.status_code == 200, placed.text
    assert customer.asked_about(other) == [] and customer.asked_about(direct) == []
    [record] = evidence(api, placed.json()["call_id"])
    assert record.get("pre_dial") is None
    api.request("POST", f"/campaigns/{campaign_id}/cancel", key=OTHER_KEY)


# --- schedules -----------------------------------------------------------------------------------------

def test_a_denied_scheduled_fire_is_recorded_refused_with_the_reason_and_places_no_call(api, customer):
    register(api, customer, "deny")
    to = number()
    at = (datetime.now(UTC) + timedelta(seconds=2)).isoformat()
    created = api.request("POST", "/calls/schedule", {"from_phone_number": FROM, "to_phone_number": to,
                                                       "variables": {"name": "Ada"}, "scheduled_at": at}, key=KEY)
    assert created.status_code == 201, created.text
    schedule_id = created.json()["schedule_id"]
    view = wait_for(lambda: (v := api.request("GET", f"/calls/schedules/{schedule_id}", key=KEY).json())["status"]
                    == "failed" and v, what="the fire to be refused")
    assert view["failure"]["status_code"] == 422 and DENIAL in view["failure"]["detail"], view
    [asked] = customer.asked_about(to)
    assert json.loads(asked["body"])["schedule_id"] == schedule_id
    assert sent_to(api, to) == []


# --- metrics (last: counts what the tests above made the dialers ask) ----------------------------------

def test_the_checks_are_counted_allowed_denied_and_failed_in_the_business_metrics(api):
    totals: dict[str, float] = {}
    for line in "".join(api.output).splitlines():
        if not line.startswith("{") or '"_aws"' not in line:
            continue
        record = json.loads(line)
        for metric in record["_aws"]["CloudWatchMetrics"][0]["Metrics"]:
            totals[metric["Name"]] = totals.get(metric["Name"], 0) + sum(record[metric["Name"]])
    assert totals.get("PreDialChecksAllowed", 0) >= 1, totals
    assert totals.get("PreDialChecksDenied", 0) >= 2, totals  # the campaign contact, the scheduled fire
    assert totals.get("PreDialChecksFailed", 0) >= 3, totals  # three tries of one unreachable check
