"""GET /campaigns/{id}/results.csv tells each contact's whole story: beside its status and calls,
the seconds talked and cents charged over all its calls, the last answering-machine result, and
its own variables, one column each (the same columns on every part of a long export:
test_campaign_reports.py)."""
from __future__ import annotations

import csv
import io
import subprocess

import pytest

from tests.conftest import OUTBOUND, ROOT, wait_for
from tests.integration.test_campaigns_http import add, call, contact, create, get, number, placed_calls

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def api(server):
    done = subprocess.run([*OUTBOUND, "seed", str(ROOT / "tests" / "fixtures" / "campaigns.json"),
                           "--local-server", server.url], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return server


def end(server, call_id, outcome, duration=0, *extra):
    done = subprocess.run([*OUTBOUND, "emulate-call", call_id, "--outcome", outcome, "--duration", str(duration),
                           "--server", server.url, *extra], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def results(server, campaign_id, query=""):
    response = call(server, "GET", f"/campaigns/{campaign_id}/results.csv{query}")
    assert response.status_code == 200, response.text
    return response


def test_results_have_talk_seconds_charges_answered_by_and_the_contacts_variables(api):
    campaign_id = create(api, retry_policy={"max_attempts": 2, "delays_minutes": [0], "retry_on": ["busy"]})
    talker, busy_then_machine, unreached = number(), number(), number()
    add(api, campaign_id, [contact(talker, variables={"name": "Ada", "time": "3pm"}),
                           contact(busy_then_machine, variables={"name": "Bo", "ward": "B2"}),
                           contact(unreached, variables={"name": "Cy"})])
    call(api, "POST", f"/campaigns/{campaign_id}/start")
    first = {r["to_phone_number"]: r for r in wait_for(
        lambda: len(placed_calls(api, campaign_id)) == 3 and placed_calls(api, campaign_id), what="three calls")}
    end(api, first[talker]["call_id"], "completed", 65, "--answered-by", "human")
    end(api, first[busy_then_machine]["call_id"], "busy")
    end(api, first[unreached]["call_id"], "no-answer")
    retry = wait_for(lambda: [r for r in placed_calls(api, campaign_id) if r["to_phone_number"] == busy_then_machine
                              and r["call_id"] != first[busy_then_machine]["call_id"]], what="the busy contact's retry")
    end(api, retry[0]["call_id"], "completed", 130, "--answered-by", "machine")
    wait_for(lambda: get(api, campaign_id)["status"] == "completed", what="completion")

    response = results(api, campaign_id)
    header = next(csv.reader(io.StringIO(response.text)))
    assert header[-6:] == ["talk_seconds", "charged_cents", "answered_by",
                           "variables.name", "variables.time", "variables.ward"]
    rows = {r["phone_number"]: r for r in csv.DictReader(io.StringIO(response.text))}
    rate = 10  # org_dialer's per-minute rate
    assert {k: rows[talker][k] for k in header[-6:]} == {
        "talk_seconds": "65", "charged_cents": str(2 * rate), "answered_by": "human",
        "variables.name": "Ada", "variables.time": "3pm", "variables.ward": ""}
    assert {k: rows[busy_then_machine][k] for k in header[-6:]} == {
        "talk_seconds": "130", "charged_cents": str(3 * rate), "answered_by": "machine",
        "variables.name": "Bo", "variables.time": "", "variables.ward": "B2"}
    assert len(rows[busy_then_machine]["call_ids"].split()) == 2
    assert {k: rows[unreached][k] for k in header[-6:]} == {
        "talk_seconds": "0", "charged_cents": "0", "answered_by": "",
        "variables.name": "Cy", "variables.time": "", "variables.ward": ""}
