"""Ending a live call (POST /calls/{call_ref}/terminate) over real HTTP against `outbound serve`:
each provider's own hang-up reaches its emulator, which ends the call and sends its final signed
status webhook, and the call settles from it as any other; idempotent; 409 once ended; and a
campaign canceled with ``?end_calls=true`` ends the calls it has in flight."""
from __future__ import annotations

import subprocess

import pytest
import requests

from outbound_local.emulators.emulate import emulate_call
from tests.conftest import OUTBOUND, ROOT, wait_for

pytestmark = pytest.mark.integration

TO = "+15559876543"
NUMBERS = {"twilio": "+15551234567", "telnyx": "+15551230007", "vonage": "+15551230008", "sip": "+15551230009"}
RATE = 12  # org_acme's per_minute_rate_cents


@pytest.fixture(scope="module", autouse=True)
def funded(server):
    server.add_funds("org_acme", 10_000)  # every call of this module holds a reserve until it ends


def place(server, provider: str) -> dict:
    response = server.initiate({"from_phone_number": NUMBERS[provider], "to_phone_number": TO})
    assert response.status_code == 200, response.text
    return response.json()


def record(server, call_ref: str) -> dict:
    response = server.request("GET", f"/calls/{call_ref}")
    assert response.status_code == 200, response.text
    return response.json()


def terminate(server, call_ref: str, key: str = "sk_live_acme_demo") -> requests.Response:
    return server.request("POST", f"/calls/{call_ref}/terminate", key=key)


def settled(server, call_id: str) -> dict:
    return wait_for(lambda: (lambda r: r if r["settled_at"] else None)(record(server, call_id)), timeout=20,
                    what=f"call {call_id} to settle from its final webhook")


def hang_ups(server, provider: str, call_sid: str) -> list[dict]:
    """The hang-up requests the provider's emulator received for this call."""
    found = []
    for entry in server.provider_requests():
        if entry["provider"] != provider:
            continue
        if provider == "twilio" and entry["method"] == "POST" and entry["path"].endswith(f"/Calls/{call_sid}.json"):
            found.append(entry)
        elif provider == "telnyx" and entry["path"].endswith("/actions/hangup") and call_sid in entry["path"]:
            found.append(entry)
        elif provider == "vonage" and entry["method"] == "PUT" and entry["path"] == f"/v1/calls/{call_sid}":
            found.append(entry)
        elif provider == "sip" and entry["body"] == f"api uuid_kill {call_sid}":
            found.append(entry)
    return found


