"""The campaign dispatcher: one tick of one campaign (CampaignDispatcherFunction, from the ticks
queue). Steps, in DynamoDB round trips:

1. Read the campaign and what is due, in one strongly consistent Query [1].
2. Apply the events the tick carries (an attempt ended, a dial refused or deferred): the contact's
   next status (final, or a retry at the delay's end moved into the recipient's calling window),
   its slot given back, the progress counted.
3. If the campaign is running: claim due contacts while a slot is free and the pacing allows
   (``calls_per_minute``: each dial gets the next slot of a cursor 61/cpm s apart, at most one
   minute ahead); a due contact outside its window (in any zone it may be in: the calling rules,
   outbound.compliance.rules) is moved to the window's opening instead.
4. Send the claimed attempts' dial messages, each delayed to its slot. They go out before the
   claim is written: a dial whose claim then fails finds its contact unclaimed and does nothing,
   while a claim written without its dial would hold a slot forever.
5. Write events, claims and the campaign's counters in ONE TransactWriteItems [1], conditional
   on the slots still free (``in_flight``), the pacing cursor unchanged and each contact still in
   the status read: concurrent ticks can never overbook; a lost race re-runs the tick. Claims and
   cancels take what the events leave of the transaction's 100 items; the rest waits for the next
   tick.
6. Tick again at once when more is due now (a full batch claimed, contacts moved to their
   window, a retry due immediately), complete the campaign when no contact waits or is in flight,
   or, for a canceled or ended campaign, cancel its waiting contacts a chunk per tick and release
   the dials still queued for their pacing slots. What is due later (a retry's delay, a deferred
   dial, a window's opening) wakes the campaign at that second (outbound.campaigns.timers); the
   pacing's next minute is the heartbeat's (dial slots are handed out a minute ahead, so
   pacing-bound campaigns lose nothing to it).

Ticks of one campaign run one at a time (a FIFO queue grouped by campaign); the conditions above
still hold if they did not. An attempt costs the dispatcher at most 2 round trips.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from aws_lambda_powertools import Logger

from outbound.campaigns import queues, timers
from outbound.campaigns.policy import (
    IN_FLIGHT_STATUSES,
    WAITING_STATUSES,
    after_call,
    attempt_call_id,
)
from outbound.campaigns.settings import Campaign
from outbound.store import campaigns as db
from outbound.store.keys import due_key

logger = Logger(child=True)

UTC = timezone.utc
HORIZON = timedelta(seconds=60)  # dial slots are handed out at most this far ahead
# calls_per_minute slots span 61 s, not 60: a call starts up to a few hundred ms after its slot
# (queue and processing jitter), and a late first call must not let the next minute hold one
# call too many (measured: 41 in some 60 s at 40/min on an exact 1.5 s grid).
PACING_SLACK_S = 1.0
CLAIMS_PER_TICK = 25
EVENTS_PER_TRANSACTION = 20  # at most 2 items each: the rest of the transaction's 100 is claims' or cancels'
CANCELS_PER_TICK = 40  # claims and cancels stop where the transaction would pass 100 items (_budget)
MAX_CONFLICT_RETRIES = 5
TERMINAL = ("completed", "canceled")
MAX_DIAL_FAILURES = 5  # a contact whose dial failed this often (errors, lost dials) ends failed


class TickConflict(RuntimeError):
    """The tick kept losing races with other ticks: worth retrying soon, like a throttled write."""


def iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@dataclass
class TickResult:
    campaign_id: str
    status: str | None = None
    applied: int = 0
    claimed: int = 0
    moved_to_window: int = 0
    canceled: int = 0
    again: bool = False  # another tick was sent: more is due now
    dials: list[dict[str, Any]] = field(default_factory=list)


def run_tick(campaign_id: str, events: list[dict[str, Any]], now: datetime | None = None) -> TickResult:
    """Apply ``events`` (in chunks that fit a transaction) and dispatch; a lost race with another
    tick re-reads and tries again."""
    now = now or datetime.now(UTC)
    chunks = [events[i:i + EVENTS_PER_TRANSACTION] for i in range(0, len(events), EVENTS_PER_TRANSACTION)] or [[]]
    total = TickResult(campaign_id)
    for number, chunk in enumerate(chunks):
        last = number == len(chunks) - 1
        for _ in range(MAX_CONFLICT_RETRIES):
            result, chunk = _tick(campaign_id, chunk, now, dispatch=last)
            if result is not None:
                break
        else:
            raise TickConflict(f"campaign {campaign_id}: the tick kept conflicting; the message will be retried")
        total.applied += result.applied
        if last:
            result.applied = total.applied
            return result
    return total


def _tick(campaign_id: str, events: list[dict[str, Any]], now: datetime,
          dispatch: bool) -> tuple[TickResult | None, list[dict[str, Any]]]:
    meta, due = db.dispatch_view(campaign_id, iso(now), CLAIMS_PER_TICK)
    result = TickResult(campaign_id)
    if meta is None:
        return result, []
    campaign = _started_or_ended(Campaign.from_item(meta), now)
    result.status = campaign.status
    update = db.CampaignUpdate()
    applied = [(event, _event_change(campaign, event, now, update)) for event in events]
    changes = [change for _, change in applied if change is not None]
    claims: list[tuple[db.ContactChange, dict[str, Any], datetime]] = []
    cancels: list[db.ContactChange] = []
    budget = _budget(changes)
    if dispatch and campaign.status == "running":
        claims = _claim(campaign, due, now, update, released=len(changes), budget=budget)
    elif dispatch and campaign.status in TERMINAL:
        cancels = _cancel_waiting(campaign, now, update, budget=budget)
    dialing = [(change, entry, at) for change, entry, at in claims if change.status == "dialing"]
    dials = [_dial_message(campaign, change, entry) for change, entry, _ in dialing]
    if dials and queues.send_dials([(m, (at - now).total_seconds()) for m, (_, _, at) in zip(dials, dialing)]):
        raise RuntimeError(f"campaign {campaign_id}: dial messages could not be sent; nothing was claimed")
    failed = db.write_changes(campaign_id, changes + [c for c, _, _ in claims] + cancels, update)
    if failed:
        return None, _events_worth_retrying(campaign_id, applied, failed)
    later = [parse(c.put_due["sk"].split("#", 2)[1]) for c in [*changes, *(c for c, _, _ in claims)] if c.put_due]
    if later := [at for at in later if at > now]:
        timers.wake_at(campaign_id, later, now)  # a retry's delay, a deferred dial, a window's opening
    result.applied, result.claimed, result.canceled = len(changes), len(dialing), len(cancels)
    result.moved_to_window, result.dials = len(claims) - len(dialing), dials
    if dispatch:
        _after(campaign, update, result, now, due_now=_more_due_now(campaign, update, claims, changes, due, now))
    return result, []


def _events_worth_retrying(campaign_id: str, applied: list[tuple[dict[str, Any], Any]],
                           failed: list[str | None]) -> list[dict[str, Any]]:
    """After a canceled transaction: keep the events that may still apply. A contact found in the
    other in-flight status (the answered update came, or did not) is retried with that status;
    one no longer holding the event's call is a repeated event: dropped."""
    kept, reasons = [], iter(failed)
    for event, change in applied:
        reason = next(reasons) if change is not None else None
        if reason != "ConditionalCheckFailed":
            kept.append(event)
            continue
        contact = db.get_contact(campaign_id, event["contact_id"]) or {}
        if contact.get("current_call_id") == event.get("call_id") and contact.get("status") in IN_FLIGHT_STATUSES:
            kept.append({**event, "contact_status": contact["status"]})
        else:
            logger.info("Repeated campaign event dropped", extra={"campaign_id": campaign_id,
                                                                 "contact_id": event["contact_id"]})
    return kept


