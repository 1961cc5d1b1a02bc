"""Webhook endpoints' signing secrets, in Secrets Manager (never in DynamoDB, never logged).

One secret per endpoint, named ``<WEBHOOK_SECRET_PREFIX><endpoint id>`` (the prefix is the stack's
own, outside the provider credentials' prefix, so IAM gives each function exactly one of them),
holding ``{"secrets": [{"secret": "whsec_...", "created_at", "expires_at"}]}``, newest first.

Rotation keeps the previous secret for ROTATION_OVERLAP (24 hours): deliveries in that window carry
one signature per live secret (Standard Webhooks allows several in ``webhook-signature``), so a
receiver verifies with either the old or the new secret while it switches, and deliveries already
queued keep verifying. The deliverer reads the secret through outbound.credentials' signed
GetSecretValue, cached per endpoint and secret_version (a rotation bumps the version, so the
cache never serves a rotated-out set).
"""
from __future__ import annotations

import base64
import json
import secrets
import time
from datetime import datetime, timedelta, timezone
from typing import Any

from outbound import aws
from outbound.config import outcome_event_settings

ROTATION_OVERLAP = timedelta(hours=24)
SECRET_BYTES = 24  # 192 bits; Standard Webhooks asks for 24 to 64 bytes
_cache: dict[tuple[str, int], tuple[float, list[str]]] = {}
CACHE_SECONDS = 300.0


def prefix() -> str:
    return outcome_event_settings().secret_prefix


def secret_name(endpoint_id: str) -> str:
    return f"{prefix()}{endpoint_id}"


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def create(endpoint_id: str) -> str:
    """A new endpoint's secret; returns it (shown to the customer once)."""
    secret = new_secret()
    aws.client("secretsmanager").create_secret(
        Name=secret_name(endpoint_id), Description="Signing secret of a webhook endpoint (Standard Webhooks)",
        SecretString=json.dumps({"secrets": [{"secret": secret, "created_at": _iso(_now()), "expires_at": None}]}))
    return secret


def rotate(endpoint_id: str) -> tuple[str, str]:
    """A new secret; the previous one stays valid for ROTATION_OVERLAP. Returns (secret, until)."""
    client = aws.client("secretsmanager")
    current = _parse(client.get_secret_value(SecretId=secret_name(endpoint_id)).get("SecretString"))
    now, secret = _now(), new_secret()
    until = _iso(now + ROTATION_OVERLAP)
    kept = [{**entry, "expires_at": entry.get("expires_at") or until}
            for entry in live_entries(current, now)[:1]]  # the one in use now; older ones retire
    client.put_secret_value(SecretId=secret_name(endpoint_id), SecretString=json.dumps(
        {"secrets": [{"secret": secret, "created_at": _iso(now), "expires_at": None}, *kept]}))
    return secret, until


def delete(endpoint_id: str) -> None:
    client = aws.client("secretsmanager")
    try:
        client.delete_secret(SecretId=secret_name(endpoint_id), ForceDeleteWithoutRecovery=True)
    except client.exceptions.ResourceNotFoundException:
        pass


def signing_secrets(endpoint_id: str, version: int) -> list[str]:
    """The secrets a delivery is signed with now (newest first), cached per secret version."""
    key = (endpoint_id, int(version))
    cached = _cache.get(key)
    if cached and cached[0] > time.monotonic():
        values = cached[1]
    else:
        from outbound.credentials import get_secret_string

        entries = live_entries(_parse(get_secret_string(secret_name(endpoint_id), "webhook signing")), _now())
        values = [entry["secret"] for entry in entries]
        _cache[key] = (time.monotonic() + CACHE_SECONDS, values)
    return values


def live_entries(entries: list[dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
    def live(entry: dict[str, Any]) -> bool:
        expires = entry.get("expires_at")
        return not expires or datetime.fromisoformat(expires.replace("Z", "+00:00")) > now
    return [entry for entry in entries if live(entry)]


def _parse(secret_string: str | None) -> list[dict[str, Any]]:
    try:
        entries = json.loads(secret_string or "")["secrets"]
    except (ValueError, KeyError, TypeError):
        raise ValueError("the webhook signing secret is not in the expected shape") from None
    return [entry for entry in entries if isinstance(entry, dict) and entry.get("secret")]


def sign(secrets_in_use: list[str], message_id: str, timestamp: datetime, payload: str) -> dict[str, str]:
    """Standard Webhooks headers, one ``v1,`` signature per secret, made by the standardwebhooks
    package (the receiver's verifier accepts any one that matches)."""
    from standardwebhooks.webhooks import Webhook

    signatures = [Webhook(secret).sign(message_id, timestamp, payload) for secret in secrets_in_use]
    return {"webhook-id": message_id, "webhook-timestamp": str(int(timestamp.timestamp())),
            "webhook-signature": " ".join(signatures)}


def clear_cache() -> None:
    _cache.clear()
