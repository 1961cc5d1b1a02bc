"""The Schedules API: schedule a call (one-time or recurring), list, read and cancel schedules.

A schedule is two things, written in this order so a fire can never find no record:
1. its record in the table (``store`` schedules section: the call, the times, its status);
2. an EventBridge Scheduler schedule in the stack's schedule group: ``at(...)`` (in UTC, the
   instant we validated; deleted by Scheduler after it completes) or ``cron(...)`` in the
   recurrence's time zone, targeting ScheduledCallFunction through the scheduler role, with the
   stack's retry policy and dead-letter queue. Its input is the call plus Scheduler's context
   attributes (the fire's scheduled time makes every delivery of a fire share one call id).
If step 2 fails, step 1 is undone: nothing half-written.

Creating validates everything initiate would (body, numbers, ownership, assistant, templates,
credentials) with ``prepare_call``: the same code, no write, no call.

``Idempotency-Key`` (same semantics as POST /calls/initiate): the schedule id is derived from
(organization, key), so a retry meets the first request's record (read first; the record's
conditional create settles a race). The same body within 24 hours answers the first 201 again
(``Idempotent-Replayed: true``), another body is a 422, a first request still creating its
Scheduler schedule is a 409. A request refused before its record exists is not remembered.
"""
from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from aws_lambda_powertools import Logger

from outbound import aws, pages, store
from outbound.calls.initiate import prepare_call
from outbound.calls.models import InitiateCallRequest, initiate_request_from
from outbound.config import scheduler_settings
from outbound.errors import BadRequest, Conflict, NotFound, ServiceUnavailable, Unprocessable
from outbound.idempotency import KEY_TTL, REPLAYED, check_key
from outbound.schedules.times import (
    UTC,
    ScheduleTimeError,
    iso_local,
    iso_utc,
    parse_cron,
    parse_instant,
    zone,
)

logger = Logger(child=True)

SCHEDULE_FIELDS = ("scheduled_at", "timezone", "recurrence")
RECURRENCE_FIELDS = ("cron", "timezone", "end_at")
DEFAULT_PAGE, MAX_PAGE = pages.DEFAULT_LIMIT, pages.MAX_LIMIT  # one page-size rule (outbound.pages)


def now_utc() -> datetime:
    return datetime.now(UTC)


# --- POST /calls/schedule ---------------------------------------------------------------------

@dataclass(frozen=True)
class When:
    kind: str  # "once" | "recurring"
    first_fire: datetime  # UTC; for a recurrence, its next fire
    timezone: str | None
    expression: str  # Scheduler's at(...) or cron(...)
    expression_timezone: str
    recurrence: dict[str, Any] | None = None
    end_at: datetime | None = None


def parse_when(data: dict[str, Any], now: datetime) -> When:
    """The schedule's own fields: ``scheduled_at`` (+ ``timezone``) or ``recurrence``."""
    try:
        return _parse_when(data, now)
    except ScheduleTimeError as exc:
        raise BadRequest(str(exc)) from None


def _parse_when(data: dict[str, Any], now: datetime) -> When:
    has_at, has_recurrence = data.get("scheduled_at") is not None, data.get("recurrence") is not None
    if has_at == has_recurrence:
        raise BadRequest("Give either scheduled_at (one call) or recurrence (repeated calls)"
                         if has_at else "scheduled_at or recurrence is required")
    tz_name = data.get("timezone")
    if tz_name is not None:
        zone(tz_name)
    if has_at:
        instant = parse_instant(data["scheduled_at"], tz_name)
        if instant <= now:
            raise BadRequest(f"scheduled_at must be in the future (it is {iso_local(instant, tz_name)}, "
                             f"now is {iso_utc(now)})")
        return When("once", instant, tz_name, f"at({instant.strftime('%Y-%m-%dT%H:%M:%S')})", "UTC")
    recurrence = data["recurrence"]
    if not isinstance(recurrence, dict):
        raise BadRequest('recurrence must be an object: {"cron": "cron(0 9 ? * MON-FRI *)", "timezone": ...}')
    unknown = [name for name in recurrence if name not in RECURRENCE_FIELDS]
    if unknown:
        raise BadRequest(f"Unknown field: recurrence.{unknown[0]}")
    if recurrence.get("cron") in (None, ""):
        raise BadRequest("recurrence.cron is required")
    cron = parse_cron(recurrence["cron"])
    rec_tz_name = recurrence.get("timezone", tz_name) or "UTC"
    tz = zone(rec_tz_name, "recurrence.timezone")
    end_at = None
    if recurrence.get("end_at") is not None:
        end_at = parse_instant(recurrence["end_at"], rec_tz_name, "recurrence.end_at")
        if end_at <= now:
            raise BadRequest("recurrence.end_at must be in the future")
    first = cron.next_after(now, tz, until=end_at)
    if first is None:
        raise BadRequest("recurrence.cron never fires" + (" before recurrence.end_at" if end_at else ""))
    return When("recurring", first, rec_tz_name, f"cron({cron.expression})", rec_tz_name,
                {"cron": f"cron({cron.expression})", "timezone": rec_tz_name,
                 "end_at": iso_local(end_at, rec_tz_name) if end_at else None}, end_at)


