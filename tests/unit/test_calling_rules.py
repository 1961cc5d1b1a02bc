"""The calling rules' one pure function (outbound.compliance.rules.evaluate): every zone the
recipient may be in (the Hawaii case), the 08:00-21:00 legal floor, daylight saving, dates with
no calls, frequency caps over rolling periods, consent, and the strictest of several rules."""
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from outbound.compliance.organization_rules import organization_rules
from outbound.compliance.rules import (
    Rules,
    Zone,
    evaluate,
    inside_window,
    next_allowed_at,
    not_evaluated,
    number_zones,
    recipient_zones,
)

UTC = timezone.utc
NY, HONOLULU = ZoneInfo("America/New_York"), ZoneInfo("Pacific/Honolulu")
DEFAULT = Rules()
HAWAII_NUMBER = "+18085550123"


def at_ny(y, m, d, hh, mm=0):
    return datetime(y, m, d, hh, mm, tzinfo=NY)


def test_a_contacts_own_zone_never_replaces_its_numbers_zone():
    """The issue's case: the contact says New York (09:54 there), the number is Hawaii's (04:54)."""
    now = at_ny(2026, 12, 7, 9, 54)
    zones = recipient_zones(HAWAII_NUMBER, "America/New_York")
    assert zones == (Zone("America/New_York", "contact"), Zone("Pacific/Honolulu", "number"))
    verdict = evaluate(DEFAULT, zones, (), None, now)
    assert not verdict.allowed and verdict.codes == ["outside_window"]
    assert verdict.reasons[0].detail == "It is 04:54 on Mon 2026-12-07 in Pacific/Honolulu, outside 08:00-21:00"
    assert [(z.zone, z.local_time, z.inside) for z in verdict.zones] == [
        ("America/New_York", "2026-12-07T09:54:00-05:00", True),
        ("Pacific/Honolulu", "2026-12-07T04:54:00-10:00", False)]
    assert verdict.next_allowed_at == datetime(2026, 12, 7, 8, tzinfo=HONOLULU)  # 13:00 in New York: both inside
    assert verdict.waiting_helps
    # the old decision (the contact's zone alone) would have dialed
    assert evaluate(DEFAULT, zones[:1], (), None, now).allowed


def test_every_zone_of_the_number_counts_and_unknown_numbers_fall_back():
    assert number_zones("+12125551234") == ("America/New_York",)
    assert len(number_zones("+447911123456")) == 4  # UK mobiles: London, Jersey, Guernsey, Isle of Man
    assert number_zones("+15551234567") == ()  # unassigned range: phonenumbers says Etc/Unknown
    assert recipient_zones("+15551234567", None, "America/Chicago") == (Zone("America/Chicago", "fallback"),)
    assert recipient_zones("+15551234567", "Europe/Paris", "America/Chicago") == (Zone("Europe/Paris", "contact"),)
    unknown = evaluate(DEFAULT, recipient_zones("+15551234567", None), (), None, at_ny(2026, 12, 7, 12))
    assert unknown.codes == ["zone_unknown"] and unknown.next_allowed_at is None


def test_the_legal_floor_can_only_be_narrowed():
    wide = Rules(start=time(6), end=time(23))
    assert wide.hours == (time(8), time(21))
    ny = (Zone("America/New_York", "contact"),)
    assert next_allowed_at(wide, ny, at_ny(2026, 12, 7, 6)) == at_ny(2026, 12, 7, 8)
    assert next_allowed_at(wide, ny, at_ny(2026, 12, 7, 21, 1)) == at_ny(2026, 12, 8, 8)
    assert not inside_window(wide, NY, at_ny(2026, 12, 7, 21))  # the end is exclusive
    assert inside_window(wide, NY, at_ny(2026, 12, 7, 20, 59))


