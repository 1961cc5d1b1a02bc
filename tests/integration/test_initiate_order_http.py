"""Which answer comes first when several apply, as the README orders them ("Initiating a call,
step by step" and the paragraph under the status table): template variables (400), then the
provider credentials (502, nothing written), then the balance (402), then the call. Over HTTP,
for an organization made from nothing with the admin CLI: $0 and no credentials."""
from __future__ import annotations

import json
import re
import uuid

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.integration

TO = "+15559876543"
NO_CREDENTIALS = "Telephony provider error: No twilio credentials are configured for your organization"


def admin(server, *args: str, stdin: str | None = None) -> str:
    import subprocess

    from tests.conftest import OUTBOUND

    done = subprocess.run([*OUTBOUND, "admin", *args, "--local-server", server.url], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, input=stdin)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def broke(server):
    """A new organization: $0, an assistant whose welcome needs {{name}}, a Twilio number, a key."""
    org = f"org_order_{uuid.uuid4().hex[:8]}"
    number = f"+1555124{int(uuid.uuid4().hex[:4], 16) % 10000:04d}"
    admin(server, "org", "create", org, "--name", "Order")
    admin(server, "assistant", "create", "7401", "--org", org, "--name", "Ola", "--welcome-message", "Hi {{name}}.")
    admin(server, "number", "create", number, "--org", org, "--provider", "twilio", "--assistant-id", "7401")
    key = admin(server, "api-key", "create", org).strip()
    return {"org": org, "number": number, "key": key}


def initiate(server, broke, **extra):
    return server.initiate({"from_phone_number": broke["number"], "to_phone_number": TO, **extra}, key=broke["key"])


def nothing_written(server, broke) -> bool:
    calls = server.request("GET", "/calls", key=broke["key"]).json()["calls"]
    ledger = server.request("GET", "/organization/ledger", key=broke["key"]).json()["entries"]
    balance = server.request("GET", "/organization/balance", key=broke["key"]).json()
    return calls == [] and ledger == [] and balance == {"balance_cents": 0, "reserved_cents": 0, "available_cents": 0}


def test_zero_balance_and_no_credentials_answers_502_first_and_writes_nothing(server, broke):
    missing = initiate(server, broke)  # no variables: the template's {{name}} is missing
    assert missing.status_code == 400 and missing.json() == {"detail": "Missing template variables: name"}
    first = initiate(server, broke, variables={"name": "Ann"})
    assert first.status_code == 502 and first.json() == {"detail": NO_CREDENTIALS}
    assert nothing_written(server, broke)  # no failed record, no reserve, no ledger entry

    admin(server, "credentials", "set", broke["org"], "twilio",
          stdin=json.dumps({"account_sid": "AC" + uuid.uuid4().hex, "auth_token": "order-token"}))
    second = initiate(server, broke, variables={"name": "Ann"})
    assert second.status_code == 402
    assert second.json() == {"detail": "Insufficient balance. Please add funds to continue making calls."}
    assert nothing_written(server, broke)

    admin(server, "credit", broke["org"], "500", "--reason", "funds", "--reference", f"{broke['org']}-1")
    third = initiate(server, broke, variables={"name": "Ann"})
    assert third.status_code == 200, third.text


def test_the_readme_orders_the_checks_as_the_server_does():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    steps = text.split("**Initiating a call, step by step**", 1)[1].split("### ", 1)[0]
    numbered = re.findall(r"^(\d+)\. (.*?)(?=^\d+\. |\Z)", steps, re.S | re.M)
    credentials = next(int(n) for n, body in numbered if "credentials" in body and "502" in body)
    balance = next(int(n) for n, body in numbered if "else 402" in body)
    assert credentials < balance
    assert "**502 (no provider credentials), 402 (the\nbalance)**" in text or \
        "**502 (no provider credentials), 402 (the balance)**" in text
    assert f"`{NO_CREDENTIALS}`; nothing written, no record" in text
