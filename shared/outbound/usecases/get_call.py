"""Read one call record of the caller's organization."""
from __future__ import annotations

from .. import store
from ..errors import NotFound
from ..models import CallRecord


def get_call(organization_id: str, call_ref: str) -> CallRecord:
    item = store.find_call(organization_id, call_ref)
    if item is None:
        raise NotFound(f"Call {call_ref} not found")
    return CallRecord.model_validate(item)
