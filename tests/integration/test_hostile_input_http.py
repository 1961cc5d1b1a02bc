"""A corpus of hostile bodies, headers and query strings, sent to every route template.yaml
declares, with the demo organization's API key and without one.

Whatever arrives, the answer is below 500, every error is ``{"detail": "<sentence>"}`` without a
traceback, and the functions log no unhandled error. The provider webhooks get the corpus with
their signature headers present and ``?call_id=`` of a real call of theirs, so each request goes
as far as it can: past the cheap checks, to the call's read and the signature check.
"""
from __future__ import annotations

import base64
import json
import time

import pytest
import requests

from outbound_local.template import load
from tests.conftest import DEMO_KEY

pytestmark = pytest.mark.integration

PROVIDERS = ("twilio", "telnyx", "vonage", "sip")
DEMO_NUMBERS = {"twilio": "+15551234567", "telnyx": "+15551230007", "vonage": "+15551230008",
                "sip": "+15551230009"}
# Path parameters: ids of nothing (so no route changes anything real), in their usual shapes.
PATH_VALUES = {"call_ref": "call_hostile00000000000000", "schedule_id": "sch_hostile", "endpoint_id": "we_hostile",
               "delivery_id": "wd_hostile", "campaign_id": "cmp_hostile", "import_id": "imp_hostile",
               "phone_number": "+15559870999", "call_sid": "CAhostile", "campaign_ref": "123"}

DEEP = 5000
BODIES: dict[str, bytes] = {
    "deep array": b"[" * DEEP + b"]" * DEEP,
    "deep object": b'{"a":' * DEEP + b"1" + b"}" * DEEP,
    "deep array in a field": b'{"from_phone_number": "+15551234567", "variables": ' + b"[" * DEEP + b"]" * DEEP + b"}",
    "deep array in a string": b'{"agenda": "' + b"[" * DEEP + b'"}',
    "integer of 5,000 digits": b'{"assistant_id": ' + b"9" * 5000 + b"}",
    "integer of 5,000 digits alone": b"9" * 5000,
    "negative integer of 4,301 digits": b'{"limit": -' + b"1" * 4301 + b"}",
    "float 1e999": b'{"variables": {"x": 1e999}, "duration": 1e999}',
    "float of 5,000 digits": b'{"x": 0.' + b"1" * 5000 + b"}",
    "NaN": b'{"x": NaN}',
    "Infinity": b'{"x": -Infinity, "iat": Infinity}',
    "not UTF-8": b'{"from_phone_number": "\xff\xfe\xfd"}',
    "lone surrogates": b'{"from_phone_number": "\\ud800", "to_phone_number": "\\udfff", "url": "https://\\ud83d"}',
    "null bytes": b'{"from_phone_number": "+1555\\u0000", "name": "\\u0000", "event": "CHANNEL_ANSWER\\u0000"}',
    "raw control characters": b'{"a": "\x00\x01\x1f"}',
    "empty": b"",
    "whitespace": b" \r\n\t ",
    "1 MB": b'{"agenda": "' + b"a" * (1024 * 1024) + b'"}',
    "array for an object": b'[{"from_phone_number": "+15551234567", "to_phone_number": "+15559876543"}]',
    "string": b'"text"',
    "null": b"null",
    "number": b"0",
    "duplicate keys": b'{"phone_number": "+15559870998", "phone_number": "+15559870997", '
                      b'"from_phone_number": "+15551234567", "from_phone_number": "+15551230007"}',
    "truncated": b'{"from_phone_number": ',
    "form": b"CallSid=CA1&CallStatus=completed&CallDuration=1e999&CallDuration=nan",
    "XML": b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'aaaa'>]><x>&a;</x>",
}
CONTENT_TYPES = ["application/xml", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                 "application/json; charset=latin-1", None, "application/json" + ";" * 500, "\x7f/\x7f"]

NOW = str(int(time.time()))
LATIN = "\u00e9" * 64  # a header value outside ASCII (HTTP carries it as ISO-8859-1)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


