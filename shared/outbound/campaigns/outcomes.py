"""Campaign attempts' outcomes, from the table's stream (CampaignOutcomesFunction).

A campaign attempt is an ordinary call record carrying ``campaign_id``, ``contact_id`` and
``attempt``; every status move of such a record arrives here, in order per call:
- ``in-progress`` (answered): the contact becomes ``in_progress`` [one TransactWriteItems with
  the campaign's counters];
- a final status (settled, or failed before the provider took it, or released by the reserve
  sweeper): a ``call_ended`` event goes to the campaign's dispatcher, which decides the contact's
  end or retry and frees the slot, in the transaction it writes anyway (no round trip here). A
  call the sweeper gave up on ended with its outcome unknown (the person may have been rung):
  the event says ``unknown``, never ``failed``, so it is not retried unless the policy says so.

It also sees the organizations' credits (ledger entries of kind ``credit``): campaigns paused for
balance resume by themselves once a credit makes room (outbound.campaigns.lifecycle).
"""
from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from outbound.calls.lifecycle import is_final
from outbound.campaigns import queues
from outbound.dynamodb_json import from_item
from outbound.store import campaigns as db

logger = Logger(child=True)


def handle_change(record: dict[str, Any]) -> str:
    """One stream record; returns what was done (for the logs and the tests)."""
    change = record.get("dynamodb") or {}
    new = from_item(change.get("NewImage")) or {}
    old = from_item(change.get("OldImage")) or {}
    if new.get("kind") == "credit" and new.get("entry_id", "").startswith("credit#") and not old:
        from outbound.campaigns.lifecycle import resume_after_credit

        return f"credit: {len(resume_after_credit(new['organization_id']))} resumed"
    if new.get("sk") != "CALL" or not new.get("campaign_id") or not new.get("contact_id"):
        return "ignored"
    before, after = old.get("status"), new.get("status")
    if before == after:
        return "unchanged"
    if after == "in-progress":
        return _answered(new)
    if after and is_final(after):
        event = ended_event(new)
        queues.send_tick(new["campaign_id"], "call_ended", [event])
        return "ended"
    return "ignored"


def _answered(call: dict[str, Any]) -> str:
    update = db.CampaignUpdate()
    update.moved("dialing", "in_progress")
    failed = db.write_changes(call["campaign_id"], [db.ContactChange(
        call["contact_id"], ("dialing",), "in_progress", expect_call_id=call["call_id"],
        fields={"updated_at": call.get("updated_at")})], update)
    return "answered" if not failed else "answered_already_moved"


def ended_event(call: dict[str, Any]) -> dict[str, Any]:
    """What the dispatcher needs to settle the contact (and schedule a retry) without a read."""
    answered = bool(call.get("answered_at"))
    status = "unknown" if call.get("abandoned_at") and not call.get("settled_at") else call["status"]
    return {"kind": "call_ended", "contact_id": call["contact_id"], "call_id": call["call_id"],
            "attempt": int(call.get("attempt") or 1), "status": status,
            "contact_status": "in_progress" if answered else "dialing",
            "answered": answered or int(call.get("duration_seconds") or 0) > 0,
            "duration_seconds": int(call.get("duration_seconds") or 0),
            "charged_cents": int(call.get("charged_cents") or 0),
            "ended_at": call.get("ended_at") or call.get("updated_at"),
            "phone_number": call["to_phone_number"], "variables": call.get("variables") or {},
            "timezone": call.get("recipient_timezone"), "external_id": call.get("external_id"),
            "metadata": call.get("metadata") or {}}
