"""Campaigns: create, read, list, and move through their life (start, pause, resume, cancel,
then completed by the dispatcher).

Status model: ``draft`` -> ``scheduled`` (start_at ahead) -> ``running`` <-> ``paused``
(``paused_reason``: manual, or insufficient_balance when a dial met a 402 the balance itself
could not cover; ``resumed_reason``: manual, or balance_credited when a credit made room) ->
``completed`` (no contact left waiting or in flight, or end_at reached) or ``canceled``.
``start_at`` and ``end_at`` wake the dispatcher at that second (outbound.campaigns.timers);
``started_at`` is when the campaign really started running, ``first_dial_at`` its first dial's
slot. While a campaign is active, and after its end while calls are still in flight, an
EventBridge Scheduler schedule sends its dispatcher a heartbeat every minute (what falls due
later; the repairs of outbound.campaigns.repair); the ticks that do most of the work come from
events: start, an attempt's end.
"""
from __future__ import annotations

import secrets
from datetime import datetime, timezone
from typing import Any

from aws_lambda_powertools import Logger

from outbound import aws, pages, store
from outbound.calls.initiate import resolve_assistant
from outbound.calls.models import InitiateCallRequest
from outbound.campaigns import queues, timers
from outbound.campaigns.models import CampaignCreate
from outbound.campaigns.policy import CONTACT_STATUSES, IN_FLIGHT_STATUSES, WAITING_STATUSES
from outbound.campaigns.settings import Campaign
from outbound.config import campaign_settings
from outbound.errors import BadRequest, Conflict, NotFound
from outbound.schedules.times import ScheduleTimeError, zone
from outbound.store import campaigns as db
from outbound.store.keys import campaigns_partition

logger = Logger(child=True)

UTC = timezone.utc
ACTIVE = ("scheduled", "running", "paused")


def now_utc() -> datetime:
    return datetime.now(UTC)


def iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --- create, read, list ---------------------------------------------------------------------------

def create_campaign(organization_id: str, body: CampaignCreate) -> dict[str, Any]:
    """Checks what initiate would check of the caller's side (the from number is yours, the
    assistant resolves) and keeps the campaign as a draft."""
    try:
        zone(body.timezone)
    except ScheduleTimeError as exc:
        raise BadRequest(str(exc)) from None
    assistant = _resolve_assistant(organization_id, body)
    now = iso(now_utc())
    item = {
        "campaign_id": "cmp_" + secrets.token_hex(10), "organization_id": organization_id, "name": body.name,
        "status": "draft", "from_phone_number": body.from_phone_number, "assistant_id": body.assistant_id,
        "resolved_assistant_id": assistant["id"],
        "welcome_message": body.welcome_message, "agenda": body.agenda, "variables": body.variables,
        # What contacts' variables are checked against when they are added (the dial renders again).
        "template_texts": {"welcome_message": body.welcome_message if body.welcome_message is not None
                           else assistant.get("welcome_message"),
                           "agenda": body.agenda if body.agenda is not None else assistant.get("agenda")},
        "calling_window": body.calling_window.model_dump(), "timezone": body.timezone,
        "require_consent": body.require_consent,
        "retry_policy": body.retry_policy.model_dump(), "pacing": body.pacing.model_dump(),
        "start_at": iso(body.start_at) if body.start_at else None, "end_at": iso(body.end_at) if body.end_at else None,
        "created_at": now, "updated_at": now, "contacts_total": 0, "in_flight": 0, "attempts": 0, "answered": 0,
        "talk_seconds": 0, "charged_cents": 0, **{f"count_{s}": 0 for s in CONTACT_STATUSES},
    }
    db.create_campaign(item)
    return campaign_view(item)


def _resolve_assistant(organization_id: str, body: CampaignCreate) -> dict[str, Any]:
    """The same resolution as initiate (override > number's assistant > graph entry), and the
    same 403/404 answers."""
    from outbound.errors import number_not_yours

    keys = [store.phone_number_key(body.from_phone_number)]
    if body.assistant_id is not None:
        keys.append(store.assistant_key(body.assistant_id))
    items = store.get_items(keys)
    number = items.get(tuple(keys[0].values()))
    if number is None or number.get("organization_id") != organization_id:
        raise number_not_yours(body.from_phone_number)
    override = items.get(tuple(keys[1].values())) if body.assistant_id is not None else None
    request = InitiateCallRequest(body.from_phone_number, body.from_phone_number, body.assistant_id)
    return resolve_assistant(organization_id, request, number, override)


