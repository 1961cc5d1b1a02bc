"""One environment variable, OUTBOUND_SERVER, for every command that talks to a running
`outbound serve`: each command below is given no --local-server / --server, and must still act on
the session's server (not on http://127.0.0.1:3000, where nothing listens)."""
from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.conftest import DEMO_KEY, EVENTS, OUTBOUND, ROOT

pytestmark = pytest.mark.integration

TO = "+15559876543"
UNSET = ("OUTBOUND_SERVER", "TABLE_NAME", "CREDENTIALS_SECRET_PREFIX", "AWS_ENDPOINT_URL")


def outbound(server_url: str | None, *args: str, **extra_env: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in UNSET}
    if server_url:
        env["OUTBOUND_SERVER"] = server_url
    env.update(extra_env)
    return subprocess.run([*OUTBOUND, *args], cwd=ROOT, capture_output=True, text=True, timeout=120, env=env)


def test_admin_and_seed_act_on_the_server_the_variable_names(server, tmp_path):
    shown = outbound(server.url, "admin", "org", "show", "org_acme")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["id"] == "org_acme"
    fixture = tmp_path / "env.json"
    fixture.write_text(json.dumps({"assistants": [{"id": 9391, "organization_id": "org_acme", "name": "Env"}]}))
    seeded = outbound(server.url, "seed", str(fixture))
    assert seeded.returncode == 0, seeded.stderr
    assert "Provider accounts registered with the local emulators" in seeded.stdout
    key_list = outbound(server.url, "api-key", "list", "org_acme")
    assert key_list.returncode == 0 and "sk_live_acme_" in key_list.stdout


def test_emulate_call_and_invoke_use_the_variable(server):
    placed = server.initiate({"from_phone_number": "+15551234567", "to_phone_number": TO})
    assert placed.status_code == 200, placed.text
    ended = outbound(server.url, "emulate-call", placed.json()["call_sid"], "--duration", "5")
    assert ended.returncode == 0, ended.stdout + ended.stderr
    assert server.request("GET", f"/calls/{placed.json()['call_id']}").json()["status"] == "completed"
    invoked = outbound(server.url, "invoke", "CallsApiFunction", str(EVENTS / "get-call-unknown.json"))
    assert invoked.returncode == 0, invoked.stderr
    assert json.loads(invoked.stdout)["statusCode"] == 404


def test_campaign_watch_asks_the_variables_server(server):
    created = server.request("POST", "/campaigns", {"name": "env", "from_phone_number": "+15551234567"})
    assert created.status_code == 201, created.text
    campaign_id = created.json()["campaign_id"]  # known to this server only
    watched = outbound(server.url, "campaign", "watch", campaign_id, "--api-key", DEMO_KEY,
                       "--every", "0.2", "--timeout", "0.5")
    assert watched.returncode == 2 and f"campaign {campaign_id} still draft after 0.5 s" in watched.stderr
    assert "0/0 finished" in watched.stdout


def test_the_load_bench_runs_against_the_variables_server_instead_of_starting_one(server):
    server.add_funds("org_acme", 10 * 100)
    done = outbound(server.url, "bench", "load", "--requests", "10", "--concurrency", "2")
    assert f"against {server.url}" in done.stderr, done.stdout + done.stderr


def test_both_a_server_and_a_table_in_the_environment_is_refused_not_guessed(server):
    done = outbound(server.url, "admin", "org", "show", "org_acme", TABLE_NAME="Deployed-CallsTable")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "both $OUTBOUND_SERVER and $TABLE_NAME are set" in done.stderr
    explicit = outbound(server.url, "admin", "org", "show", "org_acme", "--local-server", server.url,
                        TABLE_NAME="Deployed-CallsTable")
    assert explicit.returncode == 0, explicit.stderr
