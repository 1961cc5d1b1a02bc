"""Our records in the shapes Burki's SDK validates (burki.models: Call, Campaign, CampaignContact,
CampaignProgress, WebhookLog), statuses in Burki's words. A field with no meaning here is left out,
so the SDK gives it its own default (stream_sid, transferred_to, transcript and recording counts,
leave_voicemail...)."""
from __future__ import annotations

import hashlib
from typing import Any

from outbound.burki.ids import phone_number_id
from outbound.campaigns.policy import DAYS, IN_FLIGHT_STATUSES, WAITING_STATUSES

# --- calls -----------------------------------------------------------------------------------------

# Our status -> Burki's (pending, ongoing, completed, failed); the precise end is ``end_reason``.
CALL_STATUS = {"initiating": "pending", "unconfirmed": "pending", "queued": "pending", "ringing": "pending",
               "in-progress": "ongoing", "completed": "completed", "busy": "failed", "no-answer": "failed",
               "failed": "failed", "canceled": "failed"}
BURKI_CALL_STATUSES = ("pending", "ongoing", "completed", "failed")


def statuses_for(word: str) -> tuple[str, ...] | None:
    """A status filter: one of Burki's words (every status of ours it covers: ``failed`` is busy,
    no-answer, failed and canceled) or else one of ours."""
    if word in BURKI_CALL_STATUSES:
        return tuple(ours for ours, theirs in CALL_STATUS.items() if theirs == word)
    return (word,) if word in CALL_STATUS else None


def call_view(call: dict[str, Any], organization_alias: int, assistant_names: dict[int, str]) -> dict[str, Any]:
    status = call.get("status") or "initiating"
    final = CALL_STATUS.get(status) in ("completed", "failed")
    charged = call.get("charged_cents")
    return {
        "id": call["int_id"], "organization_id": organization_alias, "assistant_id": call.get("assistant_id"),
        "call_sid": call.get("call_sid"), "status": CALL_STATUS.get(status, "pending"), "direction": "outbound",
        "customer_phone": call.get("to_phone_number"), "twilio_phone": call.get("from_phone_number"),
        "telephony_provider": call.get("provider"), "duration": call.get("duration_seconds"),
        "started_at": call.get("answered_at"), "ended_at": call.get("ended_at"),
        "created_at": call.get("created_at"), "updated_at": call.get("updated_at"),
        "welcome_message": call.get("welcome_message"), "agenda": call.get("agenda"),
        "metadata": call.get("metadata") or {}, "error_message": call.get("failure_reason"),
        "end_reason": status if final else None,
        "assistant_name": assistant_names.get(call.get("assistant_id")),
        "cost": charged / 100 if charged is not None else None,  # dollars, as Burki reports cost
    }


def webhook_log_ids(delivery_id: str, attempt: int) -> int:
    """A stable integer for one attempt of one delivery (the SDK's WebhookLog.id)."""
    return int(hashlib.sha256(f"{delivery_id}|{attempt}".encode()).hexdigest()[:13], 16)


def webhook_logs(delivery: dict[str, Any], call_alias: int, url: str) -> list[dict[str, Any]]:
    """One log per attempt (a delivery not attempted yet: one log without a response)."""
    import json

    try:
        body = json.loads(delivery.get("payload") or "null")
    except ValueError:
        body = None
    base = {"call_id": call_alias, "webhook_type": delivery.get("event_type", ""), "url": url,
            "request_body": body if isinstance(body, dict) else None}
    attempts = delivery.get("attempts") or [{}]
    return [{**base, "id": webhook_log_ids(delivery["delivery_id"], int(a.get("attempt") or 0)),
             "response_status": a.get("status_code"), "error": a.get("error"), "latency_ms": a.get("latency_ms"),
             "created_at": a.get("at") or delivery.get("created_at")} for a in attempts]


# --- campaigns ----------------------------------------------------------------------------------------

