"""The Campaigns API's bodies (pydantic: the campaign functions are off the call's cold path, so
the well-kept library validates here, and the OpenAPI document is generated from these)."""
from __future__ import annotations

from datetime import datetime, time
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from outbound.calls.models import (
    MAX_EXTERNAL_ID_CHARS,
    MAX_METADATA_ENTRIES,
    MAX_METADATA_KEY_CHARS,
    MAX_METADATA_VALUE_CHARS,
    MAX_TEXT_CHARS,
    MAX_VARIABLE_NAME_CHARS,
    MAX_VARIABLE_VALUE_CHARS,
    MAX_VARIABLES,
)
from outbound.compliance.models import ConsentIn
from outbound.errors import INVALID_E164, BadRequest
from outbound.phone import canonical_e164

from .policy import DAYS, LEGAL_END, LEGAL_START, RETRYABLE

E164 = r"^\+[1-9][0-9]{1,14}$"  # the canonical form: what is stored and answered
CLOCK = r"^[0-9]{2}:[0-9]{2}$"  # ASCII digits: "\d" would take any script's (and int() read them)


def _canonical(value: str) -> str:
    try:
        return canonical_e164(value)
    except BadRequest:
        raise ValueError(INVALID_E164) from None


# A phone number in a body: its canonical form, or a 400 naming the field. The document shows
# the canonical pattern; digits of other scripts are accepted and converted (outbound.phone).
E164Number = Annotated[str, AfterValidator(_canonical), Field(json_schema_extra={"pattern": E164})]
MAX_CONTACTS_PER_REQUEST = 1000
VariableValue = Annotated[str, Field(max_length=MAX_VARIABLE_VALUE_CHARS)] | int | float | bool
Variables = Annotated[dict[Annotated[str, Field(min_length=1, max_length=MAX_VARIABLE_NAME_CHARS)], VariableValue],
                      Field(max_length=MAX_VARIABLES)]
Text = Annotated[str, Field(max_length=MAX_TEXT_CHARS)]
Metadata = Annotated[dict[Annotated[str, Field(min_length=1, max_length=MAX_METADATA_KEY_CHARS)],
                          Annotated[str, Field(max_length=MAX_METADATA_VALUE_CHARS)] | int | float | bool],
                     Field(max_length=MAX_METADATA_ENTRIES)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _clock(value: str) -> time:
    try:
        hours, minutes = value.split(":")
        return time(int(hours), int(minutes))
    except (ValueError, TypeError):
        raise ValueError("must be HH:MM (24-hour clock)") from None


class CallingWindowIn(_Strict):
    days: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]] = Field(
        default_factory=lambda: list(DAYS[:5]), min_length=1, description="Days calls may be placed, recipient-local.")
    start: str = Field("09:00", pattern=CLOCK, description="Recipient-local HH:MM (never before 08:00).")
    end: str = Field("20:00", pattern=CLOCK, description="Recipient-local HH:MM (never after 21:00).")

    @model_validator(mode="after")
    def _inside_the_legal_floor(self) -> "CallingWindowIn":
        start, end = _clock(self.start), _clock(self.end)
        if start >= end:
            raise ValueError("calling_window.start must be before calling_window.end")
        if end <= LEGAL_START or start >= LEGAL_END:
            raise ValueError("calling_window must overlap 08:00-21:00 recipient-local (the legal floor)")
        return self


class RetryPolicyIn(_Strict):
    max_attempts: int = Field(1, ge=1, le=10, description="Attempts per contact, the first included.")
    delays_minutes: list[Annotated[float, Field(ge=0, le=10080)]] = Field(
        default_factory=lambda: [60.0], max_length=9,
        description="Wait after attempt N before attempt N+1 (the last value repeats); minutes, fractions allowed.")
    retry_on: list[Literal["busy", "no-answer", "failed", "unknown"]] = Field(
        default_factory=lambda: list(RETRYABLE),
        description="Call outcomes retried. `unknown` (the provider's answer was lost and its records never "
                    "told what happened: the person may have been rung) only when named here.")


class PacingIn(_Strict):
    max_concurrent_calls: int = Field(5, ge=1, le=1000, description="Calls in flight at once (placing to settled).")
    calls_per_minute: int = Field(30, ge=1, le=6000, description="New calls started per minute at most.")


class CampaignCreate(_Strict):
    name: str = Field(min_length=1, max_length=200)
    from_phone_number: E164Number = Field(description="A number of your organization.")
    assistant_id: int | None = Field(None, ge=0, description="Override, as on POST /calls/initiate.")
    welcome_message: Text | None = None
    agenda: Text | None = None
    variables: Variables = Field(default_factory=dict, description="Defaults; each contact's variables win.")
    calling_window: CallingWindowIn = Field(default_factory=CallingWindowIn)
    timezone: str = Field("UTC", min_length=1, max_length=64, description="IANA zone for recipients of unknown zone.")
    retry_policy: RetryPolicyIn = Field(default_factory=RetryPolicyIn)
    pacing: PacingIn = Field(default_factory=PacingIn)
    require_consent: bool = Field(False, description="Skip contacts with no recorded consent (your organization's "
                                                     "calling rules may require it for every campaign).")
    start_at: datetime | None = Field(None, description="ISO 8601 with an offset; default: when started.")
    end_at: datetime | None = Field(None, description="ISO 8601 with an offset; nothing is dialed after it.")

    @field_validator("start_at", "end_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("must carry a UTC offset (e.g. 2026-12-01T09:00:00Z)")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> "CampaignCreate":
        if self.start_at and self.end_at and self.end_at <= self.start_at:
            raise ValueError("end_at must be after start_at")
        return self


class ContactIn(_Strict):
    phone_number: str = Field(max_length=32, description="E.164.")
    variables: Variables = Field(default_factory=dict)
    timezone: str | None = Field(None, max_length=64, description="IANA zone of the recipient, if known.")
    external_id: str | None = Field(None, min_length=1, max_length=MAX_EXTERNAL_ID_CHARS,
                                    description="Your own id for this contact: on its calls and events.")
    metadata: Metadata = Field(default_factory=dict, description="Flat; on the contact's calls and events.")
    consent: ConsentIn | None = Field(None, description="How and when the person agreed to be called; kept in the "
                                                        "evidence of each dial.")

    @field_validator("phone_number")
    @classmethod
    def _canonical_when_a_number(cls, value: str) -> str:
        """Its canonical form (so duplicates and do-not-call compare one string); a row that is
        not a number keeps what it said, for its per-row error (campaign_contacts)."""
        try:
            return canonical_e164(value)
        except BadRequest:
            return value


class ContactsAdd(_Strict):
    contacts: list[ContactIn] = Field(min_length=1, max_length=MAX_CONTACTS_PER_REQUEST)


class SuppressionIn(_Strict):
    phone_number: E164Number
    reason: str | None = Field(None, max_length=500)
