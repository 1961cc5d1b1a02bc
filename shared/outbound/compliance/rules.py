"""Calling rules: may this number be dialed now, and if not, when? ONE pure function, ``evaluate``,
decides it for every path that dials (POST /calls/initiate and schedules when the organization
turns its rules on; the campaign dispatcher and dialer always; the dry run): no I/O here.

A dial is allowed only when every check holds:
- **window**: in EVERY zone the recipient may be in (the contact's own zone AND each zone
  phonenumbers gives the number; never one instead of the other), the local time is inside
  ``start``-``end`` on an allowed weekday and not on a date with no calls. The legal floor,
  08:00-21:00 recipient-local, can only be narrowed: ``Rules.hours`` never leaves it;
- **frequency**: fewer than ``max_dials_24h`` dials to this person in the rolling 24 hours (and
  ``max_dials_7d`` in 7 days, when set), counted over every path;
- **consent**: recorded, when the rules require it.
The verdict carries every reason, each zone with its local time, and when the next allowed
time opens (None when waiting cannot help: consent missing, zone unknown, no common window).
Several rules apply to one dial (the organization's, a campaign's): ``Rules.narrowed`` combines
them, the strictest winning.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from typing import Any, Iterable, Mapping, Sequence
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

UTC = timezone.utc
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # datetime.weekday() order
LEGAL_START, LEGAL_END = time(8, 0), time(21, 0)
DEFAULT_MAX_DIALS_24H = 3
DAY, WEEK = timedelta(hours=24), timedelta(days=7)
SEARCH_DAYS = 15  # how far past the last date with no calls the next common window is looked for


@dataclass(frozen=True)
class Rules:
    """One set of calling rules (the organization's, a campaign's, or both combined)."""

    start: time = LEGAL_START
    end: time = LEGAL_END
    days: tuple[str, ...] = DAYS
    blackout_dates: frozenset[date] = frozenset()  # recipient-local dates with no calls
    max_dials_24h: int | None = DEFAULT_MAX_DIALS_24H  # None: no cap
    max_dials_7d: int | None = None
    require_consent: bool = False
    version: int = 0  # the organization's rules' version (evidence names it)

    @property
    def hours(self) -> tuple[time, time]:
        """The window actually used: never outside the legal floor."""
        return max(self.start, LEGAL_START), min(self.end, LEGAL_END)

    def narrowed(self, other: "Rules") -> "Rules":
        """Both rules at once: the later start, the earlier end, the days both allow, every date
        either forbids, the lower cap, consent if either requires it."""
        return replace(self, start=max(self.start, other.start), end=min(self.end, other.end),
                       days=tuple(d for d in DAYS if d in self.days and d in other.days),
                       blackout_dates=self.blackout_dates | other.blackout_dates,
                       max_dials_24h=_lower(self.max_dials_24h, other.max_dials_24h),
                       max_dials_7d=_lower(self.max_dials_7d, other.max_dials_7d),
                       require_consent=self.require_consent or other.require_consent)

    def window_only(self) -> "Rules":
        """The same window without the checks that need the dial's data (caps, consent): what
        a campaign's dispatcher can decide before the dialer reads the counter and the contact."""
        return replace(self, max_dials_24h=None, max_dials_7d=None, require_consent=False)

    def as_dict(self) -> dict[str, Any]:
        start, end = self.hours
        return {"window": {"start": start.strftime("%H:%M"), "end": end.strftime("%H:%M")},
                "days": list(self.days), "blackout_dates": sorted(d.isoformat() for d in self.blackout_dates),
                "max_dials_24h": self.max_dials_24h, "max_dials_7d": self.max_dials_7d,
                "require_consent": self.require_consent, "version": self.version}


