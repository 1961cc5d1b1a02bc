"""Operating the service: `outbound seed` and `outbound admin ...` against a running `outbound serve`
(each command a process of its own, as an operator runs it), never touching money except through
a ledgered credit; `outbound admin reconcile` proving balances from the ledger; GET
/organization/ledger."""
from __future__ import annotations

import json
import subprocess

import pytest

from tests.conftest import OUTBOUND, ROOT

pytestmark = pytest.mark.integration

TO = "+15559876543"


def admin(server, *args: str, check: bool = True):
    return server.outbound("admin", *args, "--local-server", server.url, check=check)


def money(server, organization_id: str) -> dict:
    org = server.organization(organization_id)
    return {name: org[name] for name in ("balance_cents", "reserved_cents", "available_cents")}


@pytest.fixture(scope="module")
def tenant(server, tmp_path_factory):
    """A fresh organization seeded from a fixture: 1000 cents, a Twilio number, an assistant."""
    fixture = {"organizations": [{"id": "org_admin", "name": "Admin Test", "balance_cents": 1000,
                                  "api_keys": ["sk_live_admin_test"], "call_reserve_cents": 100}],
               "assistants": [{"id": 7001, "organization_id": "org_admin", "name": "Ada"}],
               "phone_numbers": [{"number": "+15551237001", "organization_id": "org_admin", "provider": "twilio",
                                  "assistant_id": 7001}]}
    path = tmp_path_factory.mktemp("admin") / "fixture.json"
    path.write_text(json.dumps(fixture))
    server.outbound("seed", str(path), "--local-server", server.url)
    return {"fixture": fixture, "path": path, "key": "sk_live_admin_test", "from": "+15551237001"}


def test_seed_on_an_existing_organization_with_a_call_open_never_resets_its_money(server, tenant):
    placed = server.initiate({"from_phone_number": tenant["from"], "to_phone_number": TO}, key=tenant["key"])
    assert placed.status_code == 200, placed.text
    held = money(server, "org_admin")
    assert held == {"balance_cents": 1000, "reserved_cents": 100, "available_cents": 900}

    again = json.loads(tenant["path"].read_text())
    again["organizations"][0].update(name="Admin Test Renamed", balance_cents=50_000)
    tenant["path"].write_text(json.dumps(again))
    done = server.outbound("seed", str(tenant["path"]), "--local-server", server.url)
    assert "organization org_admin exists: updated name; its money is left as it is" in done.stdout
    assert "the fixture's balance_cents 50000 is not applied" in done.stdout
    assert money(server, "org_admin") == held  # the call's reserve is still held, the balance untouched
    shown = json.loads(admin(server, "org", "show", "org_admin").stdout)
    assert shown["name"] == "Admin Test Renamed"
    assert server.reconcile("org_admin").returncode == 0


def test_seed_needs_no_balance_for_an_organization_that_exists_nor_for_a_new_one(server, tenant, tmp_path):
    """balance_cents is only a new organization's opening credit: a fixture that adds numbers to
    an organization that exists leaves it out (and a new one without it starts at zero)."""
    before = money(server, "org_admin")
    fixture = {"organizations": [{"id": "org_admin", "name": "Admin Test Renamed"},
                                 {"id": "org_no_balance", "name": "No Balance Given"}],
               "assistants": [{"id": 7010, "organization_id": "org_admin", "name": "Dee"}]}
    path = tmp_path / "more.json"
    path.write_text(json.dumps(fixture))
    done = server.outbound("seed", str(path), "--local-server", server.url)
    assert "organization org_admin exists: no field changed; its money is left as it is" in done.stdout
    assert "is not applied" not in done.stdout  # no balance was given: nothing to explain
    assert money(server, "org_admin") == before
    assert money(server, "org_no_balance") == {"balance_cents": 0, "reserved_cents": 0, "available_cents": 0}
    assert json.loads(admin(server, "assistant", "show", "7010").stdout)["name"] == "Dee"
    assert server.reconcile("org_no_balance").returncode == 0


