"""The providers' own call records (outbound.provider_records) against the loopback emulators
(real HTTP): calls placed through our adapters, then what happened to them played at the
emulated provider, then read back. The emulators' shapes are checked with the providers' own SDKs
(the twilio client, vonage-voice's models, the telnyx client), so our reader and the emulator
cannot agree on a shape the provider does not serve."""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest

from outbound import provider_records
from outbound.providers import OutboundCall, get_adapter
from outbound_local.emulators import telnyx as telnyx_emulator
from outbound_local.emulators import twilio as twilio_emulator
from outbound_local.emulators import vonage as vonage_emulator
from tests.unit.emulator_hosts import point_adapter_at, start_http_emulator

CREDENTIALS = {"twilio": twilio_emulator.DEFAULT_CREDENTIALS, "telnyx": telnyx_emulator.DEFAULT_CREDENTIALS,
               "vonage": vonage_emulator.DEFAULT_CREDENTIALS}
TO, FROM = "+15559876543", "+15551234567"


@pytest.fixture(scope="module")
def host():
    host = start_http_emulator({"/2010-04-01/": ("twilio", twilio_emulator), "/v2/": ("telnyx", telnyx_emulator),
                                "/v1/": ("vonage", vonage_emulator)})
    yield host
    host.stop()


@pytest.fixture
def emulator(host, monkeypatch):
    host.log.clear()
    point_adapter_at(monkeypatch, "OUTBOUND_TWILIO_API_URL", host.url)
    point_adapter_at(monkeypatch, "OUTBOUND_TELNYX_API_URL", host.url + "/v2")
    point_adapter_at(monkeypatch, "OUTBOUND_VONAGE_API_URL", host.url)
    return host


def place(provider: str, call_id: str = "call_rec1", to: str = TO) -> str:
    call = OutboundCall(call_id=call_id, from_number=FROM, to_number=to, stream_url="wss://runtime.example/s",
                        status_callback_url=f"https://api.example.com/v1/webhooks/{provider}?call_id={call_id}",
                        provider_settings={"connection_id": "1494404757140276705"})
    return get_adapter(provider).place_call(call, CREDENTIALS[provider])


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


@pytest.mark.parametrize("provider,open_word", [("twilio", "queued"), ("vonage", "started")])
def test_a_placed_call_is_on_record_as_not_finished_until_it_ends(emulator, provider, open_word):
    sid = place(provider)
    record = provider_records.fetch(provider, CREDENTIALS[provider], sid)
    assert record.provider_call_id == sid and record.status == "queued" and record.provider_status == open_word
    assert not record.finished and record.duration_s is None
    emulator.log.calls.play(sid, "in-progress", 0)
    assert provider_records.fetch(provider, CREDENTIALS[provider], sid).status == "in-progress"
    emulator.log.calls.play(sid, "completed", 125)
    done = provider_records.fetch(provider, CREDENTIALS[provider], sid)
    assert done.finished and done.status == "completed" and done.duration_s == 125
    assert (done.to_number, done.from_number) == (TO, FROM) and done.started_at and done.ended_at


def test_telnyx_has_a_detail_record_only_once_the_call_ended(emulator):
    sid = place("telnyx")
    alive = provider_records.fetch("telnyx", CREDENTIALS["telnyx"], sid)
    assert alive.status == "in-progress" and alive.provider_status == "alive"  # no detail record yet
    assert not alive.finished
    emulator.log.calls.play(sid, "busy", 0)
    busy = provider_records.fetch("telnyx", CREDENTIALS["telnyx"], sid)
    assert busy.status == "busy" and busy.duration_s == 0 and busy.provider_status == "user_busy"
    sid = place("telnyx", "call_rec2")
    emulator.log.calls.play(sid, "completed", 61)
    done = provider_records.fetch("telnyx", CREDENTIALS["telnyx"], sid)
    assert done.status == "completed" and done.duration_s == 61 and (done.to_number, done.from_number) == (TO, FROM)


@pytest.mark.parametrize("provider", ["twilio", "telnyx", "vonage"])
def test_unknown_and_other_accounts_calls_are_not_found(emulator, provider):
    sid = place(provider)
    emulator.log.calls.play(sid, "completed", 30)
    assert provider_records.fetch(provider, CREDENTIALS[provider], "nope-" + sid[5:]) is None
    # The same call under another account of the provider: not found either (an account's records only).
    emulator.log.calls.get(provider, sid).account = "someone-else"
    assert provider_records.fetch(provider, CREDENTIALS[provider], sid) is None


