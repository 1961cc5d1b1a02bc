"""Every events/ file gives its expected result through `outbound invoke` (sam local invoke's
local equivalent): each in a fresh process of its own, against one running local stack
(``--local-server``, seeded with events/fixture.json) — and, where a fresh stack is what the
sample is about, on a fresh stack of its own (``--seed``)."""
import json
import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.conftest import EVENTS, OUTBOUND, ROOT, TEST_SERVER_ENV, start_server

EXPECTED = json.loads((EVENTS / "expected.json").read_text())
# A sample whose expectation holds only on a stack nobody else has touched: the sweeper's counts
# the fixture's week-old unconfirmed call, which another sample's webhook reconciles.
FRESH_STACK = {"sweep-reserves.json"}
# And the --seed path itself, for each kind of function: what `sam local invoke` users replay.
ALSO_SEEDED = {"initiate-minimal.json", "webhook-twilio-completed.json", "scheduled-call-eventbridge.json",
               "schedule-call-one-time.json", "authorizer-valid-key.json"}


def test_every_event_file_has_an_expectation():
    files = {p.name for p in EVENTS.glob("*.json")} - {"expected.json", "fixture.json"}
    assert files == set(EXPECTED)


def invoke(name: str, target: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run([*OUTBOUND, "invoke", EXPECTED[name]["function"], str(EVENTS / name), *target],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def invocations():
    """Each invoke is a process of its own; two at a time keeps both cores busy. One stack serves
    every sample but those that need a fresh one."""
    # The samples' own provider timeout (3 s locally), not the 1 s the timeout tests use: on a busy
    # machine the emulator can take longer than 1 s to accept a call, and that would be a 504.
    server = start_server(env={**TEST_SERVER_ENV, "OUTBOUND_LOCAL_PROVIDER_TIMEOUT_S": "3"})
    try:
        shared = sorted(set(EXPECTED) - FRESH_STACK)
        seeded = sorted(FRESH_STACK | ALSO_SEEDED)
        jobs = [(name, ["--local-server", server.url]) for name in shared]
        jobs += [(name, ["--seed", str(EVENTS / "fixture.json")]) for name in seeded]
        with ThreadPoolExecutor(max_workers=2) as pool:
            done = list(pool.map(lambda job: invoke(*job), jobs))
        placed = requests.get(server.url + "/_local/provider-calls", timeout=10).json()
    finally:
        server.stop()
    results = {}
    for (name, target), result in zip(jobs, done):
        results[(name, target[0])] = result
    return results, placed


CASES = [(name, "--local-server") for name in sorted(set(EXPECTED) - FRESH_STACK)]
CASES += [(name, "--seed") for name in sorted(FRESH_STACK | ALSO_SEEDED)]


# The first case also waits for the module's ~45 invocations: on a shared, busy 2-core machine
# that alone can pass the suite's 120 s per test.
@pytest.mark.timeout(600)
@pytest.mark.parametrize("name,target", CASES)
def test_event_gives_its_expected_result(name, target, invocations):
    expected = EXPECTED[name]
    results, placed_calls = invocations
    done = results[(name, target)]

    def provider_placed(result: dict) -> bool:
        """The provider emulator received the call: printed by --seed, listed by the server."""
        if target == "--seed":
            return "provider request: " in done.stderr
        return any(call.get("call_sid") == result["call_sid"] for call in placed_calls.values())

    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)  # stdout carries only the Lambda result
    if "status" in expected:
        assert result["statusCode"] == expected["status"], result
        body = json.loads(result["body"])
        if expected["function"] == "ProviderCallbacksFunction":  # a provider's signed status callback
            if expected["status"] == 200:
                assert body["status"] == expected["call_status"] and body["applied"] is True, body
            else:
                assert body == {"detail": "Invalid or missing webhook signature"}
        elif expected["function"] == "SchedulesApiFunction":
            check_schedules_api_result(expected["status"], body)
        elif expected["status"] == 200:
            assert body["message"] == "Call initiated successfully" and body["call_sid"]
            assert provider_placed(body)
        else:
            assert set(body) >= {"detail"} and "Traceback" not in body["detail"]
        if expected["status"] == 504:  # the call may exist: its id is given, for status lookups
            assert body["call_id"].startswith("call_")
    elif "outcome" in expected:  # ScheduledCallFunction: one fire (Scheduler input or EventBridge event)
        assert result["outcome"] == expected["outcome"], result
        if expected["outcome"] == "placed":
            assert result["message"] == "Call initiated successfully" and result["call_sid"], result
            assert result["call_id"] == f"call_{result['fire_id']}"  # derived from the fire
            assert provider_placed(result)
        else:  # recorded and not retried: a result, not a function error
            assert result["status_code"] == expected["status_code"] and result["detail"], result
            assert target != "--seed" or "provider request: " not in done.stderr
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
