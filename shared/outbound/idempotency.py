"""The ``Idempotency-Key`` header, as every route that honours it reads it (POST /calls/initiate,
POST /calls/schedule, POST /campaigns/{id}/contacts): what a key may be, how long it is kept,
and the header that marks a replayed answer."""
from __future__ import annotations

from datetime import timedelta

from outbound.errors import BadRequest

MAX_KEY_CHARS = 255
KEY_TTL = timedelta(hours=24)
REPLAYED = {"Idempotent-Replayed": "true"}


def check_key(key: str) -> str:
    if not 1 <= len(key) <= MAX_KEY_CHARS or not key.isprintable() or not key.isascii():
        raise BadRequest(f"Idempotency-Key must be 1 to {MAX_KEY_CHARS} printable ASCII characters")
    return key
