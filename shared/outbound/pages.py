"""Opaque ``next_token``s for the lists built on one Query (schedules, campaigns, contacts,
suppressions): DynamoDB's LastEvaluatedKey, encoded, and on the way back checked to stay inside
the partition the caller may read (a forged token can skip items of the caller's own list, never
reach another organization's or campaign's)."""
from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from .digits import ascii_int
from .errors import BadRequest
from .safe_json import loads_object

DEFAULT_LIMIT, MAX_LIMIT = 20, 100


def parse_limit(value: Any) -> int:
    """A page size from the query string (empty: not given); ASCII digits only."""
    if value in (None, ""):
        return DEFAULT_LIMIT
    limit = ascii_int(value)
    if limit is None or not 1 <= limit <= MAX_LIMIT:
        raise BadRequest(f"limit must be an integer from 1 to {MAX_LIMIT}")
    return limit


def encode(key: dict[str, Any] | None) -> str | None:
    if not key:
        return None
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode().rstrip("=")


def decode(token: str | None, attribute: str, partition: str) -> dict[str, Any] | None:
    """The key a token stands for; its ``attribute`` (pk or gsi1pk) must be ``partition``."""
    if not token:
        return None
    key = None
    if len(token) <= 1024:  # the cheap check first; then outbound.safe_json (bounded depth and numbers)
        try:
            key = loads_object(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)), "next_token")
        except (ValueError, binascii.Error):  # JsonRefused is a ValueError
            key = None
    if (not isinstance(key, dict) or key.get(attribute) != partition
            or not all(isinstance(v, str) for v in key.values())):
        raise BadRequest("next_token is not valid: use the next_token of the previous page")
    return key
