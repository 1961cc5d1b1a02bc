"""Every provider places calls, and each failure mode answers as documented (the README's error
table and the emulators' magic destinations), over real HTTP against `outbound serve`: the real
adapter code talks to the loopback provider emulators, whose view of each request is read back
from /_local/provider-requests.

The session server runs with a 1 s provider timeout and no credentials cache (tests/conftest.py).
Tests run one at a time against it, so "the provider requests after `before`" are this test's.
"""
from __future__ import annotations

import base64
import json

import boto3
import pytest
from boto3.dynamodb.types import TypeDeserializer

from outbound_local.emulators.freeswitch import parse_originate

pytestmark = pytest.mark.integration

TO = "+15559876543"
STREAM_URL = "wss://voice-runtime.localhost/stream"  # the local VoiceStreamUrl parameter
# The emulators' magic destinations (outbound_local.emulators), plus our dropped connection.
REFUSED = "+15005550001"  # the provider refuses: "invalid number"
SILENT = "+15005550002"  # the provider does not answer within the adapter's timeout
DROPPED = "+15005550003"  # the provider reads the request, then closes the connection

ACME_RESERVE_CENTS = 100  # org_acme's call_reserve_cents in events/fixture.json
# org_acme's number for each provider (the Telnyx one reaches its assistant through graph 7).
ACME_NUMBERS = {"twilio": "+15551234567", "telnyx": "+15551230007",
                "vonage": "+15551230008", "sip": "+15551230009"}
REST_PROVIDERS = ["twilio", "telnyx", "vonage"]
# org_rotation exists for the bad-credentials tests: rewriting its secrets disturbs no one else.
ROTATION_KEY = "sk_live_rotation_demo"
ROTATION_NUMBERS = {"twilio": "+15551230020", "telnyx": "+15551230021",
                    "vonage": "+15551230022", "sip": "+15551230023"}


@pytest.fixture(scope="module", autouse=True)
def acme_can_afford_this_module(server):
    """org_acme's demo balance covers 25 reserves for the whole session, and none is given back
    before a status webhook settles the call (these tests send none): the calls placed here,
    the unconfirmed ones included, would exhaust it. Fund this module's calls up front."""
    server.add_funds("org_acme", 30 * ACME_RESERVE_CENTS)


# --- helpers ----------------------------------------------------------------------------------

def initiate(server, provider: str, to: str = TO):
    return server.initiate({"from_phone_number": ACME_NUMBERS[provider], "to_phone_number": to})


def is_create_call(entry: dict, provider: str) -> bool:
    """A request that asks the provider to place a call (what must never be sent twice)."""
    path = entry["path"].split("?")[0]
    return entry["provider"] == provider and {
        "twilio": entry["method"] == "POST" and path.endswith("/Calls.json"),
        "telnyx": entry["method"] == "POST" and path.rstrip("/") == "/v2/calls",
        "vonage": entry["method"] == "POST" and path.rstrip("/") == "/v1/calls",
        "sip": entry["method"] == "ESL" and entry["path"] == "bgapi",
    }[provider]


def create_calls_since(server, before: int, provider: str) -> list[dict]:
    return [e for e in server.provider_requests()[before:] if is_create_call(e, provider)]


def originates_since(server, before: int) -> list[tuple[dict, str, str]]:
    """The ESL originates the bridge received: (channel variables, gateway, destination)."""
    return [parse_originate(e["body"].removeprefix("bgapi originate "))
            for e in create_calls_since(server, before, "sip")]


def call_ids_to(server, to: str) -> set[str]:
    """Our ids of every call record to ``to`` (DynamoDB, read directly)."""
    table = server.aws()["table_name"]
    items = server.dynamodb().get_paginator("scan").paginate(TableName=table).build_full_result()["Items"]
    deserialize = TypeDeserializer().deserialize
    records = [{k: deserialize(v) for k, v in item.items()} for item in items]
    return {r["call_id"] for r in records if r.get("to_phone_number") == to and r.get("call_id")}


def balance(server, organization_id: str) -> dict[str, int]:
    org = server.organization(organization_id)
    return {"available_cents": org["available_cents"], "reserved_cents": org["reserved_cents"]}


def secrets_manager(server):
    info = server.aws()
    return boto3.client("secretsmanager", endpoint_url=info["endpoint_url"], region_name=info["region"],
                        aws_access_key_id="local", aws_secret_access_key="local")


def secret_name(server, organization_id: str, provider: str) -> str:
    return f"{server.aws()['credentials_secret_prefix']}{organization_id}/{provider}"


