"""Outcome events over real HTTP against `outbound serve`: webhook endpoints, signed deliveries
(verified by the standardwebhooks verifier, as a receiver would), retries, SSRF refusals,
ordering, EventBridge, and the machine-detection path of every provider.

A fixture of its own (org_hooks, org_hooks_other) is seeded into the session server, so these
endpoints receive only these calls. Deliveries arrive at the server's loopback receiver
(/_local/webhook-receiver/<name>).
"""
from __future__ import annotations

import json
import subprocess
import time
import uuid

import pytest
import requests
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from outbound.calls.lifecycle import RANKS
from tests.conftest import OUTBOUND, ROOT, wait_for

pytestmark = pytest.mark.integration

KEY, OTHER_KEY = "sk_live_hooks_test", "sk_live_hooks_other_test"
NUMBERS = {"twilio": "+15551240001", "telnyx": "+15551240002", "vonage": "+15551240003", "sip": "+15551240004"}
FIXTURE = {
    "organizations": [
        {"id": "org_hooks", "name": "Hooks", "balance_cents": 1_000_000, "api_keys": [KEY],
         "per_minute_rate_cents": 10, "call_reserve_cents": 100},
        {"id": "org_hooks_other", "name": "Other", "balance_cents": 100_000, "api_keys": [OTHER_KEY]}],
    "assistants": [{"id": 9101, "organization_id": "org_hooks", "name": "Hook", "welcome_message": "Hi"},
                   {"id": 9102, "organization_id": "org_hooks_other", "name": "Other", "welcome_message": "Hi"}],
    "sip_trunks": [{"id": "trunk_hooks", "organization_id": "org_hooks", "name": "Hooks trunk",
                    "gateway": "sip.example.com:5060", "priority": 1}],
    "phone_numbers": [
        {"number": NUMBERS["twilio"], "organization_id": "org_hooks", "provider": "twilio", "assistant_id": 9101},
        {"number": NUMBERS["telnyx"], "organization_id": "org_hooks", "provider": "telnyx", "assistant_id": 9101,
         "provider_settings": {"connection_id": "1494404757140276705"}},
        {"number": NUMBERS["vonage"], "organization_id": "org_hooks", "provider": "vonage", "assistant_id": 9101},
        {"number": NUMBERS["sip"], "organization_id": "org_hooks", "provider": "sip", "assistant_id": 9101},
        {"number": "+15551240009", "organization_id": "org_hooks_other", "provider": "twilio", "assistant_id": 9102}],
}
TO = "+15559876543"


