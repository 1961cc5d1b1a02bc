"""GET /openapi.json over real HTTP, and the API checked against it with Schemathesis.

The document must be a valid OpenAPI 3.1 document covering every route template.yaml declares;
then every operation is exercised with generated requests (positive and negative), with the
demo organization's API key, and each answer must: not be a 5xx (the documented 502/504 of a
refused or silent provider excepted), have a documented status code, content type and headers,
and a body that fits the documented schema.
"""
from __future__ import annotations

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

from outbound_local.template import load
from tests.conftest import DEMO_KEY

pytestmark = pytest.mark.integration

MAX_EXAMPLES = 30  # per operation and generation mode: the whole run stays well under a minute
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


def test_every_operation_conforms_to_the_document(server):
    server.add_funds("org_acme", 100_000)  # generated successful calls each hold a reserve
    schema = schemathesis.openapi.from_url(server.url + "/openapi.json")
    # The key as configured auth: negative cases then never "remove" it behind our back.
    schema.config.update(base_url=server.url, headers=AUTH)
    operations = [result.ok() for result in schema.get_all_operations()]
    # Every route but the document itself (which Schemathesis leaves out when loading it by URL).
    assert {op.label for op in operations} >= {f"{r.method} {r.path}" for r in load().routes()
                                                if r.path != "/openapi.json"}
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

    @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=True,
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
