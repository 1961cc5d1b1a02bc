"""Times for scheduled calls: ISO 8601 instants, local times in IANA time zones, and
EventBridge cron expressions with their next fire time.

Why our own module rather than a library: croniter/cronsim speak Unix cron (5 fields, Sunday=0,
no year, no ``?``/``W``/``#`` in EventBridge's sense), and pyawscron (the EventBridge-syntax
parser on PyPI) evaluates in UTC only and has no notion of daylight-saving transitions. What we
need is EventBridge Scheduler's own semantics, in the schedule's time zone, including the DST
rules below; ~200 lines with zoneinfo (stdlib) do that and are tested to the edges.

Daylight saving time (the rules EventBridge Scheduler documents for cron schedules, which we
apply to one-time local times as well, so both kinds behave alike):
- a local time that does not exist (clocks spring forward over it) never fires: a cron
  occurrence there is skipped; a one-time ``scheduled_at`` there is refused (400), because
  silently moving someone's call by an hour is worse than asking for another time;
- a local time that happens twice (clocks fall back) fires once, at its first occurrence
  (the earlier instant, still on summer time).

EventBridge cron: ``cron(minutes hours day-of-month month day-of-week year)``; ``,`` ``-`` ``*``
``/`` everywhere, ``?`` in day-of-month or day-of-week (exactly one of the two must be ``?``),
``L`` and ``W`` (``L``, ``LW``, ``15W``) in day-of-month, ``L`` and ``#`` (``6L`` = last Friday,
``2#1`` = first Monday) in day-of-week; months JAN-DEC, days SUN-SAT (1 = Sunday); years
1970-2199.
"""
from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from outbound.digits import ascii_int

UTC = timezone.utc
MIN_YEAR, MAX_YEAR = 1970, 2199
MONTHS = {name: i for i, name in enumerate(
    ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), start=1)}
WEEKDAYS = {name: i for i, name in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"), start=1)}


class ScheduleTimeError(ValueError):
    """A time, time zone or cron expression that cannot be used (the message is a 400 sentence)."""


# --- time zones and instants -----------------------------------------------------------------

def zone(name: object, field: str = "timezone") -> ZoneInfo:
    """An IANA time zone by name (``Europe/Paris``, ``UTC``)."""
    if not isinstance(name, str) or not name or len(name) > 64 or name.startswith(("/", ".")) or ".." in name:
        raise ScheduleTimeError(f"{field} must be an IANA time zone name (e.g. America/New_York)")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ScheduleTimeError(f"Unknown time zone in {field}: {name}") from None


def local_to_instant(naive: datetime, tz: ZoneInfo) -> datetime | None:
    """The UTC instant of a wall-clock time in ``tz``: None if that local time does not exist
    (skipped by a spring-forward change); its first occurrence if it happens twice."""
    first = naive.replace(tzinfo=tz, fold=0)
    instant = first.astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) != naive:
        return None  # in the gap: converting back gives another wall time
    return instant


def parse_instant(value: object, timezone_name: str | None = None, field: str = "scheduled_at") -> datetime:
    """ISO 8601 with an offset (``2026-03-10T09:00:00+01:00``, ``...Z``), or a local time
    (``2026-03-10T09:00:00``) in ``timezone_name``. Returns an aware UTC datetime, whole seconds."""
    if not isinstance(value, str) or not value:
        raise ScheduleTimeError(f"{field} must be an ISO 8601 date-time string")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ScheduleTimeError(
            f"{field} must be an ISO 8601 date-time (e.g. 2026-03-10T09:00:00+01:00, "
            f"or 2026-03-10T09:00:00 with a timezone)") from None
    parsed = parsed.replace(microsecond=0)
    if parsed.tzinfo is not None:
        return parsed.astimezone(UTC)
    if timezone_name is None:
        raise ScheduleTimeError(f"{field} needs a UTC offset (e.g. 2026-03-10T09:00:00+01:00) or a timezone "
                                f"(an IANA name such as Europe/Paris)")
    tz = zone(timezone_name)
    instant = local_to_instant(parsed, tz)
    if instant is None:
        raise ScheduleTimeError(
            f"{field} {value} does not exist in {timezone_name}: clocks skip it for daylight saving time. "
            f"Choose another time")
    return instant