def load(organization_id: str, campaign_id: str) -> dict[str, Any]:
    """The organization's campaign item; another organization's is a 404 like an unknown one."""
    item = db.get_campaign(campaign_id) if campaign_id.startswith("cmp_") and len(campaign_id) < 64 else None
    if item is None or item.get("organization_id") != organization_id:
        raise NotFound(f"Campaign {campaign_id} not found")
    return item


def get_campaign(organization_id: str, campaign_id: str) -> dict[str, Any]:
    return campaign_view(load(organization_id, campaign_id))


def list_campaigns(organization_id: str, limit: Any = None, next_token: str | None = None) -> dict[str, Any]:
    start = pages.decode(next_token, "gsi1pk", campaigns_partition(organization_id))
    items, last = db.list_campaigns(organization_id, pages.parse_limit(limit), start)
    return {"campaigns": [campaign_view(i) for i in items], "next_token": pages.encode(last)}


def campaign_view(item: dict[str, Any]) -> dict[str, Any]:
    by_status = {s: int(item.get(f"count_{s}") or 0) for s in CONTACT_STATUSES}
    in_flight = int(item.get("in_flight") or 0)
    totals = {name: int(item.get(name) or 0) for name in ("attempts", "answered", "talk_seconds", "charged_cents")}
    # The item counts an attempt when its dial is claimed and uncounts it when the dial is put back
    # (a pause, a cancel, a 402) or places nothing: shown, that went backwards. Claimed minus in
    # flight is the attempts whose call has ended, which only rises, as every other total here.
    totals["attempts"] = max(0, totals["attempts"] - in_flight)
    return {
        **{name: item.get(name) for name in (
            "campaign_id", "name", "status", "paused_reason", "from_phone_number", "assistant_id", "welcome_message",
            "agenda", "variables", "calling_window", "timezone", "require_consent", "retry_policy", "pacing",
            "start_at", "end_at", "created_at", "updated_at", "start_requested_at", "started_at", "first_dial_at",
            "resumed_reason", "completed_at", "canceled_at")},
        "progress": {
            "contacts_total": int(item.get("contacts_total") or 0), "by_status": by_status,
            "waiting": sum(by_status[s] for s in WAITING_STATUSES),
            "in_flight": in_flight,
            "finished": sum(v for s, v in by_status.items() if s not in (*WAITING_STATUSES, *IN_FLIGHT_STATUSES)),
            **totals,
        },
    }


# --- start, pause, resume, cancel ---------------------------------------------------------------------

def start_campaign(organization_id: str, campaign_id: str) -> dict[str, Any]:
    item = load(organization_id, campaign_id)
    if item["status"] != "draft":
        raise Conflict(f"Campaign {campaign_id} is {item['status']}: only a draft can be started")
    if not item.get("contacts_total"):
        raise Conflict(f"Campaign {campaign_id} has no contacts: add some before starting it")
    start_at = _instant(item.get("start_at"))
    now = now_utc()
    scheduled = start_at is not None and start_at > now
    fields = {"start_requested_at": iso(now), "updated_at": iso(now)}
    if not scheduled:
        fields["started_at"] = iso(now)
    moved = _move(organization_id, campaign_id, ("draft",), "scheduled" if scheduled else "running", fields)
    _create_heartbeat(campaign_id, start_at if scheduled else None)
    end_at = _instant(item.get("end_at"))
    timers.wake_at(campaign_id, [at for at in (start_at if scheduled else None, end_at) if at], now)
    if not scheduled:
        _tick(campaign_id, "start")
    return campaign_view(moved)


def pause_campaign(organization_id: str, campaign_id: str) -> dict[str, Any]:
    """No new dial from now (dial messages already queued find the campaign paused and put
    their contact back); calls in flight finish and settle normally."""
    moved = _move(organization_id, campaign_id, ("scheduled", "running"), "paused",
                  {"paused_reason": "manual", "updated_at": iso(now_utc())})
    return campaign_view(moved)


