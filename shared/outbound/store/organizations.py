"""Organizations and their API keys: who a key belongs to, and the balance."""
from __future__ import annotations

from .base import get_item
from .keys import api_key_key, hash_api_key, organization_key


def organization_for_api_key(api_key: str) -> str | None:
    item = api_key_record(api_key)
    return item["organization_id"] if item else None


def api_key_record(api_key: str) -> dict | None:
    """The key's item (organization_id, prefix), or None for an unknown or revoked key."""
    item = get_item(api_key_key(hash_api_key(api_key)))
    if not item or item.get("revoked"):
        return None
    return item


def organization_balance(organization_id: str) -> dict[str, int] | None:
    item = get_item(organization_key(organization_id))
    if item is None:
        return None
    return {name: int(item.get(name) or 0) for name in ("balance_cents", "reserved_cents", "available_cents")}

