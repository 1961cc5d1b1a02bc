"""Each provider's webhook signature check: good, bad, missing, replayed, tampered.

Signatures are made here independently of the code under test (stdlib hmac / cryptography), and
cross-checked with the providers' own tools where they exist (twilio's RequestValidator signs;
vonage-jwt's verifier accepts the emulator's tokens)."""
import base64
import hashlib
import hmac
import json
import time

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from outbound.provider_callbacks import InvalidSignature, WebhookRequest, module
from outbound_local.emulators import freeswitch, telnyx, twilio, vonage, webhooks

NOW = 1_795_424_400.0
URL = "https://abc123.execute-api.us-east-1.amazonaws.com/v1/webhooks/{p}?call_id=call_abc"
TWILIO = twilio.DEFAULT_CREDENTIALS
TELNYX = telnyx.DEFAULT_CREDENTIALS
VONAGE = vonage.DEFAULT_CREDENTIALS
SIP = freeswitch.DEFAULT_CREDENTIALS


def request(provider, headers, body, url=None, received_at=NOW):
    url = url or URL.format(p=provider)
    query = {"call_id": ["call_abc"]} if "?call_id=" in url else {}
    return WebhookRequest(provider, url, {k.lower(): v for k, v in headers.items()}, body, query, received_at)


def verify(provider, req, credentials):
    m = module(provider)
    if not m.has_signature(req):
        raise InvalidSignature("missing")
    m.verify(req, credentials)


# --- Twilio --------------------------------------------------------------------------------------

FORM = [("CallSid", "CA" + "1" * 32), ("CallStatus", "completed"), ("CallDuration", "125"),
        ("AccountSid", TWILIO["account_sid"])]
FORM_BODY = "&".join(f"{k}={v}" for k, v in FORM).encode()


def twilio_sig(url, params, token):
    """Twilio's documented scheme, by hand: base64(HMAC-SHA1(token, url + sorted k+v))."""
    data = url + "".join(k + v for k, v in sorted(params))
    return base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode()


def test_twilio_good_signature_over_the_exact_url():
    url = URL.format(p="twilio")
    verify("twilio", request("twilio", {"X-Twilio-Signature": twilio_sig(url, FORM, TWILIO["auth_token"]),
                                        "Content-Type": "application/x-www-form-urlencoded"}, FORM_BODY), TWILIO)


def test_twilio_emulator_signs_like_the_documented_scheme():
    url = URL.format(p="twilio")
    assert webhooks.twilio_signature(url, FORM, TWILIO["auth_token"]) == twilio_sig(url, FORM, TWILIO["auth_token"])


@pytest.mark.parametrize("signed_url", [
    "https://abc123.execute-api.us-east-1.amazonaws.com/v1/webhooks/twilio",  # query dropped
    "http://abc123.execute-api.us-east-1.amazonaws.com/v1/webhooks/twilio?call_id=call_abc",  # scheme
    "https://abc123.execute-api.us-east-1.amazonaws.com/webhooks/twilio?call_id=call_abc",  # no stage
    "https://abc123.execute-api.us-east-1.amazonaws.com/v1/webhooks/twilio?call_id=call_other",
])
def test_twilio_signature_of_another_url_is_refused(signed_url):
    sig = twilio_sig(signed_url, FORM, TWILIO["auth_token"])
    with pytest.raises(InvalidSignature):
        verify("twilio", request("twilio", {"X-Twilio-Signature": sig}, FORM_BODY), TWILIO)


def test_twilio_wrong_token_tampered_body_and_missing_header_are_refused():
    url = URL.format(p="twilio")
    with pytest.raises(InvalidSignature):
        verify("twilio", request("twilio", {"X-Twilio-Signature": twilio_sig(url, FORM, "other")}, FORM_BODY), TWILIO)
    sig = twilio_sig(url, FORM, TWILIO["auth_token"])
    with pytest.raises(InvalidSignature):
        verify("twilio", request("twilio", {"X-Twilio-Signature": sig}, FORM_BODY.replace(b"125", b"5")), TWILIO)
    with pytest.raises(InvalidSignature):
        verify("twilio", request("twilio", {}, FORM_BODY), TWILIO)


