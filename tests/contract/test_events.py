"""Every events/ file gives its expected result through `outbound invoke` (sam local invoke's
local equivalent), on a fresh local stack seeded with events/fixture.json."""
import json
import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conftest import EVENTS, OUTBOUND, ROOT

EXPECTED = json.loads((EVENTS / "expected.json").read_text())
# The module's fixture starts ~40 fresh local stacks (two at a time): on a shared 2-core machine
# that alone can pass the suite's default 120 s. A guard against hangs, not a speed check.
pytestmark = pytest.mark.timeout(400)


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


# The first case also waits for the module's ~40 invocations (each a fresh stack): on a shared,
# busy 2-core machine that alone can pass the suite's 120 s per test.
@pytest.mark.timeout(600)
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_event_gives_its_expected_result(name, invocations):
    expected = EXPECTED[name]
    done = invocations[name]
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)  # stdout carries only the Lambda result
    if "status" in expected:
        assert result["statusCode"] == expected["status"], result
        body = json.loads(result["body"])
        if expected["function"] == "WebhooksFunction":  # a provider's signed status callback
            if expected["status"] == 200:
                assert body["status"] == expected["call_status"] and body["applied"] is True, body
            else:
                assert body == {"detail": "Invalid or missing webhook signature"}
        elif expected["function"] == "SchedulesApiFunction":
            check_schedules_api_result(expected["status"], body)
        elif expected["status"] == 200:
            assert body["message"] == "Call initiated successfully" and body["call_sid"]
            assert "provider request: " in done.stderr  # the emulator's view is printed to stderr
        else:
            assert set(body) >= {"detail"} and "Traceback" not in body["detail"]
        if expected["status"] == 504:  # the call may exist: its id is given, for status lookups
            assert body["call_id"].startswith("call_")
    elif "outcome" in expected:  # ScheduledCallFunction: one fire (Scheduler input or EventBridge event)
        assert result["outcome"] == expected["outcome"], result
        if expected["outcome"] == "placed":
            assert result["message"] == "Call initiated successfully" and result["call_sid"], result
            assert result["call_id"] == f"call_{result['fire_id']}"  # derived from the fire
            assert "provider request: " in done.stderr
        else:  # recorded and not retried: a result, not a function error
            assert result["status_code"] == expected["status_code"] and result["detail"], result
            assert "provider request: " not in done.stderr
    elif "sweep" in expected:  # ReserveSweeperFunction on a fresh stack: the week-old unconfirmed sample
        assert {k: result[k] for k in expected["sweep"]} == expected["sweep"], result
        assert result["threshold_seconds"] == 30 + 120 + 3600 + 600  # placing + longest ring + longest call + grace
    elif "provider_reconcile" in expected:  # ProviderReconcileFunction on a fresh stack: the demo calls
        # were never placed through the emulated providers, so no provider reports them finished:
        # each is flagged (with why), none is charged on a guess.
        want = dict(expected["provider_reconcile"])
        assert sorted(c["call_id"] for c in result["calls"] if c["outcome"] == "flagged") == want.pop("flagged_calls")
        assert {k: result[k] for k in want} == want, result
        assert result["adjustment_cents"] == 0 and all(c["detail"] for c in result["calls"])
    elif "effect" in expected:
        assert result["policyDocument"]["Statement"][0]["Effect"] == expected["effect"]
        assert result["context"]["organization_id"] == "org_acme"
    else:
        assert result == {"errorMessage": expected["error"], "errorType": "Exception"}


def check_schedules_api_result(status: int, body: dict) -> None:
    if status == 201:
        assert body["message"] == "Call scheduled" and body["schedule_id"].startswith("sch_"), body
        assert body["scheduled_at"]
    elif status == 200:
        assert isinstance(body["schedules"], list) and "next_token" in body, body
    else:
        assert set(body) == {"detail"} and "Traceback" not in body["detail"], body