def test_directory_updates_change_only_the_fields_named(server, tenant):
    before = money(server, "org_admin")
    updated = json.loads(admin(server, "org", "update", "org_admin", "--per-minute-rate-cents", "9",
                               "--allowed-countries", "us,ca").stdout)
    assert updated["per_minute_rate_cents"] == 9 and updated["allowed_destination_countries"] == ["US", "CA"]
    assert updated["name"] == "Admin Test Renamed"  # untouched
    assert money(server, "org_admin") == before
    refused = admin(server, "org", "update", "org_admin", "--balance-cents", "0", check=False)
    assert refused.returncode == 2 and "unrecognized arguments: --balance-cents" in refused.stderr
    bad = admin(server, "org", "update", "org_admin", "--allowed-countries", "USA", check=False)
    assert bad.returncode == 2 and "allowed_destination_countries.0" in bad.stderr

    admin(server, "assistant", "create", "7002", "--org", "org_admin", "--name", "Bea",
          "--welcome-message", "Hi {{name}}, this is Bea.")
    admin(server, "graph", "create", "7003", "--org", "org_admin", "--entry-assistant-id", "7002")
    number = json.loads(admin(server, "number", "update", tenant["from"], "--graph-id", "7003").stdout)
    assert number["graph_id"] == 7003 and "assistant_id" not in number and number["graph_entry_hint"] == 7002
    placed = server.initiate({"from_phone_number": tenant["from"], "to_phone_number": "+15559876544",
                              "variables": {"name": "Cy"}}, key=tenant["key"])
    assert placed.status_code == 200 and placed.json()["assistant_id"] == 7002
    record = server.request("GET", f"/calls/{placed.json()['call_id']}", key=tenant["key"]).json()
    assert record["welcome_message"] == "Hi Cy, this is Bea."

    # Nothing of another organization can be pointed at, taken over or changed.
    foreign = admin(server, "number", "update", tenant["from"], "--assistant-id", "123", check=False)
    assert foreign.returncode == 2 and "assistant_id 123 is not an item of org_admin" in foreign.stderr
    taken = admin(server, "assistant", "create", "123", "--org", "org_admin", "--name", "X", check=False)
    assert taken.returncode == 2 and "exists already" in taken.stderr
    assert server.request("GET", "/calls/" + placed.json()["call_id"]).status_code == 404  # Acme's key


def sip_secret(server, organization_id: str) -> dict:
    import boto3

    info = server.aws()
    client = boto3.client("secretsmanager", endpoint_url=info["endpoint_url"], region_name=info["region"],
                          aws_access_key_id="local", aws_secret_access_key="local")
    name = f"{info['credentials_secret_prefix']}{organization_id}/sip"
    return json.loads(client.get_secret_value(SecretId=name)["SecretString"])


def test_sip_trunks_are_created_and_updated_without_touching_the_rest(server, tenant):
    before = server.organization("org_admin")
    done = subprocess.run([*OUTBOUND, "admin", "trunk", "create", "trunk_a", "--org", "org_admin", "--name", "Carrier A",
                           "--gateway", "sip.a.example:5060", "--priority", "2", "--password-stdin",
                           "--local-server", server.url], input="trunk-a-password\n", capture_output=True, text=True,
                          cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"id": "trunk_a", "name": "Carrier A", "gateway": "sip.a.example:5060",
                                       "priority": 2, "enabled": True, "register": True}  # no password in DynamoDB
    assert sip_secret(server, "org_admin")["trunk_passwords"] == {"trunk_a": "trunk-a-password"}
    admin(server, "trunk", "update", "trunk_a", "--org", "org_admin", "--no-enabled")
    shown = json.loads(admin(server, "trunk", "show", "trunk_a", "--org", "org_admin").stdout)
    assert shown["enabled"] is False and shown["gateway"] == "sip.a.example:5060"
    assert money(server, "org_admin") == {k: before[k] for k in ("balance_cents", "reserved_cents", "available_cents")}
    # Seeding the organization again keeps its trunk (the fixture lists none) and the trunk's password.
    server.outbound("seed", str(tenant["path"]), "--local-server", server.url)
    assert json.loads(admin(server, "trunk", "show", "trunk_a", "--org", "org_admin").stdout)["enabled"] is False
    assert sip_secret(server, "org_admin")["trunk_passwords"] == {"trunk_a": "trunk-a-password"}


def test_a_trunk_whose_password_cannot_be_stored_is_not_created(server, tenant):
    """Without a secret prefix the password has nowhere to go: the command fails before writing
    the trunk, so no trunk is left without its password (and `create` can simply be run again)."""
    import os

    info = server.aws()
    env = {k: v for k, v in os.environ.items() if k not in ("CREDENTIALS_SECRET_PREFIX", "TABLE_NAME")}
    env.update(AWS_ENDPOINT_URL=info["endpoint_url"], AWS_DEFAULT_REGION=info["region"],
               AWS_ACCESS_KEY_ID="local", AWS_SECRET_ACCESS_KEY="local")
    done = subprocess.run([*OUTBOUND, "admin", "trunk", "create", "trunk_nopw", "--org", "org_admin", "--name", "B",
                           "--gateway", "sip.b.example:5060", "--password-stdin", "--table", info["table_name"]],
                          input="secret\n", capture_output=True, text=True, cwd=ROOT, timeout=60, env=env)
    assert done.returncode == 2 and "give --secret-prefix" in done.stderr, done.stdout + done.stderr
    shown = admin(server, "trunk", "show", "trunk_nopw", "--org", "org_admin", check=False)
    assert shown.returncode == 2 and "no trunk trunk_nopw in org_admin" in shown.stderr