# --- events: an attempt ended, a dial was refused or deferred --------------------------------------

def _event_change(campaign: Campaign, event: dict[str, Any], now: datetime,
                  update: db.CampaignUpdate) -> db.ContactChange | None:
    kind = event.get("kind")
    if not event.get("contact_id") or kind not in ("call_ended", "not_placed", "deferred"):
        logger.warning("Unknown campaign event ignored", extra={"campaign_id": campaign.campaign_id, "kind": kind})
        return None
    was = event.get("contact_status") or "dialing"
    change = db.ContactChange(event["contact_id"], (was,), "", expect_call_id=event.get("call_id"),
                              fields={"updated_at": iso(now)},
                              no_call=event.get("call_id") if event.get("lost") else None)  # a lost dial placed nothing
    if kind == "call_ended":
        _ended(campaign, event, change, now, update)
    elif kind == "deferred" and int(event.get("dial_failures") or 0) >= MAX_DIAL_FAILURES:
        change.status = "failed"  # its dial kept failing: end it with the reason rather than loop
        change.fields.update({"attempts": int(event["attempt"]) - 1, "final_reason": (
            f"Could not be dialed ({event['dial_failures']} tries): {event.get('detail') or 'unknown error'}")[:500]})
        change.remove = ("current_call_id", "next_attempt_at")
        update.count("attempts", -1)
    elif kind == "not_placed":  # invalid, suppressed or skipped (calling rules): final, and no call was made
        change.status = event["status"]
        change.fields.update({"final_reason": (event.get("detail") or "")[:500], "attempts": int(event["attempt"]) - 1})
        change.remove = ("current_call_id", "next_attempt_at")
        update.count("attempts", -1)
    elif campaign.status in TERMINAL:  # deferred, but the campaign is over: nothing will dial it again
        # (this tick's cancel pass has read the due entries already, and no tick may follow: a
        # contact put back to waiting here would wait forever)
        change.status = "canceled"
        change.fields.update({"attempts": int(event["attempt"]) - 1, "final_reason": f"Campaign {campaign.status}"})
        change.remove = ("current_call_id", "next_attempt_at")
        update.count("attempts", -1)
    else:  # deferred (campaign paused, reserves in flight, a failed or lost dial, or the calling
        # rules said "not yet"): waiting again, the attempt not burned, due again at once, after the
        # dialer's ``retry_after_s`` or at the calling rules' ``not_before``
        attempt = int(event["attempt"])
        not_before = parse(event["not_before"]) if event.get("not_before") else None
        change.status = "waiting_window" if not_before else "pending" if attempt <= 1 else "retry_scheduled"
        at = max(now + timedelta(seconds=float(event.get("retry_after_s") or 0)), campaign.start_at or now,
                 not_before or now)
        change.fields.update({"attempts": attempt - 1, "next_attempt_at": iso(at)})
        change.remove = ("current_call_id",)
        change.put_due = _due_entry(campaign, event, at, attempt, change.status)
        update.count("attempts", -1)
    if event.get("evidence"):  # why the calling rules refused it (compliance.evidence.summary)
        change.fields["last_evidence"] = event["evidence"]
    update.moved(was, change.status)
    update.count("in_flight", -1)
    return change