def resume_campaign(organization_id: str, campaign_id: str) -> dict[str, Any]:
    item = load(organization_id, campaign_id)
    start_at = _instant(item.get("start_at"))
    status = "scheduled" if start_at and start_at > now_utc() else "running"
    moved = _move(organization_id, campaign_id, ("paused",), status,
                  {"updated_at": iso(now_utc()), "resumed_reason": "manual"}, remove=("paused_reason",))
    _tick(campaign_id, "resume")
    return campaign_view(moved)


def resume_after_credit(organization_id: str) -> list[str]:
    """A credit came in: the organization's campaigns paused for balance go on by themselves
    (``resumed_reason: balance_credited``, in their campaign.status_changed event) once the
    balance covers one more call. Returns the campaigns resumed."""
    from outbound import store

    organization = store.get_item(store.organization_key(organization_id)) or {}
    reserve = organization.get("call_reserve_cents")
    if int(organization.get("available_cents") or 0) < (_stack_reserve() if reserve is None else int(reserve)):
        return []
    resumed = []
    for item in db.campaigns_paused_for_balance(organization_id):
        start_at = _instant(item.get("start_at"))
        status = "scheduled" if start_at and start_at > now_utc() else "running"
        try:
            db.move_campaign(item["campaign_id"], organization_id, ("paused",), status,
                             {"updated_at": iso(now_utc()), "resumed_reason": "balance_credited"},
                             remove=("paused_reason",))
        except db.CampaignNotMoved:
            continue  # resumed, canceled or paused by hand meanwhile
        logger.info("Campaign resumed: a credit made room", extra={"campaign_id": item["campaign_id"]})
        _tick(item["campaign_id"], "resume")
        resumed.append(item["campaign_id"])
    return resumed


def _stack_reserve() -> int:
    from outbound.config import settings

    return settings().call_reserve_cents


def cancel_campaign(organization_id: str, campaign_id: str, end_calls: bool = False) -> dict[str, Any]:
    """``end_calls``: also hang up its calls in flight (else they finish normally); the answer
    then says which were (``ended_calls``, see campaigns.hangups)."""
    now = iso(now_utc())
    moved = _move(organization_id, campaign_id, ("draft", *ACTIVE), "canceled",
                  {"canceled_at": now, "updated_at": now})
    # waiting contacts become canceled, a chunk per tick, and the dials still queued are released;
    # the heartbeat goes once no call is in flight (the dispatcher deletes it)
    _tick(campaign_id, "cancel")
    if not end_calls:
        return campaign_view(moved)
    from outbound.campaigns.hangups import end_calls_in_flight

    return {**campaign_view(moved), "ended_calls": end_calls_in_flight(campaign_id)}


def _move(organization_id: str, campaign_id: str, from_statuses: tuple[str, ...], status: str,
          fields: dict[str, Any], remove: tuple[str, ...] = ()) -> dict[str, Any]:
    try:
        moved = db.move_campaign(campaign_id, organization_id, from_statuses, status, fields, remove)
    except db.CampaignNotMoved as exc:
        current = exc.current
        if current is None or current.get("organization_id") != organization_id:
            raise NotFound(f"Campaign {campaign_id} not found") from None
        raise Conflict(f"Campaign {campaign_id} is {current['status']}: it cannot become {status}") from None
    logger.info("Campaign status changed", extra={"campaign_id": campaign_id, "status": status})
    return moved


# --- moves the dispatcher and the dialer make -------------------------------------------------------

def start_scheduled(campaign: Campaign, now: datetime) -> Campaign:
    return _engine_move(campaign, ("scheduled",), "running", {"updated_at": iso(now), "started_at": iso(now)})


def end_campaign(campaign: Campaign, now: datetime) -> Campaign:
    """end_at reached: completed; the waiting contacts are then canceled by the dispatcher (which
    deletes the heartbeat once no call is in flight)."""
    return _engine_move(campaign, ("running", "paused"), "completed",
                        {"completed_at": iso(now), "updated_at": iso(now), "ended_by": "end_at"})