# --- success: the call is placed, with what each provider needs --------------------------------

@pytest.mark.parametrize("provider", list(ACME_NUMBERS))
def test_call_is_placed_and_its_record_names_the_provider(server, provider):
    before = len(server.provider_requests())
    response = initiate(server, provider)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["message"] == "Call initiated successfully" and body["call_sid"]
    assert body["provider"] == provider
    assert len(create_calls_since(server, before, provider)) == 1
    record = server.request("GET", f"/calls/{body['call_sid']}")
    assert record.status_code == 200, record.text
    data = record.json()
    assert data["call_id"] == body["call_id"] and data["call_sid"] == body["call_sid"]
    assert data["provider"] == provider and data["status"] == "queued"
    assert data["from_phone_number"] == ACME_NUMBERS[provider] and data["to_phone_number"] == TO


def test_telnyx_dial_carries_connection_stream_webhook_and_our_call_id(server):
    before = len(server.provider_requests())
    body = initiate(server, "telnyx").json()
    [wire] = create_calls_since(server, before, "telnyx")
    assert wire["headers"]["Authorization"] == "Bearer ***"  # checked by the emulator, redacted in the log
    dial = wire["body"]
    assert dial["connection_id"] == "1494404757140276705"  # the number's provider_settings
    assert dial["from"] == ACME_NUMBERS["telnyx"] and dial["to"] == TO
    # Telnyx echoes client_state in every webhook: it is how a webhook finds our record.
    assert json.loads(base64.b64decode(dial["client_state"])) == {"call_id": body["call_id"]}
    assert dial["stream_url"] == STREAM_URL
    assert dial["webhook_url"] == f"{server.url}/webhooks/telnyx?call_id={body['call_id']}"
    assert body["call_sid"].startswith("v3:")  # the call_control_id Telnyx answered


def test_vonage_ncco_connects_the_stream_with_our_call_id(server):
    before = len(server.provider_requests())
    body = initiate(server, "vonage").json()
    [wire] = create_calls_since(server, before, "vonage")
    assert wire["headers"]["Authorization"] == "Bearer ***"  # an RS256 JWT the emulator verified
    create = wire["body"]
    assert create["to"] == [{"type": "phone", "number": TO.lstrip("+")}]
    assert create["from"] == {"type": "phone", "number": ACME_NUMBERS["vonage"].lstrip("+")}
    [connect] = create["ncco"]
    assert connect["action"] == "connect"
    [endpoint] = connect["endpoint"]
    assert endpoint["type"] == "websocket" and endpoint["uri"] == STREAM_URL
    assert endpoint["headers"] == {"call_id": body["call_id"]}  # the runtime's first message carries it
    assert create["event_url"] == [f"{server.url}/webhooks/vonage?call_id={body['call_id']}"]


def test_sip_originate_carries_caller_id_call_id_and_stream_through_the_trunk(server):
    before = len(server.provider_requests())
    body = initiate(server, "sip").json()
    [(variables, gateway, to)] = originates_since(server, before)
    assert gateway == "trunk_main" and to == TO
    assert variables["origination_caller_id_number"] == ACME_NUMBERS["sip"]
    assert variables["outbound_call_id"] == body["call_id"]
    assert variables["outbound_stream_url"] == STREAM_URL
    assert variables["origination_uuid"] == body["call_sid"]  # the channel we named is the call_sid
    sent = [e["body"] for e in server.provider_requests()[before:] if e["provider"] == "sip"]
    assert sent[0] == "auth ***"  # the bridge checked the event socket password first


# --- failure modes ----------------------------------------------------------------------------

PROVIDER_REFUSALS = {
    "twilio": "The 'To' number +15005550001 is not a valid phone number.",
    "telnyx": "Invalid number: +15005550001 is not a routable destination.",
    "vonage": "Invalid number: 15005550001 cannot be called",
    "sip": "The SIP trunk refused the call: UNALLOCATED_NUMBER",
}


@pytest.mark.parametrize("provider", list(ACME_NUMBERS))
def test_refusal_is_502_in_the_providers_words_with_nothing_charged(server, provider):
    money_before, calls_before = balance(server, "org_acme"), call_ids_to(server, REFUSED)
    response = initiate(server, provider, to=REFUSED)
    assert response.status_code == 502
    assert response.json() == {"detail": f"Telephony provider error: {PROVIDER_REFUSALS[provider]}"}
    assert balance(server, "org_acme") == money_before  # the reserve was released
    [call_id] = call_ids_to(server, REFUSED) - calls_before
    record = server.request("GET", f"/calls/{call_id}").json()
    assert record["provider"] == provider and record["status"] == "failed"
    assert record["failure_reason"] == PROVIDER_REFUSALS[provider]