@pytest.mark.parametrize("provider", ["twilio", "telnyx", "vonage"])
def test_search_finds_the_call_between_the_same_numbers_placed_then(emulator, provider):
    sid = place(provider, "call_a")
    other = place(provider, "call_b", to="+15559870000")  # another destination: not a candidate
    for placed in (sid, other):
        emulator.log.calls.play(placed, "completed", 10)  # Telnyx lists finished calls only
    now = datetime.now(timezone.utc)
    found = provider_records.search(provider, CREDENTIALS[provider], TO, FROM, iso(now - timedelta(minutes=1)),
                                    iso(now + timedelta(minutes=1)))
    assert [r.provider_call_id for r in found] == [sid]
    earlier = provider_records.search(provider, CREDENTIALS[provider], TO, FROM, iso(now - timedelta(hours=2)),
                                      iso(now - timedelta(hours=1)))
    assert earlier == []


def test_refused_credentials_make_the_records_unavailable_not_empty(emulator):
    sid = place("twilio")
    with pytest.raises(provider_records.RecordsUnavailable, match="refused"):
        provider_records.fetch("twilio", {**CREDENTIALS["twilio"], "auth_token": "wrong"}, sid)


# --- the emulators serve what the providers' SDKs read ------------------------------------------

def test_twilio_sdk_reads_the_emulated_call_records(emulator):
    from twilio.rest import Client

    sid = place("twilio")
    emulator.log.calls.play(sid, "completed", 125)
    client = Client(CREDENTIALS["twilio"]["account_sid"], CREDENTIALS["twilio"]["auth_token"])
    client.api.base_url = emulator.url
    call = client.calls(sid).fetch()
    assert (call.sid, call.status, call.duration, call.to, call._from) == (sid, "completed", "125", TO, FROM)
    assert call.end_time is not None and call.start_time <= call.end_time
    listed = client.calls.list(to=TO, from_=FROM, start_time_after=datetime.now(timezone.utc) - timedelta(minutes=5))
    assert [c.sid for c in listed] == [sid]


def test_vonage_models_read_the_emulated_call_records(emulator):
    from vonage_voice.models.responses import CallInfo, CallList

    sid = place("vonage")
    emulator.log.calls.play(sid, "completed", 61)
    token = {"Authorization": "Bearer " + vonage_emulator_token()}
    one = provider_records.get_json("Vonage", f"{emulator.url}/v1/calls/{sid}", token)
    info = CallInfo(**one)
    assert (info.uuid, info.status, info.duration, info.to.number) == (sid, "completed", "61", TO.lstrip("+"))
    page = CallList(**provider_records.get_json("Vonage", f"{emulator.url}/v1/calls", token, {"page_size": 10}))
    assert sid in [c.uuid for c in page.embedded.calls] and page.count >= 1


def vonage_emulator_token() -> str:
    from outbound.providers.vonage import application_jwt

    return application_jwt(CREDENTIALS["vonage"]["application_id"], CREDENTIALS["vonage"]["private_key"])


def test_telnyx_sdk_reads_the_emulated_call_status_and_detail_records(emulator):
    import telnyx

    sid = place("telnyx")
    client = telnyx.Telnyx(api_key=CREDENTIALS["telnyx"]["api_key"], base_url=emulator.url + "/v2", max_retries=0)
    status = client.calls.retrieve_status(sid)
    assert status.data.call_control_id == sid and status.data.is_alive is True
    emulator.log.calls.play(sid, "completed", 61)
    assert client.calls.retrieve_status(sid).data.is_alive is False
    before = len(emulator.log.entries())
    page = client.detail_records.list(filter={"record_type": "call-control", "telnyx_call_control_id": sid})
    sent = emulator.log.entries()[before]["path"]
    assert "filter%5Brecord_type%5D=call-control" in sent  # the SDK's deepObject query, as we send it
    [record] = [r.to_dict() if hasattr(r, "to_dict") else dict(r) for r in page.data]
    assert record["telnyx_call_control_id"] == sid and record["call_sec"] == 61 and record["billed_sec"] == 120
    assert time.time() - datetime.fromisoformat(record["finished_at"].replace("Z", "+00:00")).timestamp() < 60