def complete_if_done(campaign: Campaign, now: datetime) -> bool:
    """Completed, if no contact waits or is in flight (checked by the write's own condition)."""
    try:
        db.move_campaign(campaign.campaign_id, campaign.organization_id, ("running",), "completed",
                         {"completed_at": iso(now), "updated_at": iso(now)},
                         zero=tuple(f"count_{s}" for s in (*WAITING_STATUSES, *IN_FLIGHT_STATUSES)))
    except db.CampaignNotMoved:
        return False
    delete_heartbeat(campaign.campaign_id)
    logger.info("Campaign completed", extra={"campaign_id": campaign.campaign_id})
    return True


def pause_for_balance(campaign_id: str, organization_id: str) -> None:
    """A dial met a 402: pause (resume continues once funds are added)."""
    try:
        db.move_campaign(campaign_id, organization_id, ("running",), "paused",
                         {"paused_reason": "insufficient_balance", "updated_at": iso(now_utc())})
        logger.warning("Campaign paused: insufficient balance", extra={"campaign_id": campaign_id})
    except db.CampaignNotMoved:
        pass  # paused or ended already


def _engine_move(campaign: Campaign, from_statuses: tuple[str, ...], status: str, fields: dict[str, Any]) -> Campaign:
    try:
        return Campaign.from_item(db.move_campaign(campaign.campaign_id, campaign.organization_id, from_statuses,
                                                   status, fields))
    except db.CampaignNotMoved as exc:
        return Campaign.from_item(exc.current) if exc.current else campaign


# --- heartbeat schedule and ticks ---------------------------------------------------------------------

def _heartbeat_name(campaign_id: str) -> str:
    return f"campaign-{campaign_id}"


def _create_heartbeat(campaign_id: str, start_at: datetime | None) -> None:
    import json

    args: dict[str, Any] = {
        "Name": _heartbeat_name(campaign_id), "GroupName": campaign_settings().schedule_group,
        "ScheduleExpression": "rate(1 minute)", "FlexibleTimeWindow": {"Mode": "OFF"}, "State": "ENABLED",
        # The timers queue, not the ticks queue: a beat never waits behind the FIFO tick it may
        # have to rescue (a tick retried while DynamoDB fails holds its campaign's group).
        "Target": {"Arn": campaign_settings().timers_queue_arn, "RoleArn": campaign_settings().scheduler_role_arn,
                   "Input": json.dumps({"campaign_id": campaign_id, "reason": "heartbeat",
                                        "beat": "<aws.scheduler.scheduled-time>"}),
                   "RetryPolicy": {"MaximumRetryAttempts": 0, "MaximumEventAgeInSeconds": 60}},
        "Description": f"Heartbeat of campaign {campaign_id}",
    }
    if start_at is not None:
        args["StartDate"] = start_at
    try:
        aws.client("scheduler").create_schedule(**args)
    except aws.client("scheduler").exceptions.ConflictException:
        pass  # started twice: one heartbeat is enough
    except Exception as exc:  # noqa: BLE001 - the campaign still runs on its event ticks
        logger.error("Could not create the campaign's heartbeat schedule", extra={
            "campaign_id": campaign_id, "error": type(exc).__name__})


def delete_heartbeat(campaign_id: str) -> None:
    try:
        aws.client("scheduler").delete_schedule(Name=_heartbeat_name(campaign_id),
                                                GroupName=campaign_settings().schedule_group)
    except Exception as exc:  # noqa: BLE001 - a leftover heartbeat only finds a finished campaign
        if type(exc).__name__ != "ResourceNotFoundException":
            logger.warning("Could not delete the campaign's heartbeat", extra={
                "campaign_id": campaign_id, "error": type(exc).__name__})


def _tick(campaign_id: str, reason: str) -> None:
    try:
        queues.send_tick(campaign_id, reason)
    except Exception as exc:  # noqa: BLE001 - the heartbeat ticks within a minute anyway
        logger.error("Could not send the campaign a tick", extra={"campaign_id": campaign_id,
                                                                  "error": type(exc).__name__})


def _instant(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None
