"""An organization's calling rules as stored on its organization item (``calling_rules``, a map),
read on the call path without pydantic: initiate already reads the organization item, so the
rules cost no round trip. Absent or partial rules mean the defaults.

Stored shape (what ``GET /organization/calling-rules`` answers, plus ``legal_floor``):
``{"enabled", "window": {"start", "end"}, "days", "blackout_dates", "max_dials_24h",
"max_dials_7d", "require_consent", "default_timezone", "version", "updated_at"}``.

``enabled`` turns the rules on for POST /calls/initiate, schedules and EventBridge-triggered
calls (off by default: those routes' contracts stay as documented). Campaigns obey them always.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from typing import Any

from .rules import DAYS, DEFAULT_MAX_DIALS_24H, LEGAL_END, LEGAL_START, Rules


@dataclass(frozen=True)
class OrganizationRules:
    enabled: bool
    rules: Rules
    default_timezone: str | None
    updated_at: str | None

    def view(self) -> dict[str, Any]:
        body = self.rules.as_dict()
        return {"enabled": self.enabled, "window": body["window"], "days": body["days"],
                "blackout_dates": body["blackout_dates"], "max_dials_24h": body["max_dials_24h"],
                "max_dials_7d": body["max_dials_7d"], "require_consent": body["require_consent"],
                "default_timezone": self.default_timezone, "version": self.rules.version,
                "updated_at": self.updated_at,
                "legal_floor": {"start": LEGAL_START.strftime("%H:%M"), "end": LEGAL_END.strftime("%H:%M")}}

    def stored(self) -> dict[str, Any]:
        view = self.view()
        view.pop("legal_floor")
        return view


def _clock(value: Any, default: time) -> time:
    try:
        hours, minutes = str(value).split(":")
        return time(int(hours), int(minutes))
    except (ValueError, TypeError):
        return default


def _cap(value: Any, default: int | None) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else default


def organization_rules(organization: dict[str, Any] | None) -> OrganizationRules:
    """The rules an organization item holds (defaults for what it does not say)."""
    stored = (organization or {}).get("calling_rules") or {}
    window = stored.get("window") or {}
    blackout = set()
    for value in stored.get("blackout_dates") or ():
        try:
            blackout.add(date.fromisoformat(value))
        except (TypeError, ValueError):
            continue
    days = tuple(d for d in DAYS if d in (stored.get("days") or DAYS))
    rules = Rules(start=_clock(window.get("start"), LEGAL_START), end=_clock(window.get("end"), LEGAL_END),
                  days=days, blackout_dates=frozenset(blackout),
                  max_dials_24h=_cap(stored.get("max_dials_24h"), DEFAULT_MAX_DIALS_24H),
                  max_dials_7d=_cap(stored.get("max_dials_7d"), None),
                  require_consent=stored.get("require_consent") is True,
                  version=int(stored.get("version") or 0))
    return OrganizationRules(stored.get("enabled") is True, rules, stored.get("default_timezone") or None,
                             stored.get("updated_at"))
