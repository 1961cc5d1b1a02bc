"""The compliance API's bodies (pydantic: off the call's cold path; the OpenAPI document is
generated from these). The call path checks the same consent shape by hand (compliance.consent)."""
from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .consent import CONSENT_TYPES, MAX_PROOF_CHARS, MAX_SOURCE_CHARS, parse_obtained_at, parse_zone_name
from .rules import DAYS, DEFAULT_MAX_DIALS_24H, LEGAL_END, LEGAL_START

CLOCK = r"^[0-9]{2}:[0-9]{2}$"  # ASCII digits
MAX_BLACKOUT_DATES = 366
MAX_DIALS_24H, MAX_DIALS_7D = 20, 100  # the counter keeps 100 dials: no higher cap could be judged
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ConsentIn(_Strict):
    type: Literal[CONSENT_TYPES] = Field(description="How the person agreed to be called.")  # type: ignore[valid-type]
    obtained_at: str = Field(description="When (ISO 8601 with a UTC offset; not in the future).")
    source: str | None = Field(None, min_length=1, max_length=MAX_SOURCE_CHARS,
                               description="Where: a web form, a call, a signed paper...")
    proof_reference: str | None = Field(None, min_length=1, max_length=MAX_PROOF_CHARS,
                                        description="Your reference to the proof kept in your systems.")

    @field_validator("obtained_at")
    @classmethod
    def _instant(cls, value: str) -> str:
        from outbound.errors import BadRequest

        try:
            return parse_obtained_at(value, "obtained_at")
        except BadRequest as exc:
            raise ValueError(exc.detail.removeprefix("obtained_at.obtained_at ")) from None


def _clock(value: str) -> time:
    hours, minutes = value.split(":")
    try:
        return time(int(hours), int(minutes))
    except ValueError:
        raise ValueError("must be HH:MM (24-hour clock)") from None


class WindowIn(_Strict):
    start: str = Field(LEGAL_START.strftime("%H:%M"), pattern=CLOCK, description="Recipient-local HH:MM, 08:00 or later.")
    end: str = Field(LEGAL_END.strftime("%H:%M"), pattern=CLOCK, description="Recipient-local HH:MM, 21:00 or earlier.")

    @model_validator(mode="after")
    def _inside_the_legal_floor(self) -> "WindowIn":
        start, end = _clock(self.start), _clock(self.end)
        if start < LEGAL_START or end > LEGAL_END:
            raise ValueError("window must lie within 08:00-21:00 recipient-local (the legal floor can only be narrowed)")
        if start >= end:
            raise ValueError("window.start must be before window.end")
        return self


class CallingRulesIn(_Strict):
    """PUT /organization/calling-rules: the whole set (fields left out take their defaults)."""

    enabled: bool = Field(False, description="Apply the rules to POST /calls/initiate, schedules and EventBridge "
                                             "calls too (campaigns always obey them).")
    window: WindowIn = Field(default_factory=WindowIn)
    days: list[Day] = Field(default_factory=lambda: list(DAYS), min_length=1,
                            description="Weekdays calls may be placed, recipient-local.")
    blackout_dates: list[date] = Field(default_factory=list, max_length=MAX_BLACKOUT_DATES,
                                       description="Recipient-local dates with no calls (YYYY-MM-DD).")
    max_dials_24h: Annotated[int, Field(ge=1, le=MAX_DIALS_24H)] = Field(
        DEFAULT_MAX_DIALS_24H, description="Dials to one person in any rolling 24 hours, every path counted.")
    max_dials_7d: Annotated[int, Field(ge=1, le=MAX_DIALS_7D)] | None = Field(
        None, description="Dials to one person in any rolling 7 days (null: no weekly cap).")
    require_consent: bool = Field(False, description="Refuse a dial whose recipient has no recorded consent.")
    default_timezone: str | None = Field(None, max_length=64, description="IANA zone for recipients whose zone is "
                                                                          "neither given nor known for their number.")

    @field_validator("default_timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        from outbound.errors import BadRequest

        try:
            return parse_zone_name(value, "default_timezone")
        except BadRequest as exc:
            raise ValueError(exc.detail.removeprefix("default_timezone ")) from None

    def stored(self, version: int, updated_at: str) -> dict:
        return {"enabled": self.enabled, "window": self.window.model_dump(),
                "days": [d for d in DAYS if d in self.days],
                "blackout_dates": sorted({d.isoformat() for d in self.blackout_dates}),
                "max_dials_24h": self.max_dials_24h, "max_dials_7d": self.max_dials_7d,
                "require_consent": self.require_consent, "default_timezone": self.default_timezone,
                "version": version, "updated_at": updated_at}


class PreDialCheckIn(_Strict):
    """PUT /organization/pre-dial-check: your endpoint asked before each campaign or scheduled dial."""

    url: str = Field(min_length=1, max_length=2048,
                     description="https URL (publicly routable: no private, loopback, link-local or metadata "
                                 "address). POSTed a signed JSON body (Standard Webhooks headers) before each dial.")
    timeout_ms: int | None = Field(None, ge=100, le=5000,
                                   description="How long a check may take (100-5000, default 2000); "
                                               "no answer in time means no call.")


def now_iso() -> str:
    from datetime import timezone

    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
