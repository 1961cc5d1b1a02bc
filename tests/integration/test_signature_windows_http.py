"""A status webhook genuinely signed but with a time that is not one (``nan``) is a replay
candidate like any stale one: 403, and the call does not move. Before, ``nan`` passed the 300 s
window on the SIP bridge's X-Outbound-Timestamp, Telnyx's telnyx-timestamp and Vonage's iat."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid

import pytest
import requests

from outbound_local.emulators import freeswitch, telnyx, vonage

pytestmark = pytest.mark.integration

NUMBERS = {"telnyx": "+15551230007", "vonage": "+15551230008", "sip": "+15551230009"}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def signed(provider: str, call: dict, stamp: str) -> tuple[bytes, dict[str, str]]:
    """An answered event for ``call``, signed with the demo organization's credentials at ``stamp``."""
    if provider == "sip":
        body = json.dumps({"call_id": call["call_id"], "channel_uuid": call["call_sid"],
                           "event": "CHANNEL_ANSWER"}).encode()
        secret = freeswitch.DEFAULT_CREDENTIALS["webhook_secret"]
        digest = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        return body, {"X-Outbound-Timestamp": stamp, "X-Outbound-Signature": digest}
    if provider == "telnyx":
        body = json.dumps({"data": {"event_type": "call.answered", "payload": {
            "call_control_id": call["call_sid"]}}}).encode()
        return body, telnyx.webhook_signature_headers(body, stamp)  # type: ignore[arg-type]
    body = json.dumps({"uuid": call["call_sid"], "status": "answered"}).encode()
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    iat = int(stamp) if stamp.isdigit() else float(stamp)  # a JSON number: NaN, Infinity as Python writes them
    claims = b64url(json.dumps({"iat": iat, "jti": str(uuid.uuid4()),
                                "payload_hash": hashlib.sha256(body).hexdigest()}).encode())
    key = vonage.DEFAULT_CREDENTIALS["signature_secret"].encode()
    token = f"{header}.{claims}.{b64url(hmac.new(key, f'{header}.{claims}'.encode(), hashlib.sha256).digest())}"
    return body, {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module", autouse=True)
def funds(server):
    server.add_funds("org_acme", 2000)  # every call placed here holds a reserve


@pytest.mark.parametrize("provider", list(NUMBERS))
@pytest.mark.parametrize("stamp", ["nan", "inf", "1e400"])
def test_a_signed_time_that_is_not_a_time_is_refused(server, provider, stamp):
    answer = server.initiate({"from_phone_number": NUMBERS[provider], "to_phone_number": "+15559870980"})
    assert answer.status_code == 200, answer.text
    call = answer.json()
    body, headers = signed(provider, call, stamp)
    url = f"{server.url}/webhooks/{provider}" + ("" if provider == "sip" else f"?call_id={call['call_id']}")
    response = requests.post(url, data=body, headers={"Content-Type": "application/json", **headers}, timeout=30)
    assert response.status_code == 403, response.text
    assert response.json() == {"detail": "Invalid or missing webhook signature"}
    record = server.request("GET", f"/calls/{call['call_id']}").json()
    assert record["status"] == "queued"  # not moved to in-progress


def test_the_same_event_signed_now_is_applied(server):
    """The control: the requests above are refused for their time, not for anything else."""
    import time

    for provider, number in NUMBERS.items():
        call = server.initiate({"from_phone_number": number, "to_phone_number": "+15559870981"}).json()
        body, headers = signed(provider, call, str(int(time.time())))
        url = f"{server.url}/webhooks/{provider}" + ("" if provider == "sip" else f"?call_id={call['call_id']}")
        response = requests.post(url, data=body, headers={"Content-Type": "application/json", **headers}, timeout=30)
        assert response.status_code == 200 and response.json()["applied"] is True, (provider, response.text)
