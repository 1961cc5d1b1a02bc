"""``contact.opted_out``, from the table's stream (CallEventsFunction, beside calls' and campaigns'
events): the insertion of an opt-out's evidence record (``EVIDENCE#<call_id>`` / ``OPTOUT``,
written once per call, last of the opt-out's steps) is published as the event, about the call, with
what was said and what was stopped. A second opt-out of the call writes nothing, so it emits nothing.
"""
from __future__ import annotations

from typing import Any

from outbound.dynamodb_json import from_item
from outbound.outcome_events.catalog import OPT_OUT_SEQUENCE
from outbound.outcome_events.publish import publish_event
from outbound.store.keys import OPT_OUT_EVIDENCE_SK


def is_opt_out(record: dict[str, Any]) -> bool:
    sk = (((record.get("dynamodb") or {}).get("Keys") or {}).get("sk") or {}).get("S", "")
    return sk == OPT_OUT_EVIDENCE_SK


def event_data(item: dict[str, Any]) -> dict[str, Any]:
    said, done = item.get("opt_out") or {}, item.get("result") or {}
    return {**done, "method": said.get("method"), "said": said.get("said"), "evidence_hmac": item.get("hmac")}


def publish_opt_out(record: dict[str, Any], endpoints_by_org: dict[str, list]) -> str | None:
    """The event of a newly written opt-out record, published; None for anything else."""
    if record.get("eventName") != "INSERT":
        return None
    item = from_item((record.get("dynamodb") or {}).get("NewImage")) or {}
    if item.get("kind") != "opt_out" or not item.get("organization_id"):
        return None
    publish_event(item["organization_id"], "contact.opted_out", item["call_id"], OPT_OUT_SEQUENCE, event_data(item),
                  timestamp=item.get("recorded_at"), endpoints_by_org=endpoints_by_org)
    return "contact.opted_out"
