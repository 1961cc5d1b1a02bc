"""The README's curl, Python and Node examples, run as a user would against `outbound serve`."""
import json
import os
import shutil
import subprocess
import sys

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.integration
EXAMPLES = ROOT / "examples"


def run(command: list[str], server) -> str:
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "BASE_URL": server.url})
    assert done.returncode == 0, done.stderr
    return done.stdout


def assert_placed(body: dict, server):
    assert body["message"] == "Call initiated successfully" and body["call_sid"].startswith("CA")
    record = server.request("GET", f"/calls/{body['call_sid']}").json()
    assert record["welcome_message"] == "Hi John, this is Sarah from Acme Health."
    assert record["agenda"] == "Confirm the appointment on December 1st."


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_example(server):
    assert_placed(json.loads(run(["bash", str(EXAMPLES / "initiate_call.sh")], server)), server)


def test_python_example(server):
    out = run([sys.executable, str(EXAMPLES / "initiate_call.py")], server)
    status, body = out.split(" ", 1)
    assert status == "200"
    assert_placed(json.loads(body), server)


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_node_example(server):
    status, body = run(["node", str(EXAMPLES / "initiate_call.mjs")], server).split(" ", 1)
    assert status == "200"
    assert_placed(json.loads(body), server)
