"""SnapStart's runtime hooks (outbound.snapstart), run as the Lambda runtime runs them: importing
CallsApiFunction's handler registers them with ``snapshot_restore_py`` (the runtime's library);
before the snapshot they import the provider adapters; after a restore nothing random, connected,
credentialed or cached survives from the snapshot. In a fresh process, like a Lambda environment."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import ROOT

RUNTIME = r"""
import json, random, sys
import snapshot_restore_py as runtime

import app  # CallsApiFunction's handler module, as the runtime imports it during init

result = {"registered": [f.__name__ for f, _, _ in runtime.get_after_restore()],
          "adapters_before": sorted(m for m in sys.modules if m.startswith("outbound.providers."))}
for hook, args, kwargs in reversed(runtime.get_before_snapshot()):  # the runtime's order: reversed
    hook(*args, **kwargs)
result["adapters_after_snapshot"] = sorted(m for m in sys.modules if m.startswith("outbound.providers."))

# What a first invocation leaves behind (here: just before the snapshot, as init might).
from outbound import aws, credentials
from outbound.providers import _http
client = aws.client("dynamodb")
credentials._cache["outbound/local/org/twilio"] = (float("inf"), {"auth_token": "x"})
credentials._pool.connection_from_url("https://secretsmanager.us-east-1.amazonaws.com/")
_http._pool.connection_from_url("https://api.twilio.com/")
state = random.getstate()

for hook, args, kwargs in runtime.get_after_restore():  # the runtime's order: as registered
    hook(*args, **kwargs)
result.update(
    new_client=aws.client("dynamodb") is not client,
    secrets_cached=len(credentials._cache),
    secrets_pools=len(credentials._pool.pools),
    provider_pools=len(_http._pool.pools),
    reseeded=random.getstate() != state,
)
print(json.dumps(result))
"""


def test_the_restore_hooks_run_as_the_runtime_runs_them():
    env = {"PATH": os.environ["PATH"], "AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "x",
           "AWS_SECRET_ACCESS_KEY": "x", "TABLE_NAME": "t", "AWS_LAMBDA_INITIALIZATION_TYPE": "snap-start",
           "PYTHONPATH": os.pathsep.join([str(ROOT / "shared"), str(ROOT / "functions" / "calls_api")])}
    done = subprocess.run([sys.executable, "-c", RUNTIME], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["registered"] == ["after_restore"]
    assert "outbound.providers.telnyx" not in result["adapters_before"]  # a cold start loads them on first use
    assert {"outbound.providers.twilio", "outbound.providers.telnyx", "outbound.providers.vonage",
            "outbound.providers.sip"} <= set(result["adapters_after_snapshot"])
    assert result["new_client"] and result["reseeded"]
    assert result["secrets_cached"] == 0 and result["secrets_pools"] == 0 and result["provider_pools"] == 0


def test_without_the_runtime_library_registering_does_nothing():
    from outbound import snapstart

    saved = sys.modules.get("snapshot_restore_py")
    sys.modules["snapshot_restore_py"] = None  # import fails, as outside Lambda's managed runtime
    try:
        assert snapstart.register() is False
    finally:
        if saved is None:
            del sys.modules["snapshot_restore_py"]
        else:
            sys.modules["snapshot_restore_py"] = saved
