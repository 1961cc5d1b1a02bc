"""The organization's do-not-call list: ``POST /suppressions``, ``DELETE /suppressions/{phone_number}``,
``GET /suppressions``. A suppressed number is refused by ``POST /calls/initiate`` (403) and by
every campaign (its contact ends ``suppressed``, with no call)."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any
from urllib.parse import unquote

from outbound import pages, store
from outbound.errors import BadRequest, NotFound
from outbound.phone import canonical_e164
from outbound.store.keys import suppressions_partition

FIELDS = ("phone_number", "reason", "created_at")


def add(organization_id: str, phone_number: str, reason: str | None) -> dict[str, Any]:
    now = datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    item = store.add_suppression(organization_id, _number(phone_number), reason, now)
    return {name: item.get(name) for name in FIELDS}


def remove(organization_id: str, phone_number: str) -> dict[str, Any]:
    number = _number(phone_number)
    if not store.remove_suppression(organization_id, number):
        raise NotFound(f"{number} is not on your organization's do-not-call list")
    return {"phone_number": number, "removed": True}


def list_all(organization_id: str, limit: Any = None, next_token: str | None = None,
             starting_with: str | None = None) -> dict[str, Any]:
    """The list by number; ``starting_with``: only the numbers that begin so (``+1555``, ``1555``)."""
    prefix = _prefix(starting_with) if starting_with else None
    start = pages.decode(next_token, "gsi1pk", suppressions_partition(organization_id))
    items, last = store.list_suppressions(organization_id, pages.parse_limit(limit), start, prefix)
    return {"suppressions": [{name: i.get(name) for name in FIELDS} for i in items], "next_token": pages.encode(last)}


def _prefix(value: str) -> str:
    """The beginning of a canonical number: ``+`` and 1 to 15 ASCII digits (the ``+`` may be left out)."""
    digits = value.removeprefix("+")
    if not (digits.isascii() and digits.isdigit() and len(digits) <= 15):
        raise BadRequest("starting_with must be the beginning of an E.164 number: + and up to 15 digits")
    return "+" + digits


def _number(value: str) -> str:
    """The entry's key: the canonical form, whatever script the number was written in."""
    return canonical_e164(unquote(value) if value else "")  # the path may carry the + as %2B