def test_twilio_hmac_sha256_signature_settings():
    url = URL.format(p="twilio")
    data = url + "".join(k + v for k, v in sorted(FORM))
    sig = base64.b64encode(hmac.new(b"shared-key", data.encode(), hashlib.sha256).digest()).decode()
    headers = {"X-Twilio-Signature": sig, "X-Twilio-Webhooks-Signature-Settings": "key=wsk_1,algorithm=HMAC_SHA256"}
    verify("twilio", request("twilio", headers, FORM_BODY), {**TWILIO, "webhook_shared_key": "shared-key"})
    with pytest.raises(InvalidSignature):  # SHA-256 with the auth token is not what was signed
        verify("twilio", request("twilio", headers, FORM_BODY), TWILIO)


# --- Telnyx --------------------------------------------------------------------------------------

TELNYX_BODY = json.dumps({"data": {"event_type": "call.answered", "occurred_at": "2026-11-23T09:00:00Z",
                                   "payload": {"call_control_id": "v3:abc"}}}).encode()


def telnyx_headers(body, timestamp, private_key=telnyx.WEBHOOK_PRIVATE_KEY):
    key = Ed25519PrivateKey.from_private_bytes(base64.b64decode(private_key))
    signature = key.sign(f"{int(timestamp)}|".encode() + body)
    return {"telnyx-timestamp": str(int(timestamp)), "telnyx-signature-ed25519": base64.b64encode(signature).decode()}


def test_telnyx_good_signature():
    verify("telnyx", request("telnyx", telnyx_headers(TELNYX_BODY, NOW), TELNYX_BODY), TELNYX)


def test_telnyx_emulator_key_pair_matches_its_public_key():
    headers = telnyx.webhook_signature_headers(TELNYX_BODY, int(NOW))
    verify("telnyx", request("telnyx", headers, TELNYX_BODY), TELNYX)


@pytest.mark.parametrize("age", [-301, 301, 3600])
def test_telnyx_outside_the_replay_window_is_refused(age):
    with pytest.raises(InvalidSignature, match="replay window"):
        verify("telnyx", request("telnyx", telnyx_headers(TELNYX_BODY, NOW - age), TELNYX_BODY), TELNYX)


def test_telnyx_inside_the_window_is_accepted():
    verify("telnyx", request("telnyx", telnyx_headers(TELNYX_BODY, NOW - 299), TELNYX_BODY), TELNYX)


def test_telnyx_bad_key_tampered_body_changed_timestamp_or_missing_headers_are_refused():
    other = base64.b64encode(Ed25519PrivateKey.generate().private_bytes_raw()).decode()
    with pytest.raises(InvalidSignature):
        verify("telnyx", request("telnyx", telnyx_headers(TELNYX_BODY, NOW, other), TELNYX_BODY), TELNYX)
    headers = telnyx_headers(TELNYX_BODY, NOW)
    with pytest.raises(InvalidSignature):
        verify("telnyx", request("telnyx", headers, TELNYX_BODY.replace(b"answered", b"hangup")), TELNYX)
    with pytest.raises(InvalidSignature):  # the timestamp is part of what is signed
        verify("telnyx", request("telnyx", {**headers, "telnyx-timestamp": str(int(NOW) + 1)}, TELNYX_BODY), TELNYX)
    with pytest.raises(InvalidSignature):
        verify("telnyx", request("telnyx", {"telnyx-timestamp": str(int(NOW))}, TELNYX_BODY), TELNYX)
    with pytest.raises(InvalidSignature):
        verify("telnyx", request("telnyx", {**headers, "telnyx-signature-ed25519": "not base64!"}, TELNYX_BODY),
               TELNYX)


# --- Vonage --------------------------------------------------------------------------------------

VONAGE_BODY = json.dumps({"uuid": "63f61863", "status": "completed", "duration": "61"}).encode()


def vonage_token(claims, secret=VONAGE["signature_secret"], alg="HS256"):
    def b64(data):
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    head = f"{b64({'alg': alg, 'typ': 'JWT'})}.{b64(claims)}"
    sig = base64.urlsafe_b64encode(hmac.new(secret.encode(), head.encode(), hashlib.sha256).digest()).rstrip(b"=")
    return f"{head}.{sig.decode()}"


def vonage_claims(body=VONAGE_BODY, iat=NOW):
    return {"iat": int(iat), "jti": "j1", "iss": "Vonage", "payload_hash": hashlib.sha256(body).hexdigest()}


def test_vonage_good_signature():
    verify("vonage", request("vonage", {"Authorization": f"Bearer {vonage_token(vonage_claims())}"}, VONAGE_BODY),
           VONAGE)


