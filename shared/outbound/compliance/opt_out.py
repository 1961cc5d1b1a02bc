"""An opt-out that takes effect at once: ``POST /calls/{call_ref}/opt-out``, sent by the voice
runtime when the person on a call says "stop calling me" (or presses the key for it).

The steps, each safe to run again, the evidence record last:
1. the call's recipient goes on the organization's do-not-call list (every later dial is refused
   there: POST /calls/initiate, each schedule's fire, each campaign's attempt);
2. in every campaign of the organization, a contact of that number still waiting (pending, waiting
   for its window, retry scheduled) ends ``suppressed`` with the reason, its due entry removed and
   its consent marked revoked; a contact whose call is in flight keeps it (the call is not hung
   up), is marked, and any retry of it is refused by the list;
3. the organization's schedules to that number (one-time and recurring) are canceled, with the
   reason;
4. a sealed evidence record (``EVIDENCE#<call_id>`` / ``OPTOUT``) keeps what was said, when, how,
   and what was done; its insertion, on the table's stream, is the ``contact.opted_out`` event
   (outbound.compliance.opt_out_events).
A second opt-out of the same call finds the record and answers what it says: nothing new is done
or emitted.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from aws_lambda_powertools import Logger

from outbound import store
from outbound.campaigns.policy import IN_FLIGHT_STATUSES, WAITING_STATUSES
from outbound.config import OPT_OUT_SAID_MAX_CHARS
from outbound.errors import BadRequest, NotFound
from outbound.phone import mask
from outbound.safe_json import JsonRefused, loads
from outbound.store import campaigns as db
from outbound.store import opt_outs
from outbound.store.keys import DUE_PREFIX, opt_out_evidence_key

from . import evidence

METHODS = ("voice", "dtmf")
FIELDS = ("method", "said", "at")
ATTEMPTS = 3  # a contact moved by the engine meanwhile is read again
logger = Logger(child=True)


def parse_statement(raw_body: str | None) -> dict[str, Any]:
    """The optional body: ``{"method": "voice"|"dtmf", "said": "<words>", "at": "<ISO time>"}``."""
    if raw_body is None or not raw_body.strip():
        return {"method": None, "said": None, "at": None}
    try:
        body = loads(raw_body)
    except JsonRefused as exc:
        raise BadRequest(str(exc)) from None
    if not isinstance(body, dict):
        raise BadRequest("Request body must be a JSON object")
    for name in body:
        if name not in FIELDS:
            raise BadRequest(f"Unknown field: {name}")
    method, said, at = body.get("method"), body.get("said"), body.get("at")
    if method is not None and method not in METHODS:
        raise BadRequest(f"method must be one of: {', '.join(METHODS)}")
    if said is not None and not isinstance(said, str):
        raise BadRequest("said must be a string")
    if said is not None and len(said) > OPT_OUT_SAID_MAX_CHARS:
        raise BadRequest(f"said must be at most {OPT_OUT_SAID_MAX_CHARS} characters")
    return {"method": method, "said": said, "at": _instant(at) if at is not None else None}


def _instant(value: Any) -> str:
    problem = "at must be an ISO 8601 time with its offset (e.g. 2026-12-07T18:02:11Z)"
    if not isinstance(value, str) or len(value) > 40:
        raise BadRequest(problem)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(problem) from None
    if parsed.tzinfo is None:
        raise BadRequest(problem)
    return parsed.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def opt_out(organization_id: str, call_ref: str, raw_body: str | None, api_key_prefix: str | None) -> dict[str, Any]:
    statement = parse_statement(raw_body)
    call = store.find_call(organization_id, call_ref)
    if call is None:
        raise NotFound(f"Call {call_ref} not found")
    call_id, number = call["call_id"], call["to_phone_number"]
    key = opt_out_evidence_key(call_id)
    done = store.get_item(key)
    if done is not None:  # asked again: the first answer, nothing new
        return done["result"]
    now = store.now_iso()
    reason = f"Opted out during call {call_id} at {statement['at'] or now}"
    store.add_suppression(organization_id, number, reason, now)
    ended, in_flight = _end_campaign_contacts(organization_id, number, call_id, reason, now)
    canceled = _cancel_schedules(organization_id, number, reason)
    result = {"call_id": call_id, "phone_number": number, "opted_out_at": statement["at"] or now,
              "suppressed": True, "consent_revoked": True, "campaign_contacts_ended": ended,
              "campaign_contacts_in_flight": in_flight, "schedules_canceled": canceled,
              "evidence_id": f"{call_id}/{key['sk']}"}
    record = evidence.seal({**key, "evidence_id": result["evidence_id"], "kind": "opt_out", "call_id": call_id,
                            "organization_id": organization_id, "recorded_at": now,
                            "requested_by": {"via": "api", "api_key_prefix": api_key_prefix},
                            "caller_id": call.get("from_phone_number"), "recipient": number,
                            "opt_out": statement, "result": result})
    if not store.put_evidence(record):  # another opt-out of this call was recorded first: its answer
        return store.get_item(key)["result"]
    return result


def _end_campaign_contacts(organization_id: str, number: str, call_id: str, reason: str,
                           now: str) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    ended: list[dict[str, str]] = []
    in_flight: list[dict[str, str]] = []
    for campaign in opt_outs.organization_campaigns(organization_id):
        campaign_id = campaign["campaign_id"]
        # Only the statuses the campaign's counters say it has (a finished campaign: none). Index
        # reads lag by a moment: a contact they miss meets the do-not-call list at its dial.
        statuses = tuple(s for s in WAITING_STATUSES + IN_FLIGHT_STATUSES if int(campaign.get(f"count_{s}") or 0) > 0)
        for contact in opt_outs.contacts_with_number(campaign_id, number, statuses):
            outcome = _end_contact(campaign_id, contact, call_id, reason, now)
            if outcome == "ended":
                ended.append({"campaign_id": campaign_id, "contact_id": contact["contact_id"]})
            elif outcome == "in_flight":
                in_flight.append({"campaign_id": campaign_id, "contact_id": contact["contact_id"]})
    return ended, in_flight


def _end_contact(campaign_id: str, contact: dict[str, Any], call_id: str, reason: str, now: str) -> str | None:
    """"ended" (it was waiting), "in_flight" (marked: its call goes on) or None (already final)."""
    for _ in range(ATTEMPTS):
        status = contact.get("status")
        consent = {**(contact.get("consent") or {}), "revoked_at": now, "revoked_by": f"opt_out:{call_id}"}
        fields = {"updated_at": now, "opted_out_at": now, "consent": consent}
        update = db.CampaignUpdate()
        if status in WAITING_STATUSES:
            due = contact.get("next_attempt_at")
            change = db.ContactChange(contact["contact_id"], (status,), "suppressed",
                                      fields={**fields, "final_reason": reason}, remove=("next_attempt_at",),
                                      delete_due=f"{DUE_PREFIX}{due}#{contact['contact_id']}" if due else None)
            update.moved(status, "suppressed")
            outcome = "ended"
        elif status in IN_FLIGHT_STATUSES:
            change = db.ContactChange(contact["contact_id"], (status,), status, fields=fields)
            outcome = "in_flight"
        else:
            return None
        if not db.write_changes(campaign_id, [change], update):
            return outcome
        contact = db.get_contact(campaign_id, contact["contact_id"]) or {}  # moved meanwhile: as it is now
    # Still moving (the engine dialing it right now): its dial meets the do-not-call list.
    logger.warning("Opt-out: a contact kept moving, left to the do-not-call list",
                   extra={"campaign_id": campaign_id, "contact_id": contact.get("contact_id"),
                          "to": mask(contact.get("phone_number") or "")})
    return "in_flight"


def _cancel_schedules(organization_id: str, number: str, reason: str) -> list[str]:
    from outbound.schedules.manage import remove_scheduler_schedule

    canceled = []
    for record in opt_outs.scheduled_calls_to(organization_id, number):
        try:
            store.cancel_schedule(organization_id, record["schedule_id"], reason)
        except store.ScheduleNotCancelable:
            continue  # canceled or deleted meanwhile
        remove_scheduler_schedule(record["schedule_id"])
        canceled.append(record["schedule_id"])
    return sorted(canceled)