def _ended(campaign: Campaign, event: dict[str, Any], change: db.ContactChange, now: datetime,
           update: db.CampaignUpdate) -> None:
    ended_at = parse(event["ended_at"]) if event.get("ended_at") else now
    attempt = int(event["attempt"])
    outcome = after_call(event["status"], attempt, campaign.retry_policy, ended_at,
                         lambda at: campaign.next_window(at, event["phone_number"], event.get("timezone")),
                         dialing_allowed=campaign.status not in TERMINAL, end_at=campaign.end_at)
    change.fields.update({"last_call_status": event["status"], "last_ended_at": iso(ended_at)})
    change.append_call_id = event["call_id"]  # a call exists: listed with the contact from now on
    update.count("talk_seconds", int(event.get("duration_seconds") or 0))
    update.count("charged_cents", int(event.get("charged_cents") or 0))
    update.count("answered", 1 if event.get("answered") else 0)
    if outcome.final_status:
        change.status = outcome.final_status
        change.remove = ("current_call_id", "next_attempt_at")
        return
    change.status = "waiting_window" if outcome.waits_for_window else "retry_scheduled"
    change.remove = ("current_call_id",)
    change.fields["next_attempt_at"] = iso(outcome.retry_at)
    change.put_due = _due_entry(campaign, event, outcome.retry_at, attempt + 1, change.status)


def _due_entry(campaign: Campaign, event: dict[str, Any], at: datetime, attempt: int, status: str) -> dict[str, Any]:
    entry = {**due_key(campaign.campaign_id, iso(at), event["contact_id"]), "contact_id": event["contact_id"],
             "phone_number": event["phone_number"], "variables": event.get("variables") or {},
             "timezone": event.get("timezone"), "external_id": event.get("external_id"),
             "metadata": event.get("metadata") or {}, "attempt": attempt, "status": status}
    if event.get("kind") == "deferred" and event.get("dial_failures"):
        entry["dial_failures"] = int(event["dial_failures"])  # carried to the next dial of this attempt
    return entry


