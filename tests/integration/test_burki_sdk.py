"""Burki's own Python SDK (``pip install burki``), unchanged, against `outbound serve`: the facade
under ``/burki`` answers every method the README lists in the shapes the SDK's pydantic models
validate, so a change of those models fails here, not in a user's stack trace. Sync and async,
through a call's life and a campaign's."""
from __future__ import annotations

import asyncio
import itertools
from datetime import datetime, timedelta, timezone

import pytest
import requests

burki = pytest.importorskip("burki")

from burki import BurkiClient  # noqa: E402
from burki.exceptions import AuthenticationError, BurkiError, NotFoundError, ValidationError  # noqa: E402

from outbound_local.emulators.emulate import emulate_call  # noqa: E402
from tests.conftest import DEMO_KEY, wait_for  # noqa: E402

pytestmark = pytest.mark.integration

FROM, TELNYX_FROM, TO = "+15551234567", "+15551230007", "+15559876543"
UTC = timezone.utc
_numbers = itertools.count(1)


def destination() -> str:
    return f"+1212559{next(_numbers):04d}"  # this module's destinations


def daytime_zone() -> str:
    """A zone where it is around noon now (calls are placed within 08:00-21:00 recipient-local)."""
    offset = 12 - datetime.now(UTC).hour
    offset = offset - 24 if offset > 14 else offset + 24 if offset < -12 else offset
    return f"Etc/GMT{-offset:+d}" if offset else "UTC"


@pytest.fixture(scope="module", autouse=True)
def funded(server):
    server.add_funds("org_acme", 10_000)


@pytest.fixture(scope="module")
def client(server):
    with BurkiClient(api_key=DEMO_KEY, base_url=server.url + "/burki") as sdk:
        yield sdk


@pytest.fixture(scope="module")
def receiver(server):
    """A webhook endpoint of org_acme on the local receiver: its deliveries are the calls' webhook logs."""
    name = "burki-sdk"
    created = server.request("POST", "/webhook-endpoints", {
        "url": f"{server.url}/_local/webhook-receiver/{name}", "events": ["call.queued", "call.completed"]})
    assert created.status_code == 201, created.text
    yield created.json()
    server.request("DELETE", f"/webhook-endpoints/{created.json()['id']}")


def test_a_calls_life_through_the_sdk(server, client, receiver):
    started = client.calls.initiate(from_phone_number=FROM, to_phone_number=TO, welcome_message="Hi {{name}}",
                                    agenda="Confirm {{what}}", variables={"name": "Ann", "what": "Tuesday"})
    assert started.success is True and started.message == "Call initiated successfully"
    assert isinstance(started.call_id, int) and started.call_sid.startswith("CA")
    assert (started.status, started.from_number, started.to_number) == ("queued", FROM, TO)

    call = client.calls.get(started.call_id)
    assert (call.id, call.call_sid, call.assistant_id, call.direction) == (started.call_id, started.call_sid, 123,
                                                                           "outbound")
    assert (call.customer_phone, call.twilio_phone, call.telephony_provider) == (TO, FROM, "twilio")
    assert (call.welcome_message, call.agenda, call.status) == ("Hi Ann", "Confirm Tuesday", "pending")
    assert isinstance(call.organization_id, int) and call.assistant_name == "Sarah"
    assert call.created_at.tzinfo is not None and call.metadata == {}
    assert client.calls.get(started.call_id).organization_id == call.organization_id  # stable

    by_sid = client.calls.get_by_sid(started.call_sid)
    assert by_sid.id == started.call_id
    native = server.request("GET", f"/calls/{started.call_sid}").json()  # the same call, natively
    assert native["welcome_message"] == "Hi Ann" and native["call_id"].startswith("call_")
    assert client.calls.get(native["call_id"]).id == started.call_id  # the facade takes native ids too

    # list and count, with the SDK's filters
    since = call.created_at - timedelta(seconds=1)
    listed = client.calls.list(customer_phone=TO, status="pending", date_from=since, limit=50)
    assert started.call_id in [c.id for c in listed]
    assert all(c.customer_phone == TO and c.status == "pending" and c.created_at >= since for c in listed)
    assert client.calls.list(customer_phone=TO, date_to=since) == [] or all(
        c.created_at <= since for c in client.calls.list(customer_phone=TO, date_to=since))
    assert started.call_id not in [c.id for c in client.calls.list(status="completed", date_from=since)]
    assert client.calls.get_count(status="pending", date_from=since) >= 1
    assert client.calls.get_count(date_from=datetime.now(UTC) + timedelta(days=1)) == 0

    updated = client.calls.update_metadata(started.call_id, {"crm_id": "A-17", "attempt": 2})
    assert updated.metadata == {"crm_id": "A-17", "attempt": 2}
    merged = client.calls.update_metadata(started.call_id, {"attempt": 3})
    assert merged.metadata == {"crm_id": "A-17", "attempt": 3}  # merged, as Burki does
    assert server.request("GET", f"/calls/{started.call_sid}").json()["metadata"] == merged.metadata

    # answered, then ended through the SDK: the provider hangs up and its final webhook settles it
    emulate_call(server.url, started.call_sid, "in-progress", 0)
    assert client.calls.get(started.call_id).status == "ongoing"
    ended = client.calls.terminate(started.call_sid)
    assert ended["success"] is True
    done = wait_for(lambda: (lambda c: c if c.status == "completed" else None)(client.calls.get(started.call_id)),
                    timeout=20, what="the call to end")
    assert done.ended_at is not None and done.duration is not None and done.cost is not None
    assert done.end_reason == "completed"
    with pytest.raises(BurkiError) as again:
        client.calls.terminate(started.call_sid)
    assert again.value.status_code == 409 and "has already ended" in again.value.message

    logs = wait_for(lambda: (lambda ls: ls if {"call.queued", "call.completed"} <= {log.webhook_type for log in ls}
                             and all(log.response_status == 200 for log in ls) else None)(
        client.calls.get_webhook_logs(started.call_id)), timeout=30, what="the call's two webhook deliveries")
    assert all(log.call_id == started.call_id and log.url == receiver["url"] for log in logs)
    assert all(isinstance(log.id, int) and log.request_body["data"]["call_id"] == native["call_id"] for log in logs)
    completed = client.calls.get_webhook_logs(started.call_id, webhook_type="call.completed")
    assert [log.webhook_type for log in completed] == ["call.completed"]


