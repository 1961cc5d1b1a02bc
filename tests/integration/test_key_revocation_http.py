"""A revoked API key is refused once API Gateway's cached authorization for it expires.

The authorizer refuses a revoked key at once, but API Gateway answers from its cache (per token,
AuthorizerCacheSeconds) until the cached result expires: that window is what an operator must
expect after `outbound admin api-key revoke`. Here a server of its own runs with a 2-second cache
($OUTBOUND_LOCAL_AUTHORIZER_CACHE_S, as a stack deployed with AuthorizerCacheSeconds=2)."""
from __future__ import annotations

import time

import pytest

from tests.conftest import TEST_SERVER_ENV, start_server

pytestmark = pytest.mark.integration

CACHE_S = 2


@pytest.fixture(scope="module")
def short_cache_server():
    server = start_server(env={**TEST_SERVER_ENV, "OUTBOUND_LOCAL_AUTHORIZER_CACHE_S": str(CACHE_S)})
    yield server
    server.stop()


def test_a_revoked_key_is_refused_after_the_cache_time(short_cache_server):
    server = short_cache_server
    key = server.outbound("admin", "api-key", "create", "org_acme", "--local-server", server.url).stdout.strip()
    assert server.request("GET", "/organization/balance", key=key).status_code == 200
    cached_at = time.monotonic()  # API Gateway now holds "allow" for this key for CACHE_S

    done = server.outbound("admin", "api-key", "revoke", "org_acme", key[:14], "--local-server", server.url)
    assert "Revoked sk_live_" in done.stdout and "AuthorizerCacheSeconds" in done.stdout
    listed = server.outbound("admin", "api-key", "list", "org_acme", "--local-server", server.url).stdout
    assert key[:14] in listed and key not in listed
    within_window = server.request("GET", "/organization/balance", key=key).status_code
    if time.monotonic() - cached_at < CACHE_S - 0.5:  # still inside the cached answer's lifetime
        assert within_window == 200
    time.sleep(max(0.0, cached_at + CACHE_S + 0.2 - time.monotonic()))
    refused = server.request("GET", "/organization/balance", key=key)
    assert refused.status_code == 401 and refused.json() == {"detail": "Invalid or missing API key"}
    assert server.initiate({"from_phone_number": "+15551234567", "to_phone_number": "+15559876543"},
                           key=key).status_code == 401
    # Revoking again changes nothing (the first revocation time is kept); other keys still work.
    server.outbound("admin", "api-key", "revoke", "org_acme", key, "--local-server", server.url)
    assert server.request("GET", "/organization/balance").status_code == 200


def test_seeding_again_never_revives_a_revoked_key(short_cache_server, tmp_path):
    import json

    server = short_cache_server
    server.outbound("admin", "api-key", "revoke", "org_globex", "sk_live_globex_demo", "--local-server", server.url)
    fixture = tmp_path / "globex.json"
    fixture.write_text(json.dumps({"organizations": [{"id": "org_globex", "name": "Globex", "balance_cents": 2500,
                                                      "api_keys": ["sk_live_globex_demo"]}]}))
    server.outbound("seed", str(fixture), "--local-server", server.url)
    time.sleep(CACHE_S + 0.2)
    assert server.request("GET", "/organization/balance", key="sk_live_globex_demo").status_code == 401