DEEP_JSON_TOKEN = b64url(b"[" * 3000 + b"]" * 3000)
# Signature headers: the first of each provider well-formed but wrong (so the request goes on to the
# call's read and the signature check), the others hostile.
SIGNATURES = {
    "twilio": [{"X-Twilio-Signature": "A" * 27 + "="}, {"X-Twilio-Signature": LATIN},
               {"X-Twilio-Signature": "A" * 27 + "=", "X-Twilio-Webhooks-Signature-Settings": "algorithm=" + "x" * 4000}],
    "telnyx": [{"telnyx-signature-ed25519": "A" * 86 + "==", "telnyx-timestamp": NOW},
               {"telnyx-signature-ed25519": LATIN, "telnyx-timestamp": "nan"},
               {"telnyx-signature-ed25519": "a" * 8000, "telnyx-timestamp": "9" * 5000}],
    "vonage": [{"Authorization": "Bearer a.b.c"},
               {"Authorization": f"Bearer {DEEP_JSON_TOKEN}.{DEEP_JSON_TOKEN}.c"},
               {"Authorization": "Bearer " + b64url(b'{"alg": "HS256"}') + "." + b64url(b'{"iat": NaN}') + ".x"},
               {"Authorization": "Bearer " + LATIN}],
    "sip": [{"X-Outbound-Signature": "ab" * 32, "X-Outbound-Timestamp": NOW},
            {"X-Outbound-Signature": LATIN, "X-Outbound-Timestamp": NOW},
            {"X-Outbound-Signature": "a" * 64, "X-Outbound-Timestamp": "nan"},
            {"X-Outbound-Signature": "a" * 64, "X-Outbound-Timestamp": "1e400"}],
}
HEADERS = [
    {"Authorization": "Bearer " + "k" * 8000},
    {"Authorization": "Bearer " + LATIN},
    {"Authorization": "Basic " + LATIN},
    {"Idempotency-Key": "k" * 10_000},
    {"Idempotency-Key": LATIN},
    {"Content-Type": "application/json", "Content-Encoding": "gzip"},
]
QUERIES = [
    "limit=-1", "limit=99999999999999999999999999999999999999999", "limit=" + "9" * 5000, "limit=1e3", "limit=",
    "next_token=" + DEEP_JSON_TOKEN, "next_token=" + "a" * 10_000, "next_token=%ff%fe", "next_token=null",
    "next_token=" + b64url(b'{"k": ' + b"9" * 5000 + b"}"), "next_token=" + b64url(b'{"pk": "\\ud800"}'),
    "status=a&status=b", "%ff=%fe", "x=" + "y" * 5000, "call_id=%00", "call_id=call_" + "a" * 5000,
    "call_id=" + LATIN, "bodySHA256=abc", "status=" + "\u00e9", "a=1&" * 200,
]


@pytest.fixture(scope="module")
def targets(server) -> list[tuple[str, str, bool]]:
    """(method, path, needs the API key) for every route; the webhooks once per provider, with
    ``?call_id=`` of a real call of that provider (placed here)."""
    server.add_funds("org_acme", 1000)
    calls = {}
    for provider, number in DEMO_NUMBERS.items():
        answer = server.initiate({"from_phone_number": number, "to_phone_number": "+15559870990"})
        assert answer.status_code == 200, answer.text
        calls[provider] = answer.json()["call_id"]
    found = []
    for route in load().routes():
        if route.path == "/webhooks/{provider}":
            found += [(route.method, f"/webhooks/{p}?call_id={calls[p]}", False) for p in PROVIDERS]
            found.append((route.method, "/webhooks/unknown", False))
            continue
        path = route.path
        for name, value in PATH_VALUES.items():
            path = path.replace("{" + name + "}", value)
        assert "{" not in path, route.path
        found.append((route.method, path, route.authorizer is not None))
    return found


def send(server, method: str, path: str, body: bytes | None, headers: dict) -> requests.Response:
    # A connection per request: on a kept-alive one the local server's answers wait out the
    # client's delayed ACK (~40 ms each).
    return requests.request(method, server.url + path, data=body, headers=headers, timeout=60)


def check(response: requests.Response, label: str, problems: list[str]) -> None:
    text = response.text
    if response.status_code >= 500:
        problems.append(f"{label}: {response.status_code} {text[:200]}")
    elif "Traceback" in text or 'File "' in text:
        problems.append(f"{label}: a traceback in the answer: {text[:200]}")
    elif response.status_code >= 400:
        try:
            detail = response.json().get("detail")
        except (ValueError, AttributeError):
            detail = None
        if not isinstance(detail, str) or not detail:
            problems.append(f"{label}: {response.status_code} without a detail sentence: {text[:200]}")


def headers_for(path: str, auth: bool, extra: dict | None = None, content_type: str | None = "application/json",
                signature: int = 0) -> dict:
    headers = {} if content_type is None else {"Content-Type": content_type}
    if auth:
        headers["Authorization"] = f"Bearer {DEMO_KEY}"
    if path.startswith("/webhooks/") and not path.startswith("/webhooks/unknown"):
        provider = path.split("/")[2].split("?")[0]
        variants = SIGNATURES[provider]
        headers.update(variants[signature % len(variants)])
    headers.update(extra or {})
    return headers