@pytest.mark.parametrize("provider", list(ACME_NUMBERS))
def test_provider_timeout_is_504_and_the_call_stays_unconfirmed_with_its_reserve_held(server, provider):
    """A provider that does not answer in time may still have placed the call (the request
    reached it). So the call is neither failed nor refunded: it is "unconfirmed", its reserve
    stays held, and the provider's status webhook (which carries our call_id) reconciles it."""
    money_before = balance(server, "org_acme")
    response = initiate(server, provider, to=SILENT)
    assert response.status_code == 504
    body = response.json()
    assert body["detail"] and body["call_id"].startswith("call_")
    record = server.request("GET", f"/calls/{body['call_id']}")
    assert record.status_code == 200
    assert record.json()["status"] == "unconfirmed" and record.json()["provider"] == provider
    money_after = balance(server, "org_acme")
    assert money_after["reserved_cents"] == money_before["reserved_cents"] + ACME_RESERVE_CENTS
    assert money_after["available_cents"] == money_before["available_cents"] - ACME_RESERVE_CENTS


@pytest.mark.parametrize("provider", REST_PROVIDERS)
def test_dropped_connection_is_504_and_the_create_call_was_sent_exactly_once(server, provider):
    """The provider read the request, then the connection dropped: no adapter (nor the SDK
    under it) may send the create-call again, since a re-send could ring the callee twice."""
    before = len(server.provider_requests())
    response = initiate(server, provider, to=DROPPED)
    assert response.status_code == 504
    body = response.json()
    assert body["detail"] and body["call_id"].startswith("call_")
    assert len(create_calls_since(server, before, provider)) == 1
    assert server.request("GET", f"/calls/{body['call_id']}").json()["status"] == "unconfirmed"


def wrong_credentials(provider: str, good: dict) -> dict:
    """The organization's secret with its key/token/password replaced by one the provider
    never issued."""
    if provider == "twilio":
        return {**good, "auth_token": "not-the-twilio-auth-token"}
    if provider == "telnyx":
        return {**good, "api_key": "KEY_NOT_ISSUED_BY_TELNYX"}
    if provider == "vonage":  # same application, signed with a key Vonage does not know
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        return {**good, "private_key": pem.decode()}
    return {**good, "password": "not-the-bridge-password"}


PROVIDER_AUTH_REFUSALS = {
    "twilio": "Authenticate",
    "telnyx": "The API key provided is invalid or missing.",
    "vonage": "You did not provide correct credentials.",
    "sip": "The SIP bridge rejected the event socket password",
}


@pytest.mark.parametrize("provider", list(ROTATION_NUMBERS))
def test_bad_credentials_are_502_with_nothing_charged(server, provider):
    call = {"from_phone_number": ROTATION_NUMBERS[provider], "to_phone_number": TO}
    client, name = secrets_manager(server), secret_name(server, "org_rotation", provider)
    good = client.get_secret_value(SecretId=name)["SecretString"]
    money_before = balance(server, "org_rotation")
    client.put_secret_value(SecretId=name, SecretString=json.dumps(wrong_credentials(provider, json.loads(good))))
    try:
        response = server.initiate(call, key=ROTATION_KEY)
    finally:
        client.put_secret_value(SecretId=name, SecretString=good)
    assert response.status_code == 502
    assert response.json() == {"detail": f"Telephony provider error: {PROVIDER_AUTH_REFUSALS[provider]}"}
    assert balance(server, "org_rotation") == money_before
    # The same call with the original secret goes through: the credential was the only fault.
    assert server.initiate(call, key=ROTATION_KEY).status_code == 200


def test_sip_fails_over_from_a_down_trunk_to_the_next_enabled_one(server):
    before = len(server.provider_requests())
    response = server.initiate({"from_phone_number": "+15551230010", "to_phone_number": TO},
                               key="sk_live_failover_demo")
    assert response.status_code == 200, response.text
    body = response.json()
    gateways = [gateway for _, gateway, _ in originates_since(server, before)]
    # Lowest priority first among enabled trunks; trunk_disabled (priority 0) is skipped.
    assert gateways == ["trunk_down", "trunk_backup"]
    variables = originates_since(server, before)[1][0]
    assert variables["origination_uuid"] == body["call_sid"]  # the channel through the backup trunk
    record = server.request("GET", f"/calls/{body['call_sid']}", key="sk_live_failover_demo").json()
    assert record["provider"] == "sip" and record["status"] == "queued"
