"""The emulators know provider accounts the way the providers do: the accounts registered when
a fixture was seeded (`outbound serve`, `outbound seed --local-server`), not whatever the
organizations' secrets say now. Over real HTTP against `outbound serve`."""
from __future__ import annotations

import json
import subprocess

import boto3
import pytest
import requests

from tests.conftest import OUTBOUND, ROOT

pytestmark = pytest.mark.integration

TO = "+15559876543"


def secrets_manager(server):
    info = server.aws()
    return boto3.client("secretsmanager", endpoint_url=info["endpoint_url"], region_name=info["region"],
                        aws_access_key_id="local", aws_secret_access_key="local")


def reload_accounts(server) -> requests.Response:
    return requests.post(server.url + "/_local/provider-accounts/reload", timeout=10)


def fixture_for(org: str, number: str, assistant_id: int, twilio: dict) -> dict:
    """One organization with its own Twilio account and one number."""
    return {
        "organizations": [{"id": org, "name": org, "balance_cents": 1000, "api_keys": [f"sk_live_{org}"],
                           "provider_credentials": {"twilio": twilio}}],
        "assistants": [{"id": assistant_id, "organization_id": org, "name": "Late", "welcome_message": "Hi."}],
        "phone_numbers": [{"number": number, "organization_id": org, "provider": "twilio",
                           "assistant_id": assistant_id}],
    }


def test_reload_route_counts_the_registered_accounts_per_provider_without_revealing_them(server):
    response = reload_accounts(server)
    assert response.status_code == 200
    accounts = response.json()["accounts"]
    assert set(accounts) == {"twilio", "telnyx", "vonage", "sip"}
    assert all(count >= 5 for count in accounts.values())  # events/fixture.json has 5 organizations
    assert "auth_token" not in response.text and "password" not in response.text


def test_reload_is_post_only(server):
    response = requests.get(server.url + "/_local/provider-accounts/reload", timeout=10)
    assert response.status_code == 404


def seed_running_server(server, tmp_path, fixture: dict) -> subprocess.CompletedProcess:
    path = tmp_path / "fixture.json"
    path.write_text(json.dumps(fixture))
    return subprocess.run([*OUTBOUND, "seed", str(path), "--local-server", server.url],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_outbound_seed_to_a_running_server_registers_the_new_accounts(server, tmp_path):
    org, number = "org_seeded_later", "+15551230032"  # (+15551230030 is org_race's: seeding never moves it)
    done = seed_running_server(server, tmp_path, fixture_for(
        org, number, 930, {"account_sid": "AC" + "7" * 32, "auth_token": "seeded-later-token"}))
    assert done.returncode == 0, done.stderr
    assert "Provider accounts registered with the local emulators: " in done.stdout
    response = server.initiate({"from_phone_number": number, "to_phone_number": TO}, key=f"sk_live_{org}")
    assert response.status_code == 200, response.text
    assert response.json()["provider"] == "twilio"


def test_a_secret_rewritten_after_seeding_is_refused_until_the_accounts_reload(server, tmp_path):
    """A token written behind the seed's back is one the provider never issued."""
    org, number = "org_rotated_later", "+15551230031"
    account_sid = "AC" + "3" * 32
    done = seed_running_server(server, tmp_path, fixture_for(
        org, number, 931, {"account_sid": account_sid, "auth_token": "seeded-token"}))
    assert done.returncode == 0, done.stderr
    call = {"from_phone_number": number, "to_phone_number": TO}
    assert server.initiate(call, key=f"sk_live_{org}").status_code == 200

    name = f"{server.aws()['credentials_secret_prefix']}{org}/twilio"
    rotated = {"account_sid": account_sid, "auth_token": "rotated-without-telling-twilio"}
    secrets_manager(server).put_secret_value(SecretId=name, SecretString=json.dumps(rotated))
    refused = server.initiate(call, key=f"sk_live_{org}")
    assert refused.status_code == 502
    assert refused.json() == {"detail": "Telephony provider error: Authenticate"}

    assert reload_accounts(server).status_code == 200  # the provider now knows the new token
    assert server.initiate(call, key=f"sk_live_{org}").status_code == 200
