"""Every provider's status events in our one status model, and the model's rules (ranks,
forward-only moves, settlement arithmetic)."""
import base64
import json
from urllib.parse import urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from outbound.calls import lifecycle
from outbound.provider_callbacks import BadPayload, WebhookRequest, module
from outbound_local.emulators import freeswitch, telnyx, twilio, vonage, webhooks


def req(provider, body, query=None):
    raw = body if isinstance(body, bytes) else (urlencode(body).encode() if provider == "twilio"
                                                else json.dumps(body).encode())
    return WebhookRequest(provider, "https://x/v1/webhooks/" + provider, {}, raw, query or {}, 0.0)


def parse(provider, body, query=None):
    return module(provider).parse(req(provider, body, query))


# --- Twilio --------------------------------------------------------------------------------------

@pytest.mark.parametrize("call_status,ours", [
    ("queued", "queued"), ("initiated", "queued"), ("ringing", "ringing"), ("in-progress", "in-progress"),
    ("completed", "completed"), ("busy", "busy"), ("no-answer", "no-answer"), ("failed", "failed"),
    ("canceled", "canceled"),
])
def test_twilio_statuses(call_status, ours):
    event = parse("twilio", {"CallSid": "CA1", "CallStatus": call_status, "CallDuration": "125"})
    assert event.status == ours and event.provider_call_id == "CA1"
    assert event.duration_s == (125 if ours == "completed" else None)


def test_twilio_details():
    event = parse("twilio", {"CallSid": "CA1", "CallStatus": "in-progress", "AnsweredBy": "machine_start",
                             "Timestamp": "Mon, 23 Nov 2026 09:00:00 +0000"})
    assert event.answered_by == "machine_start" and event.occurred_at == "2026-11-23T09:00:00.000Z"
    failed = parse("twilio", {"CallSid": "CA1", "CallStatus": "failed", "SipResponseCode": "404"})
    assert failed.hangup_cause == "sip 404"
    with pytest.raises(BadPayload):
        parse("twilio", {"CallSid": "CA1", "CallStatus": "exploded"})
    assert module("twilio").references(req("twilio", {"CallSid": "CA9"}, {"call_id": ["call_1"]})) == ("call_1", "CA9")


# --- Telnyx --------------------------------------------------------------------------------------

def telnyx_event(event_type, **payload):
    return {"data": {"event_type": event_type, "occurred_at": "2026-11-23T09:00:05.000Z",
                     "payload": {"call_control_id": "v3:x", **payload}}}


@pytest.mark.parametrize("cause,ours", [
    ("normal_clearing", "completed"), ("time_limit", "completed"), ("user_busy", "busy"),
    ("call_rejected", "busy"), ("timeout", "no-answer"), ("no_answer", "no-answer"),
    ("originator_cancel", "canceled"), ("not_found", "failed"), ("unspecified", "failed"),
    ("something_new", "failed"),
])
def test_telnyx_hangup_causes(cause, ours):
    event = parse("telnyx", telnyx_event("call.hangup", hangup_cause=cause, start_time="2026-11-23T08:59:00Z"))
    assert event.status == ours and event.hangup_cause == cause and event.duration_s is None
    assert event.occurred_at == "2026-11-23T09:00:05.000Z"


def test_telnyx_other_events():
    assert parse("telnyx", telnyx_event("call.initiated")).status == "queued"
    assert parse("telnyx", telnyx_event("call.answered")).status == "in-progress"
    amd = parse("telnyx", telnyx_event("call.machine.detection.ended", result="human"))
    assert amd.status is None and amd.answered_by == "human"
    assert parse("telnyx", telnyx_event("call.speak.ended")).status is None
    with pytest.raises(BadPayload):
        parse("telnyx", {"data": "nope"})
    with pytest.raises(BadPayload):
        parse("telnyx", b"not json")


def test_telnyx_call_id_comes_from_the_signed_client_state_first():
    state = base64.b64encode(json.dumps({"call_id": "call_state"}).encode()).decode()
    body = telnyx_event("call.answered", client_state=state)
    assert module("telnyx").references(req("telnyx", body, {"call_id": ["call_query"]})) == ("call_state", "v3:x")
    assert module("telnyx").references(req("telnyx", telnyx_event("call.answered", client_state="%%"),
                                           {"call_id": ["call_query"]})) == ("call_query", "v3:x")


# --- Vonage --------------------------------------------------------------------------------------

@pytest.mark.parametrize("status,ours", [
    ("started", "queued"), ("ringing", "ringing"), ("answered", "in-progress"), ("completed", "completed"),
    ("busy", "busy"), ("rejected", "busy"), ("timeout", "no-answer"), ("unanswered", "no-answer"),
    ("cancelled", "canceled"), ("failed", "failed"),
])
def test_vonage_statuses(status, ours):
    event = parse("vonage", {"uuid": "u1", "status": status, "duration": "61", "detail": "why"})
    assert event.status == ours and event.provider_call_id == "u1"
    assert event.duration_s == (61 if ours == "completed" else None)
    assert event.hangup_cause == (None if ours == "completed" else f"{status}: why")


def test_vonage_detection_and_untracked_events():
    machine = parse("vonage", {"uuid": "u1", "status": "machine"})
    assert machine.status is None and machine.answered_by == "machine"
    assert parse("vonage", {"uuid": "u1", "status": "disconnected"}).status is None
    with pytest.raises(BadPayload):
        parse("vonage", b"[1]")


