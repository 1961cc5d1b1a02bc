"""Idempotency-Key, destination safety and request limits over real HTTP."""
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

pytestmark = pytest.mark.integration

FROM = "+15551234567"
BODY = {"from_phone_number": FROM, "to_phone_number": "+15559876543"}


def twilio_posts_to(server, to):
    # Create-calls only: the log also holds the reads of Twilio's call records (provider reconciliation).
    return [r for r in server.provider_requests()
            if r["provider"] == "twilio" and r["method"] == "POST" and r["body"]["To"] == [to]]


def initiate(server, body, key=None, api_key="sk_live_acme_demo"):
    headers = {"Idempotency-Key": key} if key is not None else None
    return server.request("POST", "/calls/initiate", body, key=api_key, headers=headers)


@pytest.fixture
def funds(server):
    server.add_funds("org_acme", 2000)


def test_same_key_and_body_replays_the_first_response_without_a_second_call(server, funds):
    key, to = str(uuid.uuid4()), "+15559870001"
    body = {**BODY, "to_phone_number": to}
    first = initiate(server, body, key)
    assert first.status_code == 200 and "Idempotent-Replayed" not in first.headers
    before = server.organization("org_acme")
    again = initiate(server, {"to_phone_number": to, "from_phone_number": FROM}, key)  # same body, other order
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert len(twilio_posts_to(server, to)) == 1
    assert server.organization("org_acme") == before  # no second reserve


def test_same_key_with_another_body_is_422(server, funds):
    key = str(uuid.uuid4())
    assert initiate(server, {**BODY, "to_phone_number": "+15559870002"}, key).status_code == 200
    response = initiate(server, {**BODY, "to_phone_number": "+15559870003"}, key)
    assert response.status_code == 422
    assert response.json() == {"detail": "Idempotency-Key was already used with a different request"}
    assert twilio_posts_to(server, "+15559870003") == []


def test_keys_are_scoped_per_organization(server, funds):
    key = str(uuid.uuid4())
    assert initiate(server, {**BODY, "to_phone_number": "+15559870004"}, key).status_code == 200
    other = initiate(server, {"from_phone_number": "+15557654321", "to_phone_number": "+15559870004"}, key,
                     api_key="sk_live_globex_demo")
    assert other.status_code == 200 and "Idempotent-Replayed" not in other.headers
    assert len(twilio_posts_to(server, "+15559870004")) == 2


def test_concurrent_duplicates_place_one_call(server, funds):
    key, to = str(uuid.uuid4()), "+15559870005"
    with ThreadPoolExecutor(max_workers=6) as pool:
        responses = list(pool.map(lambda _: initiate(server, {**BODY, "to_phone_number": to}, key), range(6)))
    assert len(twilio_posts_to(server, to)) == 1
    # One placed it; the others replayed it, or were told it is still in flight (409).
    assert {r.status_code for r in responses} <= {200, 409}
    sids = {r.json()["call_sid"] for r in responses if r.status_code == 200}
    assert len(sids) == 1
    assert all(r.headers.get("Idempotent-Replayed") == "true" for r in responses if r.status_code == 409)


def test_a_refused_call_replays_its_502(server, funds):
    key = str(uuid.uuid4())
    body = {**BODY, "to_phone_number": "+15005550001"}
    first = initiate(server, body, key)
    assert first.status_code == 502
    posts = len(twilio_posts_to(server, "+15005550001"))
    again = initiate(server, body, key)
    assert again.status_code == 502 and again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(twilio_posts_to(server, "+15005550001")) == posts


@pytest.mark.parametrize("key", ["", "x" * 256, "caf\u00e9"])
def test_malformed_keys_are_400(server, key):
    response = initiate(server, BODY, key)
    assert response.status_code == 400
    assert response.json() == {"detail": "Idempotency-Key must be 1 to 255 printable ASCII characters"}


@pytest.mark.parametrize("to", ["+19005550100", "+18765551234", "+442071838750"])
def test_destinations_outside_the_policy_are_403(server, to):
    response = server.initiate({**BODY, "to_phone_number": to})
    assert response.status_code == 403
    assert response.json() == {"detail": f"Destination {to} is not permitted for your organization"}
    assert twilio_posts_to(server, to) == []


def test_allowed_countries_are_the_organizations(server, funds):
    # org_acme allows US and CA; org_globex has no list, so only its number's country (US).
    assert server.initiate({**BODY, "to_phone_number": "+14165551234"}).status_code == 200
    globex = server.initiate({"from_phone_number": "+15557654321", "to_phone_number": "+14165551234"},
                             key="sk_live_globex_demo")
    assert globex.status_code == 403


def test_calling_your_own_number_is_400(server):
    response = server.initiate({**BODY, "to_phone_number": FROM})
    assert response.status_code == 400
    assert response.json() == {"detail": "to_phone_number must differ from from_phone_number"}


def test_oversized_body_is_400_naming_the_limit(server):
    response = server.request("POST", "/calls/initiate", raw='{"agenda": "' + "x" * (300 * 1024) + '"}')
    assert response.status_code == 400
    assert response.json() == {"detail": "Request body must be at most 262144 bytes"}


def test_idempotency_costs_no_extra_round_trip(server, funds):
    initiate(server, BODY)  # the authorizer's result is cached from here on
    before = server.dynamodb_operations()
    assert initiate(server, {**BODY, "to_phone_number": "+15559870006"}, str(uuid.uuid4())).status_code == 200
    after = server.dynamodb_operations()
    used = {op: after[op] - before.get(op, 0) for op in after if after[op] != before.get(op, 0)}
    assert sum(used.values()) <= 4, used