CAMPAIGN_STATUS = {"canceled": "cancelled"}  # the others are the same words
FAILED_CONTACTS = ("busy", "no_answer", "failed")
# Our contact status -> Burki's (pending, in_progress, completed, failed, skipped).
CONTACT_STATUS = {**{s: "pending" for s in WAITING_STATUSES}, **{s: "in_progress" for s in IN_FLIGHT_STATUSES},
                  "completed": "completed", **{s: "failed" for s in FAILED_CONTACTS},
                  "suppressed": "skipped", "invalid": "skipped", "canceled": "skipped"}


def campaign_status(item: dict[str, Any]) -> str:
    return CAMPAIGN_STATUS.get(item["status"], item["status"])


def _count(item: dict[str, Any], *statuses: str) -> int:
    return sum(int(item.get(f"count_{s}") or 0) for s in statuses)


def campaign_view(item: dict[str, Any], organization_alias: int) -> dict[str, Any]:
    window, retry, pacing = item["calling_window"], item["retry_policy"], item["pacing"]
    delays = retry.get("delays_minutes") or [0]
    return {
        "id": item["int_id"], "organization_id": organization_alias,
        "assistant_id": item.get("resolved_assistant_id", item.get("assistant_id")),
        "name": item["name"], "description": item.get("description"), "campaign_type": "call",
        "status": campaign_status(item), "total_contacts": int(item.get("contacts_total") or 0),
        "completed_contacts": _count(item, "completed"), "failed_contacts": _count(item, *FAILED_CONTACTS),
        "schedule": {"schedule_type": "once" if item.get("start_at") else "immediate",
                     "scheduled_at": item.get("start_at"), "timezone": item["timezone"],
                     "days_of_week": [DAYS.index(day) for day in window["days"]],
                     "start_time": window["start"], "end_time": window["end"]},
        "settings": {"max_concurrent_calls": int(pacing["max_concurrent_calls"]),
                     "calls_per_minute": int(pacing["calls_per_minute"]),
                     "max_attempts": int(retry["max_attempts"]), "retry_delay_minutes": round(float(delays[0])),
                     "welcome_template": item.get("welcome_message"), "agenda_template": item.get("agenda")},
        "phone_number_id": phone_number_id(item.get("from_phone_number")),
        "from_phone_number": item.get("from_phone_number"),
        "started_at": item.get("started_at"), "completed_at": item.get("completed_at") or item.get("canceled_at"),
        "created_at": item.get("created_at"), "updated_at": item.get("updated_at"),
    }


def progress_view(item: dict[str, Any], campaign_alias: int) -> dict[str, Any]:
    total = int(item.get("contacts_total") or 0)
    waiting, in_flight = _count(item, *WAITING_STATUSES), _count(item, *IN_FLIGHT_STATUSES)
    completed, failed = _count(item, "completed"), _count(item, *FAILED_CONTACTS)
    finished = total - waiting - in_flight
    called = completed + failed
    return {
        "campaign_id": campaign_alias, "status": campaign_status(item), "total_contacts": total,
        "completed_contacts": completed, "failed_contacts": failed, "pending_contacts": waiting,
        "in_progress_contacts": in_flight,
        "completion_percentage": round(100.0 * finished / total, 2) if total else 0.0,
        "success_rate": round(100.0 * completed / called, 2) if called else 0.0,
        "total_cost": int(item.get("charged_cents") or 0) / 100, "started_at": item.get("started_at"),
    }


def contact_view(contact: dict[str, Any], campaign_alias: int, call: dict[str, Any] | None) -> dict[str, Any]:
    status = contact.get("status", "pending")
    burki_status = CONTACT_STATUS.get(status, "pending")
    metadata = contact.get("metadata") or {}
    return {
        "id": contact["int_id"], "campaign_id": campaign_alias, "phone_number": contact["phone_number"],
        "name": metadata.get("name"), "email": metadata.get("email"), "variables": contact.get("variables") or {},
        "status": burki_status, "call_sid": (call or {}).get("call_sid"),
        "call_duration": (call or {}).get("duration_seconds"), "call_status": contact.get("last_call_status"),
        "attempts": int(contact.get("attempts") or 0), "last_attempt_at": (call or {}).get("created_at"),
        "completed_at": contact.get("last_ended_at") if burki_status in ("completed", "failed") else None,
        "error_message": contact.get("final_reason") if burki_status in ("failed", "skipped") else None,
    }
