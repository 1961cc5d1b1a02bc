"""The request bodies Burki's SDK sends (its CampaignContact, CampaignSchedule, CampaignSettings and
the create/update bodies), with this service's limits under Burki's field names. Unknown and
read-only fields are ignored, as Burki's own server does (the SDK sends whole models, ``id`` and
``status`` included). A contact may also carry ``timezone`` (IANA), which Burki's model has not:
pass contacts as dicts to use it."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from outbound.calls.models import MAX_TEXT_CHARS
from outbound.campaigns.models import CLOCK, MAX_CONTACTS_PER_REQUEST, Variables


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore")


class BurkiContact(_Lenient):
    phone_number: str = Field(max_length=32, description="E.164.")
    name: str | None = Field(None, max_length=200, description="Kept with the contact; the `name` variable "
                                                                 "unless variables give one.")
    email: str | None = Field(None, max_length=320)
    variables: Variables = Field(default_factory=dict)
    timezone: str | None = Field(None, max_length=64, description="Not in Burki's model: the recipient's IANA "
                                                                  "zone, if known (else the number's).")


class BurkiSchedule(_Lenient):
    schedule_type: Literal["immediate", "once", "recurring"] = "immediate"
    scheduled_at: datetime | None = Field(None, description="`once`: when to start (with a UTC offset).")
    timezone: str = Field("UTC", min_length=1, max_length=64,
                          description="IANA zone for recipients whose zone is not known.")
    days_of_week: list[int] = Field(default_factory=list, max_length=7,
                                    description="Days calls may be placed, 0 = Monday (empty: Monday to Friday).")
    start_time: str | None = Field(None, pattern=CLOCK, description="Recipient-local HH:MM (never before 08:00).")
    end_time: str | None = Field(None, pattern=CLOCK, description="Recipient-local HH:MM (never after 21:00).")


class BurkiSettings(_Lenient):
    max_concurrent_calls: int = Field(5, ge=1, le=1000)
    calls_per_minute: int = Field(10, ge=1, le=6000)
    max_attempts: int = Field(3, ge=1, le=10)
    retry_delay_minutes: int = Field(30, ge=0, le=10080)
    leave_voicemail: bool = Field(False, description="Not supported: true is refused.")
    voicemail_message: str | None = Field(None, max_length=MAX_TEXT_CHARS)
    welcome_template: str | None = Field(None, max_length=MAX_TEXT_CHARS, description="`{{variable}}` templates.")
    agenda_template: str | None = Field(None, max_length=MAX_TEXT_CHARS)


class BurkiCampaignCreate(_Lenient):
    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(None, max_length=1000)
    assistant_id: int = Field(ge=0)
    campaign_type: str = Field("call", max_length=20, description="`call` (`sms` is not supported).")
    contacts: list[BurkiContact] = Field(default_factory=list, max_length=MAX_CONTACTS_PER_REQUEST)
    phone_number_id: int | None = Field(None, ge=1, description="The from number's E.164 digits (required here).")
    schedule: BurkiSchedule | None = None
    settings: BurkiSettings | None = None


class BurkiCampaignUpdate(_Lenient):
    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=1000)
    schedule: BurkiSchedule | None = Field(None, description="A draft's only.")
    settings: BurkiSettings | None = Field(None, description="A draft's only.")


class BurkiContactsAdd(_Lenient):
    contacts: list[BurkiContact] = Field(min_length=1, max_length=MAX_CONTACTS_PER_REQUEST)


class BurkiMetadata(_Lenient):
    metadata: dict[str, Any] = Field(description="Merged into the call's metadata (a null value removes its key).")