@pytest.mark.parametrize("provider", ["twilio", "telnyx", "vonage", "sip"])
def test_an_answered_call_is_hung_up_by_its_provider_and_settles_from_the_final_webhook(server, provider):
    placed = place(server, provider)
    emulate_call(server.url, placed["call_id"], "in-progress", 0)  # answered, talking
    assert record(server, placed["call_id"])["status"] == "in-progress"

    response = terminate(server, placed["call_sid"])
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["call_id"] == placed["call_id"] and body["call_sid"] == placed["call_sid"]
    assert body["status"] == "in-progress"  # as it is now: it ends with the provider's final webhook

    [request] = hang_ups(server, provider, placed["call_sid"])
    if provider == "twilio":
        assert request["body"] == {"Status": ["completed"]}
    elif provider == "vonage":
        assert request["body"] == {"action": "hangup"}

    ended = settled(server, placed["call_id"])
    assert ended["status"] == "completed" and ended["ended_at"]
    assert ended["charged_cents"] == RATE * -(-ended["duration_seconds"] // 60)
    assert ended["reserve_cents"] == 0

    again = terminate(server, placed["call_id"])
    assert again.status_code == 409
    assert again.json() == {"detail": f"Call {placed['call_id']} has already ended (completed)"}
    assert len(hang_ups(server, provider, placed["call_sid"])) == 1  # the provider was not asked again


@pytest.mark.parametrize("provider", ["twilio", "telnyx"])
def test_a_call_still_ringing_ends_canceled_and_costs_nothing(server, provider):
    placed = place(server, provider)
    assert terminate(server, placed["call_id"]).status_code == 202
    ended = settled(server, placed["call_id"])
    assert ended["status"] == "canceled" and ended["charged_cents"] == 0 and ended["reserve_cents"] == 0


@pytest.mark.parametrize("provider", ["twilio", "telnyx", "vonage", "sip"])
def test_a_call_the_provider_has_already_ended_is_accepted_again(server, provider):
    """Idempotent: the provider says there is nothing left to hang up (the call ended there and its
    final webhook has not reached us yet): the request is still a success, and nothing changes."""
    placed = place(server, provider)
    played = requests.post(server.url + "/_local/provider-calls/play", timeout=10,
                           json={"call_sid": placed["call_sid"], "outcome": "completed", "duration": 30}).json()
    assert played["call"]["status"] == "completed"  # at the provider; no webhook sent
    first, second = terminate(server, placed["call_sid"]), terminate(server, placed["call_sid"])
    assert (first.status_code, second.status_code) == (202, 202), (first.text, second.text)
    assert record(server, placed["call_id"])["status"] == "queued"  # until the provider's webhook says otherwise


def test_refusals(server):
    placed = place(server, "twilio")
    assert terminate(server, "call_" + "0" * 24).status_code == 404
    assert terminate(server, "CAnot-a-call").json() == {"detail": "Call CAnot-a-call not found"}
    # another organization's call is not found either
    assert terminate(server, placed["call_sid"], key="sk_live_globex_demo").status_code == 404
    assert server.request("POST", f"/calls/{placed['call_id']}/terminate", key=None).status_code == 401

    done = subprocess.run([*OUTBOUND, "emulate-call", placed["call_sid"], "--outcome", "busy", "--server", server.url],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    refused = terminate(server, placed["call_sid"])
    assert refused.status_code == 409
    assert refused.json() == {"detail": f"Call {placed['call_id']} has already ended (busy)"}


# --- a campaign canceled with its calls in flight ----------------------------------------------------

DIALER_KEY, DIALER_FROM = "sk_test_dialer", "+15551235101"
ALL_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def test_canceling_a_campaign_can_end_its_calls_in_flight(server):
    from tests.integration.test_campaigns_http import daytime_zone

    done = subprocess.run([*OUTBOUND, "seed", str(ROOT / "tests" / "fixtures" / "campaigns.json"),
                           "--local-server", server.url], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    created = server.request("POST", "/campaigns", {
        "name": "ended with its calls", "from_phone_number": DIALER_FROM, "variables": {"what": "it", "name": "Ada"},
        "calling_window": {"days": ALL_DAYS, "start": "08:00", "end": "21:00"},
        "pacing": {"max_concurrent_calls": 2, "calls_per_minute": 600}}, key=DIALER_KEY)
    assert created.status_code == 201, created.text
    campaign_id = created.json()["campaign_id"]
    contacts = [{"phone_number": f"+1212558{n:04d}", "timezone": daytime_zone()} for n in range(1, 4)]
    added = server.request("POST", f"/campaigns/{campaign_id}/contacts", {"contacts": contacts}, key=DIALER_KEY)
    assert added.json()["added"] == 3, added.text
    assert server.request("POST", f"/campaigns/{campaign_id}/start", key=DIALER_KEY).status_code == 200

    def in_flight():
        listed = server.request("GET", f"/campaigns/{campaign_id}/contacts?status=dialing", key=DIALER_KEY).json()
        calls = [record_of(server, c["current_call_id"]) for c in listed["contacts"] if c["current_call_id"]]
        return calls if len(calls) == 2 and all(c and c["call_sid"] for c in calls) else None

    calls = wait_for(in_flight, timeout=30, what="two placed calls")
    canceled = server.request("POST", f"/campaigns/{campaign_id}/cancel?end_calls=true", key=DIALER_KEY)
    assert canceled.status_code == 200, canceled.text
    body = canceled.json()
    assert body["status"] == "canceled"
    assert sorted(body["ended_calls"]["requested"]) == sorted(c["call_id"] for c in calls)
    assert body["ended_calls"]["not_ended"] == []
    for call in calls:
        ended = wait_for(lambda: (lambda r: r if r["settled_at"] else None)(record_of(server, call["call_id"])),
                         timeout=20, what="the campaign's call to end")
        assert ended["status"] == "canceled"
    final = wait_for(lambda: (lambda c: c if c["progress"]["in_flight"] == 0 else None)(
        server.request("GET", f"/campaigns/{campaign_id}", key=DIALER_KEY).json()), timeout=30,
        what="no call left in flight")
    assert final["progress"]["by_status"]["dialing"] == 0 and final["progress"]["by_status"]["in_progress"] == 0


def record_of(server, call_id: str) -> dict | None:
    """A call of the dialer's organization, or None while its record does not exist yet."""
    response = server.request("GET", f"/calls/{call_id}", key=DIALER_KEY)
    return response.json() if response.status_code == 200 else None


def test_cancel_without_the_option_leaves_calls_alone(server):
    """The option is off by default: a canceled campaign's calls in flight finish normally."""
    created = server.request("POST", "/campaigns", {"name": "kept", "from_phone_number": NUMBERS["twilio"]})
    assert created.status_code == 201, created.text
    canceled = server.request("POST", f"/campaigns/{created.json()['campaign_id']}/cancel")
    assert canceled.status_code == 200 and "ended_calls" not in canceled.json()
    bad = server.request("POST", f"/campaigns/{created.json()['campaign_id']}/cancel?end_calls=maybe")
    assert bad.status_code == 400
