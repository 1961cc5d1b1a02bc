"""Every events/ file gives its expected result through `outbound invoke` (sam local invoke's
local equivalent), on a fresh local stack seeded with events/fixture.json."""
import json
import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conftest import EVENTS, OUTBOUND, ROOT

EXPECTED = json.loads((EVENTS / "expected.json").read_text())


def test_every_event_file_has_an_expectation():
    files = {p.name for p in EVENTS.glob("*.json")} - {"expected.json", "fixture.json"}
    assert files == set(EXPECTED)


def invoke(name: str) -> subprocess.CompletedProcess:
    return subprocess.run([*OUTBOUND, "invoke", EXPECTED[name]["function"], str(EVENTS / name),
                           "--seed", str(EVENTS / "fixture.json")],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def invocations():
    """Each invoke is a fresh process and a fresh stack; two at a time keeps both cores busy."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(sorted(EXPECTED), pool.map(invoke, sorted(EXPECTED))))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_event_gives_its_expected_result(name, invocations):
    expected = EXPECTED[name]
    done = invocations[name]
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)  # stdout carries only the Lambda result
    if "status" in expected:
        assert result["statusCode"] == expected["status"], result
        body = json.loads(result["body"])
        if expected["status"] == 200:
            assert body["message"] == "Call initiated successfully" and body["call_sid"]
            assert "provider request: " in done.stderr  # the emulator's view is printed to stderr
        else:
            assert set(body) >= {"detail"} and "Traceback" not in body["detail"]
        if expected["status"] == 504:  # the call may exist: its id is given, for status lookups
            assert body["call_id"].startswith("call_")
    elif "effect" in expected:
        assert result["policyDocument"]["Statement"][0]["Effect"] == expected["effect"]
        assert result["context"]["organization_id"] == "org_acme"
    else:
        assert result == {"errorMessage": expected["error"], "errorType": "Exception"}