# --- claims ------------------------------------------------------------------------------------------

def _budget(changes: list[db.ContactChange]) -> int:
    """Items left in this tick's transaction for claims or cancels, after the events' changes and
    the campaign's own update."""
    return db.MAX_TRANSACTION_ITEMS - 1 - sum(change.item_count() for change in changes)


MAX_CLAIM_ITEMS = 3  # a move to the window: the contact, its due entry deleted, the new one put


def _claim(campaign: Campaign, due: list[dict[str, Any]], now: datetime, update: db.CampaignUpdate,
           released: int, budget: int) -> list[tuple[db.ContactChange, dict[str, Any], datetime]]:
    """Claims while slots, the pacing and the transaction's ``budget`` of items allow (what the
    budget leaves out is due still: _more_due_now ticks again)."""
    free = campaign.pacing.max_concurrent_calls - campaign.in_flight + released
    interval = timedelta(seconds=(60 + PACING_SLACK_S) / campaign.pacing.calls_per_minute)
    cursor = max(now, campaign.next_dial_at or now)
    claims = []
    for entry in due:
        if free <= 0 or cursor > now + HORIZON or (campaign.end_at and cursor >= campaign.end_at) \
                or budget < MAX_CLAIM_ITEMS:
            break
        opens = campaign.next_window(cursor, entry["phone_number"], entry.get("timezone"))
        if opens != cursor:
            claims.append((_to_window(campaign, entry, opens, now, update), entry, cursor))
            budget -= claims[-1][0].item_count()
            continue
        attempt = int(entry["attempt"])
        call_id = attempt_call_id(campaign.campaign_id, entry["contact_id"], attempt)
        claims.append((db.ContactChange(
            entry["contact_id"], (entry["status"],), "dialing",
            fields={"attempts": attempt, "current_call_id": call_id, "updated_at": iso(now), "dial_at": iso(cursor),
                    "dial_failures": int(entry.get("dial_failures") or 0)},
            remove=("next_attempt_at",), delete_due=entry["sk"]), entry, cursor))
        budget -= claims[-1][0].item_count()
        update.moved(entry["status"], "dialing")
        update.count("in_flight", 1)
        update.count("attempts", 1)
        cursor += interval
        free -= 1
    dialed = sum(1 for change, _, _ in claims if change.status == "dialing")
    if dialed:
        # Never more than max_concurrent_calls in flight, whatever other ticks do meanwhile: the
        # value before this transaction must leave room for its claims net of its releases.
        update.condition = "#s = :running AND in_flight <= :room AND " + (
            "next_dial_at = :cursor" if campaign.next_dial_at else "attribute_not_exists(next_dial_at)")
        update.values.update({":running": "running", ":room": campaign.pacing.max_concurrent_calls - dialed + released})
        if campaign.next_dial_at:
            update.values[":cursor"] = iso(campaign.next_dial_at)
        update.fields["next_dial_at"] = iso(cursor)
        update.first["first_dial_at"] = next(iso(at) for change, _, at in claims if change.status == "dialing")
    return claims


def _to_window(campaign: Campaign, entry: dict[str, Any], opens: datetime | None, now: datetime,
               update: db.CampaignUpdate) -> db.ContactChange:
    """A due contact whose window is closed now is due again when it opens (no slot used)."""
    if opens is None or (campaign.end_at and opens >= campaign.end_at):
        update.moved(entry["status"], "canceled")
        return db.ContactChange(entry["contact_id"], (entry["status"],), "canceled", delete_due=entry["sk"],
                                fields={"updated_at": iso(now), "final_reason": "No calling time left before end_at"},
                                remove=("next_attempt_at",))
    update.moved(entry["status"], "waiting_window")
    moved = {**entry, **due_key(campaign.campaign_id, iso(opens), entry["contact_id"]), "status": "waiting_window"}
    return db.ContactChange(entry["contact_id"], (entry["status"],), "waiting_window", delete_due=entry["sk"],
                            put_due=moved, fields={"updated_at": iso(now), "next_attempt_at": iso(opens)})