def run_all(server, targets, make_requests) -> None:
    """Every target, with the API key and without; collect the problems, then fail once."""
    first_line = len(server.output)
    problems: list[str] = []
    for method, path, needs_key in targets:
        for auth in ((True, False) if needs_key else (False,)):
            for label, body, headers, suffix in make_requests(path, auth):
                full = path + (("&" if "?" in path else "?") + suffix if suffix else "")
                response = send(server, method, full, body, headers)
                check(response, f"{method} {full[:80]} [{label}{', key' if auth else ''}]", problems)
    errors = [line for line in server.output[first_line:] if '"Unhandled error"' in line]
    assert not problems, "\n".join(problems[:30]) + "\n\nServer errors logged:\n" + "".join(errors[:3])[:3000]
    assert not errors, "".join(errors[:3])[:3000]


@pytest.mark.parametrize("name", list(BODIES))
def test_hostile_bodies_get_a_4xx_detail_on_every_route(server, targets, name):
    body = BODIES[name]

    def requests_for(path, auth):
        signatures = len(SIGNATURES.get(path.split("/")[2].split("?")[0], [None])) if path.startswith("/webhooks/") else 1
        for variant in range(signatures):
            yield name, body, headers_for(path, auth, signature=variant), None

    run_all(server, targets, requests_for)


@pytest.mark.parametrize("content_type", CONTENT_TYPES)
def test_unexpected_content_types_get_a_4xx_detail_on_every_route(server, targets, content_type):
    def requests_for(path, auth):
        for name in ("deep array", "form", "XML", "truncated"):
            yield f"{name} as {content_type!r}", BODIES[name], headers_for(path, auth, content_type=content_type), None

    run_all(server, targets, requests_for)


def test_hostile_headers_and_query_strings_get_a_4xx_detail_on_every_route(server, targets):
    def requests_for(path, auth):
        for i, extra in enumerate(HEADERS):
            yield f"header {list(extra)[-1]}", b'{"a": 1}', headers_for(path, auth, extra, signature=i), None
        for i, query in enumerate(QUERIES):
            yield f"query {query[:30]}", b'{"a": 1}', headers_for(path, auth, signature=i), query

    run_all(server, targets, requests_for)


def test_the_cheap_checks_come_before_any_read(server):
    """An unauthenticated webhook with a body it cannot be (too deep, too big, the wrong type)
    is refused before the function reads anything: no DynamoDB request at all."""
    before = server.dynamodb_operations()
    for provider in PROVIDERS:
        headers = headers_for(f"/webhooks/{provider}", False)
        for body, content_type, status in ((BODIES["deep array"], "application/json", 400),
                                           (BODIES["1 MB"], "application/json", 400),
                                           (b"<x/>", "application/xml", 415)):
            response = requests.post(f"{server.url}/webhooks/{provider}?call_id=call_hostile00000000000000", data=body,
                                     headers={**headers, "Content-Type": content_type}, timeout=30)
            assert response.status_code == status, (provider, content_type, response.text[:200])
            assert set(response.json()) == {"detail"}
    assert server.dynamodb_operations() == before


@pytest.mark.parametrize("path", ["/calls/initiate", "/calls/schedule", "/campaigns", "/webhook-endpoints",
                                  "/suppressions", "/webhooks/telnyx", "/webhooks/vonage", "/webhooks/sip"])
def test_a_body_that_is_not_json_is_415_naming_the_type(server, path):
    response = server.request("POST", path, raw="<call/>",
                              headers={**headers_for(path, False), "Content-Type": "application/xml"})
    assert response.status_code == 415, response.text
    assert response.json()["detail"].startswith("Content-Type must be application/json")


@pytest.mark.parametrize("path", ["/calls/initiate", "/campaigns", "/webhooks/sip"])
def test_depth_and_number_limits_are_400s_naming_them(server, path):
    headers = headers_for(path, False)
    deep = server.request("POST", path, raw=BODIES["deep object"].decode(), headers=headers)
    assert deep.status_code == 400, deep.text
    assert "nested too deeply" in deep.json()["detail"]
    big = server.request("POST", path, raw=BODIES["integer of 5,000 digits"].decode(), headers=headers)
    assert big.status_code == 400, big.text
    assert "more than 130 digits" in big.json()["detail"]


def test_duplicate_keys_are_refused_not_silently_resolved(server):
    """Two parsers of one body must not disagree on it: a key given twice is a 400."""
    response = server.request("POST", "/calls/initiate", raw='{"from_phone_number": "+15551234567", '
                              '"to_phone_number": "+15559870996", "to_phone_number": "+15559870995"}')
    assert response.status_code == 400
    assert response.json() == {"detail": 'Request body has the key "to_phone_number" twice'}