def test_initiate_through_the_sdk_is_the_native_initiate_with_its_four_round_trips(server, client):
    """The integer alias costs no round trip: it is taken in the reserve transaction."""
    client.calls.initiate(from_phone_number=FROM, to_phone_number=TO)  # warm the authorizer cache
    before = server.dynamodb_operations()
    started = client.calls.initiate(from_phone_number=FROM, to_phone_number=TO)
    after = server.dynamodb_operations()
    used = {op: after[op] - before.get(op, 0) for op in after if after[op] != before.get(op, 0)}
    assert sum(used.values()) <= 4 and used.get("TransactWriteItems") == 1, used
    native = server.request("GET", f"/calls/{started.call_sid}").json()
    assert native["status"] == "queued" and native["to_phone_number"] == TO  # the same record, natively
    assert client.calls.get(native["call_id"]).id == started.call_id


def test_errors_keep_the_sdks_mapping(server, client):
    with pytest.raises(ValidationError) as invalid:
        client.calls.initiate(from_phone_number="not a number", to_phone_number=TO)
    assert invalid.value.status_code == 400
    assert invalid.value.message == "Invalid phone number format. Use E.164 format (e.g., +1234567890)"
    with pytest.raises(NotFoundError):
        client.calls.get(1)
    with pytest.raises(NotFoundError):
        client.calls.get_by_sid("CAnothing")
    with pytest.raises(NotFoundError):
        client.campaigns.get(1)
    with pytest.raises(AuthenticationError) as refused:
        with BurkiClient(api_key="sk_live_wrong", base_url=server.url + "/burki") as stranger:
            stranger.calls.list()
    assert refused.value.message == "Invalid or missing API key"
    with pytest.raises(BurkiError) as foreign:  # another organization's number: 403, as natively
        client.calls.initiate(from_phone_number="+15557654321", to_phone_number=TO)
    assert foreign.value.status_code == 403
    with pytest.raises(ValidationError):
        client.calls.list(status="sleeping")
    with pytest.raises(NotFoundError) as unsupported:
        client.calls.get_transcripts(1)
    assert unsupported.value.message == "Not found"


def test_another_organizations_calls_are_not_found(server, client):
    started = client.calls.initiate(from_phone_number=FROM, to_phone_number=TO)
    with BurkiClient(api_key="sk_live_globex_demo", base_url=server.url + "/burki") as globex:
        with pytest.raises(NotFoundError):
            globex.calls.get(started.call_id)
        with pytest.raises(NotFoundError):
            globex.calls.get_by_sid(started.call_sid)
        with pytest.raises(NotFoundError):
            globex.calls.terminate(started.call_sid)
        assert started.call_id not in [c.id for c in globex.calls.list()]