def iso_utc(instant: datetime) -> str:
    """``2026-03-10T08:00:00Z``: the form EventBridge Scheduler renders scheduled times in."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_local(instant: datetime, timezone_name: str | None) -> str:
    """The instant as ISO 8601 with the offset it has in ``timezone_name`` (UTC: ``Z``)."""
    if not timezone_name or timezone_name == "UTC":
        return iso_utc(instant)
    return instant.astimezone(zone(timezone_name)).isoformat(timespec="seconds")


# --- EventBridge cron ------------------------------------------------------------------------

DayMatcher = Callable[[date], bool]


@dataclass(frozen=True)
class Cron:
    expression: str  # the six fields, without cron(...)
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    months: frozenset[int]
    years: frozenset[int]
    day: DayMatcher  # day-of-month or day-of-week, whichever is not "?"

    def next_after(self, after: datetime, tz: ZoneInfo, until: datetime | None = None) -> datetime | None:
        """The first fire time strictly after ``after`` (aware), evaluated on ``tz``'s wall clock,
        as an aware UTC datetime; None if there is none (before ``until``, or before 2200)."""
        day = after.astimezone(tz).date()
        while day.year <= MAX_YEAR:
            if until is not None and datetime.combine(day, time(0), tz) - timedelta(days=1) > until:
                return None
            if day.year not in self.years:
                later = [y for y in self.years if y > day.year]
                if not later:
                    return None
                day = date(min(later), 1, 1)
                continue
            if day.month not in self.months:
                day = date(day.year + 1, 1, 1) if day.month == 12 else date(day.year, day.month + 1, 1)
                continue
            if self.day(day):
                for hour in self.hours:
                    for minute in self.minutes:
                        instant = local_to_instant(datetime.combine(day, time(hour, minute)), tz)
                        if instant is None or instant <= after:
                            continue  # skipped by spring-forward, or already past
                        if until is not None and instant > until:
                            return None
                        return instant
            day += timedelta(days=1)
        return None

    def previous_times(self, before: datetime, tz: ZoneInfo, count: int, since: datetime) -> list[datetime]:
        """Up to ``count`` fire times in ``[since, before]``, newest first (the same instants as
        next_after gives: a skipped local time never, a repeated one at its first occurrence)."""
        found: list[datetime] = []
        day, first = before.astimezone(tz).date(), since.astimezone(tz).date()
        while day >= first:
            if day.year in self.years and day.month in self.months and self.day(day):
                for hour in reversed(self.hours):
                    for minute in reversed(self.minutes):
                        instant = local_to_instant(datetime.combine(day, time(hour, minute)), tz)
                        if instant is not None and since <= instant <= before:
                            found.append(instant)
                            if len(found) == count:
                                return found
            day -= timedelta(days=1)
        return found

    def next_times(self, after: datetime, tz: ZoneInfo, count: int) -> list[datetime]:
        found: list[datetime] = []
        while len(found) < count:
            following = self.next_after(found[-1] if found else after, tz)
            if following is None:
                break
            found.append(following)
        return found


_CRON = re.compile(r"^\s*cron\((.*)\)\s*$", re.S)


def parse_cron(expression: object) -> Cron:
    """``cron(0 9 ? * MON-FRI *)`` or its six fields alone."""
    if not isinstance(expression, str):
        raise ScheduleTimeError("recurrence.cron must be a string such as cron(0 9 ? * MON-FRI *)")
    # ASCII only: int() reads any script's digits ("٩" == 9), .upper() turns "ı" into "I" and
    # "ſ" into "S", and split() splits at any Unicode space, so other forms would be read as
    # ASCII ones while the expression is kept (and given to Scheduler) as written.
    if not expression.isascii():
        raise ScheduleTimeError("recurrence.cron must be ASCII text: digits 0-9 and names such as MON-FRI")
    found = _CRON.match(expression)
    body = (found.group(1) if found else expression).strip()
    fields = body.split()
    if len(fields) != 6:
        raise ScheduleTimeError(
            "recurrence.cron must have 6 fields: minutes hours day-of-month month day-of-week year "
            "(e.g. cron(0 9 ? * MON-FRI *))")
    minute, hour, dom, month, dow, year = (f.upper() for f in fields)
    if (dom == "?") == (dow == "?"):
        raise ScheduleTimeError("recurrence.cron: exactly one of day-of-month and day-of-week must be ?")
    try:
        minutes = _values(minute, 0, 59, {}, "minutes")
        hours = _values(hour, 0, 23, {}, "hours")
        months = _values(month, 1, 12, MONTHS, "month")
        years = _values(year, MIN_YEAR, MAX_YEAR, {}, "year")
        day = _day_of_month(dom) if dow == "?" else _day_of_week(dow)
    except ScheduleTimeError as exc:
        raise ScheduleTimeError(f"recurrence.cron: {exc}") from None
    return Cron(" ".join(fields), tuple(sorted(minutes)), tuple(sorted(hours)), frozenset(months),
                frozenset(years), day)


def _number(text: str, low: int, high: int, names: dict[str, int], field: str) -> int:
    value = names.get(text)
    if value is None:
        value = ascii_int(text)
        if value is None:
            raise ScheduleTimeError(f"invalid value {text!r} in {field}")
    if not low <= value <= high:
        raise ScheduleTimeError(f"{field} values must be between {low} and {high}, not {value}")
    return value


def _values(text: str, low: int, high: int, names: dict[str, int], field: str) -> set[int]:
    """``*``, ``5``, ``1-5``, ``*/15``, ``10/5``, ``1-30/2``, ``MON,WED`` -> the set of values."""
    values: set[int] = set()
    for part in text.split(","):
        base, slash, step_text = part.partition("/")
        step = _number(step_text, 1, high - low + 1 if high > low else 1, {}, field) if slash else 1
        if base == "*":
            start, end = low, high
        elif "-" in base:
            first, _, last = base.partition("-")
            start, end = _number(first, low, high, names, field), _number(last, low, high, names, field)
        else:
            start = _number(base, low, high, names, field)
            end = high if slash else start
        if start <= end:
            span = list(range(start, end + 1))
        else:  # a range that wraps, e.g. FRI-MON or 22-2
            span = list(range(start, high + 1)) + list(range(low, end + 1))
        values.update(span[::step])
    return values


def _cron_weekday(day: date) -> int:
    return (day.weekday() + 1) % 7 + 1  # Monday=0 -> 2 ... Sunday=6 -> 1


def _nearest_weekday(year: int, month: int, dom: int) -> int:
    """The weekday (Mon-Fri) nearest to ``dom`` in the same month (``15W``)."""
    last = calendar.monthrange(year, month)[1]
    dom = min(dom, last)
    weekday = date(year, month, dom).weekday()
    if weekday == 5:  # Saturday -> Friday, unless that leaves the month
        return dom - 1 if dom > 1 else dom + 2
    if weekday == 6:  # Sunday -> Monday, unless that leaves the month
        return dom + 1 if dom < last else dom - 2
    return dom


def _day_of_month(text: str) -> DayMatcher:
    if text == "*":
        return lambda day: True
    if text == "L":
        return lambda day: day.day == calendar.monthrange(day.year, day.month)[1]
    if text == "LW":
        def last_weekday(day: date) -> bool:
            last = calendar.monthrange(day.year, day.month)[1]
            return day.day == _nearest_weekday(day.year, day.month, last)
        return last_weekday
    if text.endswith("W"):
        target = _number(text[:-1], 1, 31, {}, "day-of-month")
        return lambda day: day.day == _nearest_weekday(day.year, day.month, target)
    days = _values(text, 1, 31, {}, "day-of-month")
    return lambda day: day.day in days


def _day_of_week(text: str) -> DayMatcher:
    if text == "*":
        return lambda day: True
    if text == "L":
        return lambda day: _cron_weekday(day) == 7  # L alone: the last day of the week (Saturday)
    if "#" in text:
        weekday_text, _, nth_text = text.partition("#")
        weekday = _number(weekday_text, 1, 7, WEEKDAYS, "day-of-week")
        nth = _number(nth_text, 1, 5, {}, "day-of-week (#)")
        return lambda day: _cron_weekday(day) == weekday and (day.day - 1) // 7 + 1 == nth
    if text.endswith("L"):
        weekday = _number(text[:-1], 1, 7, WEEKDAYS, "day-of-week")
        return lambda day: (_cron_weekday(day) == weekday
                            and day.day + 7 > calendar.monthrange(day.year, day.month)[1])
    weekdays = _values(text, 1, 7, WEEKDAYS, "day-of-week")
    return lambda day: _cron_weekday(day) in weekdays
