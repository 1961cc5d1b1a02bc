"""The Vonage adapter against the loopback Vonage emulator (real HTTP), plus one contract test:
the real vonage SDK sends the same call to the emulator, and our body must match its body."""
from __future__ import annotations

import base64
import json
import time

import pytest

from outbound.providers import (OutboundCall, ProviderAuthError, ProviderRefused,
                                get_adapter)
from outbound.providers.vonage import application_jwt
from outbound_local.emulators import vonage as vonage_emulator
from outbound_local.emulators.base import REFUSED_NUMBER
from tests.unit.emulator_hosts import point_adapter_at, start_http_emulator

CREDENTIALS = vonage_emulator.DEFAULT_CREDENTIALS


def make_call(to: str = "+15559876543") -> OutboundCall:
    return OutboundCall(
        call_id="call_456", from_number="+15551230008", to_number=to,
        stream_url="wss://runtime.example.com/stream?call_id=call_456",
        status_callback_url="https://api.example.com/webhooks/vonage?call_id=call_456",
        ring_timeout_s=25, time_limit_s=1800)


@pytest.fixture(scope="module")
def host():
    host = start_http_emulator({"/v1": ("vonage", vonage_emulator)})
    yield host
    host.stop()


@pytest.fixture
def emulator(host, monkeypatch):
    host.log.clear()
    point_adapter_at(monkeypatch, "OUTBOUND_VONAGE_API_URL", host.url)
    return host, host.log


def place(call: OutboundCall, credentials: dict = CREDENTIALS) -> str:
    return get_adapter("vonage").place_call(call, credentials)


def expected_body(call: OutboundCall) -> dict:
    return {
        "to": [{"type": "phone", "number": "15559876543"}],
        "from": {"type": "phone", "number": "15551230008"},
        "ncco": [{"action": "connect", "from": "15551230008", "endpoint": [{
            "type": "websocket", "uri": call.stream_url, "content-type": "audio/l16;rate=16000",
            "headers": {"call_id": "call_456"}}]}],
        "event_url": [call.status_callback_url], "event_method": "POST",
        "ringing_timer": 25, "length_timer": 1800,
    }


def test_create_call_returns_uuid_and_sends_documented_request(emulator):
    _, log = emulator
    call = make_call()

    call_sid = place(call)

    [request] = log.entries()
    assert (request["provider"], request["method"], request["path"]) == ("vonage", "POST", "/v1/calls")
    assert request["headers"]["Authorization"] == "Bearer ***"  # the log redacts; 201 = JWT verified
    assert request["body"] == expected_body(call)
    assert len(call_sid) == 36 and call_sid.count("-") == 4


def test_jwt_carries_vonage_claims_and_is_fresh_per_request():
    first = application_jwt("local-vonage-app", CREDENTIALS["private_key"], now=1_700_000_000)
    second = application_jwt("local-vonage-app", CREDENTIALS["private_key"], now=1_700_000_000)
    header, claims = (json.loads(base64.urlsafe_b64decode(p + "==")) for p in first.split(".")[:2])
    assert header == {"alg": "RS256", "typ": "JWT"}
    assert claims["application_id"] == "local-vonage-app"
    assert (claims["iat"], claims["exp"]) == (1_700_000_000, 1_700_000_900)
    assert first != second  # a new jti each time


def test_the_pem_loader_is_cryptographys_public_one():
    """The adapter takes the loader from cryptography's binding (a cheaper import); it must stay
    the very function ``serialization.load_pem_private_key`` is."""
    from cryptography.hazmat.primitives import serialization

    from outbound.providers.vonage import _pem_loader

    assert _pem_loader() is serialization.load_pem_private_key


def test_a_key_that_is_not_pem_is_an_auth_error(emulator):
    with pytest.raises(ProviderAuthError) as denied:
        place(make_call(), {**CREDENTIALS, "private_key": "-----BEGIN PRIVATE KEY-----\nnope\n"})
    assert denied.value.message == "The Vonage private key is not a valid PEM"


def test_expired_or_foreign_tokens_are_rejected_by_the_emulator():
    accepted = lambda provider: [CREDENTIALS]  # noqa: E731
    expired = application_jwt("local-vonage-app", CREDENTIALS["private_key"], now=time.time() - 1000)
    assert vonage_emulator.verify_application_jwt(f"Bearer {expired}", accepted) == "token expired"
    other_app = application_jwt("another-app", CREDENTIALS["private_key"])
    assert vonage_emulator.verify_application_jwt(f"Bearer {other_app}", accepted) == "unknown application_id"


def test_refused_number_raises_refused_with_vonage_message(emulator):
    with pytest.raises(ProviderRefused) as refused:
        place(make_call(to=REFUSED_NUMBER))
    assert refused.value.message == "Invalid number: 15005550001 cannot be called"


def test_key_of_another_application_raises_auth_error(emulator):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    other_key = rsa.generate_private_key(public_exponent=65537, key_size=1024).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()).decode()
    with pytest.raises(ProviderAuthError) as denied:
        place(make_call(), {**CREDENTIALS, "private_key": other_key})
    assert denied.value.message == "You did not provide correct credentials."


def test_body_matches_what_the_vonage_sdk_sends(emulator):
    """The SDK hard-codes https://; an adapter mounted for https:// sends its requests as
    plain http to the loopback emulator instead."""
    from requests.adapters import HTTPAdapter
    from vonage_http_client import Auth, HttpClient, HttpClientOptions
    from vonage_voice import CreateCallRequest, Voice
    from vonage_voice.models import Connect, WebsocketEndpoint

    class PlainHttp(HTTPAdapter):
        def send(self, request, **kwargs):
            request.url = request.url.replace("https://", "http://", 1)
            return super().send(request, **kwargs)

    host, log = emulator
    call = make_call()
    place(call)
    client = HttpClient(Auth(application_id=CREDENTIALS["application_id"],
                             private_key=CREDENTIALS["private_key"]),
                        HttpClientOptions(api_host=host.url.removeprefix("http://")))
    client._session.mount("https://", PlainHttp(max_retries=0))
    Voice(client).create_call(CreateCallRequest(
        to=[{"type": "phone", "number": "15559876543"}],
        from_={"type": "phone", "number": "15551230008"},
        ncco=[Connect(from_="15551230008", endpoint=[WebsocketEndpoint(
            uri=call.stream_url, contentType="audio/l16;rate=16000",
            headers={"call_id": "call_456"})])],
        event_url=[call.status_callback_url], event_method="POST",
        ringing_timer=25, length_timer=1800))

    ours, sdks = log.entries()
    assert ours["path"] == sdks["path"]
    assert ours["body"] == sdks["body"]