def test_windows_follow_each_wall_clock_across_daylight_saving():
    # 2027-03-14: New York springs forward at 02:00. 08:00 local is 12:00 UTC that day (EDT),
    # 13:00 UTC the day before (EST).
    ny = (Zone("America/New_York", "contact"),)
    assert next_allowed_at(DEFAULT, ny, datetime(2027, 3, 13, 12, tzinfo=UTC)) == datetime(2027, 3, 13, 13, tzinfo=UTC)
    assert next_allowed_at(DEFAULT, ny, datetime(2027, 3, 14, 11, tzinfo=UTC)) == datetime(2027, 3, 14, 12, tzinfo=UTC)
    # With Hawaii (no DST) too: a window closing at 14:00 shares 18:00-19:00 UTC with Honolulu's
    # while New York is on EST; once it is on EDT (14:00 = 18:00 UTC) nothing is left in common.
    both = (*ny, Zone("Pacific/Honolulu", "number"))
    closes_early = Rules(end=time(14))
    assert next_allowed_at(closes_early, both, datetime(2027, 3, 13, 12, tzinfo=UTC)) == \
        datetime(2027, 3, 13, 18, tzinfo=UTC)
    assert next_allowed_at(closes_early, both, datetime(2027, 3, 13, 19, tzinfo=UTC)) is None
    # 2026-11-01 (fall back at 06:00 UTC): from 01:00 EDT that night, 08:00 is EST's, 13:00 UTC.
    assert next_allowed_at(DEFAULT, ny, datetime(2026, 11, 1, 5, tzinfo=UTC)) == datetime(2026, 11, 1, 13, tzinfo=UTC)


def test_days_and_dates_with_no_calls():
    weekdays = Rules(days=("mon", "tue", "wed", "thu", "fri"), blackout_dates=frozenset({date(2026, 12, 25)}))
    ny = (Zone("America/New_York", "contact"),)
    saturday = evaluate(weekdays, ny, (), None, at_ny(2026, 12, 12, 10))
    assert saturday.codes == ["day_not_allowed"] and saturday.next_allowed_at == at_ny(2026, 12, 14, 8)
    christmas = evaluate(weekdays, ny, (), None, at_ny(2026, 12, 25, 10))  # a Friday
    assert christmas.codes == ["no_calls_date"] and christmas.next_allowed_at == at_ny(2026, 12, 28, 8)
    assert "a date with no calls" in christmas.reasons[0].detail


def test_dates_with_no_calls_may_push_the_next_window_across_a_dst_change():
    ny = (Zone("America/New_York", "contact"),)
    closed = frozenset(date(2027, 3, 1) + timedelta(days=i) for i in range(13))  # Mar 1-13
    verdict = evaluate(Rules(blackout_dates=closed), ny, (), None, datetime(2027, 3, 1, 15, tzinfo=UTC))
    assert verdict.next_allowed_at == datetime(2027, 3, 14, 12, tzinfo=UTC)  # 08:00 EDT, not 13:00 UTC


def test_no_common_window_when_zones_never_overlap():
    office = Rules(start=time(9), end=time(17))
    zones = (Zone("America/New_York", "contact"), Zone("Asia/Shanghai", "number"))  # 13 hours apart
    verdict = evaluate(office, zones, (), None, at_ny(2026, 12, 7, 10))
    assert not verdict.allowed and "no_common_window" in verdict.codes and verdict.next_allowed_at is None
    assert not verdict.waiting_helps


def test_the_cap_counts_a_rolling_24_hours_and_says_when_a_dial_frees_up():
    now = at_ny(2026, 12, 7, 12)
    ny = (Zone("America/New_York", "contact"),)
    dials = [now - timedelta(hours=23), now - timedelta(hours=10), now - timedelta(hours=1)]
    verdict = evaluate(DEFAULT, ny, dials, None, now)
    assert verdict.codes == ["cap_24h"] and verdict.dials_24h == 3
    assert verdict.reasons[0].detail == "Dialed 3 times in the last 24 hours (at most 3)"
    assert verdict.next_allowed_at == now + timedelta(hours=1)  # the oldest leaves the 24 hours
    assert evaluate(DEFAULT, ny, dials[1:], None, now).allowed  # 2 of 3
    assert evaluate(DEFAULT, ny, [d - timedelta(hours=2) for d in dials], None, now).allowed  # one is 25 h old
    # freed at 21:05: after New York's window closed, so the next window is the next morning
    late = [now + timedelta(hours=9, minutes=5) - timedelta(hours=24), *dials[1:]]
    assert evaluate(DEFAULT, ny, late, None, now).next_allowed_at == at_ny(2026, 12, 8, 8)


