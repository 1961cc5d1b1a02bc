"""GET /organization/balance, and GET /organization/ledger: the organization's balance ledger,
newest first, paginated.

Every credit, reserve, release and charge is an entry (see store.ledger); the organization comes
from the API key, and the opaque ``next_token`` only says where to continue inside its own
entries, so a forged token can at worst skip entries, never reveal another organization's."""
from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from outbound import store
from outbound.calls.list_calls import parse_limit
from outbound.errors import BadRequest, NotFound

# <created_at>#<entry id>, as the ByOrganization index sorts an organization's entries.
POSITION = re.compile(r"^\d{4}-\d\d-\d\dT[0-9:.]+Z#(credit|call)#[\x21-\x7e ]+$", re.ASCII)  # \d: 0-9 only


def encode_token(position: str) -> str:
    return base64.urlsafe_b64encode(position.encode()).decode().rstrip("=")


def decode_token(token: str) -> str:
    try:
        position = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (ValueError, binascii.Error, UnicodeDecodeError):
        position = ""
    if len(token) > 512 or not POSITION.match(position):
        raise BadRequest("Invalid next_token")
    return position


def list_ledger(organization_id: str, limit: str | None = None, next_token: str | None = None) -> dict[str, Any]:
    size = parse_limit(limit)
    position = decode_token(next_token) if next_token else None
    entries, last = store.list_ledger(organization_id, size, position)
    return {"entries": [store.entry_view(entry) for entry in entries],
            "next_token": encode_token(last) if last else None}


def call_ledger(organization_id: str, call_ref: str) -> dict[str, Any]:
    """GET /calls/{call_ref}/ledger: what one call moved (its reserve, release, charge and any
    correction to the provider's record), oldest first."""
    call = store.find_call(organization_id, call_ref)
    if call is None:
        raise NotFound(f"Call {call_ref} not found")
    entries = store.call_ledger_entries(organization_id, call["call_id"])
    return {"call_id": call["call_id"], "entries": [store.entry_view(entry) for entry in entries]}


def get_balance(organization_id: str) -> dict[str, int]:
    balance = store.organization_balance(organization_id)
    if balance is None:
        raise NotFound("Organization not found")
    return balance