def test_credit_is_ledgered_and_idempotent_by_reference(server, tenant):
    before = money(server, "org_admin")
    first = admin(server, "credit", "org_admin", "2500", "--reason", "Invoice 1042 paid", "--reference", "inv-1042")
    assert "Credited $25.00 to org_admin" in first.stdout
    again = admin(server, "credit", "org_admin", "2500", "--reason", "Invoice 1042 paid", "--reference", "inv-1042")
    assert "Already credited" in again.stdout
    other = admin(server, "credit", "org_admin", "9999", "--reason", "typo", "--reference", "inv-1042", check=False)
    assert other.returncode == 2 and "already used for a credit of 2500 cents" in other.stderr
    assert money(server, "org_admin") == {**before, "balance_cents": before["balance_cents"] + 2500,
                                           "available_cents": before["available_cents"] + 2500}
    assert server.reconcile("org_admin").returncode == 0


def test_ledger_route_pages_newest_first_and_only_the_callers_entries(server, tenant):
    pages, token = [], None
    while True:
        query = "?limit=2" + (f"&next_token={token}" if token else "")
        answer = server.request("GET", "/organization/ledger" + query, key=tenant["key"])
        assert answer.status_code == 200, answer.text
        pages.append(answer.json()["entries"])
        token = answer.json()["next_token"]
        if token is None:
            break
    entries = [entry for page in pages for entry in page]
    assert all(len(page) == 2 for page in pages[:-1]) and 1 <= len(pages[-1]) <= 2 and len(entries) >= 4
    assert [e["created_at"] for e in entries] == sorted((e["created_at"] for e in entries), reverse=True)
    assert len({e["entry_id"] for e in entries}) == len(entries)
    kinds = {e["kind"] for e in entries}
    assert {"credit", "reserve"} <= kinds
    assert sum(e["balance_delta_cents"] for e in entries) == money(server, "org_admin")["balance_cents"]
    assert sum(e["reserved_delta_cents"] for e in entries) == money(server, "org_admin")["reserved_cents"]
    opening = [e for e in entries if e["reference"] == "opening-balance"]
    assert len(opening) == 1 and opening[0]["amount_cents"] == 1000  # the fixture's balance, credited once
    acme = server.request("GET", "/organization/ledger?limit=100").json()["entries"]  # Acme's key: Acme's own
    assert not {e["call_id"] for e in acme if e["call_id"]} & {e["call_id"] for e in entries if e["call_id"]}
    assert not {e["reference"] for e in acme} & {"inv-1042"}
    assert server.request("GET", "/organization/ledger?next_token=bm9wZQ", key=tenant["key"]).json() == {
        "detail": "Invalid next_token"}
    assert server.request("GET", "/organization/ledger?limit=0", key=tenant["key"]).status_code == 400
    assert server.request("GET", "/organization/ledger", key="sk_live_nobody").status_code == 401


def test_reconcile_fails_on_a_tampered_balance(server, tenant):
    assert server.reconcile("org_admin").returncode == 0
    table = server.aws()["table_name"]
    server.dynamodb().update_item(  # money changed behind the ledger's back
        TableName=table, Key={"pk": {"S": "ORG#org_admin"}, "sk": {"S": "ORG"}},
        UpdateExpression="ADD balance_cents :c, available_cents :c", ExpressionAttributeValues={":c": {"N": "700"}})
    try:
        done = server.outbound("admin", "reconcile", "org_admin", "--attempts", "2", "--local-server", server.url,
                               check=False)
        assert done.returncode == 1, done.stdout
        assert "MISMATCH: balance_cents is" in done.stdout and "(off by +700)" in done.stdout
    finally:
        server.dynamodb().update_item(
            TableName=table, Key={"pk": {"S": "ORG#org_admin"}, "sk": {"S": "ORG"}},
            UpdateExpression="ADD balance_cents :c, available_cents :c",
            ExpressionAttributeValues={":c": {"N": "-700"}})
    assert server.reconcile("org_admin").returncode == 0


def test_api_keys_are_listed_by_prefix_and_creation_time_only(server, tenant):
    created = admin(server, "api-key", "create", "org_admin")
    key = created.stdout.strip()
    assert key.startswith("sk_live_") and len(key) > 40 and "shown once" in created.stderr
    listed = json.loads(admin(server, "api-key", "list", "org_admin", "--json").stdout)
    assert {"prefix": key[:14], "created_at": listed[-1]["created_at"], "revoked_at": None} in listed
    assert all(set(entry) == {"prefix", "created_at", "revoked_at"} for entry in listed)
    assert key not in json.dumps(listed)
    assert server.request("GET", "/organization/balance", key=key).status_code == 200
    missing = admin(server, "api-key", "revoke", "org_admin", "sk_live_", check=False)
    assert missing.returncode == 2