def test_the_weekly_cap():
    now = at_ny(2026, 12, 7, 12)
    ny = (Zone("America/New_York", "contact"),)
    weekly = Rules(max_dials_7d=4)
    dials = [now - timedelta(days=d) for d in (6, 5, 3, 2)]
    verdict = evaluate(weekly, ny, dials, None, now)
    assert verdict.codes == ["cap_7d"] and (verdict.dials_24h, verdict.dials_7d) == (0, 4)
    assert verdict.next_allowed_at == now + timedelta(days=1)


def test_consent_when_required():
    ny = (Zone("America/New_York", "contact"),)
    strict = Rules(require_consent=True)
    missing = evaluate(strict, ny, (), None, at_ny(2026, 12, 7, 12))
    assert missing.codes == ["consent_missing"] and missing.next_allowed_at is None  # waiting cannot help
    consent = {"type": "express_written", "obtained_at": "2026-11-02T15:04:05Z", "proof_reference": "form-77"}
    given = evaluate(strict, ny, (), consent, at_ny(2026, 12, 7, 12))
    assert given.allowed and given.as_dict()["consent"] == consent


def test_every_reason_is_reported_at_once():
    verdict = evaluate(Rules(require_consent=True), recipient_zones(HAWAII_NUMBER, "America/New_York"),
                       [at_ny(2026, 12, 7, 9, 50)] * 3, None, at_ny(2026, 12, 7, 9, 54))
    assert verdict.codes == ["outside_window", "cap_24h", "consent_missing"]


def test_the_strictest_of_several_rules_wins():
    organization = Rules(start=time(9), end=time(20), days=("mon", "tue", "wed", "thu", "fri"), max_dials_24h=3,
                         blackout_dates=frozenset({date(2026, 12, 25)}))
    campaign = Rules(start=time(8), end=time(18), days=("mon", "wed", "sat"), max_dials_24h=None,
                     require_consent=True, blackout_dates=frozenset({date(2026, 12, 24)}))
    both = organization.narrowed(campaign)
    assert both.hours == (time(9), time(18)) and both.days == ("mon", "wed")
    assert both.max_dials_24h == 3 and both.require_consent
    assert both.blackout_dates == {date(2026, 12, 24), date(2026, 12, 25)}


def test_rules_not_applied_still_count_the_dials_and_check_nothing():
    now = at_ny(2026, 12, 7, 3)
    verdict = not_evaluated(DEFAULT, [now - timedelta(hours=2), now - timedelta(days=3)], None, now)
    assert verdict.allowed and verdict.zones == () and verdict.checked == ()
    assert (verdict.dials_24h, verdict.dials_7d) == (1, 2)


def test_an_organizations_stored_rules_and_their_defaults():
    default = organization_rules({"pk": "ORG#x"})
    assert not default.enabled and default.rules == Rules() and default.rules.max_dials_24h == 3
    stored = organization_rules({"calling_rules": {
        "enabled": True, "window": {"start": "09:30", "end": "20:00"}, "days": ["sat", "mon"],
        "blackout_dates": ["2026-12-25"], "max_dials_24h": 2, "max_dials_7d": 5, "require_consent": True,
        "default_timezone": "America/Chicago", "version": 4}})
    assert stored.enabled and stored.default_timezone == "America/Chicago"
    assert stored.rules == Rules(start=time(9, 30), end=time(20), days=("mon", "sat"),
                                 blackout_dates=frozenset({date(2026, 12, 25)}), max_dials_24h=2, max_dials_7d=5,
                                 require_consent=True, version=4)
    assert stored.view()["legal_floor"] == {"start": "08:00", "end": "21:00"}
