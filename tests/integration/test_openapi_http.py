"""GET /openapi.json over real HTTP, and the API checked against it with Schemathesis.

The document must be a valid OpenAPI 3.1 document covering every route template.yaml declares;
then every operation is exercised with generated requests (positive and negative), with the
demo organization's API key, and each answer must: not be a 5xx (the documented 502/504 of a
refused or silent provider excepted), have a documented status code, content type and headers,
and a body that fits the documented schema.

The provider webhooks are in the document as API clients see them (no API key, a signed body):
generated requests there stop at the signature check. So they get a second run, from a schema
of each provider's own payload (used only here): every generated event is signed the way its
provider signs, with the demo organization's credentials, and points at a real call, so it goes
through verification, parsing and the call's state machine; none may answer a 5xx.
"""
from __future__ import annotations

import json
import time
from collections import Counter
from urllib.parse import urlencode

import hypothesis.strategies as st
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from openapi_spec_validator import validate
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from outbound_local.emulators import freeswitch, telnyx, twilio, vonage, webhooks
from outbound_local.template import load
from tests.conftest import DEMO_KEY

pytestmark = pytest.mark.integration

MAX_EXAMPLES = 30  # per operation and generation mode: the whole run stays well under a minute
# Burki's API (/burki) maps onto the same use cases, fuzzed above in full: fewer examples each.
FACADE_EXAMPLES = 10
AUTH = {"Authorization": f"Bearer {DEMO_KEY}"}
# The demo organization's numbers (one per provider): with them a generated body gets past the
# ownership check, so the success paths (a placed call, a schedule) are exercised too.
DEMO_NUMBERS = ["+15551234567", "+15551230007", "+15551230008", "+15551230009"]
TO = "+15559876543"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]


def test_openapi_document_is_valid_and_covers_every_route(server):
    response = requests.get(server.url + "/openapi.json", timeout=10)  # no API key needed
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    document = response.json()
    validate(document)  # raises on an invalid OpenAPI document
    assert document["openapi"].startswith("3.1")
    documented = {(method.upper(), path) for path, item in document["paths"].items()
                  for method in item if method != "parameters"}
    declared = {(route.method, route.path) for route in load().routes()}
    assert documented == declared
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        **document["components"]["securitySchemes"]["bearerAuth"], "type": "http", "scheme": "bearer"}
    initiate = document["paths"]["/calls/initiate"]["post"]
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in initiate["parameters"])
    assert {"200", "400", "401", "402", "403", "404", "409", "422", "502", "504"} <= set(initiate["responses"])
    assert "Idempotent-Replayed" in initiate["responses"]["200"]["headers"]
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            for status, answer in operation["responses"].items():
                if status >= "400":
                    schema = answer["content"]["application/json"]["schema"]["$ref"]
                    # every error has its detail; a 504 its call_id, a calling-rules refusal its reasons
                    assert schema.endswith(("/Error", "/TimeoutError", "/RulesRefusal")), (method, path, status)


def test_the_document_reuses_the_code_limits(server):
    from outbound.calls.models import MAX_TEXT_CHARS, MAX_VARIABLES

    schemas = requests.get(server.url + "/openapi.json", timeout=10).json()["components"]["schemas"]
    fields = schemas["InitiateCallRequest"]["properties"]
    assert fields["welcome_message"]["maxLength"] == MAX_TEXT_CHARS
    assert fields["variables"]["maxProperties"] == MAX_VARIABLES


def _steer(case, data) -> None:
    """Half of the generated call bodies use a demo number as from, and a plain destination."""
    if isinstance(case.body, dict) and case.operation.path in ("/calls/initiate", "/calls/schedule"):
        if data.draw(st.booleans(), label="use a demo number"):
            case.body["from_phone_number"] = data.draw(st.sampled_from(DEMO_NUMBERS), label="from")
            case.body["to_phone_number"] = TO
            if case.body.get("assistant_id") is not None:
                case.body["assistant_id"] = 123


# Some 1,700 generated requests over 53 operations: more than the suite's 120 s hang guard on a
# loaded machine (the guard, not a timing: this test measures nothing).
@pytest.mark.timeout(600)
def test_every_operation_conforms_to_the_document(server):
    server.add_funds("org_acme", 100_000)  # generated successful calls each hold a reserve
    # Loaded from the served document's JSON (Schemathesis leaves the document's own path out when
    # it loads it by URL): every route, GET /openapi.json included.
    schema = schemathesis.openapi.from_dict(requests.get(server.url + "/openapi.json", timeout=10).json())
    # The key as configured auth: negative cases then never "remove" it behind our back.
    schema.config.update(base_url=server.url, headers=AUTH)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.label for op in operations} == {f"{r.method} {r.path}" for r in load().routes()}
    stats = {"operations": len(operations), "examples": 0}
    first_line = len(server.output)
    failures: list[str] = []

    try:
        for operation in operations:
            modes = [GenerationMode.POSITIVE]
            if operation.body or any(True for _ in operation.iter_parameters()):
                modes.append(GenerationMode.NEGATIVE)
            for mode in modes:
                _fuzz(server, operation, mode, stats, failures)
    finally:  # generated PUT /organization/calling-rules bodies changed the demo organization's rules
        server.request("PUT", "/organization/calling-rules", {})

    print(f"schemathesis: {stats['operations']} operations, {stats['examples']} examples, "
          f"{len(failures)} failures")
    errors = [line for line in server.output[first_line:] if '"Unhandled error"' in line]
    assert not failures, "\n\n".join(failures[:20]) + "\n\nServer errors logged:\n" + "".join(errors[:3])