# --- SIP -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("event,cause,ours", [
    ("CHANNEL_PROGRESS", None, "ringing"), ("CHANNEL_PROGRESS_MEDIA", None, "ringing"),
    ("CHANNEL_ANSWER", None, "in-progress"),
    ("CHANNEL_HANGUP_COMPLETE", "NORMAL_CLEARING", "completed"),
    ("CHANNEL_HANGUP_COMPLETE", "ALLOTTED_TIMEOUT", "completed"),
    ("CHANNEL_HANGUP_COMPLETE", "USER_BUSY", "busy"), ("CHANNEL_HANGUP_COMPLETE", "CALL_REJECTED", "busy"),
    ("CHANNEL_HANGUP_COMPLETE", "NO_ANSWER", "no-answer"),
    ("CHANNEL_HANGUP_COMPLETE", "NO_USER_RESPONSE", "no-answer"),
    ("CHANNEL_HANGUP_COMPLETE", "ORIGINATOR_CANCEL", "canceled"),
    ("CHANNEL_HANGUP_COMPLETE", "UNALLOCATED_NUMBER", "failed"),
    ("CHANNEL_HANGUP_COMPLETE", "GATEWAY_DOWN", "failed"),
])
def test_sip_events(event, cause, ours):
    parsed = parse("sip", {"call_id": "call_1", "channel_uuid": "u1", "event": event, "hangup_cause": cause,
                           "duration": 125})
    assert parsed.status == ours and parsed.provider_call_id == "u1"
    assert module("sip").references(req("sip", {"call_id": "call_1", "channel_uuid": "u1"})) == ("call_1", "u1")


def test_sip_without_event_is_unreadable():
    with pytest.raises(BadPayload):
        parse("sip", {"call_id": "call_1"})


# --- every emulated sequence maps to the outcome it emulates ---------------------------------------

CREDENTIALS = {"twilio": twilio.DEFAULT_CREDENTIALS, "telnyx": telnyx.DEFAULT_CREDENTIALS,
               "vonage": vonage.DEFAULT_CREDENTIALS, "sip": freeswitch.DEFAULT_CREDENTIALS}


@pytest.mark.parametrize("provider", ["twilio", "telnyx", "vonage", "sip"])
@pytest.mark.parametrize("outcome", webhooks.OUTCOMES)
def test_emulated_sequences_move_forward_and_end_in_the_outcome(provider, outcome):
    call = {"call_id": "call_1", "call_sid": "sid-1", "provider": provider, "from_phone_number": "+15551230007",
            "to_phone_number": "+15559876543"}
    sent = webhooks.callbacks(call, CREDENTIALS[provider], "https://x/v1/webhooks/" + provider + "?call_id=call_1",
                              outcome, 125, answered_by="human")
    statuses = [module(provider).parse(req(provider, c.body)).status for c in sent]
    moves = [s for s in statuses if s is not None]
    assert moves[-1] == outcome
    assert [lifecycle.RANKS[s] for s in moves] == sorted(lifecycle.RANKS[s] for s in moves)


# --- the model ------------------------------------------------------------------------------------

def test_ranks_move_only_forward_and_finals_are_final():
    assert lifecycle.moves_forward("initiating", "ringing") and lifecycle.moves_forward("unconfirmed", "completed")
    assert lifecycle.moves_forward("queued", "in-progress")
    assert not lifecycle.moves_forward("in-progress", "ringing")
    assert not lifecycle.moves_forward("ringing", "ringing")
    for final in lifecycle.FINAL_STATUSES:
        assert lifecycle.is_final(final)
        assert not any(lifecycle.moves_forward(final, other) for other in lifecycle.PROVIDER_STATUSES)
    assert set(lifecycle.statuses_below("completed")) == {"initiating", "unconfirmed", "queued", "ringing",
                                                          "in-progress"}
    assert lifecycle.statuses_below("queued") == ("initiating", "unconfirmed")


@pytest.mark.parametrize("seconds,minutes", [(None, 0), (0, 0), (1, 1), (59, 1), (60, 1), (61, 2), (120, 2),
                                             (125, 3), (3600, 60)])
def test_started_minutes(seconds, minutes):
    assert lifecycle.billable_minutes(seconds) == minutes


def test_charge_of_the_done_example_is_three_minutes():
    assert lifecycle.charge_cents(125, 12) == 36
    assert lifecycle.charge_cents(0, 12) == 0  # never answered
    assert lifecycle.settlement(100, 36) == {"balance_cents": -36, "reserved_cents": -100, "available_cents": 64}


@given(balance=st.integers(0, 10**6), reserve=st.integers(0, 10**4), seconds=st.integers(0, 14400),
       rate=st.integers(0, 100))
def test_settlement_keeps_available_equal_to_balance_minus_reserved(balance, reserve, seconds, rate):
    """From any state reachable by holding a reserve (available >= 0 after holding it), settling
    keeps the invariant, releases exactly the reserve, and can go below zero only by the part
    of the charge above the reserve."""
    reserved, available = reserve, balance - reserve
    if available < 0:
        return  # the reserve could not have been held
    charge = lifecycle.charge_cents(seconds, rate)
    delta = lifecycle.settlement(reserve, charge)
    balance, reserved, available = (balance + delta["balance_cents"], reserved + delta["reserved_cents"],
                                    available + delta["available_cents"])
    assert available == balance - reserved and reserved == 0
    assert available >= -max(0, charge - reserve)
