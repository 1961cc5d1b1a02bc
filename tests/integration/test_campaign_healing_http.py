"""Campaigns that heal themselves and keep time, end to end over HTTP against a real `outbound
serve` of their own (injected DynamoDB faults must not be consumed by other tests' work): a fault
at start or in a dial stalls nothing, a contact left dialing without a dial is repaired by the
heartbeat, an attempt whose outcome is unknown is resolved from the provider's own records (never
retried blindly), reserves in flight defer dials instead of pausing, a credit resumes a campaign
paused for balance, start_at / end_at / retry delays are kept to the second, and a cancel
releases the dials still queued. The thresholds of the repairs are lowered for the test server
(settings in outbound.config), as a deployment could."""
from __future__ import annotations

import itertools
import subprocess
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import requests

from tests.conftest import OUTBOUND, ROOT, TEST_SERVER_ENV, start_server, wait_for

pytestmark = pytest.mark.integration

UTC = timezone.utc
MENDER, TIGHT, LEAN = "sk_test_mender", "sk_test_tight", "sk_test_lean"
TWILIO_FROM, SIP_FROM = "+15551236101", "+15551236109"
TIGHT_FROM, LEAN_FROM = "+15551236201", "+15551236301"
# The emulators' magic destinations, as their twins of no known zone (+1 500 maps to every NANP
# zone, which a campaign's calling rules allow only 22:00-07:00 UTC).
SILENT, DROPPED = "+15550000002", "+15550000003"
ALL_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_numbers = itertools.count(1)
REPAIR_ENV = {"OUTBOUND_CAMPAIGN_UNKNOWN_CHECK_SECONDS": "2", "OUTBOUND_CAMPAIGN_NEVER_RANG_SECONDS": "3",
              "OUTBOUND_CAMPAIGN_UNKNOWN_GIVE_UP_SECONDS": "8", "OUTBOUND_CAMPAIGN_LOST_DIAL_SECONDS": "5"}


@pytest.fixture(scope="module")
def api():
    server = start_server(env={**TEST_SERVER_ENV, **REPAIR_ENV})
    try:
        server.outbound("seed", str(ROOT / "tests" / "fixtures" / "campaign_healing.json"), "--local-server", server.url)
        # Several tests dial the emulators' magic numbers: the default cap (3 dials per person in
        # 24 h, which campaigns always obey) is the compliance tests' subject, not these.
        raised = requests.put(server.url + "/organization/calling-rules", json={"max_dials_24h": 20},
                              headers={"Authorization": f"Bearer {MENDER}"}, timeout=30)
        assert raised.status_code == 200, raised.text
        yield server
    finally:
        server.stop()


@pytest.fixture
def faults(api):
    url = api.url + "/_local/faults/dynamodb"
    requests.delete(url, timeout=10)

    def inject(operation, error, count, **options):
        answer = requests.post(url, json={"operation": operation, "error": error, "count": count, **options},
                               timeout=10).json()
        assert "error" not in answer, answer
        return answer

    inject.clear = lambda: requests.delete(url, timeout=10)
    inject.state = lambda: requests.get(url, timeout=10).json()
    yield inject
    requests.delete(url, timeout=10)


def number() -> str:
    return f"+1212558{next(_numbers):04d}"  # +1212 558 xxxx: this module's destinations


def daytime_zone() -> str:
    offset = 12 - datetime.now(UTC).hour
    offset = offset - 24 if offset > 14 else offset + 24 if offset < -12 else offset
    return f"Etc/GMT{-offset:+d}" if offset else "UTC"


def iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def instant(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def call(server, method, path, body=None, key=MENDER):
    return server.request(method, path, body, key=key)


def create(server, key=MENDER, from_number=TWILIO_FROM, **overrides) -> str:
    body = {"name": "Healing", "from_phone_number": from_number, "timezone": "UTC",
            "calling_window": {"days": ALL_DAYS, "start": "08:00", "end": "21:00"},
            "retry_policy": {"max_attempts": 1, "delays_minutes": [0], "retry_on": ["busy", "no-answer", "failed"]},
            "pacing": {"max_concurrent_calls": 5, "calls_per_minute": 600}, **overrides}
    response = call(server, "POST", "/campaigns", body, key=key)
    assert response.status_code == 201, response.text
    campaign_id = response.json()["campaign_id"]
    return campaign_id


def add(server, campaign_id, phones, key=MENDER):
    response = call(server, "POST", f"/campaigns/{campaign_id}/contacts",
                    {"contacts": [{"phone_number": p, "timezone": daytime_zone()} for p in phones]}, key=key)
    assert response.status_code == 200 and response.json()["added"] == len(phones), response.text


def start(server, campaign_id, key=MENDER) -> dict:
    response = call(server, "POST", f"/campaigns/{campaign_id}/start", key=key)
    assert response.status_code == 200, response.text
    return response.json()


def get(server, campaign_id, key=MENDER) -> dict:
    response = call(server, "GET", f"/campaigns/{campaign_id}", key=key)
    assert response.status_code == 200, response.text
    return response.json()


def contacts_of(server, campaign_id, key=MENDER) -> list[dict]:
    body = call(server, "GET", f"/campaigns/{campaign_id}/contacts?limit=100", key=key).json()
    return body["contacts"]


def by_phone(server, campaign_id, key=MENDER) -> dict[str, dict]:
    return {c["phone_number"]: c for c in contacts_of(server, campaign_id, key)}


def placed(server) -> dict[str, dict]:
    """Our call id -> {provider, call_sid}: what the emulated providers placed."""
    return requests.get(server.url + "/_local/provider-calls", timeout=10).json()


def placed_for(server, campaign_id, key=MENDER) -> list[str]:
    calls = placed(server)
    ids = [cid for c in contacts_of(server, campaign_id, key) for cid in [*c["call_ids"], c["current_call_id"]] if cid]
    return sorted({cid for cid in ids if cid in calls})


def create_requests(server, call_id) -> int:
    """Create-call requests that reached a provider for this call (reads of its records excluded)."""
    found = requests.get(server.url + f"/_local/provider-requests?call_id={call_id}", timeout=10).json()
    return sum(1 for entry in found if entry["method"] != "GET")


def end(server, call_id, outcome="completed", duration=30):
    done = subprocess.run([*OUTBOUND, "emulate-call", call_id, "--outcome", outcome, "--duration", str(duration),
                           "--server", server.url], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def record(server, call_id, key=MENDER) -> dict:
    response = call(server, "GET", f"/calls/{call_id}", key=key)
    return response.json() if response.status_code == 200 else {}


# --- item 1: a DynamoDB fault stalls nothing ---------------------------------------------------------

def test_a_brief_dynamodb_fault_at_start_does_not_stall_the_campaign(api, faults):
    """Four throttled transactions right after start used up the first tick's retries: the
    campaign must dial within seconds, not after the ticks queue's visibility timeout (180 s)."""
    campaign_id = create(api)
    add(api, campaign_id, [number(), number()])
    faults("TransactWriteItems", "ThrottlingException", 4)
    start(api, campaign_id)
    wait_for(lambda: len(placed_for(api, campaign_id)) == 2, timeout=20, what="both contacts dialed after the fault")
    assert get(api, campaign_id)["progress"]["in_flight"] == 2


def test_a_long_dynamodb_fault_ends_and_the_campaign_dials_within_seconds(api, faults):
    """A fault longer than a tick's retries: once it ends, dialing resumes within seconds, and no
    tick went to the dead-letter queue."""
    campaign_id = create(api)
    add(api, campaign_id, [number()])
    faults("TransactWriteItems", "ThrottlingException", 100_000)
    start(api, campaign_id)
    time.sleep(25)
    assert placed_for(api, campaign_id) == []
    faults.clear()
    ended = time.monotonic()
    wait_for(lambda: placed_for(api, campaign_id), timeout=30, what="the dial after the fault")
    assert time.monotonic() - ended < 10
    sources = requests.get(api.url + "/_local/event-sources", timeout=10).json()
    assert all(not s["dead_lettered"] for s in sources if s["function"] == "CampaignDispatcherFunction")


# --- item 2: a failed dial gives its slot back; the heartbeat repairs a lost one -------------------------

def test_a_dial_that_meets_errors_gives_its_slot_back_and_is_dialed_again(api, faults):
    campaign_id = create(api, pacing={"max_concurrent_calls": 1, "calls_per_minute": 600})
    phone = number()
    add(api, campaign_id, [phone])
    faults("BatchGetItem", "ThrottlingException", 3)  # the dialer's one read, all three attempts
    start(api, campaign_id)
    [call_id] = wait_for(lambda: placed_for(api, campaign_id), timeout=20, what="the dial once the fault passed")
    contact = by_phone(api, campaign_id)[phone]
    assert contact["attempts"] == 1 and contact["current_call_id"] == call_id  # the failed dial burned nothing
    assert create_requests(api, call_id) == 1


def test_a_contact_left_dialing_without_its_dial_is_repaired_by_the_heartbeat(api):
    """Its dial message is lost (purged from the queue): the campaign's next heartbeat finds the
    contact dialing with no call behind it and dials it again."""
    import boto3

    campaign_id = create(api, pacing={"max_concurrent_calls": 5, "calls_per_minute": 6})
    phones = [number(), number()]
    add(api, campaign_id, phones)
    start(api, campaign_id)
    wait_for(lambda: get(api, campaign_id)["progress"]["in_flight"] == 2, timeout=10, what="both claimed")
    info = api.aws()
    sqs = boto3.client("sqs", endpoint_url=info["endpoint_url"], region_name=info["region"],
                       aws_access_key_id="local", aws_secret_access_key="local")
    sqs.purge_queue(QueueUrl=info["environment"]["CAMPAIGN_DIAL_QUEUE_URL"])  # the second slot is 10 s away
    time.sleep(15)
    assert len(placed_for(api, campaign_id)) < 2  # the second dial is gone
    wait_for(lambda: len(placed_for(api, campaign_id)) == 2, timeout=110, every=1,
             what="the lost dial repaired by the heartbeat")
    assert {c["attempts"] for c in contacts_of(api, campaign_id)} == {1}


# --- item 3: an unknown outcome is resolved from the provider's records ------------------------------------

def test_an_unknown_outcome_is_settled_from_the_providers_record_and_not_retried(api):
    """The provider took the call but its answer never came (504, unconfirmed) and no webhook
    follows: the provider's record says completed, so the contact is completed, not retried."""
    campaign_id = create(api, retry_policy={"max_attempts": 3, "delays_minutes": [0],
                                            "retry_on": ["busy", "no-answer", "failed"]})
    add(api, campaign_id, [SILENT])
    start(api, campaign_id)
    [call_id] = wait_for(lambda: placed_for(api, campaign_id), timeout=20, what="the call at the provider")
    sid = placed(api)[call_id]["call_sid"]
    requests.post(api.url + "/_local/provider-calls/play", json={"call_sid": sid, "outcome": "completed",
                                                                  "duration": 42}, timeout=10)
    done = wait_for(lambda: (c := get(api, campaign_id))["status"] == "completed" and c, timeout=40,
                    what="the contact settled from the provider's record")
    [contact] = contacts_of(api, campaign_id)
    assert contact["status"] == "completed" and contact["attempts"] == 1
    assert done["progress"]["attempts"] == 1 and create_requests(api, call_id) == 1
    settled = record(api, call_id)
    assert settled["status"] == "completed" and settled["duration_seconds"] == 42


def test_a_call_the_provider_never_placed_is_retried_within_seconds(api):
    """The connection dropped and the provider has no record of the call: it never rang, so the
    attempt is retried (the policy retries failed), each attempt one create-call."""
    campaign_id = create(api, retry_policy={"max_attempts": 2, "delays_minutes": [0], "retry_on": ["failed"]})
    add(api, campaign_id, [DROPPED])
    start(api, campaign_id)
    done = wait_for(lambda: (c := get(api, campaign_id))["status"] == "completed" and c, timeout=60,
                    what="both attempts resolved")
    [contact] = contacts_of(api, campaign_id)
    assert contact["status"] == "failed" and contact["attempts"] == 2 and len(contact["call_ids"]) == 2
    assert [create_requests(api, cid) for cid in contact["call_ids"]] == [1, 1]
    assert done["progress"]["attempts"] == 2


def test_an_outcome_that_stays_unknown_ends_the_contact_unknown_without_a_retry(api):
    """A SIP call whose bridge dropped the connection: no provider records to ask. The contact
    ends `unknown` (its slot given back), not `failed`, and is not retried though the policy
    retries failed calls; a campaign that opts in retries it."""
    campaign_id = create(api, from_number=SIP_FROM,
                         retry_policy={"max_attempts": 2, "delays_minutes": [0], "retry_on": ["failed"]})
    add(api, campaign_id, [DROPPED])
    start(api, campaign_id)
    done = wait_for(lambda: (c := get(api, campaign_id))["status"] == "completed" and c, timeout=60,
                    what="the contact ended unknown")
    [contact] = contacts_of(api, campaign_id)
    assert contact["status"] == "unknown" and contact["attempts"] == 1
    assert done["progress"]["by_status"]["unknown"] == 1 and done["progress"]["in_flight"] == 0

    opted_in = create(api, from_number=SIP_FROM,
                      retry_policy={"max_attempts": 2, "delays_minutes": [0], "retry_on": ["unknown"]})
    add(api, opted_in, [DROPPED])
    start(api, opted_in)
    wait_for(lambda: get(api, opted_in)["status"] == "completed", timeout=60, what="both attempts unknown")
    [contact] = contacts_of(api, opted_in)
    assert contact["status"] == "unknown" and contact["attempts"] == 2


# --- item 4: reserves in flight defer; a credit resumes ---------------------------------------------------

def test_reserves_in_flight_defer_dials_instead_of_pausing(api):
    """Two campaigns share 338 cents at 100 per reserve: the fourth dial meets a 402 while three
    calls hold reserves. Nobody pauses; the dial waits until the calls settle."""
    first, second = create(api, key=TIGHT, from_number=TIGHT_FROM, pacing={"max_concurrent_calls": 2,
                                                                          "calls_per_minute": 600}), \
        create(api, key=TIGHT, from_number=TIGHT_FROM, pacing={"max_concurrent_calls": 2, "calls_per_minute": 600})
    for campaign_id in (first, second):
        add(api, campaign_id, [number(), number()], key=TIGHT)
        start(api, campaign_id, key=TIGHT)
    wait_for(lambda: len(placed_for(api, first, TIGHT)) + len(placed_for(api, second, TIGHT)) == 3, timeout=20,
             what="three calls: the balance holds three reserves")
    time.sleep(4)  # the fourth dial has met its 402 by now (several times)
    assert [get(api, c, TIGHT)["status"] for c in (first, second)] == ["running", "running"]
    ended: set[str] = set()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        states = [get(api, c, TIGHT) for c in (first, second)]
        assert all(s["status"] in ("running", "completed") for s in states), states  # never paused
        if all(s["status"] == "completed" for s in states):
            break
        for campaign_id in (first, second):
            for call_id in set(placed_for(api, campaign_id, TIGHT)) - ended:
                end(api, call_id)
                ended.add(call_id)
        time.sleep(0.5)
    states = [get(api, c, TIGHT) for c in (first, second)]
    assert [s["progress"]["by_status"]["completed"] for s in states] == [2, 2], states
    assert sum(s["progress"]["attempts"] for s in states) == 4 and len(ended) == 4


def test_a_campaign_paused_for_balance_resumes_on_its_own_when_a_credit_makes_room(api):
    campaign_id = create(api, key=LEAN, from_number=LEAN_FROM,
                         pacing={"max_concurrent_calls": 2, "calls_per_minute": 600})
    add(api, campaign_id, [number(), number()], key=LEAN)
    start(api, campaign_id, key=LEAN)
    [first] = wait_for(lambda: placed_for(api, campaign_id, LEAN), timeout=20, what="the first call")
    time.sleep(3)  # the second dial met a 402, but the balance covers a call once this one settles
    assert get(api, campaign_id, LEAN)["status"] == "running"
    end(api, first)  # charged 10 cents: 90 left, less than one reserve
    paused = wait_for(lambda: (c := get(api, campaign_id, LEAN))["status"] == "paused"
                      and c["progress"]["in_flight"] == 0 and c, timeout=30,
                      what="paused, the refused dial given back: the balance cannot cover one more call")
    assert paused["paused_reason"] == "insufficient_balance"
    api.outbound("admin", "credit", "org_lean", "1000", "--reason", "top-up", "--reference",
                 f"test-{uuid.uuid4().hex}", "--local-server", api.url)
    resumed = wait_for(lambda: (c := get(api, campaign_id, LEAN))["status"] == "running" and c, timeout=30,
                       what="resumed by the credit")
    assert resumed["resumed_reason"] == "balance_credited" and not resumed.get("paused_reason")
    wait_for(lambda: len(placed_for(api, campaign_id, LEAN)) == 2, timeout=20, what="the second call")

    def resumed_event():
        events = requests.get(api.url + "/_local/events", timeout=10).json()
        return [e for e in events if e["DetailType"] == "Campaign Event" and e["Detail"]["type"] ==
                "campaign.status_changed" and e["Detail"]["data"]["campaign_id"] == campaign_id
                and e["Detail"]["data"]["previous_status"] == "paused"]
    [event] = wait_for(resumed_event, timeout=20, what="the campaign.status_changed event of the resume")
    assert event["Detail"]["data"]["resumed_reason"] == "balance_credited"


# --- item 5: start_at, end_at and retry delays within seconds ----------------------------------------------

def test_start_at_is_kept_to_the_second_and_started_at_says_when_dialing_began(api):
    start_at = datetime.now(UTC) + timedelta(seconds=8)
    campaign_id = create(api, start_at=iso(start_at))
    add(api, campaign_id, [number()])
    assert start(api, campaign_id)["status"] == "scheduled"
    [call_id] = wait_for(lambda: placed_for(api, campaign_id), timeout=40, what="the first dial")
    dialed = instant(record(api, call_id)["created_at"])
    assert start_at <= dialed < start_at + timedelta(seconds=4)
    campaign = get(api, campaign_id)
    assert campaign["status"] == "running"
    assert abs((instant(campaign["started_at"]) - start_at).total_seconds()) < 4


def test_end_at_is_acted_on_within_seconds(api):
    end_at = datetime.now(UTC) + timedelta(seconds=8)
    campaign_id = create(api, end_at=iso(end_at), pacing={"max_concurrent_calls": 5, "calls_per_minute": 6})
    add(api, campaign_id, [number() for _ in range(4)])  # one dial every ~10 s: most wait past end_at
    start(api, campaign_id)
    done = wait_for(lambda: (c := get(api, campaign_id))["status"] == "completed" and c, timeout=40,
                    what="the campaign ended at end_at")
    assert instant(done["completed_at"]) - end_at < timedelta(seconds=4)


def test_a_retry_delay_is_kept_to_the_second(api):
    campaign_id = create(api, retry_policy={"max_attempts": 2, "delays_minutes": [0.1], "retry_on": ["busy"]})
    phone = number()
    add(api, campaign_id, [phone])
    start(api, campaign_id)
    [first] = wait_for(lambda: placed_for(api, campaign_id), timeout=20, what="the first attempt")
    end(api, first, "busy")
    ended = instant(record(api, first)["ended_at"])
    second = wait_for(lambda: [c for c in placed_for(api, campaign_id) if c != first], timeout=40,
                      what="the retry")[0]
    retried = instant(record(api, second)["created_at"])
    assert timedelta(seconds=6) <= retried - ended < timedelta(seconds=10)


# --- item 6: a cancel releases the dials still queued ------------------------------------------------------

def test_cancel_releases_queued_dials_at_once(api):
    campaign_id = create(api, pacing={"max_concurrent_calls": 5, "calls_per_minute": 6})
    add(api, campaign_id, [number() for _ in range(4)])  # slots 0, 10, 20 and 30 s ahead
    start(api, campaign_id)
    [first] = wait_for(lambda: placed_for(api, campaign_id), timeout=20, what="the first call")
    assert get(api, campaign_id)["progress"]["in_flight"] == 4
    call(api, "POST", f"/campaigns/{campaign_id}/cancel")
    released = wait_for(lambda: (c := get(api, campaign_id))["progress"]["in_flight"] == 1 and c, timeout=5,
                        what="the queued dials released")
    assert released["progress"]["by_status"]["canceled"] == 3
    time.sleep(12)  # the next dial's slot has come: it finds its contact released
    assert placed_for(api, campaign_id) == [first]


# --- item 7: `outbound campaign emulate` survives errors ----------------------------------------------------

def test_campaign_emulate_keeps_going_after_an_error(api, faults):
    """An error on the way (here the API answers 503 while DynamoDB is throttled) is reported and
    the emulation goes on until the campaign ends (it used to stop at the first one)."""
    campaign_id = create(api)
    add(api, campaign_id, [number(), number()])
    start(api, campaign_id)
    wait_for(lambda: len(placed_for(api, campaign_id)) == 2, timeout=20, what="both calls")
    faults("GetItem", "ThrottlingException", 6)  # the campaign's read (and a webhook's) fail, twice over
    done = subprocess.run([*OUTBOUND, "campaign", "emulate", campaign_id, "--server", api.url, "--api-key", MENDER,
                           "--mix", "completed:1"], cwd=ROOT, capture_output=True, text=True, timeout=90)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "error" in (done.stdout + done.stderr).lower()
    assert get(api, campaign_id)["status"] == "completed"
