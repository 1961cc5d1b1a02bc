"""outbound.schedules.times: instants, local times across DST, EventBridge cron next fires."""
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from outbound.schedules.times import (
    ScheduleTimeError,
    iso_local,
    iso_utc,
    local_to_instant,
    parse_cron,
    parse_instant,
    zone,
)

UTC = timezone.utc
NEW_YORK, PARIS, SYDNEY = zone("America/New_York"), zone("Europe/Paris"), zone("Australia/Sydney")


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def fires(expression: str, after: datetime, tz=UTC, count: int = 3) -> list[str]:
    return [iso_local(t, getattr(tz, "key", "UTC")) for t in parse_cron(expression).next_times(after, tz, count)]


# --- one-time times --------------------------------------------------------------------------

def test_an_offset_is_an_instant_and_the_timezone_only_names_it():
    assert parse_instant("2026-03-10T09:00:00+01:00") == utc(2026, 3, 10, 8)
    assert parse_instant("2026-03-10T09:00:00Z") == utc(2026, 3, 10, 9)
    assert parse_instant("2026-03-10T09:00:00+01:00", "America/New_York") == utc(2026, 3, 10, 8)
    assert parse_instant("2026-03-10T09:00:00.987654Z") == utc(2026, 3, 10, 9)  # whole seconds


def test_a_local_time_is_read_on_its_time_zone_wall_clock():
    assert parse_instant("2026-01-15T09:00:00", "America/New_York") == utc(2026, 1, 15, 14)  # EST
    assert parse_instant("2026-07-15T09:00:00", "America/New_York") == utc(2026, 7, 15, 13)  # EDT
    assert parse_instant("2026-07-15T09:00:00", "Australia/Sydney") == utc(2026, 7, 14, 23)  # AEST, southern winter


def test_a_local_time_skipped_by_spring_forward_is_refused():
    # 2026-03-08 02:00 EST -> 03:00 EDT: 02:30 never happens in New York.
    with pytest.raises(ScheduleTimeError, match="does not exist in America/New_York"):
        parse_instant("2026-03-08T02:30:00", "America/New_York")
    with pytest.raises(ScheduleTimeError, match="does not exist in Europe/Paris"):
        parse_instant("2026-03-29T02:00:00", "Europe/Paris")  # 02:00 CET -> 03:00 CEST
    # The minutes around the gap exist.
    assert parse_instant("2026-03-08T01:59:00", "America/New_York") == utc(2026, 3, 8, 6, 59)
    assert parse_instant("2026-03-08T03:00:00", "America/New_York") == utc(2026, 3, 8, 7, 0)


def test_an_ambiguous_local_time_is_its_first_occurrence():
    # 2026-11-01 02:00 EDT -> 01:00 EST: 01:30 happens twice; the first is still on EDT (-4).
    assert parse_instant("2026-11-01T01:30:00", "America/New_York") == utc(2026, 11, 1, 5, 30)
    assert parse_instant("2026-10-25T02:30:00", "Europe/Paris") == utc(2026, 10, 25, 0, 30)  # CEST, not CET


@pytest.mark.parametrize("value,tz,message", [
    ("2026-03-10T09:00:00", None, "needs a UTC offset"),
    ("tomorrow at nine", "UTC", "must be an ISO 8601 date-time"),
    (20260310, "UTC", "must be an ISO 8601 date-time string"),
    ("2026-03-10T09:00:00", "Nowhere/City", "Unknown time zone"),
    ("2026-03-10T09:00:00", "../../etc/passwd", "must be an IANA time zone name"),
    ("2026-03-10T09:00:00", "/usr/share/zoneinfo/UTC", "must be an IANA time zone name"),
])
def test_unusable_times_are_refused_with_a_sentence(value, tz, message):
    with pytest.raises(ScheduleTimeError, match=message):
        parse_instant(value, tz)


def test_formats():
    instant = utc(2026, 7, 15, 13, 0, 5)
    assert iso_utc(instant) == "2026-07-15T13:00:05Z"
    assert iso_local(instant, "America/New_York") == "2026-07-15T09:00:05-04:00"
    assert iso_local(instant, None) == iso_local(instant, "UTC") == "2026-07-15T13:00:05Z"


# --- cron syntax -----------------------------------------------------------------------------

def test_weekday_mornings_in_a_time_zone():
    after = utc(2026, 11, 20, 12)  # Friday, after 9:00 in Paris
    assert fires("cron(0 9 ? * MON-FRI *)", after, PARIS) == [
        "2026-11-23T09:00:00+01:00", "2026-11-24T09:00:00+01:00", "2026-11-25T09:00:00+01:00"]
    assert fires("0 9 ? * 2-6 *", after, PARIS) == fires("cron(0 9 ? * MON-FRI *)", after, PARIS)


