"""The campaign's pure rules: what follows an attempt (retries moved into the recipient's window),
and the derived ids. (When a recipient may be called: tests/unit/test_calling_rules.py.)"""
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from outbound.campaigns.policy import RetryPolicy, after_call, attempt_call_id, contact_id_for
from outbound.compliance.rules import Rules, Zone, next_allowed_at

NY = ZoneInfo("America/New_York")
WEEKDAYS = Rules(start=time(9), end=time(20), days=("mon", "tue", "wed", "thu", "fri"))


def opens(at):
    """The campaign dispatcher's question: the next instant inside the window in New York."""
    return next_allowed_at(WEEKDAYS, (Zone("America/New_York", "contact"),), at)


def local(y, m, d, hh, mm=0, tz=NY):
    return datetime(y, m, d, hh, mm, tzinfo=tz)


POLICY = RetryPolicy(3, (30.0, 120.0), ("busy", "no-answer"))


def test_retries_follow_the_policy_and_land_inside_the_window():
    ended = local(2026, 12, 7, 12)
    first = after_call("busy", 1, POLICY, ended, opens)
    assert first.final_status is None and first.retry_at == ended + timedelta(minutes=30)
    second = after_call("no-answer", 2, POLICY, ended, opens)
    assert second.retry_at == ended + timedelta(minutes=120)  # the second delay
    late = after_call("busy", 1, POLICY, local(2026, 12, 7, 19, 45), opens)
    assert late.retry_at == local(2026, 12, 8, 9) and late.waits_for_window  # 20:15 is closed: next morning
    assert after_call("busy", 3, POLICY, ended, opens).final_status == "busy"  # out of attempts


def test_never_retried_completed_failed_when_not_listed_or_when_dialing_has_stopped():
    ended = local(2026, 12, 7, 12)
    assert after_call("completed", 1, POLICY, ended, opens).final_status == "completed"
    assert after_call("failed", 1, POLICY, ended, opens).final_status == "failed"  # not in retry_on
    assert after_call("no-answer", 1, POLICY, ended, opens).final_status is None
    assert after_call("busy", 1, POLICY, ended, opens, dialing_allowed=False).final_status == "canceled"
    no_time = after_call("busy", 1, POLICY, ended, opens, end_at=ended + timedelta(minutes=10))
    assert no_time.final_status == "busy"  # the retry would fall after end_at


def test_ids_are_derived_so_repeats_meet_their_first():
    assert contact_id_for("cmp_1", "+12125551234") == contact_id_for("cmp_1", "+12125551234")
    assert contact_id_for("cmp_1", "+12125551234") != contact_id_for("cmp_2", "+12125551234")
    assert attempt_call_id("cmp_1", "ct_1", 1) != attempt_call_id("cmp_1", "ct_1", 2)
    assert attempt_call_id("cmp_1", "ct_1", 1).startswith("call_")