def _fuzz(server, operation, mode, stats: dict, failures: list[str]) -> None:
    strategy = operation.as_strategy(generation_mode=mode)
    checks = CHECKS + ([negative_data_rejection] if mode is GenerationMode.NEGATIVE else [])

    examples = FACADE_EXAMPLES if operation.path.startswith("/burki/") else MAX_EXAMPLES

    @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def run(data):
        case = data.draw(strategy, label="case")
        if mode is GenerationMode.POSITIVE:
            _steer(case, data)
        stats["examples"] += 1
        try:
            case.call_and_validate(checks=checks, timeout=30)
        except (Exception, FailureGroup) as exc:  # collect them all (once each), then report
            failure = f"{operation.label} [{mode}]: {str(exc)[:1500]}"
            if failure.split("Reproduce with")[0] not in {f.split("Reproduce with")[0] for f in failures}:
                failures.append(failure)

    try:
        run()
    except Unsatisfiable:
        # Nothing of this operation can be made invalid once the key is fixed (e.g. GET
        # /organization/balance has no parameter but the Authorization header).
        assert mode is GenerationMode.NEGATIVE, operation.label


ANY: dict = {}  # any JSON value: strings, huge numbers, nested arrays and objects, null
FORM = "application/x-www-form-urlencoded"


def _one_of(*values: str) -> dict:
    """The provider's own words, or anything."""
    return {"anyOf": [{"enum": list(values)}, ANY]}


def _json_event(properties: dict, required: str) -> dict:
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "properties": properties, "required": [required]}}}},
        "responses": {"default": {"description": "any"}}}


# Each provider's status event as it sends it (field names from outbound.provider_callbacks.<provider>).
PROVIDER_PAYLOADS = {"openapi": "3.1.0", "info": {"title": "provider status events (tests only)", "version": "1"},
                     "paths": {
    "/webhooks/twilio": {"post": {"requestBody": {"required": True, "content": {FORM: {"schema": {
        "type": "object", "additionalProperties": {"type": "string"}, "required": ["CallStatus"], "properties": {
            "CallSid": {"type": "string"}, "CallDuration": {"type": "string"}, "AnsweredBy": {"type": "string"},
            "CallStatus": {"enum": ["initiated", "ringing", "in-progress", "completed", "busy", "failed",
                                    "no-answer", "canceled", ""]},
            "SipResponseCode": {"type": "string"}, "Timestamp": {"type": "string"}}}}}},
        "responses": {"default": {"description": "any"}}}},
    "/webhooks/telnyx": {"post": _json_event({"data": {"type": "object", "required": ["event_type", "payload"],
                                                        "properties": {
        "event_type": {"enum": ["call.initiated", "call.answered", "call.hangup", "call.machine.detection.ended",
                                "call.bridged"]},
        "occurred_at": ANY, "payload": {"type": "object", "properties": {
            "call_control_id": ANY, "client_state": ANY, "hangup_cause": _one_of("normal_clearing", "user_busy"),
            "start_time": ANY, "result": ANY}}}}}, "data")},
    "/webhooks/vonage": {"post": _json_event({
        "uuid": ANY, "status": {"enum": ["started", "ringing", "answered", "completed", "busy", "human", "machine",
                                         "disconnected"]},
        "duration": ANY, "timestamp": ANY, "detail": ANY, "reason": ANY}, "status")},
    "/webhooks/sip": {"post": _json_event({
        "call_id": ANY, "channel_uuid": ANY,
        "event": {"enum": ["CHANNEL_PROGRESS", "CHANNEL_ANSWER", "CHANNEL_HANGUP_COMPLETE", "AMD_RESULT"]},
        "hangup_cause": _one_of("NORMAL_CLEARING", "USER_BUSY", "GATEWAY_DOWN"), "duration": ANY,
        "answered_by": ANY, "timestamp": ANY}, "event")},
}}
PROVIDER_CALL_ID_FIELD = {"twilio": "CallSid", "vonage": "uuid", "sip": "channel_uuid"}  # telnyx: in data.payload
CREDENTIALS = {"twilio": twilio.DEFAULT_CREDENTIALS, "telnyx": telnyx.DEFAULT_CREDENTIALS,
               "vonage": vonage.DEFAULT_CREDENTIALS, "sip": freeswitch.DEFAULT_CREDENTIALS}