def test_steps_ranges_lists_and_names():
    after = utc(2026, 1, 1, 0, 0)
    assert fires("cron(0/20 8-9 * * ? *)", after, count=4) == [
        "2026-01-01T08:00:00Z", "2026-01-01T08:20:00Z", "2026-01-01T08:40:00Z", "2026-01-01T09:00:00Z"]
    assert fires("cron(15,45 10 1 JAN,JUL ? *)", after, count=3) == [
        "2026-01-01T10:15:00Z", "2026-01-01T10:45:00Z", "2026-07-01T10:15:00Z"]
    assert fires("cron(0 12 ? * SAT-MON *)", after, count=3) == [  # a range that wraps the week
        "2026-01-03T12:00:00Z", "2026-01-04T12:00:00Z", "2026-01-05T12:00:00Z"]
    assert fires("cron(*/30 * * * ? *)", utc(2026, 1, 1, 0, 10), count=2) == [
        "2026-01-01T00:30:00Z", "2026-01-01T01:00:00Z"]


def test_last_day_weekday_nth_and_last_weekday_of_month():
    after = utc(2026, 1, 1)
    assert fires("cron(0 9 L * ? *)", after) == [
        "2026-01-31T09:00:00Z", "2026-02-28T09:00:00Z", "2026-03-31T09:00:00Z"]
    assert fires("cron(0 9 L 2 ? 2028)", after, count=1) == ["2028-02-29T09:00:00Z"]  # leap year
    assert fires("cron(0 9 LW * ? *)", after) == [  # 2026-01-31 is a Saturday -> Friday 30th
        "2026-01-30T09:00:00Z", "2026-02-27T09:00:00Z", "2026-03-31T09:00:00Z"]
    assert fires("cron(0 9 15W * ? *)", after, count=2) == [  # 2026-02-15 is a Sunday -> Monday 16th
        "2026-01-15T09:00:00Z", "2026-02-16T09:00:00Z"]
    assert fires("cron(0 9 1W 8 ? 2026)", after, count=1) == ["2026-08-03T09:00:00Z"]  # Sat 1st -> Mon 3rd, same month
    assert fires("cron(0 9 ? * 2#1 *)", after) == [  # first Monday
        "2026-01-05T09:00:00Z", "2026-02-02T09:00:00Z", "2026-03-02T09:00:00Z"]
    assert fires("cron(0 9 ? * FRI#3 *)", after, count=1) == ["2026-01-16T09:00:00Z"]
    assert fires("cron(0 9 ? * 6L *)", after) == [  # last Friday
        "2026-01-30T09:00:00Z", "2026-02-27T09:00:00Z", "2026-03-27T09:00:00Z"]


def test_years_bound_the_recurrence():
    assert fires("cron(0 9 1 1 ? 2027-2028)", utc(2026, 6, 1)) == ["2027-01-01T09:00:00Z", "2028-01-01T09:00:00Z"]
    assert parse_cron("cron(0 9 1 1 ? 2020)").next_after(utc(2026, 1, 1), UTC) is None
    assert parse_cron("cron(0 9 30 2 ? *)").next_after(utc(2026, 1, 1), UTC) is None  # February 30th never comes


def test_until_stops_a_recurrence():
    cron = parse_cron("cron(0 9 * * ? *)")
    assert cron.next_after(utc(2026, 1, 1), UTC, until=utc(2026, 1, 1, 9)) == utc(2026, 1, 1, 9)
    assert cron.next_after(utc(2026, 1, 1, 10), UTC, until=utc(2026, 1, 2, 8, 59)) is None


@pytest.mark.parametrize("expression,message", [
    ("0 9 * * *", "6 fields"),
    ("cron(0 9 * * * *)", "exactly one of day-of-month and day-of-week must be ?"),
    ("cron(0 9 ? * ? *)", "exactly one of day-of-month and day-of-week must be ?"),
    ("cron(60 9 * * ? *)", "minutes values must be between 0 and 59"),
    ("cron(0 24 * * ? *)", "hours values must be between 0 and 23"),
    ("cron(0 9 32 * ? *)", "day-of-month values must be between 1 and 31"),
    ("cron(0 9 ? * 8 *)", "day-of-week values must be between 1 and 7"),
    ("cron(0 9 ? FOO * *)", "invalid value 'FOO' in month"),
    ("cron(0 9 * * ? 1969)", "year values must be between 1970 and 2199"),
    ("cron(0/0 9 * * ? *)", "between 1 and"),
    ("cron(0 9 ? * 2#6 *)", "between 1 and 5"),
    (None, "must be a string"),
])
def test_invalid_cron_is_refused_with_a_sentence(expression, message):
    with pytest.raises(ScheduleTimeError, match=message):
        parse_cron(expression)


# --- cron across daylight-saving changes (EventBridge Scheduler's documented rules) ----------

def test_spring_forward_skips_the_fire_that_does_not_exist():
    # New York, 2026-03-08: 02:00 -> 03:00. A daily 02:30 fire is skipped that day only.
    assert fires("cron(30 2 * * ? *)", utc(2026, 3, 7, 12), NEW_YORK) == [
        "2026-03-09T02:30:00-04:00", "2026-03-10T02:30:00-04:00", "2026-03-11T02:30:00-04:00"]
    # A 09:00 fire keeps its wall-clock time: 14:00 UTC before, 13:00 UTC after.
    times = parse_cron("cron(0 9 * * ? *)").next_times(utc(2026, 3, 7, 0), NEW_YORK, 2)
    assert times == [utc(2026, 3, 7, 14), utc(2026, 3, 8, 13)]


