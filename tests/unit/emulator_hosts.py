"""Loopback emulator hosts for the adapter tests: what every REST adapter test sets up."""
from __future__ import annotations

import socket
from types import ModuleType

from outbound_local.emulators.base import HttpEmulatorHost, RequestLog


def start_http_emulator(routes: dict[str, tuple[str, ModuleType]]) -> HttpEmulatorHost:
    """One started host; each emulator accepts its provider's default credentials."""
    accepted = {provider: [module.DEFAULT_CREDENTIALS] for provider, module in routes.values()}
    return HttpEmulatorHost({prefix: (provider, module.handle) for prefix, (provider, module) in routes.items()},
                            RequestLog(), lambda provider: accepted.get(provider, [])).start()


def point_adapter_at(monkeypatch, env_var: str, url: str) -> None:
    monkeypatch.setenv(env_var, url)
    monkeypatch.setenv("OUTBOUND_PROVIDER_TIMEOUT_S", "5")


def unused_port() -> int:
    with socket.socket() as unused:  # a port nobody listens on
        unused.bind(("127.0.0.1", 0))
        return unused.getsockname()[1]
