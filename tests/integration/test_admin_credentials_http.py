"""`outbound admin credentials set|show|delete ORG PROVIDER`: an organization's provider secrets,
from a file or stdin, never printed; on a local server (registered with its emulators, as
`outbound seed` does) and on a deployed stack's Secrets Manager (here: the local one, reached the
way a deployed stack is, without --local-server)."""
from __future__ import annotations

import json
import os
import subprocess
import uuid

import pytest

from tests.conftest import OUTBOUND, ROOT

pytestmark = pytest.mark.integration

TO = "+15559876543"
TOKEN = "a-token-that-must-never-be-printed"


def run(server, *args: str, stdin: str | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in ("OUTBOUND_SERVER", "TABLE_NAME",
                                                              "CREDENTIALS_SECRET_PREFIX")}
    target = [] if env else ["--local-server", server.url]
    return subprocess.run([*OUTBOUND, "admin", *args, *target], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, input=stdin, env={**base, **(env or {})})


@pytest.fixture(scope="module")
def tenant(server):
    """A new organization with funds, an assistant and a Twilio number, and no credentials (each
    test sets what it needs)."""
    org = f"org_cred_{uuid.uuid4().hex[:8]}"
    number = f"+1555123{int(uuid.uuid4().hex[:4], 16) % 10000:04d}"
    assistant = str(70000 + int(uuid.uuid4().hex[:4], 16))
    key = None
    for args in (("org", "create", org, "--name", "Creds"),
                 ("credit", org, "1000", "--reason", "test", "--reference", f"{org}-funds"),
                 ("assistant", "create", assistant, "--org", org, "--name", "Ada"),
                 ("number", "create", number, "--org", org, "--provider", "twilio", "--assistant-id", assistant),
                 ("api-key", "create", org)):
        done = run(server, *args)
        assert done.returncode == 0, done.stderr
        key = done.stdout.strip()
    tenant = {"org": org, "number": number, "key": key}
    # What the issue met: nothing in the CLI gave a new organization credentials.
    assert call(server, tenant).json() == {
        "detail": "Telephony provider error: No twilio credentials are configured for your organization"}
    return tenant


def call(server, tenant):
    return server.initiate({"from_phone_number": tenant["number"], "to_phone_number": TO}, key=tenant["key"])


def twilio_secret() -> dict:
    return {"account_sid": "AC" + uuid.uuid4().hex, "auth_token": TOKEN}


def test_set_from_stdin_makes_a_new_organizations_calls_work_and_never_prints_the_secret(server, tenant):
    done = run(server, "credentials", "set", tenant["org"], "twilio", stdin=json.dumps(twilio_secret()))
    assert done.returncode == 0, done.stderr
    assert "account_sid, auth_token (values not shown)" in done.stdout
    assert "Registered with the local server's provider emulators" in done.stdout
    placed = call(server, tenant)
    assert placed.status_code == 200, placed.text  # the emulator knows the account: it was registered
    shown = run(server, "credentials", "show", tenant["org"], "twilio")
    assert shown.returncode == 0 and "set account_sid, auth_token; last changed " in shown.stdout
    every = run(server, "credentials", "show", tenant["org"])
    assert every.returncode == 0 and "vonage: none" in every.stdout and "twilio: outbound/" in every.stdout
    for output in (done, shown, every):
        assert TOKEN not in output.stdout + output.stderr


def test_set_from_a_file_replaces_the_account_and_the_emulator_follows(server, tenant, tmp_path):
    first, second = twilio_secret(), twilio_secret()
    assert run(server, "credentials", "set", tenant["org"], "twilio", stdin=json.dumps(first)).returncode == 0
    assert call(server, tenant).status_code == 200
    path = tmp_path / "twilio.json"
    path.write_text(json.dumps(second))
    done = run(server, "credentials", "set", tenant["org"], "twilio", "--file", str(path))
    assert done.returncode == 0, done.stderr
    assert call(server, tenant).status_code == 200  # the new account, registered at once


@pytest.mark.parametrize("secret,problem", [
    ({"api_key": TOKEN}, "public_key: Field required"),
    ({"api_key": TOKEN, "public_key": TOKEN, "apikey": TOKEN}, "apikey: unknown field"),
    ([TOKEN], "must be a JSON object with the telnyx fields: api_key, public_key"),
])
def test_a_secret_that_is_not_the_providers_is_refused_by_field_name_and_nothing_is_stored(
        server, tenant, secret, problem):
    done = run(server, "credentials", "set", tenant["org"], "telnyx", stdin=json.dumps(secret))
    assert done.returncode == 2 and problem in done.stderr and "Traceback" not in done.stderr
    assert TOKEN not in done.stdout + done.stderr
    shown = run(server, "credentials", "show", tenant["org"], "telnyx")
    assert shown.returncode == 1 and "telnyx: none" in shown.stdout


