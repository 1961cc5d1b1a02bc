"""Reading evidence: ``GET /calls/{call_ref}/evidence`` and ``outbound admin evidence CALL``."""
from __future__ import annotations

from typing import Any

from outbound import store
from outbound.errors import NotFound

from . import evidence


def records_of(organization_id: str | None, call_ref: str) -> tuple[str | None, list[dict[str, Any]]]:
    """(call_id, its evidence records oldest first). ``call_ref``: a call's call_id or call_sid, or
    the call id a refused campaign attempt or scheduled fire would have had (no call record);
    ``organization_id`` None: any organization's (the operators' command)."""
    call = (store.find_call(organization_id, call_ref) if organization_id
            else store.get_item(store.call_key(call_ref)) if call_ref.startswith("call_") else None)
    if call is None and not organization_id and not call_ref.startswith("call_"):
        call = next(iter(store.find_calls_by_sid(call_ref)), None)
    call_id = call["call_id"] if call else call_ref if call_ref.startswith("call_") else None
    if call_id is None:
        return None, []
    records = store.evidence_of_call(call_id)
    if organization_id:  # another organization's records answer like none at all
        records = [r for r in records if r.get("organization_id") == organization_id]
    if call is None and not records:
        return None, []
    return call_id, records


def call_evidence(organization_id: str, call_ref: str) -> dict[str, Any]:
    call_id, records = records_of(organization_id, call_ref)
    if call_id is None:
        raise NotFound(f"Call {call_ref} not found")
    return {"call_id": call_id, "evidence": [evidence.view(r) for r in records]}


def verify_call(call_ref: str) -> tuple[str | None, list[tuple[dict[str, Any], bool, str]]]:
    """Every record of the call with (intact, why): the operators' tamper check."""
    call_id, records = records_of(None, call_ref)
    return call_id, [(record, *evidence.verify(record)) for record in records]