def test_fall_back_fires_once_at_the_first_occurrence():
    # New York, 2026-11-01: 02:00 EDT -> 01:00 EST; 01:30 happens twice and fires once (EDT).
    assert fires("cron(30 1 * * ? *)", utc(2026, 10, 31, 12), NEW_YORK) == [
        "2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00", "2026-11-03T01:30:00-05:00"]
    # Every 30 minutes through the repeated hour: the second pass is not fired again.
    times = parse_cron("cron(0/30 0-2 1 NOV ? 2026)").next_times(utc(2026, 11, 1, 3), NEW_YORK, 10)
    assert [iso_local(t, "America/New_York") for t in times] == [
        "2026-11-01T00:00:00-04:00", "2026-11-01T00:30:00-04:00", "2026-11-01T01:00:00-04:00",
        "2026-11-01T01:30:00-04:00", "2026-11-01T02:00:00-05:00", "2026-11-01T02:30:00-05:00"]
    gap = times[4] - times[3]
    assert gap == timedelta(hours=1, minutes=30)  # 01:30 EDT -> 02:00 EST: the repeated hour is not fired again


def test_southern_hemisphere_changes_in_the_other_season():
    # Sydney, 2026-10-04: 02:00 AEST -> 03:00 AEDT; 2026-04-05: 03:00 AEDT -> 02:00 AEST.
    assert fires("cron(30 2 4,5 10 ? 2026)", utc(2026, 10, 1), SYDNEY, count=2) == ["2026-10-05T02:30:00+11:00"]
    assert fires("cron(30 2 5 4 ? 2026)", utc(2026, 4, 1), SYDNEY, count=1) == ["2026-04-05T02:30:00+11:00"]


def test_local_to_instant_marks_the_gap_with_none():
    assert local_to_instant(datetime(2026, 3, 8, 2, 30), NEW_YORK) is None
    assert local_to_instant(datetime(2026, 11, 1, 1, 30), NEW_YORK) == utc(2026, 11, 1, 5, 30)


@settings(max_examples=150, deadline=None)
@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),
       st.sampled_from(["0 9 ? * MON-FRI *", "15 */3 * * ? *", "0 9 L * ? *", "30 2 * * ? *", "0 12 ? * 2#1 *"]),
       st.sampled_from(["UTC", "America/New_York", "Europe/Paris", "Australia/Sydney", "Asia/Kolkata"]))
def test_next_fire_is_later_matches_the_expression_and_is_stable(after, expression, tz_name):
    tz = zone(tz_name)
    after = after.replace(tzinfo=UTC)
    cron = parse_cron(expression)
    first = cron.next_after(after, tz)
    assert first is not None and first > after
    local = first.astimezone(tz)
    assert local.minute in cron.minutes and local.hour in cron.hours and cron.day(local.date())
    assert cron.next_after(first - timedelta(seconds=1), tz) == first  # the fire itself is found again
    following = cron.next_after(first, tz)
    assert following is not None and following > first  # and the next one strictly after it


# --- a schedule's past fires (GET /calls/schedules/{id}'s recent_fires) --------------------------------

@pytest.mark.parametrize("expression,tz,since", [
    ("cron(30 1 * * ? *)", NEW_YORK, utc(2026, 10, 28)),  # 01:30 happens twice on Nov 1: the first one
    ("cron(30 2 * * ? *)", NEW_YORK, utc(2026, 3, 5)),  # 02:30 does not exist on Mar 8: skipped
    ("cron(0/20 * ? * MON-FRI *)", PARIS, utc(2026, 3, 27, 20)),  # across Paris' spring forward
    ("cron(0 9 L * ? *)", SYDNEY, utc(2025, 11, 1)),
])
def test_past_fires_are_the_same_instants_as_the_next_fires_newest_first(expression, tz, since):
    cron = parse_cron(expression)
    forward = cron.next_times(since - timedelta(seconds=1), tz, 40)
    before = forward[-1] - timedelta(seconds=1)  # a moment before the 40th: 39 in [since, before]
    assert cron.previous_times(before, tz, 100, since) == list(reversed(forward[:-1]))
    assert cron.previous_times(before, tz, 5, since) == list(reversed(forward[:-1]))[:5]
    assert cron.previous_times(forward[0] - timedelta(seconds=1), tz, 5, since) == []


def test_past_fires_stop_at_since_and_include_both_ends():
    cron = parse_cron("cron(0 * * * ? *)")
    assert cron.previous_times(utc(2026, 5, 1, 12), UTC, 10, since=utc(2026, 5, 1, 10)) == [
        utc(2026, 5, 1, 12), utc(2026, 5, 1, 11), utc(2026, 5, 1, 10)]