def _dial_message(campaign: Campaign, change: db.ContactChange, entry: dict[str, Any]) -> dict[str, Any]:
    """Everything the dialer needs, the call's body included: it then reads nothing but what
    initiate reads."""
    return {"campaign_id": campaign.campaign_id, "organization_id": campaign.organization_id,
            "contact_id": change.contact_id, "attempt": change.fields["attempts"],
            "call_id": change.fields["current_call_id"], "phone_number": entry["phone_number"],
            "timezone": entry.get("timezone"), "external_id": entry.get("external_id"),
            "variables": entry.get("variables") or {}, "metadata": entry.get("metadata") or {},
            "dial_at": change.fields["dial_at"], "dial_failures": int(entry.get("dial_failures") or 0),
            "call": campaign.call_body(entry["phone_number"], entry.get("variables") or {}, entry.get("external_id"),
                                       entry.get("metadata"))}


# --- start, end, cancel, complete, wake up -------------------------------------------------------------

def _started_or_ended(campaign: Campaign, now: datetime) -> Campaign:
    """A scheduled campaign starts at start_at; a running or paused one ends at end_at."""
    from outbound.campaigns.lifecycle import end_campaign, start_scheduled

    if campaign.status == "scheduled" and (campaign.start_at is None or campaign.start_at <= now):
        return start_scheduled(campaign, now)
    if campaign.status in ("running", "paused") and campaign.end_at and campaign.end_at <= now:
        return end_campaign(campaign, now)
    return campaign


def _cancel_waiting(campaign: Campaign, now: datetime, update: db.CampaignUpdate,
                    budget: int) -> list[db.ContactChange]:
    """A canceled (or ended) campaign's waiting contacts become canceled, a chunk per tick (as
    many as the transaction's ``budget`` of items holds: 2 each)."""
    cancels: list[db.ContactChange] = []
    limit = min(CANCELS_PER_TICK, budget // 2)  # at least 29: 20 events take at most 40 items
    if limit <= 0:
        return cancels
    for entry in db.due_entries(campaign.campaign_id, limit=limit):
        update.moved(entry["status"], "canceled")
        cancels.append(db.ContactChange(entry["contact_id"], (entry["status"],), "canceled", delete_due=entry["sk"],
                                        fields={"updated_at": iso(now), "final_reason": f"Campaign {campaign.status}"},
                                        remove=("next_attempt_at",)))
    return cancels


def _more_due_now(campaign: Campaign, update: db.CampaignUpdate, claims: list, changes: list[db.ContactChange],
                  due: list[dict[str, Any]], now: datetime) -> bool:
    """Whether another tick now would find work: slots are free, the pacing has room within the
    minute, and something is due (a batch left over, contacts just moved, a retry due now)."""
    if campaign.status != "running":
        return False
    free = campaign.pacing.max_concurrent_calls - campaign.in_flight - update.add.get("in_flight", 0)
    # The pacing's next slot: this tick's cursor, or (nothing claimed) the campaign's own. A slot
    # beyond the horizon, or at/after end_at, is no work for a tick now: the heartbeat (every
    # minute) picks it up; ticking again would only repeat this tick until time catches up.
    cursor = (parse(update.fields["next_dial_at"]) if "next_dial_at" in update.fields
              else max(now, campaign.next_dial_at or now))
    if free <= 0 or cursor > now + HORIZON or (campaign.end_at and cursor >= campaign.end_at):
        return False
    leftover = (len(due) >= CLAIMS_PER_TICK or len(claims) < len(due)  # a batch, or the budget, left some
                or any(c.status == "waiting_window" for c, _, _ in claims))
    retry_now = any(c.put_due and c.put_due["sk"].split("#", 2)[1] <= iso(now) for c in changes)
    return leftover or retry_now


def _after(campaign: Campaign, update: db.CampaignUpdate, result: TickResult, now: datetime, due_now: bool) -> None:
    from outbound.campaigns.lifecycle import complete_if_done

    if campaign.status in TERMINAL:
        from outbound.campaigns.repair import after_the_end

        if result.canceled:
            queues.send_tick(campaign.campaign_id, "cancel")  # the next chunk
        else:
            after_the_end(campaign, update, now)  # queued dials released; the heartbeat ends with the last call
        return
    outstanding = sum(campaign.counts.get(s, 0) + update.add.get(f"count_{s}", 0)
                      for s in (*WAITING_STATUSES, *IN_FLIGHT_STATUSES))
    if campaign.status == "running" and outstanding <= 0:
        if complete_if_done(campaign, now):
            result.status = "completed"
        return
    if due_now:
        queues.send_tick(campaign.campaign_id, "more_due")
        result.again = True