def test_async_calls_through_the_sdk(server):
    async def life():
        async with BurkiClient(api_key=DEMO_KEY, base_url=server.url + "/burki") as sdk:
            started = await sdk.calls.initiate_async(from_phone_number=TELNYX_FROM, to_phone_number=TO)
            call = await sdk.calls.get_async(started.call_id)
            by_sid = await sdk.calls.get_by_sid_async(started.call_sid)
            listed = await sdk.calls.list_async(customer_phone=TO, limit=10)
            count = await sdk.calls.get_count_async(date_from=call.created_at - timedelta(seconds=1))
            tagged = await sdk.calls.update_metadata_async(started.call_id, {"source": "async"})
            ended = await sdk.calls.terminate_async(started.call_sid)
            logs = await sdk.calls.get_webhook_logs_async(started.call_id)
            return started, call, by_sid, listed, count, tagged, ended, logs

    started, call, by_sid, listed, count, tagged, ended, logs = asyncio.run(life())
    assert isinstance(started.call_id, int) and started.success
    assert call.id == by_sid.id == started.call_id and call.telephony_provider == "telnyx"
    assert started.call_id in [c.id for c in listed] and count >= 1
    assert tagged.metadata == {"source": "async"} and ended["success"] is True
    assert isinstance(logs, list)
    ended_call = wait_for(lambda: (lambda r: r if r["status"] == "canceled" else None)(
        server.request("GET", f"/calls/{started.call_sid}").json()), timeout=20, what="the ringing call to end")
    assert ended_call["charged_cents"] == 0


# --- campaigns -------------------------------------------------------------------------------------

def campaign_args(**overrides):
    args = {"name": "Reminders", "assistant_id": 123, "description": "Tomorrow's appointments",
            "phone_number_id": int(FROM.lstrip("+")),
            "contacts": [{"phone_number": destination(), "name": "Ann", "variables": {"what": "Tuesday"},
                          "timezone": daytime_zone()}],
            "schedule": {"schedule_type": "immediate", "timezone": "UTC", "days_of_week": [0, 1, 2, 3, 4, 5, 6],
                         "start_time": "08:00", "end_time": "21:00"},
            "settings": {"max_concurrent_calls": 1, "calls_per_minute": 60, "max_attempts": 1,
                         "retry_delay_minutes": 5, "welcome_template": "Hi {{name}}",
                         "agenda_template": "Confirm {{what}}"}}
    args.update(overrides)
    return args


def test_a_campaigns_life_through_the_sdk(server, client):
    campaign = client.campaigns.create(**campaign_args())
    assert isinstance(campaign.id, int) and isinstance(campaign.organization_id, int)
    assert (campaign.name, campaign.description, campaign.status, campaign.assistant_id) == (
        "Reminders", "Tomorrow's appointments", "draft", 123)
    assert (campaign.from_phone_number, campaign.phone_number_id) == (FROM, int(FROM.lstrip("+")))
    assert campaign.total_contacts == 1 and campaign.settings.max_concurrent_calls == 1
    assert campaign.settings.welcome_template == "Hi {{name}}" and campaign.schedule.days_of_week == list(range(7))
    assert client.campaigns.get(campaign.id).id == campaign.id

    added = client.campaigns.add_contacts(campaign.id, [
        {"phone_number": destination(), "name": "Bob", "variables": {"what": "Friday"}, "timezone": daytime_zone()},
        {"phone_number": "12", "name": "Nobody"}])
    assert added["success"] is True and added["added"] == 1
    assert added["errors"][0]["error"] == "Invalid phone number format. Use E.164 format (e.g., +1234567890)"
    contacts = client.campaigns.get_contacts(campaign.id)
    assert len(contacts) == 2 and all(isinstance(c.id, int) and c.campaign_id == campaign.id for c in contacts)
    assert {c.name for c in contacts} == {"Ann", "Bob"} and {c.status for c in contacts} == {"pending"}
    assert [c.id for c in client.campaigns.get_contacts(campaign.id)] == [c.id for c in contacts]  # stable

    updated = client.campaigns.update(campaign.id, name="Reminders (Tue)", settings={
        **campaign.settings.model_dump(), "calls_per_minute": 120})
    assert updated.name == "Reminders (Tue)" and updated.settings.calls_per_minute == 120

    running = client.campaigns.start(campaign.id)
    assert running.status == "running" and running.started_at is not None
    dialing = wait_for(lambda: (lambda p: p if p.in_progress_contacts == 1 else None)(
        client.campaigns.get_progress(campaign.id)), timeout=30, what="the first dial")
    assert (dialing.campaign_id, dialing.status, dialing.total_contacts) == (campaign.id, "running", 2)
    assert dialing.pending_contacts == 1

    paused = client.campaigns.pause(campaign.id)
    assert paused.status == "paused"
    with pytest.raises(BurkiError) as conflict:
        client.campaigns.pause(campaign.id)
    assert conflict.value.status_code == 409
    with pytest.raises(BurkiError) as busy:
        client.campaigns.delete(campaign.id)
    assert busy.value.status_code == 409
    assert client.campaigns.resume(campaign.id).status == "running"
    assert campaign.id in [c.id for c in client.campaigns.list(status="running")]

    [calling] = wait_for(lambda: [c for c in client.campaigns.get_contacts(campaign.id, status="in_progress")
                                  if c.call_sid], timeout=30, what="a placed call")
    assert calling.attempts == 1 and calling.last_attempt_at is not None

    cancelled = client.campaigns.cancel(campaign.id)
    assert cancelled.status == "cancelled"
    emulate_call(server.url, calling.call_sid, "no-answer", 0)  # the call in flight ends as calls do
    final = wait_for(lambda: (lambda p: p if p.in_progress_contacts == 0 and p.pending_contacts == 0 else None)(
        client.campaigns.get_progress(campaign.id)), timeout=30, what="the canceled campaign to settle")
    assert final.status == "cancelled" and final.completion_percentage == 100.0
    assert client.campaigns.delete(campaign.id) is True
    with pytest.raises(NotFoundError):
        client.campaigns.get(campaign.id)