def test_not_json_and_unknown_organizations_are_refused(server, tenant):
    done = run(server, "credentials", "set", tenant["org"], "twilio", stdin=f"account_sid={TOKEN}")
    assert done.returncode == 2 and "the secret is not JSON" in done.stderr and TOKEN not in done.stderr
    unknown = run(server, "credentials", "set", "org_nobody_here", "twilio", stdin=json.dumps(twilio_secret()))
    assert unknown.returncode == 2 and "no organization org_nobody_here" in unknown.stderr


def test_delete_stops_the_calls_and_set_brings_them_back(server, tenant):
    assert run(server, "credentials", "set", tenant["org"], "twilio", stdin=json.dumps(twilio_secret())).returncode == 0
    assert call(server, tenant).status_code == 200
    done = run(server, "credentials", "delete", tenant["org"], "twilio")
    assert done.returncode == 0, done.stderr
    refused = call(server, tenant)
    assert refused.status_code == 502 and "No twilio credentials" in refused.json()["detail"]
    again = run(server, "credentials", "delete", tenant["org"], "twilio")
    assert again.returncode == 2 and f"{tenant['org']} has no twilio credentials" in again.stderr
    assert run(server, "credentials", "set", tenant["org"], "twilio", stdin=json.dumps(twilio_secret())).returncode == 0
    assert call(server, tenant).status_code == 200


def test_a_sip_secret_set_again_keeps_the_trunk_passwords(server, tenant):
    org = tenant["org"]
    sip = {"bridge": "127.0.0.1:8021", "password": "ClueCon", "webhook_secret": "w" * 32}
    assert run(server, "credentials", "set", org, "sip", stdin=json.dumps(sip)).returncode == 0
    trunk = run(server, "trunk", "create", "trunk_cred", "--org", org, "--name", "Carrier", "--gateway",
                "sip.example:5060", "--password-stdin", stdin="trunk-secret\n")
    assert trunk.returncode == 0, trunk.stderr
    done = run(server, "credentials", "set", org, "sip", stdin=json.dumps({**sip, "password": "Rotated"}))
    assert done.returncode == 0, done.stderr
    shown = run(server, "credentials", "show", org, "sip")
    assert "trunk_passwords (trunk_cred)" in shown.stdout and "trunk-secret" not in shown.stdout
    secret = json.loads(server_secret(server, f"{org}/sip"))
    assert secret["trunk_passwords"] == {"trunk_cred": "trunk-secret"} and secret["password"] == "Rotated"


def server_secret(server, suffix: str) -> str:
    import boto3

    info = server.aws()
    client = boto3.client("secretsmanager", endpoint_url=info["endpoint_url"], region_name=info["region"],
                          aws_access_key_id="local", aws_secret_access_key="local")
    return client.get_secret_value(SecretId=info["credentials_secret_prefix"] + suffix)["SecretString"]


def test_a_deployed_stack_keeps_a_recovery_window_and_set_restores_a_deleted_secret(server, tenant):
    """The deployed path: the table and prefix from the environment, as after `export TABLE_NAME=...
    CREDENTIALS_SECRET_PREFIX=...` (AWS itself stands in for by the local moto endpoint)."""
    info = server.aws()
    deployed = {"AWS_ENDPOINT_URL": info["endpoint_url"], "AWS_DEFAULT_REGION": info["region"],
                "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
                "TABLE_NAME": info["table_name"], "CREDENTIALS_SECRET_PREFIX": info["credentials_secret_prefix"]}
    org = tenant["org"]
    done = run(server, "credentials", "set", org, "twilio", stdin=json.dumps(twilio_secret()), env=deployed)
    assert done.returncode == 0, done.stderr
    assert "Registered with the local" not in done.stdout and "within OUTBOUND_SECRETS_CACHE_SECONDS" in done.stdout
    deleted = run(server, "credentials", "delete", org, "twilio", env=deployed)
    assert deleted.returncode == 0, deleted.stderr
    assert "Scheduled" in deleted.stdout and "restore-secret" in deleted.stdout
    assert run(server, "credentials", "show", org, "twilio", env=deployed).returncode == 1
    back = run(server, "credentials", "set", org, "twilio", stdin=json.dumps(twilio_secret()), env=deployed)
    assert back.returncode == 0, back.stderr  # restored from its recovery window, then given the value
    assert run(server, "credentials", "show", org, "twilio", env=deployed).returncode == 0
    no_prefix = {k: v for k, v in deployed.items() if k != "CREDENTIALS_SECRET_PREFIX"}
    missing = run(server, "credentials", "show", org, "twilio", env=no_prefix)
    assert missing.returncode == 2 and "--secret-prefix" in missing.stderr