def call_body(request: InitiateCallRequest) -> dict[str, Any]:
    """The initiate body again (what each fire sends), without unset optional fields."""
    return {k: v for k, v in asdict(request).items() if v is not None and v != {}}




def idempotent_schedule_id(organization_id: str, key: str) -> str:
    return "sch_" + hashlib.sha256(f"idempotency|schedule|{organization_id}|{key}".encode()).hexdigest()[:24]


def body_hash(data: dict[str, Any]) -> str:
    """The request as parsed (JSON spacing and key order do not matter)."""
    return hashlib.sha256(json.dumps(data, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def replay_schedule(record: dict[str, Any], fingerprint: str) -> dict[str, Any]:
    """The first request's 201 body, from its record; 422 for another body, 409 in flight."""
    if record.get("request_hash") != fingerprint:
        raise Unprocessable("Idempotency-Key was already used with a different request")
    created = datetime.fromisoformat(record["created_at"].replace("Z", "+00:00"))
    if now_utc() - created > KEY_TTL:
        raise Unprocessable("Idempotency-Key has expired (keys are kept 24 hours); use a new key")
    if record.get("creating"):
        raise Conflict("A request with this Idempotency-Key is still in progress", headers=REPLAYED)
    return record["response"]


def schedule_call(organization_id: str, data: dict[str, Any],
                  idempotency_key: str | None = None) -> tuple[dict[str, Any], dict[str, str]]:
    """(201 body, extra headers)."""
    fingerprint = schedule_id = None
    if idempotency_key is not None:
        schedule_id = idempotent_schedule_id(organization_id, check_key(idempotency_key))
        fingerprint = body_hash(data)
        existing = store.get_item(store.schedule_key(schedule_id))
        if existing is not None:
            return replay_schedule(existing, fingerprint), REPLAYED
    now = now_utc()
    when = parse_when(data, now)
    request = initiate_request_from(data, allowed_extra=SCHEDULE_FIELDS)
    prepare_call(organization_id, request)  # everything initiate checks; no write, no call
    schedule_id = schedule_id or f"sch_{secrets.token_hex(12)}"
    created = store.now_iso()
    response = {"message": "Call scheduled", "schedule_id": schedule_id,
                "scheduled_at": iso_local(when.first_fire, when.timezone), "kind": when.kind,
                "timezone": when.timezone, "recurrence": when.recurrence}
    record = {
        "schedule_id": schedule_id, "organization_id": organization_id, "kind": when.kind,
        "status": "scheduled", "call": call_body(request), "timezone": when.timezone,
        "scheduled_at": iso_utc(when.first_fire) if when.kind == "once" else None,
        "recurrence": when.recurrence, "created_at": created, "updated_at": created,
    }
    if fingerprint is not None:
        record.update({"request_hash": fingerprint, "response": response, "creating": True})
    try:
        store.create_schedule(record)
    except store.client().exceptions.ConditionalCheckFailedException:  # lost a race to the same key
        existing = store.get_item(store.schedule_key(schedule_id))
        if existing is None:  # the other request failed and undid its record
            raise Conflict("A request with this Idempotency-Key is still in progress", headers=REPLAYED) from None
        return replay_schedule(existing, fingerprint), REPLAYED
    try:
        create_scheduler_schedule(schedule_id, organization_id, when, record["call"])
    except Exception:
        logger.exception("CreateSchedule failed", extra={"schedule_id": schedule_id})
        store.delete_schedule(schedule_id)
        raise ServiceUnavailable("The scheduler could not create the schedule. Try again.") from None
    if fingerprint is not None:
        store.schedule_created(schedule_id)
    logger.info("Call scheduled", extra={"schedule_id": schedule_id, "kind": when.kind,
                                         "first_fire": iso_utc(when.first_fire)})
    return response, {}


def scheduler_input(schedule_id: str, organization_id: str, call: dict[str, Any]) -> str:
    """ScheduledCallFunction's event; Scheduler renders the <aws.scheduler.*> context attributes."""
    return json.dumps({
        "organization_id": organization_id, "schedule_id": schedule_id, "managed": True,
        "scheduled_time": "<aws.scheduler.scheduled-time>",
        "execution_id": "<aws.scheduler.execution-id>", "attempt": "<aws.scheduler.attempt-number>",
        "call": call,
    })


def create_scheduler_schedule(schedule_id: str, organization_id: str, when: When, call: dict[str, Any]) -> None:
    config = scheduler_settings()
    target: dict[str, Any] = {
        "Arn": config.target_arn, "RoleArn": config.role_arn,
        "Input": scheduler_input(schedule_id, organization_id, call),
        "RetryPolicy": {"MaximumRetryAttempts": config.retry_attempts,
                        "MaximumEventAgeInSeconds": config.max_event_age_s},
    }
    if config.dead_letter_arn:
        target["DeadLetterConfig"] = {"Arn": config.dead_letter_arn}
    args: dict[str, Any] = {
        "Name": schedule_id, "GroupName": config.group_name,
        "ScheduleExpression": when.expression, "ScheduleExpressionTimezone": when.expression_timezone,
        "FlexibleTimeWindow": {"Mode": "OFF"}, "State": "ENABLED", "Target": target,
        "ActionAfterCompletion": "DELETE",  # a fired at(), or a recurrence past its end, removes itself
        "Description": f"Outbound call for {organization_id}",
    }
    if when.end_at is not None:
        args["EndDate"] = when.end_at
    aws.client("scheduler").create_schedule(**args)


# --- GET /calls/schedules, GET /calls/schedules/{id}, DELETE /calls/schedules/{id} --------------

def once_fire_id(record: dict[str, Any]) -> str:
    """The id of a one-time schedule's only fire (its scheduled time is the at() instant)."""
    return store.fire_id_for(record["schedule_id"], record["scheduled_at"])


def _load(organization_id: str, schedule_id: str) -> tuple[dict[str, Any], dict | None, dict | None]:
    """The schedule (GetItem) and, for a one-time one, its fire's call record and failure record
    (one BatchGetItem: their keys derive from the schedule's id and time). Another
    organization's schedule is a 404, like an unknown one."""
    if not isinstance(schedule_id, str) or not schedule_id.startswith("sch_") or len(schedule_id) > 64:
        raise NotFound(f"Schedule {schedule_id} not found")
    record = store.get_item(store.schedule_key(schedule_id))
    if record is None or record.get("organization_id") != organization_id:
        raise NotFound(f"Schedule {schedule_id} not found")
    call = failure = None
    if record.get("kind") == "once":
        fire_id = once_fire_id(record)
        outcome_keys = [store.call_key(f"call_{fire_id}"), store.fire_failure_key(fire_id)]
        outcome = store.get_items(outcome_keys)
        call = outcome.get(tuple(outcome_keys[0].values()))
        failure = outcome.get(tuple(outcome_keys[1].values()))
    return record, call, failure


def schedule_view(record: dict[str, Any], now: datetime, call: dict | None = None,
                  failure: dict | None = None, outcome_known: bool = False) -> dict[str, Any]:
    view = {name: record.get(name) for name in ("schedule_id", "organization_id", "kind", "timezone",
                                                 "recurrence", "call", "created_at", "updated_at")}
    tz_name = record.get("timezone")
    if record.get("kind") == "once":
        at = parse_instant(record["scheduled_at"])
        view["scheduled_at"] = iso_local(at, tz_name)
        if record.get("status") == "canceled":
            status = "canceled"
        elif call is not None:  # the fire's call record: initiating until the provider answers
            status = {"initiating": "firing", "failed": "failed"}.get(call.get("status"), "placed")
        elif failure is not None:
            status = "failed"
        elif at > now:
            status = "scheduled"
        else:
            status = "firing" if outcome_known else "fired"
    else:
        recurrence = record.get("recurrence") or {}
        tz = zone(recurrence.get("timezone") or "UTC")
        end_at = parse_instant(recurrence["end_at"], recurrence.get("timezone")) if recurrence.get("end_at") else None
        following = parse_cron(recurrence["cron"]).next_after(now, tz, until=end_at)
        view["scheduled_at"] = iso_local(following, tz_name) if following else None  # the next fire
        status = "canceled" if record.get("status") == "canceled" else ("active" if following else "ended")
    view["status"] = status
    if record.get("canceled_at"):
        view["canceled_at"] = record["canceled_at"]
    if record.get("canceled_reason"):  # canceled by an opt-out, not by a DELETE
        view["canceled_reason"] = record["canceled_reason"]
    if call is not None:
        view["call_id"], view["call_sid"], view["call_status"] = call["call_id"], call.get("call_sid"), call.get("status")
    if failure is not None and call is None:
        view["failure"] = {"status_code": failure.get("status_code"), "detail": failure.get("detail")}
    return view


def get_schedule(organization_id: str, schedule_id: str) -> dict[str, Any]:
    record, call, failure = _load(organization_id, schedule_id)
    now = now_utc()
    view = schedule_view(record, now, call, failure, outcome_known=True)
    if record.get("kind") != "once":  # a one-time schedule's only fire is the view itself
        from outbound.schedules.fires import recent_fires

        view["recent_fires"] = recent_fires(record, now)
    return view


def list_schedules(organization_id: str, query: dict[str, str] | None) -> dict[str, Any]:
    query = query or {}
    limit = pages.parse_limit(query.get("limit"))  # empty = not given, as GET /calls
    start = pages.decode(query.get("next_token"), "gsi1pk",
                         store.SCHEDULES_GSI_PREFIX.format(organization_id=organization_id))
    items, last = store.list_schedules(organization_id, limit, start)
    now = now_utc()
    return {"schedules": [schedule_view(item, now) for item in items],
            "next_token": pages.encode(last)}


def cancel_schedule(organization_id: str, schedule_id: str) -> dict[str, Any]:
    record, call, failure = _load(organization_id, schedule_id)
    now = now_utc()
    if record.get("status") == "canceled":
        raise Conflict(f"Schedule {schedule_id} is already canceled")
    if record.get("kind") == "once" and (call is not None or failure is not None
                                         or parse_instant(record["scheduled_at"]) <= now):
        raise Conflict(f"Schedule {schedule_id} has already fired and cannot be canceled")
    try:
        store.cancel_schedule(organization_id, schedule_id)
    except store.ScheduleNotCancelable:
        raise Conflict(f"Schedule {schedule_id} can no longer be canceled") from None
    remove_scheduler_schedule(schedule_id)
    return {"message": "Schedule canceled", "schedule_id": schedule_id, "status": "canceled"}


def remove_scheduler_schedule(schedule_id: str) -> None:
    """After the record was canceled: from then no fire places a call (each fire reads the
    record); removing the Scheduler schedule stops the deliveries themselves."""
    scheduler = aws.client("scheduler")
    try:
        scheduler.delete_schedule(Name=schedule_id, GroupName=scheduler_settings().group_name)
    except scheduler.exceptions.ResourceNotFoundException:
        pass
    except Exception:  # the record is canceled already: a fire would place nothing
        logger.exception("DeleteSchedule failed; the canceled record refuses its fires", extra={"schedule_id": schedule_id})
