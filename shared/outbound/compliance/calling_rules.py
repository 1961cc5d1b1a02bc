"""The organization's calling rules: ``GET`` and ``PUT /organization/calling-rules`` (and
``outbound admin calling-rules``). Stored on the organization item, so initiate reads them in the
BatchGetItem it makes anyway; each change bumps ``version``, which every evidence record names."""
from __future__ import annotations

from typing import Any

from outbound import store
from outbound.errors import Conflict, NotFound

from .models import CallingRulesIn, now_iso
from .organization_rules import organization_rules


def get_rules(organization_id: str) -> dict[str, Any]:
    organization = store.get_item(store.organization_key(organization_id))
    if organization is None:
        raise NotFound(f"No organization {organization_id}")
    return organization_rules(organization).view()


def put_rules(organization_id: str, body: CallingRulesIn) -> dict[str, Any]:
    """Replace the rules (conditional on the version read: two concurrent updates never both win
    silently; the loser answers 409 and may read and try again)."""
    current = get_rules(organization_id)
    version = int(current["version"] or 0)
    stored = body.stored(version + 1, now_iso())
    try:
        store.set_calling_rules(organization_id, stored, version)
    except store.RulesChanged:
        raise Conflict("The calling rules changed while this update was made; read them and try again") from None
    return organization_rules({"calling_rules": stored}).view()
