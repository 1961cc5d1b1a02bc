"""The CLI says what it needs instead of failing with a traceback."""
import os
import subprocess

from tests.conftest import EVENTS, OUTBOUND, ROOT

NO_AWS = {k: v for k, v in os.environ.items()
          if not k.startswith("AWS_") and k not in ("TABLE_NAME", "CREDENTIALS_SECRET_PREFIX", "OUTBOUND_SERVER")}
NO_AWS.update(AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull, AWS_EC2_METADATA_DISABLED="true")


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*OUTBOUND, *args], cwd=ROOT, capture_output=True, text=True, timeout=60, env=NO_AWS)


def test_invoke_without_a_target_says_what_it_needs():
    done = run("invoke", "CallsApiFunction", str(EVENTS / "initiate-minimal.json"))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "say where the function runs: --seed FILE" in done.stderr and "AWS credentials and TABLE_NAME" in done.stderr


def test_admin_commands_without_a_target_say_which_tables():
    done = run("admin", "reconcile", "org_acme")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "say which tables: --local-server URL, or --table NAME" in done.stderr


def test_a_credit_needs_a_reason_and_a_reference():
    done = run("admin", "credit", "org_acme", "500", "--local-server", "http://127.0.0.1:9")
    assert done.returncode == 2 and "--reason" in done.stderr and "--reference" in done.stderr