def _signed(server, provider: str, call: dict, body: dict | list[tuple[str, str]], claims: dict | None = None):
    """``body`` as ``provider`` would sign it for ``call`` (the demo organization's credentials)."""
    from outbound_local.emulators import freeswitch, telnyx, twilio, vonage, webhooks

    url = f"{server.url}/webhooks/{provider}?call_id={call['call_id']}"
    now = int(time.time())
    if provider == "twilio":
        token = twilio.DEFAULT_CREDENTIALS["auth_token"]
        from urllib.parse import urlencode

        return url, urlencode(body).encode(), {"Content-Type": "application/x-www-form-urlencoded",
                                               "X-Twilio-Signature": webhooks.twilio_signature(url, body, token)}
    raw = json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if provider == "telnyx":
        headers.update(telnyx.webhook_signature_headers(raw, now))
    elif provider == "sip":
        headers.update(webhooks.sip_signature_headers(raw, freeswitch.DEFAULT_CREDENTIALS["webhook_secret"], now))
    else:
        import hashlib
        import hmac
        import uuid

        secret = vonage.DEFAULT_CREDENTIALS["signature_secret"].encode()
        head = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        part = b64url(json.dumps({"iat": now, "jti": str(uuid.uuid4()),
                                  "payload_hash": hashlib.sha256(raw).hexdigest(), **(claims or {})}).encode())
        signature = b64url(hmac.new(secret, f"{head}.{part}".encode(), hashlib.sha256).digest())
        headers["Authorization"] = f"Bearer {head}.{part}.{signature}"
    return url, raw, headers


def test_signed_events_with_hostile_fields_are_4xx_or_ignored_never_5xx(server, targets):
    """Genuinely signed events (a provider's bug, or a leaked secret) whose fields are of the
    wrong type or out of range: a 400, or the field is ignored; never a 500."""
    calls = {}
    for provider, number in DEMO_NUMBERS.items():
        answer = server.initiate({"from_phone_number": number, "to_phone_number": "+15559870991"})
        calls[provider] = answer.json()
    sid = {p: c["call_sid"] for p, c in calls.items()}
    cases = [
        ("twilio", [("CallSid", sid["twilio"]), ("CallStatus", "completed"), ("CallDuration", "1e999")], None),
        ("twilio", [("CallSid", sid["twilio"]), ("CallStatus", "ringing"), ("Timestamp", "Fri, 31 Dec 9999 23:59:59 -1400")], None),
        ("sip", {"call_id": calls["sip"]["call_id"], "event": ["CHANNEL_ANSWER"]}, None),
        ("sip", {"call_id": calls["sip"]["call_id"], "event": {"CHANNEL_ANSWER": 1}}, None),
        ("sip", {"call_id": calls["sip"]["call_id"], "channel_uuid": sid["sip"], "event": "CHANNEL_HANGUP_COMPLETE",
                 "duration": "1e999", "hangup_cause": ["NORMAL_CLEARING"]}, None),
        ("sip", {"call_id": calls["sip"]["call_id"], "event": "CHANNEL_ANSWER", "timestamp": "9999-12-31T23:59:59-14:00"},
         None),
        ("telnyx", {"data": {"event_type": "call.hangup", "payload": {"call_control_id": sid["telnyx"],
                                                                     "hangup_cause": {"cause": "normal_clearing"}}}},
         None),
        ("telnyx", {"data": {"event_type": "call.answered", "occurred_at": "9999-12-31T23:59:59-14:00",
                             "payload": {"call_control_id": [sid["telnyx"]], "client_state": "W10=" * 1000}}}, None),
        ("vonage", {"uuid": sid["vonage"], "status": "completed", "duration": "1e999"}, None),
        ("vonage", {"uuid": sid["vonage"], "status": "answered"}, {"payload_hash": "\u00e9" * 64}),
        ("vonage", {"uuid": sid["vonage"], "status": "answered"}, {"exp": "nan"}),
    ]
    problems: list[str] = []
    first_line = len(server.output)
    for provider, body, claims in cases:
        url, raw, headers = _signed(server, provider, calls[provider], body, claims)
        response = requests.post(url, data=raw, headers=headers, timeout=30)
        check(response, f"signed {provider} {raw[:100]!r}", problems)
    errors = [line for line in server.output[first_line:] if '"Unhandled error"' in line]
    assert not problems, "\n".join(problems) + "\n\n" + "".join(errors[:2])[:3000]


def test_ids_too_long_to_be_keys_are_404_on_every_route(server):
    """DynamoDB refuses keys over 2,048 bytes (a ValidationException, a 500; the local DynamoDB
    does not check): an id that long names nothing, and every route says so before any read."""
    assert server.request("GET", "/organization/balance").status_code == 200  # the key's lookup, cached
    before = server.dynamodb_operations()
    for route in load().routes():
        if "{" not in route.path or route.path == "/webhooks/{provider}":
            continue
        path = route.path
        for name in PATH_VALUES:
            path = path.replace("{" + name + "}", "x" * 3000)
        response = server.request(route.method, path, {"phone_number": "+15559870992"} if route.method == "POST" else None)
        assert response.status_code == 404, (route.method, route.path, response.text[:200])
        assert response.json() == {"detail": "Not found"}
    assert server.dynamodb_operations() == before
