"""A campaign item, read back as the typed settings and state the engine works with."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from outbound.compliance.rules import Rules, evaluate, recipient_zones

from .policy import CONTACT_STATUSES, RetryPolicy


@dataclass(frozen=True)
class Pacing:
    max_concurrent_calls: int
    calls_per_minute: int


def _clock(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def _instant(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


@dataclass(frozen=True)
class Campaign:
    campaign_id: str
    organization_id: str
    status: str
    from_phone_number: str
    assistant_id: int | None
    welcome_message: str | None
    agenda: str | None
    variables: dict[str, Any]
    rules: Rules  # the campaign's own calling window and consent requirement (no caps: the organization's)
    timezone: str
    retry_policy: RetryPolicy
    pacing: Pacing
    start_at: datetime | None
    end_at: datetime | None
    in_flight: int
    next_dial_at: datetime | None
    counts: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> "Campaign":
        window, retry, pacing = item["calling_window"], item["retry_policy"], item["pacing"]
        return cls(
            campaign_id=item["campaign_id"], organization_id=item["organization_id"], status=item["status"],
            from_phone_number=item["from_phone_number"], assistant_id=item.get("assistant_id"),
            welcome_message=item.get("welcome_message"), agenda=item.get("agenda"),
            variables=item.get("variables") or {},
            rules=Rules(start=_clock(window["start"]), end=_clock(window["end"]), days=tuple(window["days"]),
                        max_dials_24h=None, require_consent=item.get("require_consent") is True),
            timezone=item["timezone"],
            retry_policy=RetryPolicy(int(retry["max_attempts"]), tuple(float(d) for d in retry["delays_minutes"]),
                                     tuple(retry["retry_on"])),
            pacing=Pacing(int(pacing["max_concurrent_calls"]), int(pacing["calls_per_minute"])),
            start_at=_instant(item.get("start_at")), end_at=_instant(item.get("end_at")),
            in_flight=int(item.get("in_flight") or 0), next_dial_at=_instant(item.get("next_dial_at")),
            counts={s: int(item.get(f"count_{s}") or 0) for s in CONTACT_STATUSES})

    def zone(self, name: str | None) -> ZoneInfo:
        return ZoneInfo(name or self.timezone)

    def next_window(self, at: datetime, phone_number: str, contact_zone: str | None) -> datetime | None:
        """The earliest instant from ``at`` on inside the campaign's window in every zone the
        contact may be in (its own, its number's; the campaign's when neither is known): the
        calling rules' own verdict (the dialer then judges the organization's rules, caps and
        consent too). None: no time is allowed."""
        zones = recipient_zones(phone_number, contact_zone, self.timezone)
        return evaluate(self.rules.window_only(), zones, (), None, at).next_allowed_at

    def call_body(self, phone_number: str, variables: dict[str, Any], external_id: str | None = None,
                  metadata: dict[str, Any] | None = None) -> dict[str, Any]:
        """The POST /calls/initiate body of one attempt (the campaign's defaults, the contact's
        variables winning; the contact's external_id and metadata, echoed in the call's events)."""
        body: dict[str, Any] = {"from_phone_number": self.from_phone_number, "to_phone_number": phone_number,
                                "variables": {**self.variables, **variables}}
        if external_id:
            body["external_id"] = external_id
        if metadata:
            body["metadata"] = metadata
        for name in ("assistant_id", "welcome_message", "agenda"):
            value = getattr(self, name)
            if value is not None:
                body[name] = value
        return body