def test_campaign_refusals(client):
    with pytest.raises(ValidationError) as sms:
        client.campaigns.create(**campaign_args(campaign_type="sms"))
    assert sms.value.message == "campaign_type sms is not supported: this service places calls"
    with pytest.raises(ValidationError) as no_number:
        client.campaigns.create(**campaign_args(phone_number_id=None))
    assert no_number.value.message.startswith("phone_number_id is required")
    with pytest.raises(ValidationError) as bad_contact:  # nothing is left half-created
        client.campaigns.create(**campaign_args(contacts=[{"phone_number": "12"}]))
    assert bad_contact.value.message == ("contacts[0]: Invalid phone number format. "
                                         "Use E.164 format (e.g., +1234567890)")
    with pytest.raises(BurkiError) as foreign:
        client.campaigns.create(**campaign_args(phone_number_id=15557654321))
    assert foreign.value.status_code == 403


def test_a_draft_is_deleted_and_its_alias_never_reused(client):
    first = client.campaigns.create(**campaign_args(name="gone"))
    assert client.campaigns.delete(first.id) is True
    with pytest.raises(NotFoundError):
        client.campaigns.delete(first.id)
    second = client.campaigns.create(**campaign_args(name="new"))
    assert second.id != first.id and client.campaigns.get(second.id).name == "new"


def test_async_campaigns_through_the_sdk(server):
    async def life():
        async with BurkiClient(api_key=DEMO_KEY, base_url=server.url + "/burki") as sdk:
            created = await sdk.campaigns.create_async(**campaign_args(name="async"))
            added = await sdk.campaigns.add_contacts_async(created.id, [
                {"phone_number": destination(), "name": "Cy", "variables": {"what": "Monday"}}])
            contacts = await sdk.campaigns.get_contacts_async(created.id)
            listed = await sdk.campaigns.list_async()
            progress = await sdk.campaigns.get_progress_async(created.id)
            got = await sdk.campaigns.get_async(created.id)
            cancelled = await sdk.campaigns.cancel_async(created.id)
            deleted = await sdk.campaigns.delete_async(created.id)
            return created, added, contacts, listed, progress, got, cancelled, deleted

    created, added, contacts, listed, progress, got, cancelled, deleted = asyncio.run(life())
    assert added["added"] == 1 and len(contacts) == 2 and created.id in [c.id for c in listed]
    assert progress.total_contacts == 2 and got.id == created.id
    assert cancelled.status == "cancelled" and deleted is True


def test_the_facade_answers_plain_http_too(server):
    """The same routes without the SDK: what a Burki user's own HTTP client sees."""
    answer = requests.get(server.url + "/burki/api/v1/calls/count", timeout=10,
                          headers={"Authorization": f"Bearer {DEMO_KEY}"})
    assert answer.status_code == 200 and isinstance(answer.json()["count"], int)
