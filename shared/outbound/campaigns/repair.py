"""What a campaign's heartbeat repairs, and how an attempt whose outcome is unknown is resolved:
the table is the truth, so whatever a lost message would have done is rebuilt from it.

Every heartbeat (outbound.campaigns.timers) looks at the campaign's contacts in flight that have
not moved for a while (their status partitions of ByOrganization, then one BatchGetItem of their
calls) and hands the dispatcher what it finds:
- no call record long after the dial's slot (``lost_dial_s``): the dial was lost (a dead-lettered
  message, a crashed dialer). The contact waits again, the attempt not burned, on the condition
  that the call still does not exist; a contact whose dial failed 5 times ends ``failed``.
- a call that ended, whose ``call_ended`` tick was lost: that ending, applied now.
- a call whose outcome is unknown (``initiating`` or ``unconfirmed``: the provider's answer to the
  create-call was lost, or the function died), or that stayed queued or ringing far past any ring
  time (its webhooks lost): resolved below.

An unknown outcome is resolved by asking the provider for its own record of the call (what the
provider reconciliation reads, outbound.money.provider_reconcile), first ``unknown_check_s`` after
the dialer met the timeout (it arranges that check) and then at every check or beat:
- the provider reports the call finished: it is settled from that record, once, exactly as its
  final webhook would have been (its end then reaches the campaign like any call's: by the
  table's stream), and retried only if the policy retries that outcome;
- the provider reports it queued, ringing or answered: the call moves forward (its webhooks will
  end it) and is checked again later;
- the provider has no record of it, ``never_rang_s`` after its creation, where that silence is
  proof (see ``_never_rang``: not Telnyx's search, which sees finished calls only): it never
  rang. Its reserve is released (``failed``, "never placed") and the policy may retry it;
- nobody can tell (no records to read: a SIP bridge; credentials refused; the provider down;
  several candidates): once ``unknown_give_up_s`` have passed, the contact ends ``unknown``, its
  slot given back, and is retried only if ``retry_policy.retry_on`` names ``unknown`` (the person
  may have been rung). The call keeps its reserve until the reserve sweeper or the provider
  reconciliation settles it; its late end no longer moves the contact.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError

from outbound import deadline, provider_records, store
from outbound.calls.lifecycle import StatusEvent, is_final
from outbound.campaigns.outcomes import ended_event
from outbound.campaigns.policy import IN_FLIGHT_STATUSES, WAITING_STATUSES
from outbound.campaigns.settings import Campaign
from outbound.config import campaign_settings
from outbound.store import campaigns as db
from outbound.store.keys import CHECKED_PROVIDERS

logger = Logger(child=True)

UTC = timezone.utc
UNKNOWN = ("initiating", "unconfirmed")
STALLED_S = 180  # queued or ringing this long: no ring lasts so long, its webhooks were lost
RELEASE_MARGIN_S = 3.0  # a dial whose slot is this close may be in the dialer now: it defers itself
RELEASES_PER_WRITE = 45  # 2 items each (the contact, the check that its call does not exist) + the campaign
PROVIDER_READ_S = 5.0  # a provider read usually answers in well under this: not started with less time left
IN_FLIGHT_READ = 100


def iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


# --- the heartbeat ----------------------------------------------------------------------------------

def heartbeat_events(campaign_id: str, now: datetime) -> list[dict[str, Any]]:
    """The events that repair what the heartbeat finds (applied by the tick that follows)."""
    meta = db.get_campaign(campaign_id)
    if meta is None:
        return []
    settings = campaign_settings()
    quiet_for = timedelta(seconds=min(settings.lost_dial_s, settings.unknown_check_s))
    contacts = []
    for status in IN_FLIGHT_STATUSES:
        if int(meta.get(f"count_{status}") or 0) > 0:
            contacts += db.list_contacts(campaign_id, status, IN_FLIGHT_READ)[0]
    contacts = [c for c in contacts if c.get("current_call_id") and _last_move(c) <= now - quiet_for]
    calls: dict[tuple[str, str], dict[str, Any]] = {}
    for start in range(0, len(contacts), 100):
        calls.update(store.get_items([store.call_key(c["current_call_id"]) for c in contacts[start:start + 100]]))
    events = []
    for contact in contacts:
        call = calls.get(tuple(store.call_key(contact["current_call_id"]).values()))
        event = _repair(contact, call, now)
        if event is not None:
            events.append(event)
    if events:
        logger.info("Heartbeat repairs", extra={"campaign_id": campaign_id, "repairs": len(events)})
    return events


def _last_move(contact: dict[str, Any]) -> datetime:
    return max(filter(None, (_parse(contact.get("dial_at")), _parse(contact.get("updated_at")))),
               default=datetime.min.replace(tzinfo=UTC))


def _repair(contact: dict[str, Any], call: dict[str, Any] | None, now: datetime) -> dict[str, Any] | None:
    settings = campaign_settings()
    if call is None:
        dial_at = _parse(contact.get("dial_at")) or _last_move(contact)
        if contact["status"] != "dialing" or dial_at > now - timedelta(seconds=settings.lost_dial_s):
            return None
        logger.warning("A dial was lost: its contact waits again", extra={
            "campaign_id": contact["campaign_id"], "contact_id": contact["contact_id"]})
        return {**_contact_event(contact, "deferred"), "lost": True, "detail": "its dial was lost",
                "dial_failures": int(contact.get("dial_failures") or 0) + 1}
    if is_final(call["status"]):
        return {**ended_event(call), "contact_status": contact["status"]}
    verdict, _ = resolve(call, now)
    return _unknown_event(call, contact, now) if verdict == "unknown" else None


def _contact_event(contact: dict[str, Any], kind: str) -> dict[str, Any]:
    return {"kind": kind, "contact_id": contact["contact_id"], "call_id": contact["current_call_id"],
            "attempt": int(contact.get("attempts") or 1), "contact_status": contact["status"],
            "phone_number": contact["phone_number"], "variables": contact.get("variables") or {},
            "timezone": contact.get("timezone"), "external_id": contact.get("external_id"),
            "metadata": contact.get("metadata") or {}}


# --- an attempt whose outcome is unknown ------------------------------------------------------------------

def check_attempt(campaign_id: str, contact_id: str, call_id: str,
                  now: datetime) -> tuple[list[dict[str, Any]], float | None]:
    """The check the dialer arranged after a timeout: (events for the tick, seconds until the next
    check or None when none is needed)."""
    found = store.get_items([store.contact_key(campaign_id, contact_id), store.call_key(call_id)])
    contact = found.get(tuple(store.contact_key(campaign_id, contact_id).values()))
    call = found.get(tuple(store.call_key(call_id).values()))
    if not contact or contact.get("current_call_id") != call_id or contact.get("status") not in IN_FLIGHT_STATUSES:
        return [], None  # the attempt is over (its end was applied)
    if call is None:
        return [], None  # no call: the heartbeat treats it as a lost dial
    if is_final(call["status"]):
        return [{**ended_event(call), "contact_status": contact["status"]}], None
    verdict, again = resolve(call, now)
    if verdict == "unknown":
        event = _unknown_event(call, contact, now)
        return ([event], None) if event else ([], again)
    return [], again  # settled or released (the stream brings the end: checked once more), or live


def resolve(call: dict[str, Any], now: datetime) -> tuple[str, float]:
    """Ask the provider what became of a call: (``settled`` | ``released`` | ``live`` |
    ``waiting`` | ``unknown``, seconds until it is worth asking again)."""
    settings = campaign_settings()
    age = (now - (_parse(call.get("created_at")) or now)).total_seconds()
    again = settings.unknown_check_s
    if call["status"] not in UNKNOWN and not _stalled(call, now):
        return "live", max(again, min(60.0, 2 * again))
    if call.get("provider") not in CHECKED_PROVIDERS:
        return "unknown", again  # the SIP bridge keeps no records to ask
    if deadline.remaining() < PROVIDER_READ_S:
        return "waiting", again  # this invocation's time is nearly up: the next check asks
    from outbound.credentials import CredentialsMissing, credentials_for
    from outbound.money.provider_reconcile import candidate_records, settle_from_record

    try:
        credentials = credentials_for(call["organization_id"], call["provider"])
        if call.get("call_sid"):
            record = provider_records.fetch(call["provider"], credentials, call["call_sid"])
            candidates = [record] if record else []
        else:
            candidates = candidate_records(call, credentials)
    except (CredentialsMissing, provider_records.RecordsUnavailable, ClientError, BotoCoreError) as exc:
        logger.info("The provider could not be asked about a call", extra={"call_id": call["call_id"],
                                                                          "error": str(exc)[:200]})
        return "unknown", again
    if len(candidates) > 1:
        return "unknown", again  # several calls could be this one: none is taken on a guess
    if not candidates:
        if call["status"] not in UNKNOWN or not _never_rang(call, credentials, age):
            return "waiting", again
        released = store.abandon_call(call, "The provider has no record of this call: it never rang",
                                      never_placed=True)
        logger.warning("A call the provider never placed was released", extra={"call_id": call["call_id"]})
        return ("released" if released else "waiting"), again
    record = candidates[0]
    if record.finished:
        check = settle_from_record(call, record, now)
        logger.info("A call of unknown outcome settled from its provider's record", extra={
            "call_id": call["call_id"], "outcome": check.outcome, "provider_status": record.provider_status})
        return ("settled" if check.outcome in ("settled", "matched", "adjusted", "corrected") else "unknown"), again
    from outbound.provider_callbacks.apply import apply_event

    if record.status in ("queued", "ringing", "in-progress"):
        apply_event(call, StatusEvent(record.provider_call_id, record.status))  # forward only; binds its id
    return "live", max(again, min(60.0, 2 * again))


def _never_rang(call: dict[str, Any], credentials: dict[str, Any], age: float) -> bool:
    """Whether the provider's silence about a call is proof that it never rang. By its own id, a
    provider's "no such call" is. By a search it is only where the search sees calls in every
    state: Twilio's (but for calls still waiting in its queue, asked separately) and Vonage's, not
    Telnyx's (detail records of finished calls only: a call still ringing or talking is not there,
    so its silence proves nothing until no call placed then can still be running)."""
    from outbound.calls.reserve_sweeper import sweep_after_seconds

    if age < campaign_settings().never_rang_s:
        return False
    if call.get("call_sid"):
        return True
    if call["provider"] == "telnyx":
        return age >= sweep_after_seconds()
    if call["provider"] == "twilio":
        from outbound.provider_records import twilio

        try:
            return not twilio.queued(credentials, call["to_phone_number"], call["from_phone_number"])
        except provider_records.RecordsUnavailable:
            return False
    return True


def _stalled(call: dict[str, Any], now: datetime) -> bool:
    moved = _parse(call.get("updated_at")) or now
    return call["status"] in ("queued", "ringing") and (now - moved).total_seconds() > STALLED_S


def _unknown_event(call: dict[str, Any], contact: dict[str, Any], now: datetime) -> dict[str, Any] | None:
    """Once the outcome has stayed unknown for ``unknown_give_up_s``: the attempt ends ``unknown``."""
    created = _parse(call.get("created_at")) or now
    if call["status"] not in UNKNOWN or (now - created).total_seconds() < campaign_settings().unknown_give_up_s:
        return None
    logger.warning("A campaign attempt's outcome stays unknown: its contact's slot is given back", extra={
        "campaign_id": contact["campaign_id"], "contact_id": contact["contact_id"], "call_id": call["call_id"]})
    return {**ended_event({**call, "status": "unknown", "ended_at": iso(now)}), "contact_status": contact["status"]}


# --- after a campaign's end ----------------------------------------------------------------------------

def after_the_end(campaign: Campaign, update: db.CampaignUpdate, now: datetime) -> None:
    """A canceled or ended campaign: the dials still queued for their pacing slots are released at
    once (their contacts canceled, their slots given back), and the heartbeat goes once no call is
    in flight and nothing waits."""
    from outbound.campaigns.lifecycle import delete_heartbeat

    released = 0
    if campaign.counts.get("dialing", 0) + update.add.get("count_dialing", 0) > 0:
        released = release_queued_dials(campaign, now)
    in_flight = campaign.in_flight + update.add.get("in_flight", 0) - released
    waiting = sum(campaign.counts.get(s, 0) + update.add.get(f"count_{s}", 0) for s in WAITING_STATUSES)
    if in_flight <= 0 and waiting <= 0:
        delete_heartbeat(campaign.campaign_id)


def release_queued_dials(campaign: Campaign, now: datetime) -> int:
    """Contacts dialing whose dial waits for a slot still ahead: canceled now, each on the
    condition that its call was never created (a dial that placed its call keeps its slot)."""
    contacts, _ = db.list_contacts(campaign.campaign_id, "dialing", IN_FLIGHT_READ)
    ahead = now + timedelta(seconds=RELEASE_MARGIN_S)
    queued = [c for c in contacts if c.get("current_call_id") and (_parse(c.get("dial_at")) or now) > ahead]
    released = 0
    for start in range(0, len(queued), RELEASES_PER_WRITE):
        chunk = queued[start:start + RELEASES_PER_WRITE]
        for _ in range(3):
            if not chunk:
                break
            update = db.CampaignUpdate()
            changes = [_release(campaign, contact, now, update) for contact in chunk]
            failed = db.write_changes(campaign.campaign_id, changes, update)
            if not failed:
                released += len(chunk)
                break
            chunk = [c for c, reason in zip(chunk, failed) if reason in (None, "TransactionConflict")]
    if released:
        logger.info("Queued dials released", extra={"campaign_id": campaign.campaign_id, "released": released})
    return released


def _release(campaign: Campaign, contact: dict[str, Any], now: datetime, update: db.CampaignUpdate) -> db.ContactChange:
    update.moved("dialing", "canceled")
    update.count("in_flight", -1)
    update.count("attempts", -1)
    return db.ContactChange(
        contact["contact_id"], ("dialing",), "canceled", expect_call_id=contact["current_call_id"],
        no_call=contact["current_call_id"], remove=("current_call_id", "next_attempt_at"),
        fields={"updated_at": iso(now), "attempts": max(0, int(contact.get("attempts") or 1) - 1),
                "final_reason": f"Campaign {campaign.status}"})