@pytest.fixture(scope="module")
def hooks(server, tmp_path_factory):
    path = tmp_path_factory.mktemp("hooks") / "fixture.json"
    path.write_text(json.dumps(FIXTURE))
    done = subprocess.run([*OUTBOUND, "seed", str(path), "--local-server", server.url], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return server


def api(server, method, path, body=None, key=KEY):
    return server.request(method, path, body, key=key)


def receiver_url(server, name: str) -> str:
    return f"{server.url}/_local/webhook-receiver/{name}"


def received(server, name: str) -> list[dict]:
    return requests.get(receiver_url(server, name), timeout=10).json()["received"]


def new_endpoint(server, events, name=None, key=KEY, url=None) -> dict:
    name = name or f"r-{uuid.uuid4().hex[:8]}"
    answer = api(server, "POST", "/webhook-endpoints", {"url": url or receiver_url(server, name), "events": events,
                                                        "description": "test"}, key=key)
    assert answer.status_code == 201, answer.text
    return {**answer.json(), "receiver": name}


def place(server, provider="twilio", **fields) -> dict:
    answer = api(server, "POST", "/calls/initiate", {"from_phone_number": NUMBERS[provider], "to_phone_number": TO,
                                                     **fields})
    assert answer.status_code == 200, answer.text
    return answer.json()


def emulate(server, call_sid, *args) -> subprocess.CompletedProcess:
    done = subprocess.run([*OUTBOUND, "emulate-call", call_sid, "--server", server.url, *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def events_of(server, name, call_id) -> list[dict]:
    found = []
    for entry in received(server, name):
        payload = json.loads(entry["body"])
        if payload["data"]["call_id"] == call_id:
            found.append({**payload, "_headers": entry["headers"], "_answered": entry["answered"],
                          "_raw": entry["body"]})
    return found


def deliveries(server, call_ref, key=KEY, endpoint=None):
    """The call's deliveries (to ``endpoint`` only, when given: other tests' endpoints subscribe too)."""
    answer = api(server, "GET", f"/calls/{call_ref}/webhook-deliveries", key=key)
    assert answer.status_code == 200, answer.text
    return [d for d in answer.json()["deliveries"] if endpoint is None or d["endpoint_id"] == endpoint["id"]]


# --- signed, with the outcome ------------------------------------------------------------------------

def test_events_are_signed_per_standard_webhooks_and_carry_the_outcome(hooks):
    endpoint = new_endpoint(hooks, ["call.queued", "call.ringing", "call.answered", "call.completed"])
    assert endpoint["secret"].startswith("whsec_")
    call = place(hooks, metadata={"crm_id": "A-17", "attempt": 2}, external_id="order-9",
                 answering_machine_detection=True)
    emulate(hooks, call["call_sid"], "--outcome", "completed", "--duration", "65", "--answered-by", "machine")
    events = wait_for(lambda: [e for e in events_of(hooks, endpoint["receiver"], call["call_id"])
                               if e["type"] == "call.completed"] and events_of(hooks, endpoint["receiver"], call["call_id"]))
    assert sorted(e["type"] for e in events) == ["call.answered", "call.completed", "call.queued", "call.ringing"]
    verifier = Webhook(endpoint["secret"])
    for event in events:
        assert verifier.verify(event["_raw"], event["_headers"])["type"] == event["type"]  # the receiver's check
        assert event["_headers"]["webhook-id"].startswith("evt_")
    with pytest.raises(WebhookVerificationError):  # a changed body does not verify
        verifier.verify(events[0]["_raw"].replace("order-9", "order-8"), events[0]["_headers"])
    with pytest.raises(WebhookVerificationError):  # nor another endpoint's secret
        Webhook(new_endpoint(hooks, ["call.completed"])["secret"]).verify(events[0]["_raw"], events[0]["_headers"])
    final = next(e for e in events if e["type"] == "call.completed")
    data = final["data"]
    assert data["status"] == "completed" and data["sequence"] == 4
    assert data["metadata"] == {"crm_id": "A-17", "attempt": 2} and data["external_id"] == "order-9"
    assert data["answered_by"] == "machine" and data["duration_seconds"] == 65 and data["charged_cents"] == 20
    assert all(e["data"]["external_id"] == "order-9" for e in events)


def test_every_status_change_is_published_on_the_event_bus(hooks):
    call = place(hooks, external_id="bus-1")
    emulate(hooks, call["call_sid"], "--outcome", "busy")

    def published():
        entries = requests.get(hooks.url + "/_local/events", timeout=10).json()
        return [e for e in entries if e["Detail"]["data"].get("call_id") == call["call_id"]]  # campaigns' too
    entries = wait_for(lambda: len(published()) >= 3 and published())
    assert {(e["EventBusName"], e["Source"], e["DetailType"]) for e in entries} == {
        ("CallEventsBus", "outbound.calls", "Call Status Changed")}
    assert [e["Detail"]["type"] for e in entries] == ["call.queued", "call.ringing", "call.completed"]
    assert entries[-1]["Detail"]["data"]["status"] == "busy" and entries[-1]["Detail"]["data"]["external_id"] == "bus-1"


# --- retries -----------------------------------------------------------------------------------------

def test_a_receiver_failing_three_times_gets_one_success_and_the_attempts_are_logged(hooks):
    endpoint = new_endpoint(hooks, ["call.completed"])
    requests.post(receiver_url(hooks, endpoint["receiver"]) + "/behaviour", json={"fail": 3, "status": 503},
                  timeout=10)
    call = place(hooks)
    emulate(hooks, call["call_sid"], "--outcome", "no-answer")

    def settled():
        found = deliveries(hooks, call["call_sid"], endpoint=endpoint)
        return found if found and found[0]["status"] == "succeeded" else None
    [delivery] = wait_for(settled, timeout=45)
    assert delivery["event_type"] == "call.completed" and delivery["attempt_count"] == 4
    assert [a["status_code"] for a in delivery["attempts"]] == [503, 503, 503, 200]
    assert [a["error"] for a in delivery["attempts"]] == ["HTTP 503"] * 3 + [None]
    assert [a["attempt"] for a in delivery["attempts"]] == [1, 2, 3, 4]
    assert all(a["latency_ms"] >= 0 for a in delivery["attempts"])
    time.sleep(3)  # nothing more arrives once one attempt succeeded
    arrived = received(hooks, endpoint["receiver"])
    assert [r["answered"] for r in arrived] == [503, 503, 503, 200]
    assert len({r["headers"]["webhook-id"] for r in arrived}) == 1  # the same message each time


def test_a_delivery_can_be_retried_by_hand(hooks):
    endpoint = new_endpoint(hooks, ["call.completed"])
    call = place(hooks)
    emulate(hooks, call["call_sid"], "--outcome", "canceled")
    [delivery] = wait_for(lambda: [d for d in deliveries(hooks, call["call_id"], endpoint=endpoint)
                                   if d["status"] == "succeeded"])
    answer = api(hooks, "POST", f"/webhook-deliveries/{delivery['id']}/retry")
    assert answer.status_code == 202 and answer.json()["status"] == "pending"
    arrived = wait_for(lambda: len(received(hooks, endpoint["receiver"])) == 2 and received(hooks, endpoint["receiver"]))
    assert arrived[0]["headers"]["webhook-id"] == arrived[1]["headers"]["webhook-id"]  # a replay of the same event
    [again] = wait_for(lambda: [d for d in deliveries(hooks, call["call_id"], endpoint=endpoint)
                                if d["status"] == "succeeded"])
    assert again["attempt_count"] == 2
    assert api(hooks, "POST", f"/webhook-deliveries/{delivery['id']}/retry", key=OTHER_KEY).status_code == 404
    assert api(hooks, "POST", "/webhook-deliveries/dlv_bm9wZQ/retry").status_code == 404


# --- SSRF ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("url,rule", [
    ("https://10.0.0.5/hook", "10.0.0.5 is a private address"),
    ("https://169.254.169.254/latest/meta-data/", "169.254.169.254 is a cloud metadata address"),
    ("https://[::ffff:192.168.1.4]/hook", "a private address"),
    ("https://[fd00:ec2::254]/", "a cloud metadata address"),
    ("https://100.64.0.1/", "not a publicly routable address"),
    ("https://user:pw@hooks.example.com/", "url must not contain a user name or password"),
    ("ftp://hooks.example.com/", "url must be an absolute https:// URL"),
    ("https://no-such-host.invalid/", "url host no-such-host.invalid does not resolve"),
])
def test_urls_that_reach_private_addresses_are_refused_at_creation(hooks, url, rule):
    answer = api(hooks, "POST", "/webhook-endpoints", {"url": url, "events": ["call.completed"]})
    assert answer.status_code == 400
    assert rule in answer.json()["detail"]


def test_a_name_that_resolves_to_a_private_address_is_refused_at_creation(hooks):
    requests.post(hooks.url + "/_local/dns", json={"host": "internal.hooks.test", "addresses": ["10.1.2.3"]},
                  timeout=10)
    answer = api(hooks, "POST", "/webhook-endpoints", {"url": "https://internal.hooks.test/x", "events": ["call.completed"]})
    assert answer.status_code == 400
    assert answer.json()["detail"] == ("url must not reach private, loopback, link-local or metadata addresses: "
                                       "internal.hooks.test resolves to 10.1.2.3, a private address")


def test_an_address_refused_at_delivery_time_is_never_contacted(hooks):
    """The name resolved to loopback (allowed locally) when the endpoint was made; at delivery it
    resolves to a private address: the attempt is refused, and nothing reaches the receiver."""
    port = hooks.url.rsplit(":", 1)[1]
    requests.post(hooks.url + "/_local/dns", json={"host": "rebind.hooks.test", "addresses": ["127.0.0.1"]}, timeout=10)
    name = f"rebind-{uuid.uuid4().hex[:6]}"
    endpoint = new_endpoint(hooks, ["call.completed"], name=name,
                            url=f"http://rebind.hooks.test:{port}/_local/webhook-receiver/{name}")
    requests.post(hooks.url + "/_local/dns", json={"host": "rebind.hooks.test", "addresses": ["10.9.8.7"]}, timeout=10)
    call = place(hooks)
    emulate(hooks, call["call_sid"], "--outcome", "busy")
    [delivery] = wait_for(lambda: [d for d in deliveries(hooks, call["call_id"], endpoint=endpoint)
                                   if d["attempt_count"] >= 1])
    first = delivery["attempts"][0]
    assert first["status_code"] is None and first["latency_ms"] == 0
    assert "rebind.hooks.test resolves to 10.9.8.7, a private address" in first["error"]
    assert received(hooks, name) == []
    # DNS is checked again at every attempt: once the name is safe again, the retry gets through.
    requests.post(hooks.url + "/_local/dns", json={"host": "rebind.hooks.test", "addresses": ["127.0.0.1"]}, timeout=10)
    assert wait_for(lambda: received(hooks, name), timeout=30)
    assert endpoint["id"] == delivery["endpoint_id"]


# --- ordering --------------------------------------------------------------------------------------

def test_reordered_provider_webhooks_keep_each_calls_events_in_sequence(hooks):
    from outbound_local.emulators import twilio as twilio_emulator
    from outbound_local.emulators import webhooks

    endpoint = new_endpoint(hooks, ["call.queued", "call.ringing", "call.answered", "call.completed"])
    call = place(hooks)
    record = api(hooks, "GET", f"/calls/{call['call_id']}").json()
    url = f"{hooks.url}/webhooks/twilio?call_id={call['call_id']}"
    callbacks = {c.label: c for c in webhooks.callbacks(record, twilio_emulator.DEFAULT_CREDENTIALS, url,
                                                         "completed", 30)}
    # The provider's callbacks arrive out of order: ringing, completed, then the late ones.
    for label in ("ringing", "completed", "in-progress", "queued"):
        status, _ = webhooks.send(callbacks[label])
        assert status == 200
    events = wait_for(lambda: len(events_of(hooks, endpoint["receiver"], call["call_id"])) >= 3
                      and events_of(hooks, endpoint["receiver"], call["call_id"]))
    time.sleep(1)  # nothing else comes
    events = events_of(hooks, endpoint["receiver"], call["call_id"])
    ordered = sorted(events, key=lambda e: e["data"]["sequence"])
    assert [e["type"] for e in ordered] == ["call.queued", "call.ringing", "call.completed"]
    assert [e["data"]["sequence"] for e in ordered] == [RANKS[e["data"]["status"]] for e in ordered] == [1, 2, 4]


# --- machine detection, every provider ------------------------------------------------------------

@pytest.mark.parametrize("provider", ["twilio", "telnyx", "vonage", "sip"])
def test_machine_detection_end_to_end(hooks, provider):
    endpoint = new_endpoint(hooks, ["call.completed"])
    call = place(hooks, provider, answering_machine_detection={"mode": "detect"}, ring_timeout_seconds=40,
                 max_duration_seconds=300)
    sent = [r for r in requests.get(hooks.url + "/_local/provider-requests", timeout=10).json()
            if r["provider"] == provider][-1]["body"]
    amd_on_the_wire = {"twilio": lambda b: b["MachineDetection"] == ["Enable"] and b["AsyncAmd"] == ["true"],
                       "telnyx": lambda b: b["answering_machine_detection"] == "detect",
                       "vonage": lambda b: b["advanced_machine_detection"] == {"behavior": "continue", "mode": "detect"},
                       "sip": lambda b: "execute_on_answer_amd=amd" in b}[provider]
    assert amd_on_the_wire(sent), sent
    out = emulate(hooks, call["call_sid"], "--outcome", "completed", "--duration", "20", "--answered-by", "machine")
    assert "answered-by" in out.stdout  # the provider's own detection event was sent
    assert api(hooks, "GET", f"/calls/{call['call_id']}").json()["answered_by"] == "machine"
    [event] = wait_for(lambda: events_of(hooks, endpoint["receiver"], call["call_id"]))
    assert event["data"]["answered_by"] == "machine" and event["data"]["ring_timeout_seconds"] == 40
    assert event["data"]["answering_machine_detection"] == {"mode": "detect"}


# --- the endpoints themselves -----------------------------------------------------------------------

def test_endpoints_are_organization_scoped_and_secrets_shown_once(hooks):
    endpoint = new_endpoint(hooks, ["call.completed"])
    mine = api(hooks, "GET", f"/webhook-endpoints/{endpoint['id']}")
    assert mine.status_code == 200 and "secret" not in mine.json()
    assert endpoint["id"] in [e["id"] for e in api(hooks, "GET", "/webhook-endpoints").json()["webhook_endpoints"]]
    for method, path in (("GET", f"/webhook-endpoints/{endpoint['id']}"), ("DELETE", f"/webhook-endpoints/{endpoint['id']}"),
                         ("POST", f"/webhook-endpoints/{endpoint['id']}/rotate-secret")):
        answer = api(hooks, method, path, key=OTHER_KEY)
        assert answer.status_code == 404 and answer.json() == {"detail": f"Webhook endpoint {endpoint['id']} not found"}
    assert endpoint["id"] not in [e["id"] for e in api(hooks, "GET", "/webhook-endpoints", key=OTHER_KEY).json()["webhook_endpoints"]]
    call = place(hooks)
    assert api(hooks, "GET", f"/calls/{call['call_id']}/webhook-deliveries", key=OTHER_KEY).status_code == 404
    assert api(hooks, "DELETE", f"/webhook-endpoints/{endpoint['id']}").status_code == 200
    assert api(hooks, "GET", f"/webhook-endpoints/{endpoint['id']}").status_code == 404


def test_invalid_bodies_answer_400_naming_the_field(hooks):
    cases = [({"events": ["call.completed"]}, "url is required"),
             ({"url": "https://8.8.8.8/", "events": ["call.finished"]},
              "events.0 must be one of: call.queued, call.ringing, call.answered, call.completed, "
              "campaign.status_changed, campaign.contact_finalized, contact.opted_out"),
             ({"url": "https://8.8.8.8/", "events": ["call.completed"], "secret": "mine"}, "Unknown field: secret")]
    for body, detail in cases:
        answer = api(hooks, "POST", "/webhook-endpoints", body)
        assert (answer.status_code, answer.json()) == (400, {"detail": detail})


def test_rotation_signs_with_both_secrets_for_the_overlap(hooks):
    endpoint = new_endpoint(hooks, ["call.completed"])
    rotated = api(hooks, "POST", f"/webhook-endpoints/{endpoint['id']}/rotate-secret")
    assert rotated.status_code == 200
    new_secret = rotated.json()["secret"]
    assert new_secret != endpoint["secret"] and rotated.json()["previous_secret_expires_at"]
    call = place(hooks)
    emulate(hooks, call["call_sid"], "--outcome", "failed")
    [event] = wait_for(lambda: events_of(hooks, endpoint["receiver"], call["call_id"]))
    assert len(event["_headers"]["webhook-signature"].split(" ")) == 2
    for secret in (new_secret, endpoint["secret"]):  # a receiver on either secret verifies it
        Webhook(secret).verify(event["_raw"], event["_headers"])
