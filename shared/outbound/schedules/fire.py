"""One fire of a scheduled, recurring or event-driven call: the same use case as
POST /calls/initiate (validation, resolution, reserve, templates, records), at most one call.

Inputs (ScheduledCallFunction's event):
- EventBridge Scheduler's target input, ``{"organization_id", "schedule_id"?, "scheduled_time"?,
  "call": {<the POST /calls/initiate body>}}``; schedules made by the Schedules API also carry
  ``"managed": true`` and Scheduler's context attributes (``<aws.scheduler.scheduled-time>`` ...);
- an EventBridge event (``detail-type``, ``source``, ``id``, ``time``, ``detail``) whose ``detail``
  has that same shape: an application's PutEvents with detail-type ``Outbound Call Requested``,
  or a scheduled rule (``Scheduled Event``).

Delivery is at least once, so every fire has an id that every delivery of it shares:
``sha256("<schedule_id>|<scheduled time>")`` (Scheduler: the schedule and its scheduled time, the
same on every retry; a scheduled rule: the rule's ARN and the event's time; PutEvents: the event's
source and id). The call record's id is ``call_<fire id>``, and the record is created with
``attribute_not_exists(pk)`` inside the reserve transaction: a second delivery's transaction is
refused atomically (no reserve held, no call placed) and returns the first delivery's outcome, read
from the refused write itself (ALL_OLD). No extra round trip for the safety.

Outcomes (the function's result; nothing is raised for them, so nothing is retried):
``placed``, ``duplicate`` (an earlier delivery owns this fire), ``canceled`` (a managed schedule
that was canceled), ``rejected`` (400/401/402/403/404, the calling rules' 409/422, the
organization's pre-dial check's denial 422 or failure 502: retrying cannot fix it; recorded as a fire
failure), ``provider_failed`` (502: the provider refused; the call record says why) and
``provider_timeout`` (504: the call may exist; the status webhook reconciles its record).
Anything else (DynamoDB or Secrets Manager unavailable, throttling, a bug) raises: the delivery is
retried (Lambda's asynchronous retries, then Scheduler's/EventBridge's retry policy) and ends in
the dead-letter queue; retrying is safe because the fire id makes it idempotent.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from typing import Any

from aws_lambda_powertools import Logger

from outbound import store
from outbound.calls.initiate import place_prepared, prepare_call
from outbound.calls.models import initiate_request_from
from outbound.compliance import pre_dial
from outbound.compliance.dial_check import CallingRulesRefused, DialOrigin
from outbound.errors import (
    ApiError,
    BadRequest,
    ProviderFailed,
    ProviderTimedOut,
    ServiceUnavailable,
)
from outbound.schedules.times import ScheduleTimeError, iso_utc, parse_instant

logger = Logger(child=True)

CALL_REQUESTED_DETAIL_TYPE = "Outbound Call Requested"  # PutEvents detail-type the function listens for
SCHEDULED_EVENT_DETAIL_TYPE = "Scheduled Event"  # what a rule with a schedule expression sends
INPUT_FIELDS = ("organization_id", "schedule_id", "scheduled_time", "execution_id", "attempt", "managed", "call")


@dataclass(frozen=True)
class Fire:
    organization_id: str
    call: dict[str, Any]
    schedule_id: str | None
    scheduled_time: str | None  # normalized: 2026-03-10T08:00:00Z
    fire_id: str | None  # None: the input identifies no fire (then each delivery is a new call)
    managed: bool  # made by the Schedules API: the schedule record must still be active
    source: str  # "scheduler" or "eventbridge"

    @property
    def call_id(self) -> str | None:
        return f"call_{self.fire_id}" if self.fire_id else None


def parse_fire(event: Any) -> Fire:
    if not isinstance(event, dict):
        raise BadRequest("The scheduled call input must be a JSON object")
    if "detail-type" in event and "detail" in event:
        return _from_envelope(event)
    return _from_input(event, "scheduler", None)


def _from_envelope(event: dict[str, Any]) -> Fire:
    detail = event["detail"]
    if not isinstance(detail, dict):
        raise BadRequest("The event's detail must be a JSON object")
    key = None
    if not (detail.get("schedule_id") and _given(detail.get("scheduled_time"))):
        if event.get("detail-type") == SCHEDULED_EVENT_DETAIL_TYPE:  # a rule's fire: rule + time
            resources = event.get("resources") or [event.get("source", "")]
            key = f"{resources[0]}|{event.get('time', '')}"
        elif event.get("id"):  # PutEvents: EventBridge keeps the id on every retry
            key = f"event|{event.get('source', '')}|{event['id']}"
    return _from_input(detail, "eventbridge", key)


def _given(value: Any) -> bool:
    """Set, and not a context attribute left unrendered (an input invoked by hand)."""
    return isinstance(value, str) and bool(value) and not value.startswith("<aws.")


def _from_input(data: dict[str, Any], source: str, fallback_key: str | None) -> Fire:
    organization_id = data.get("organization_id")
    if not isinstance(organization_id, str) or not organization_id:
        raise BadRequest("organization_id is required")
    call = data.get("call")
    if not isinstance(call, dict):
        raise BadRequest("call must be an object (the POST /calls/initiate body)")
    unknown = [name for name in data if name not in INPUT_FIELDS]
    if unknown:
        raise BadRequest(f"Unknown field: {unknown[0]}")
    schedule_id = data.get("schedule_id")
    if schedule_id is not None and (not isinstance(schedule_id, str) or not schedule_id or len(schedule_id) > 256):
        raise BadRequest("schedule_id must be a non-empty string")
    scheduled_time = None
    if _given(data.get("scheduled_time")):
        try:
            scheduled_time = iso_utc(parse_instant(data["scheduled_time"], "UTC", "scheduled_time"))
        except ScheduleTimeError as exc:
            raise BadRequest(str(exc)) from None
    if schedule_id and scheduled_time:
        fire_id = store.fire_id_for(schedule_id, scheduled_time)
    elif fallback_key:
        fire_id = hashlib.sha256(fallback_key.encode()).hexdigest()[:24]
    else:
        fire_id = None
    return Fire(organization_id, call, schedule_id, scheduled_time, fire_id, data.get("managed") is True, source)


def run_fire(fire: Fire, public_api_url: str) -> dict[str, Any]:
    about = {"schedule_id": fire.schedule_id, "scheduled_time": fire.scheduled_time, "fire_id": fire.fire_id}
    if fire.fire_id is None:
        logger.warning("Fire without schedule_id and scheduled_time: a repeated delivery would place "
                       "another call", extra=about)
    schedule_key = store.schedule_key(fire.schedule_id) if fire.managed and fire.schedule_id else None
    try:
        request = initiate_request_from(fire.call)
        origin = DialOrigin("schedule" if fire.source == "scheduler" else "eventbridge", schedule_id=fire.schedule_id,
                            fire_id=fire.fire_id)
        prepared = prepare_call(fire.organization_id, request, (schedule_key,) if schedule_key else (), origin)
        if schedule_key is not None:
            schedule = prepared.also_read.get((schedule_key["pk"], schedule_key["sk"]))
            if (schedule is None or schedule.get("organization_id") != fire.organization_id
                    or schedule.get("status") != "scheduled"):
                logger.info("Schedule canceled: no call", extra=about)
                return {"outcome": "canceled", "message": "The schedule was canceled: no call placed", **about}
        prepared = replace(prepared, dial=pre_dial.checked(prepared.dial, prepared.organization, fire.call_id,
                                                           {**about, "variables": request.variables}))
        extra = {k: v for k, v in about.items() if v is not None}
        result = place_prepared(prepared, public_api_url, fire.call_id, extra)
    except store.CallAlreadyExists as exc:
        existing = exc.existing or {}
        logger.info("Repeated delivery of a fire: no second call", extra=about)
        return {"outcome": "duplicate", "message": "This fire was already delivered: no second call placed",
                "call_sid": existing.get("call_sid"), "call_id": existing.get("call_id"),
                "status": existing.get("status"), **about}
    except ServiceUnavailable:
        raise  # nothing placed, the reserve given back: the delivery is retried
    except (CallingRulesRefused, pre_dial.PreDialRefused) as exc:  # recorded with its reason, and its evidence
        _record_refusal(fire, exc)
        return _refused(fire, exc, about)
    except ApiError as exc:
        return _refused(fire, exc, about)
    return {"outcome": "placed", **result, **about}


def _refused(fire: Fire, exc: ApiError, about: dict[str, Any]) -> dict[str, Any]:
    """Not retried: retrying cannot fix it (or, for a provider's answer, the call record already
    holds the outcome). Recorded beside the schedule's other outcomes."""
    if isinstance(exc, ProviderTimedOut):
        outcome = "provider_timeout"
    elif isinstance(exc, ProviderFailed):
        outcome = "provider_failed"
    else:
        outcome = "rejected"
    logger.warning("Scheduled call not placed", extra={**about, "status_code": exc.status, "detail": exc.detail})
    if fire.fire_id and outcome != "provider_timeout":  # a timeout's record is the call itself
        store.record_fire_failure({
            "fire_id": fire.fire_id, "organization_id": fire.organization_id, "schedule_id": fire.schedule_id,
            "scheduled_time": fire.scheduled_time, "source": fire.source, "status_code": exc.status,
            "detail": exc.detail, "created_at": store.now_iso(),
        })
    return {"outcome": outcome, "status_code": exc.status, **exc.body(), **about}


def _record_refusal(fire: Fire, refused: CallingRulesRefused | pre_dial.PreDialRefused) -> None:
    """The evidence of a fire the calling rules (or the organization's pre-dial check) refused, under the call id the fire would have had
    (a repeated delivery of the same refusal writes a record of its own instant)."""
    call_id = fire.call_id or f"call_{hashlib.sha256(repr(fire).encode()).hexdigest()[:24]}"
    store.put_evidence(refused.evidence(call_id))