def _signed(server, provider: str, call: dict, body) -> tuple[str, bytes, dict[str, str]]:
    """The request the provider would send for ``body``: its URL, bytes and signature headers."""
    url = f"{server.url}/webhooks/{provider}?call_id={call['call_id']}"
    now, creds = int(time.time()), CREDENTIALS[provider]
    if provider == "twilio":
        params = [(name, value) for name, value in body.items()]
        return url, urlencode(params).encode(), {
            "Content-Type": FORM, "X-Twilio-Signature": webhooks.twilio_signature(url, params, creds["auth_token"])}
    raw = json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if provider == "telnyx":
        headers.update(telnyx.webhook_signature_headers(raw, now))
    elif provider == "vonage":
        headers["Authorization"] = "Bearer " + webhooks.vonage_jwt(raw, creds["signature_secret"],
                                                                  creds["application_id"], now)
    else:
        headers.update(webhooks.sip_signature_headers(raw, creds["webhook_secret"], now))
    return url, raw, headers


def _point_at(provider: str, body, call: dict, data) -> None:
    """Aim a generated event at the real call (its id, and mostly its provider call id)."""
    if not isinstance(body, dict):
        return
    if provider == "sip":
        body["call_id"] = call["call_id"]
    if data.draw(st.booleans(), label="the call's own provider id"):
        if provider == "telnyx":
            payload = body.setdefault("data", {}).setdefault("payload", {}) if isinstance(body.get("data"), dict) \
                or "data" not in body else None
            if isinstance(payload, dict):
                payload["call_control_id"] = call["call_sid"]
        else:
            body[PROVIDER_CALL_ID_FIELD[provider]] = call["call_sid"]


@pytest.mark.timeout(600)
def test_signed_provider_events_generated_from_their_payloads_never_answer_5xx(server):
    server.add_funds("org_acme", 2000)
    numbers = dict(zip(("twilio", "telnyx", "vonage", "sip"), DEMO_NUMBERS))
    calls = {}
    for provider, number in numbers.items():
        placed = requests.post(server.url + "/calls/initiate", json={"from_phone_number": number,
                                                                     "to_phone_number": TO}, headers=AUTH, timeout=30)
        assert placed.status_code == 200, placed.text
        calls[provider] = placed.json()
    schema = schemathesis.openapi.from_dict(PROVIDER_PAYLOADS)
    schema.config.update(base_url=server.url)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} == {f"/webhooks/{p}" for p in numbers}
    statuses: Counter = Counter()
    failures: list[str] = []
    first_line = len(server.output)
    for operation in operations:
        provider = operation.path.rsplit("/", 1)[1]
        strategy = operation.as_strategy(generation_mode=GenerationMode.POSITIVE)

        @settings(max_examples=MAX_EXAMPLES * 2, deadline=None, database=None, derandomize=True,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        @given(data=st.data())
        def run(data):
            case = data.draw(strategy, label="case")
            _point_at(provider, case.body, calls[provider], data)
            url, raw, headers = _signed(server, provider, calls[provider], case.body)
            response = requests.post(url, data=raw, headers=headers, timeout=30)
            statuses[(provider, response.status_code)] += 1
            try:
                case.validate_response(response, checks=[not_a_server_error])
                assert response.status_code < 500, response.text
                if response.status_code >= 400:
                    assert set(response.json()) == {"detail"}, response.text
            except (Exception, FailureGroup) as exc:
                failures.append(f"{provider}: {raw[:300]!r}\n -> {response.status_code} {response.text[:300]}"
                                f" ({str(exc)[:200]})")

        run()
    print(f"schemathesis, signed provider events: {sum(statuses.values())} examples, "
          f"{dict(sorted(statuses.items()))}, {len(failures)} failures")
    errors = [line for line in server.output[first_line:] if '"Unhandled error"' in line]
    assert not failures, "\n".join(failures[:10]) + "\n\nServer errors logged:\n" + "".join(errors[:2])[:3000]
    assert not errors, "".join(errors[:2])[:3000]
    for provider in numbers:  # the signing is right: events got through to the state machine
        assert statuses[(provider, 200)] > 0, (provider, statuses)


def test_the_document_stays_off_the_call_functions_cold_start():
    """CallsApiFunction and SchedulesApiFunction never import the document (nor pydantic)."""
    import subprocess
    import sys

    from tests.conftest import ROOT

    code = ("import importlib.util, sys\n"
            "for name in ('calls_api', 'schedules_api', 'provider_callbacks'):\n"
            "    spec = importlib.util.spec_from_file_location(f'app_{name}', f'functions/{name}/app.py')\n"
            "    spec.loader.exec_module(importlib.util.module_from_spec(spec))\n"
            "print(sorted(m for m in sys.modules if m == 'outbound.http.openapi' or m.startswith('pydantic')))\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                            env={**__import__("os").environ, "AWS_DEFAULT_REGION": "us-east-1"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
