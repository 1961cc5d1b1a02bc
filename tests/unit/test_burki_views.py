"""The facade's shapes (pure): every status maps, and each view validates as the SDK's own model."""
from __future__ import annotations

import pytest

burki_models = pytest.importorskip("burki.models")

from outbound.burki import ids, views  # noqa: E402
from outbound.calls.lifecycle import ALL_STATUSES  # noqa: E402
from outbound.campaigns.policy import CONTACT_STATUSES  # noqa: E402
from outbound.store.int_ids import LIMIT, new_int_id  # noqa: E402

CALL = {"call_id": "call_1", "int_id": 42, "organization_id": "org_acme", "assistant_id": 123, "call_sid": "CA1",
        "from_phone_number": "+15551234567", "to_phone_number": "+15559876543", "provider": "twilio",
        "status": "completed", "welcome_message": "Hi", "agenda": None, "metadata": {"crm": "A-1"},
        "created_at": "2030-01-15T14:30:00.000Z", "updated_at": "2030-01-15T14:35:00.000Z",
        "answered_at": "2030-01-15T14:30:05.000Z", "ended_at": "2030-01-15T14:32:10.000Z", "duration_seconds": 125,
        "charged_cents": 36}
CAMPAIGN = {"campaign_id": "cmp_1", "int_id": 7, "organization_id": "org_acme", "name": "Reminders",
            "status": "canceled",
            "from_phone_number": "+15551234567", "assistant_id": None, "resolved_assistant_id": 123,
            "calling_window": {"days": ["mon", "sun"], "start": "09:00", "end": "20:00"}, "timezone": "UTC",
            "retry_policy": {"max_attempts": 2, "delays_minutes": [7.5], "retry_on": ["busy"]},
            "pacing": {"max_concurrent_calls": 5, "calls_per_minute": 30}, "start_at": None,
            "created_at": "2030-01-15T14:30:00.000Z", "contacts_total": 4, "count_completed": 1, "count_busy": 1,
            "count_pending": 1, "count_dialing": 1, "charged_cents": 250}


@pytest.mark.parametrize("status", ALL_STATUSES)
def test_every_call_status_is_a_burki_status_and_a_valid_call(status):
    shown = views.call_view({**CALL, "status": status}, 9, {123: "Sarah"})
    call = burki_models.Call.model_validate(shown)
    assert call.status in views.BURKI_CALL_STATUSES and call.id == 42 and call.organization_id == 9
    assert (call.end_reason == status) == (call.status in ("completed", "failed"))
    assert status in views.statuses_for(call.status)  # Burki's word finds it
    if status not in views.BURKI_CALL_STATUSES:
        assert views.statuses_for(status) == (status,)  # and so does ours


def test_a_settled_call_in_burkis_terms():
    call = burki_models.Call.model_validate(views.call_view(CALL, 9, {123: "Sarah"}))
    assert (call.customer_phone, call.twilio_phone, call.telephony_provider) == ("+15559876543", "+15551234567",
                                                                                 "twilio")
    assert (call.duration, call.cost, call.assistant_name, call.direction) == (125, 0.36, "Sarah", "outbound")
    assert call.stream_sid is None and call.transcript_count is None  # no meaning here: the SDK's defaults
    assert views.statuses_for("sleeping") is None


@pytest.mark.parametrize("status", CONTACT_STATUSES)
def test_every_contact_status_maps(status):
    contact = {"contact_id": "ct_1", "int_id": 5, "phone_number": "+12125550001", "status": status,
               "metadata": {"name": "Ann"}, "attempts": 1, "last_call_status": "busy"}
    shown = burki_models.CampaignContact.model_validate(views.contact_view(contact, 7, {"call_sid": "CA1"}))
    assert shown.status in ("pending", "in_progress", "completed", "failed", "skipped") and shown.name == "Ann"


def test_campaign_and_progress_in_burkis_terms():
    campaign = burki_models.Campaign.model_validate(views.campaign_view(CAMPAIGN, 9))
    assert (campaign.id, campaign.organization_id, campaign.assistant_id, campaign.status) == (7, 9, 123, "cancelled")
    assert campaign.schedule.days_of_week == [0, 6] and campaign.settings.retry_delay_minutes == 8
    assert (campaign.phone_number_id, campaign.failed_contacts) == (15551234567, 1)
    progress = burki_models.CampaignProgress.model_validate(views.progress_view(CAMPAIGN, 7))
    assert (progress.pending_contacts, progress.in_progress_contacts) == (1, 1)
    assert (progress.completion_percentage, progress.success_rate, progress.total_cost) == (50.0, 50.0, 2.5)


def test_webhook_logs_one_per_attempt():
    delivery = {"delivery_id": "call_1:4:we_1", "event_type": "call.completed", "payload": '{"type": "call.completed"}',
                "created_at": "2030-01-15T14:32:11.000Z",
                "attempts": [{"attempt": 1, "at": "2030-01-15T14:32:12.000Z", "status_code": 500, "latency_ms": 30},
                             {"attempt": 2, "at": "2030-01-15T14:32:22.000Z", "status_code": 200, "latency_ms": 20}]}
    logs = [burki_models.WebhookLog.model_validate(log) for log in views.webhook_logs(delivery, 42, "https://x")]
    assert [log.response_status for log in logs] == [500, 200] and len({log.id for log in logs}) == 2
    assert logs == [burki_models.WebhookLog.model_validate(log)
                    for log in views.webhook_logs(delivery, 42, "https://x")]  # stable ids
    [pending] = views.webhook_logs({**delivery, "attempts": []}, 42, "https://x")
    assert pending["response_status"] is None


def test_ids_in_paths():
    assert ids.alias_in("42") == 42 and ids.alias_in("call_abc") is None and ids.alias_in("") is None
    assert ids.alias_in("0") == -1 and ids.alias_in(str(LIMIT)) == -1  # integers no alias can be
    assert ids.alias_in("４２") is None  # digits of other scripts are not ours
    assert ids.phone_number_id("+15551234567") == 15551234567 and ids.number_of(15551234567) == "+15551234567"
    assert all(0 < new_int_id() < LIMIT for _ in range(1000))
