"""Read one call record of the caller's organization."""
from __future__ import annotations

from typing import Any

from outbound import store
from outbound.calls.models import call_record_view
from outbound.errors import NotFound


def get_call(organization_id: str, call_ref: str) -> dict[str, Any]:
    item = store.find_call(organization_id, call_ref)
    if item is None:
        raise NotFound(f"Call {call_ref} not found")
    return call_record_view(item)
