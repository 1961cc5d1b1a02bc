"""The integers Burki's SDK holds, and what they stand for here.

Calls, campaigns, contacts and organizations: their integer alias (``int_id``, store.int_ids). A
call's is taken in its reserve transaction; the others' (and an older call's) the first time the
facade shows them. Every reference in a path also takes the native id (``call_...`` or the
provider's ``call_sid``, ``cmp_...``), so the two APIs can be mixed. A phone number's id is its
E.164 digits. Another organization's entity is not found, like an unknown one.
"""
from __future__ import annotations

from typing import Any

from outbound import store
from outbound.errors import NotFound
from outbound.store import int_ids

DIGITS = frozenset("0123456789")


def alias_in(ref: str) -> int | None:
    """The integer a path segment names (ASCII digits only), or None for a native id."""
    if not ref or len(ref) > 16 or not set(ref) <= DIGITS:
        return None
    number = int(ref)
    return number if 0 < number < int_ids.LIMIT else -1  # -1: an integer no alias can be


# --- calls ---------------------------------------------------------------------------------------

def find_call(organization_id: str, ref: str) -> dict[str, Any] | None:
    alias = alias_in(ref)
    if alias is None:
        return store.find_call(organization_id, ref)
    target = int_ids.find("call", alias)
    if target is None or target.get("organization_id") != organization_id:
        return None
    call = store.find_call(organization_id, target["target"])
    # A record written again under the same call_id (a reserve undone, then retried) has a new alias.
    return call if call is not None and call.get("int_id") == alias else None


def call_or_404(organization_id: str, ref: str) -> dict[str, Any]:
    call = find_call(organization_id, ref)
    if call is None:
        raise NotFound(f"Call {ref} not found")
    return call


def with_call_aliases(organization_id: str, calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Calls written before aliases existed (or seeded) get theirs now."""
    missing = [(store.call_key(c["call_id"]), c["call_id"]) for c in calls if c.get("int_id") is None]
    if missing:
        given = int_ids.assign_many("call", missing, organization_id)
        calls = [c if c.get("int_id") is not None else {**c, "int_id": given.get(c["call_id"])} for c in calls]
    return [c for c in calls if c.get("int_id") is not None]


# --- organizations -------------------------------------------------------------------------------

def organization_alias(organization_id: str) -> int:
    key = store.organization_key(organization_id)
    item = store.get_item(key) or {}
    alias = item.get("int_id")
    if alias is None:
        alias = int_ids.assign("organization", key, organization_id, organization_id)
    if alias is None:  # a key whose organization was removed
        raise NotFound(f"Organization {organization_id} not found")
    return int(alias)


# --- campaigns and contacts ------------------------------------------------------------------------

def campaign_or_404(organization_id: str, ref: str) -> dict[str, Any]:
    """The organization's campaign item, with its alias (given now if it had none)."""
    from outbound.campaigns.lifecycle import load

    alias = alias_in(ref)
    if alias is not None:
        target = int_ids.find("campaign", alias)
        if target is None or target.get("organization_id") != organization_id:
            raise NotFound(f"Campaign {ref} not found")
        ref = target["target"]
    item = load(organization_id, ref)  # NotFound for another organization's
    if alias is not None and item.get("int_id") != alias:
        raise NotFound(f"Campaign {alias} not found")
    return with_campaign_alias(item)


def with_campaign_alias(item: dict[str, Any]) -> dict[str, Any]:
    if item.get("int_id") is not None:
        return item
    alias = int_ids.assign("campaign", store.campaign_key(item["campaign_id"]), item["campaign_id"],
                           item["organization_id"])
    if alias is None:
        raise NotFound(f"Campaign {item['campaign_id']} not found")
    return {**item, "int_id": alias}


def with_contact_aliases(campaign: dict[str, Any], contacts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    missing = [(store.contact_key(campaign["campaign_id"], c["contact_id"]), c["contact_id"])
               for c in contacts if c.get("int_id") is None]
    if missing:
        given = int_ids.assign_many("contact", missing, campaign["organization_id"])
        contacts = [c if c.get("int_id") is not None else {**c, "int_id": given.get(c["contact_id"])}
                    for c in contacts]
    return [c for c in contacts if c.get("int_id") is not None]


# --- phone numbers ---------------------------------------------------------------------------------

def phone_number_id(number: str | None) -> int | None:
    """``+15551234567`` -> 15551234567: a number is its own id (unique, never reused)."""
    return int(number[1:]) if number and number.startswith("+") and number[1:].isdigit() else None


def number_of(phone_number_id: int) -> str:
    return f"+{phone_number_id}"
