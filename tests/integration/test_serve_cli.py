"""`outbound serve` that cannot start says why and exits 2, instead of hanging."""
from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.conftest import OUTBOUND, ROOT

pytestmark = pytest.mark.integration


def serve(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*OUTBOUND, "serve", "--port", "0", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, env={**os.environ, **(env or {})})


def test_a_fixture_that_cannot_load_stops_serve_with_the_reason(tmp_path):
    fixture = tmp_path / "bad.json"
    fixture.write_text(json.dumps({"organizations": [{"id": "org_x", "name": "X", "balance_cents": 1,
                                                      "colour": "red"}]}))
    done = serve("--seed", str(fixture))
    assert done.returncode == 2
    assert "organizations.0.colour: unknown field" in done.stderr
    assert "Listening on" not in done.stdout


def test_a_bad_local_provider_timeout_stops_serve_with_the_reason():
    done = serve(env={"OUTBOUND_LOCAL_PROVIDER_TIMEOUT_S": "0"})  # 0 is not "no timeout"
    assert done.returncode == 2
    assert "OUTBOUND_LOCAL_PROVIDER_TIMEOUT_S must be a positive number of seconds, not '0'" in done.stderr
