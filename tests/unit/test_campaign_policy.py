"""The campaign's pure rules: calling windows in the recipient's zone (the 08:00-21:00 legal floor
included, DST days), which zone a recipient is in, and what follows an attempt."""
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from outbound.campaigns.policy import (CallingWindow, RetryPolicy, after_call, attempt_call_id, contact_id_for,
                                       in_window, next_allowed, recipient_zone)

UTC = timezone.utc
NY = ZoneInfo("America/New_York")
WEEKDAYS = CallingWindow(("mon", "tue", "wed", "thu", "fri"), time(9), time(20))
EVERY_DAY = CallingWindow(("mon", "tue", "wed", "thu", "fri", "sat", "sun"), time(0), time(23, 59))


def local(y, m, d, hh, mm=0, tz=NY):
    return datetime(y, m, d, hh, mm, tzinfo=tz)


def test_inside_the_window_is_now_and_outside_is_the_next_opening():
    monday_noon = local(2026, 12, 7, 12)
    assert next_allowed(monday_noon, NY, WEEKDAYS) == monday_noon
    assert next_allowed(local(2026, 12, 7, 7), NY, WEEKDAYS) == local(2026, 12, 7, 9)  # before opening
    assert next_allowed(local(2026, 12, 7, 20, 30), NY, WEEKDAYS) == local(2026, 12, 8, 9)  # after closing
    assert next_allowed(local(2026, 12, 11, 21), NY, WEEKDAYS) == local(2026, 12, 14, 9)  # Friday night -> Monday


def test_the_legal_floor_cannot_be_widened():
    assert EVERY_DAY.hours == (time(8), time(21))
    assert next_allowed(local(2026, 12, 7, 6), NY, EVERY_DAY) == local(2026, 12, 7, 8)
    assert next_allowed(local(2026, 12, 7, 21, 1), NY, EVERY_DAY) == local(2026, 12, 8, 8)
    assert not in_window(local(2026, 12, 7, 21), NY, EVERY_DAY)  # the end is exclusive
    assert in_window(local(2026, 12, 7, 20, 59), NY, EVERY_DAY)


def test_windows_follow_the_recipients_wall_clock_across_daylight_saving():
    # 2027-03-14: New York springs forward at 02:00. 09:00 local is 13:00 UTC that day (EDT)
    # and 14:00 UTC the day before (EST).
    assert next_allowed(datetime(2027, 3, 13, 12, tzinfo=UTC), NY, EVERY_DAY) == datetime(2027, 3, 13, 13, tzinfo=UTC)
    assert next_allowed(datetime(2027, 3, 14, 11, tzinfo=UTC), NY, EVERY_DAY) == datetime(2027, 3, 14, 12, tzinfo=UTC)


def test_the_same_instant_is_in_one_recipients_window_and_not_anothers():
    instant = datetime(2026, 12, 7, 14, tzinfo=UTC)  # 09:00 New York, 06:00 Los Angeles, 15:00 Paris
    assert in_window(instant, NY, WEEKDAYS)
    assert not in_window(instant, ZoneInfo("America/Los_Angeles"), WEEKDAYS)
    assert in_window(instant, ZoneInfo("Europe/Paris"), WEEKDAYS)


def test_a_recipients_zone_is_their_own_else_their_numbers_only_zone_else_the_campaigns():
    assert recipient_zone("+12125551234", "Europe/Paris", "UTC") == "Europe/Paris"
    assert recipient_zone("+12125551234", None, "UTC") == "America/New_York"  # 212: one zone
    assert recipient_zone("+14155551234", None, "UTC") == "America/Los_Angeles"
    assert recipient_zone("+447911123456", None, "Europe/London") == "Europe/London"  # UK mobiles: several zones
    assert recipient_zone("+15551234567", None, "America/Chicago") == "America/Chicago"  # unassigned: unknown


POLICY = RetryPolicy(3, (30.0, 120.0), ("busy", "no-answer"))


def test_retries_follow_the_policy_and_land_inside_the_window():
    ended = local(2026, 12, 7, 12)
    first = after_call("busy", 1, POLICY, ended, NY, WEEKDAYS)
    assert first.final_status is None and first.retry_at == ended + timedelta(minutes=30)
    second = after_call("no-answer", 2, POLICY, ended, NY, WEEKDAYS)
    assert second.retry_at == ended + timedelta(minutes=120)  # the second delay
    late = after_call("busy", 1, POLICY, local(2026, 12, 7, 19, 45), NY, WEEKDAYS)
    assert late.retry_at == local(2026, 12, 8, 9) and late.waits_for_window  # 20:15 is closed: next morning
    assert after_call("busy", 3, POLICY, ended, NY, WEEKDAYS).final_status == "busy"  # out of attempts


def test_never_retried_completed_failed_when_not_listed_or_when_dialing_has_stopped():
    ended = local(2026, 12, 7, 12)
    assert after_call("completed", 1, POLICY, ended, NY, WEEKDAYS).final_status == "completed"
    assert after_call("failed", 1, POLICY, ended, NY, WEEKDAYS).final_status == "failed"  # not in retry_on
    assert after_call("no-answer", 1, POLICY, ended, NY, WEEKDAYS).final_status is None
    assert after_call("busy", 1, POLICY, ended, NY, WEEKDAYS, dialing_allowed=False).final_status == "canceled"
    no_time = after_call("busy", 1, POLICY, ended, NY, WEEKDAYS, end_at=ended + timedelta(minutes=10))
    assert no_time.final_status == "busy"  # the retry would fall after end_at


def test_ids_are_derived_so_repeats_meet_their_first():
    assert contact_id_for("cmp_1", "+12125551234") == contact_id_for("cmp_1", "+12125551234")
    assert contact_id_for("cmp_1", "+12125551234") != contact_id_for("cmp_2", "+12125551234")
    assert attempt_call_id("cmp_1", "ct_1", 1) != attempt_call_id("cmp_1", "ct_1", 2)
    assert attempt_call_id("cmp_1", "ct_1", 1).startswith("call_")