def test_vonage_emulator_token_passes_vonages_own_verifier():
    from vonage_jwt.verify_jwt import verify_signature

    token = webhooks.vonage_jwt(VONAGE_BODY, VONAGE["signature_secret"], "app", int(time.time()))
    assert verify_signature(token, VONAGE["signature_secret"]) is True
    verify("vonage", request("vonage", {"Authorization": f"Bearer {token}"}, VONAGE_BODY, received_at=time.time()),
           VONAGE)


def test_vonage_tampered_body_with_a_genuine_token_is_refused():
    """The trap: vonage-jwt's verify_signature accepts this token for ANY body."""
    from vonage_jwt.verify_jwt import verify_signature

    token = webhooks.vonage_jwt(VONAGE_BODY, VONAGE["signature_secret"], "app", int(time.time()))
    tampered = VONAGE_BODY.replace(b'"61"', b'"1"')
    assert verify_signature(token, VONAGE["signature_secret"]) is True  # the SDK cannot tell
    with pytest.raises(InvalidSignature, match="payload_hash"):
        verify("vonage", request("vonage", {"Authorization": f"Bearer {token}"}, tampered, received_at=time.time()),
               VONAGE)


@pytest.mark.parametrize("claims", [
    {k: v for k, v in vonage_claims().items() if k != "payload_hash"},  # no payload_hash
    vonage_claims(iat=NOW - 301),  # replayed
    vonage_claims(iat=NOW + 301),  # from the future
    {k: v for k, v in vonage_claims().items() if k != "iat"},  # no iat
    {**vonage_claims(), "exp": int(NOW) - 1},  # expired
])
def test_vonage_bad_claims_are_refused(claims):
    with pytest.raises(InvalidSignature):
        verify("vonage", request("vonage", {"Authorization": f"Bearer {vonage_token(claims)}"}, VONAGE_BODY), VONAGE)


@pytest.mark.parametrize("authorization", [
    None, "", "Bearer", "Basic abc", f"Bearer {vonage_token(vonage_claims(), secret='other')}",
    f"Bearer {vonage_token(vonage_claims(), alg='none')}", "Bearer a.b", "Bearer !!.??.##",
])
def test_vonage_missing_or_wrong_tokens_are_refused(authorization):
    headers = {"Authorization": authorization} if authorization is not None else {}
    with pytest.raises(InvalidSignature):
        verify("vonage", request("vonage", headers, VONAGE_BODY), VONAGE)


# --- SIP bridge (our scheme) -----------------------------------------------------------------------

SIP_BODY = json.dumps({"call_id": "call_abc", "channel_uuid": "u1", "event": "CHANNEL_ANSWER"}).encode()


def sip_headers(body, timestamp, secret=SIP["webhook_secret"]):
    digest = hmac.new(secret.encode(), f"{int(timestamp)}.".encode() + body, hashlib.sha256).hexdigest()
    return {"X-Outbound-Timestamp": str(int(timestamp)), "X-Outbound-Signature": digest}


def test_sip_good_signature_and_the_emulator_signs_alike():
    verify("sip", request("sip", sip_headers(SIP_BODY, NOW), SIP_BODY, url="https://x/v1/webhooks/sip"), SIP)
    assert webhooks.sip_signature_headers(SIP_BODY, SIP["webhook_secret"], int(NOW)) == sip_headers(SIP_BODY, NOW)


def test_sip_bad_replayed_tampered_missing_or_unconfigured_are_refused():
    with pytest.raises(InvalidSignature):
        verify("sip", request("sip", sip_headers(SIP_BODY, NOW, "other"), SIP_BODY), SIP)
    with pytest.raises(InvalidSignature, match="replay window"):
        verify("sip", request("sip", sip_headers(SIP_BODY, NOW - 301), SIP_BODY), SIP)
    with pytest.raises(InvalidSignature):
        verify("sip", request("sip", sip_headers(SIP_BODY, NOW), SIP_BODY.replace(b"ANSWER", b"HANGUP")), SIP)
    with pytest.raises(InvalidSignature):
        verify("sip", request("sip", {}, SIP_BODY), SIP)
    with pytest.raises(InvalidSignature, match="webhook_secret"):
        verify("sip", request("sip", sip_headers(SIP_BODY, NOW), SIP_BODY), {"bridge": "x:1", "password": "p"})
