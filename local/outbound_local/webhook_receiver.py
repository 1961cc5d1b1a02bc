"""A loopback receiver for customer webhooks, and local DNS names (``outbound serve`` only).

``POST /_local/webhook-receiver/<name>`` records what arrived (headers, raw body, when) and answers
2xx, or fails on purpose: ``POST /_local/webhook-receiver/<name>/behaviour`` with
``{"fail": 3, "status": 500, "delay_s": 0}`` makes the next 3 requests answer 500 (``delay_s``:
hold each answer that long, to try the deliverer's timeout). ``GET /_local/webhook-receiver/<name>``
lists what arrived (``[{"headers", "body", "received_at", "answered"}]``); DELETE forgets it all.

``/_local/dns`` maps names to addresses for the webhook URL checks (``{"host", "addresses"}``;
GET lists, DELETE clears): a test can make a name resolve to a private address after an
endpoint was created with it, as a rebinding DNS server would.
"""
from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

PREFIX = "/_local/webhook-receiver/"


@dataclass
class _Inbox:
    received: list[dict[str, Any]] = field(default_factory=list)
    fail: int = 0
    status: int = 500
    delay_s: float = 0.0


class WebhookReceivers:
    def __init__(self) -> None:
        self._inboxes: dict[str, _Inbox] = {}
        self._lock = threading.Lock()

    def handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        name, _, action = path[len(PREFIX):].partition("/")
        if not name:
            return 404, {"detail": "name the receiver: /_local/webhook-receiver/<name>"}
        if action == "behaviour" and method == "POST":
            return 200, self._configure(name, body)
        if action:
            return 404, {"detail": "Not found"}
        if method == "POST":
            return self._receive(name, headers, body)
        if method == "GET":
            with self._lock:
                return 200, {"received": list(self._inbox(name).received)}
        if method == "DELETE":
            with self._lock:
                self._inboxes.pop(name, None)
            return 200, {"received": []}
        return 404, {"detail": "Not found"}

    def _inbox(self, name: str) -> _Inbox:
        return self._inboxes.setdefault(name, _Inbox())

    def _configure(self, name: str, body: bytes) -> dict[str, Any]:
        try:
            spec = json.loads(body or b"{}")
            fail, status, delay = int(spec.get("fail", 0)), int(spec.get("status", 500)), float(spec.get("delay_s", 0))
        except (ValueError, TypeError, AttributeError):
            return {"error": 'expected {"fail": N, "status": 500, "delay_s": 0}'}
        with self._lock:
            inbox = self._inbox(name)
            inbox.fail, inbox.status, inbox.delay_s = fail, status, delay
        return {"fail": fail, "status": status, "delay_s": delay}

    def _receive(self, name: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        received_at = time.time()
        with self._lock:
            inbox = self._inbox(name)
            failing = inbox.fail > 0
            if failing:
                inbox.fail -= 1
            status = inbox.status if failing else 200
            delay = inbox.delay_s
            inbox.received.append({"headers": dict(headers), "body": body.decode("utf-8", "replace"),
                                   "received_at": received_at, "answered": status})
        if delay:
            time.sleep(delay)
        return status, ({"detail": "failing on purpose"} if failing else {"received": True})


class LocalDns:
    """Name -> addresses overrides consulted before the system resolver (webhook URL checks)."""

    def __init__(self) -> None:
        self._names: dict[str, list[str]] = {}
        self._lock = threading.Lock()

    def resolve(self, host: str, port: int) -> list[str]:
        with self._lock:
            addresses = self._names.get(host.lower())
        if addresses is not None:
            return list(addresses)
        from outbound.outcome_events.guard import _system_resolver

        return _system_resolver(host, port)

    def handle(self, method: str, body: bytes) -> dict[str, Any]:
        if method == "POST":
            try:
                spec = json.loads(body or b"{}")
                host, addresses = str(spec["host"]).lower(), [str(a) for a in spec["addresses"]]
            except (ValueError, KeyError, TypeError):
                return {"error": 'expected {"host": "name", "addresses": ["192.0.2.1"]}'}
            with self._lock:
                self._names[host] = addresses
        elif method == "DELETE":
            with self._lock:
                self._names.clear()
        with self._lock:
            return dict(self._names)