def _lower(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else min(a, b)


# --- zones ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Zone:
    name: str  # IANA
    source: str  # "contact" (its own zone), "number" (phonenumbers), "fallback" (neither is known)


def number_zones(number: str) -> tuple[str, ...]:
    """Every zone phonenumbers gives the number (none when it does not know). Loaded on first use:
    its time-zone data costs ~45 ms, which only dials that evaluate rules pay."""
    return _number_zones(number)


@lru_cache(maxsize=4096)
def _number_zones(number: str) -> tuple[str, ...]:
    import phonenumbers
    from phonenumbers import timezone as zones_of

    try:
        found = zones_of.time_zones_for_number(phonenumbers.parse(number, None))
    except phonenumbers.NumberParseException:
        return ()
    return tuple(z for z in found if z != "Etc/Unknown" and _known(z))


def _known(name: str) -> bool:
    try:
        ZoneInfo(name)
        return True
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False


def recipient_zones(number: str, contact_zone: str | None, fallback_zone: str | None = None) -> tuple[Zone, ...]:
    """The zones a recipient may be in: their own (if given) AND each of their number's; a
    fallback (a campaign's zone, the organization's default) only when neither is known."""
    zones = [Zone(contact_zone, "contact")] if contact_zone else []
    zones += [Zone(name, "number") for name in number_zones(number) if name != contact_zone]
    if not zones and fallback_zone:
        zones.append(Zone(fallback_zone, "fallback"))
    return tuple(zones)


# --- the verdict ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Reason:
    code: str  # outside_window, day_not_allowed, no_calls_date, cap_24h, cap_7d, consent_missing,
    # zone_unknown, no_common_window
    detail: str


@dataclass(frozen=True)
class ZoneTime:
    zone: str
    source: str
    local_time: str  # ISO 8601 with the zone's offset at that instant
    inside: bool


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    at: datetime
    reasons: tuple[Reason, ...]
    zones: tuple[ZoneTime, ...]
    next_allowed_at: datetime | None
    dials_24h: int
    dials_7d: int
    rules: Rules
    consent: Mapping[str, Any] | None = None
    checked: tuple[str, ...] = field(default=("window", "frequency", "consent"))

    @property
    def codes(self) -> list[str]:
        return [r.code for r in self.reasons]

    @property
    def waiting_helps(self) -> bool:
        """A refusal that time cures (window, cap): the dial can move to ``next_allowed_at``."""
        return not self.allowed and self.next_allowed_at is not None

    def as_dict(self) -> dict[str, Any]:
        return {"allowed": self.allowed, "at": iso(self.at), "checked": list(self.checked),
                "reasons": [{"code": r.code, "detail": r.detail} for r in self.reasons],
                "zones": [{"zone": z.zone, "source": z.source, "local_time": z.local_time, "inside": z.inside}
                          for z in self.zones],
                "next_allowed_at": iso(self.next_allowed_at) if self.next_allowed_at else None,
                "frequency": {"dials_24h": self.dials_24h, "dials_7d": self.dials_7d,
                              "max_dials_24h": self.rules.max_dials_24h, "max_dials_7d": self.rules.max_dials_7d},
                "rules": self.rules.as_dict(), "consent": dict(self.consent) if self.consent else None}


def evaluate(rules: Rules, zones: Sequence[Zone], recent_dials: Iterable[datetime],
             consent: Mapping[str, Any] | None, at: datetime) -> Verdict:
    """The decision for one dial at ``at``. ``zones``: recipient_zones(); ``recent_dials``: when this
    organization last dialed this person (any path); ``consent``: the recorded consent or None."""
    dials = sorted(d for d in recent_dials if at - WEEK < d <= at)
    n24, n7 = sum(1 for d in dials if d > at - DAY), len(dials)
    reasons: list[Reason] = []
    times = tuple(_zone_time(rules, zone, at) for zone in zones)
    if not zones:
        reasons.append(Reason("zone_unknown", "The recipient's time zone is unknown (neither given nor known for "
                                              "the number)"))
    for zone in times:
        if not zone.inside:
            reasons.append(_outside(rules, zone, at))
    if rules.max_dials_24h is not None and n24 >= rules.max_dials_24h:
        reasons.append(Reason("cap_24h", f"Dialed {n24} times in the last 24 hours (at most {rules.max_dials_24h})"))
    if rules.max_dials_7d is not None and n7 >= rules.max_dials_7d:
        reasons.append(Reason("cap_7d", f"Dialed {n7} times in the last 7 days (at most {rules.max_dials_7d})"))
    if rules.require_consent and not consent:
        reasons.append(Reason("consent_missing", "Consent is required and none is recorded"))
    next_at = None
    if zones and not (rules.require_consent and not consent):
        next_at = next_allowed_at(rules, zones, max(at, _frequency_free_at(rules, dials, at)))
        if next_at is None:
            reasons.append(Reason("no_common_window", "No time is inside the calling window in every zone the "
                                                      "recipient may be in"))
    return Verdict(not reasons, at, tuple(reasons), times, next_at if reasons else at, n24, n7, rules, consent)


def not_evaluated(rules: Rules, recent_dials: Iterable[datetime], consent: Mapping[str, Any] | None,
                  at: datetime) -> Verdict:
    """A dial the rules do not apply to (the organization turned them off for this path): still
    counted and recorded, nothing checked (no zone looked up)."""
    dials = [d for d in recent_dials if at - WEEK < d <= at]
    return Verdict(True, at, (), (), None, sum(1 for d in dials if d > at - DAY), len(dials), rules, consent,
                   checked=())


def _frequency_free_at(rules: Rules, dials: list[datetime], at: datetime) -> datetime:
    """The earliest instant from ``at`` on when the caps allow another dial (no new dial assumed):
    the oldest dial that must drop out of its rolling period has done so."""
    free = at
    for cap, period in ((rules.max_dials_24h, DAY), (rules.max_dials_7d, WEEK)):
        inside = [d for d in dials if d > at - period]
        if cap is not None and len(inside) >= cap:
            free = max(free, inside[len(inside) - cap] + period)  # then only cap - 1 remain inside
    return free


# --- windows ---------------------------------------------------------------------------------------------

def _tz(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _at(day: date, clock: time, tz: ZoneInfo) -> datetime:
    """``clock`` on ``day`` in ``tz``, as a UTC instant (a skipped local time maps to the instant
    just after the change; a repeated one to its first occurrence)."""
    return datetime.combine(day, clock).replace(tzinfo=tz).astimezone(UTC)


def inside_window(rules: Rules, tz: ZoneInfo, at: datetime) -> bool:
    return _next_opening(rules, tz, at, at + timedelta(days=1)) == at


def _next_opening(rules: Rules, tz: ZoneInfo, at: datetime, horizon: datetime) -> datetime | None:
    """The earliest instant from ``at`` on inside the window in this one zone (before ``horizon``)."""
    start, end = rules.hours
    if start >= end or not rules.days:
        return None
    day = at.astimezone(tz).date()
    while True:
        opens = _at(day, start, tz)
        if opens > horizon:
            return None
        if DAYS[day.weekday()] in rules.days and day not in rules.blackout_dates:
            candidate = max(at, opens)
            if candidate < _at(day, end, tz):
                return candidate
        day += timedelta(days=1)


def next_allowed_at(rules: Rules, zones: Sequence[Zone], at: datetime) -> datetime | None:
    """The earliest instant from ``at`` on inside the window in every zone at once; None if there
    is none within SEARCH_DAYS past ``at`` and the dates with no calls."""
    if not zones:
        return None
    ahead = sum(1 for d in rules.blackout_dates if d >= (at - DAY).date())
    horizon = at + timedelta(days=SEARCH_DAYS + ahead)
    tzs = [_tz(z.name) for z in zones]
    candidate = at
    while candidate <= horizon:
        openings = [_next_opening(rules, tz, candidate, horizon) for tz in tzs]
        if any(o is None for o in openings):
            return None
        latest = max(openings)  # type: ignore[type-var]
        if latest == candidate:
            return candidate
        candidate = latest
    return None


def _zone_time(rules: Rules, zone: Zone, at: datetime) -> ZoneTime:
    tz = _tz(zone.name)
    return ZoneTime(zone.name, zone.source, at.astimezone(tz).isoformat(timespec="seconds"),
                    inside_window(rules, tz, at))


def _outside(rules: Rules, zone: ZoneTime, at: datetime) -> Reason:
    local = at.astimezone(_tz(zone.zone))
    start, end = rules.hours
    clock = f"{local:%H:%M} on {DAYS[local.weekday()].capitalize()} {local:%Y-%m-%d} in {zone.zone}"
    if local.date() in rules.blackout_dates:
        return Reason("no_calls_date", f"It is {clock}, a date with no calls")
    if DAYS[local.weekday()] not in rules.days:
        return Reason("day_not_allowed", f"It is {clock}, not an allowed day ({', '.join(rules.days)})")
    return Reason("outside_window", f"It is {clock}, outside {start:%H:%M}-{end:%H:%M}")


def iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def parse_instant(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
