"""Lambda SnapStart for the call path (stack parameter ``SnapStart``: CallsApiFunction).

With SnapStart, Lambda runs a function's init once, when a version is published, snapshots its
memory, and resumes every new execution environment from that snapshot. Whatever init left in
memory is then shared by every environment, and may be stale by the time one resumes, so:

- before the snapshot (``prime``): the provider adapters are imported (a cold start otherwise
  loads each on its provider's first call); the snapshot then holds them, paid for once at publish;
- after a restore (``after_restore``): Python's ``random`` is re-seeded (botocore's retry jitter
  would otherwise be the same sequence in every environment); the botocore session and its
  clients are dropped (connections opened and credentials resolved before the snapshot would be
  reused by every environment, and may have expired); the cached provider secrets are dropped;
  and the HTTP connection pools (Secrets Manager, the providers) are closed.

Ids need nothing: ``uuid4`` and ``secrets`` read the operating system's randomness, which is
fresh in each restored environment. The hooks are registered with ``snapshot_restore_py``, part of
the python3.12 managed runtime; where it is absent (locally, the tests), ``register`` does nothing.
With SnapStart off the runtime never calls them.
"""
from __future__ import annotations

import random
import sys


def prime() -> None:
    """Before the snapshot: import what the first call of each provider would import."""
    from outbound.providers import _ADAPTER_MODULES, get_adapter

    for provider in _ADAPTER_MODULES:
        get_adapter(provider)


def after_restore() -> None:
    """After a restore: nothing random, connected or credentialed is carried over from init."""
    from outbound import aws, credentials

    random.seed()
    aws.reset()
    credentials.clear_cache()
    credentials.close_connections()
    providers_http = sys.modules.get("outbound.providers._http")  # loaded by a provider call (or prime)
    if providers_http is not None:
        providers_http.close_connections()
    webhook_secrets = sys.modules.get("outbound.outcome_events.secrets")
    if webhook_secrets is not None:
        webhook_secrets.clear_cache()


def register() -> bool:
    """Hand the hooks to the runtime; False where there is no SnapStart runtime library."""
    try:
        import snapshot_restore_py
    except ImportError:
        return False
    snapshot_restore_py.register_before_snapshot(prime)
    snapshot_restore_py.register_after_restore(after_restore)
    return True
