"""The fields of each provider's credentials secret (what the adapters, the status-webhook
verifiers and the provider records read: see outbound.credentials), for
``outbound admin credentials set``: a secret missing one, or naming an unknown one, is refused
by name before anything is stored."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Secret(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TwilioSecret(_Secret):
    account_sid: str = Field(min_length=1)
    auth_token: str = Field(min_length=1)
    webhook_shared_key: str | None = None  # Twilio's HMAC-SHA256 webhook signatures, if enabled


class TelnyxSecret(_Secret):
    api_key: str = Field(min_length=1)
    public_key: str = Field(min_length=1)  # base64 ed25519: verifies Telnyx's webhook signatures


class VonageSecret(_Secret):
    application_id: str = Field(min_length=1)
    private_key: str = Field(min_length=1)  # the application's PEM key
    signature_secret: str = Field(min_length=1)


class SipSecret(_Secret):
    bridge: str = Field(min_length=1)  # host:port of the FreeSWITCH event socket
    password: str = Field(min_length=1)  # its ESL password
    webhook_secret: str = Field(min_length=1)  # signs the bridge's status webhooks
    trunk_passwords: dict[str, str] | None = None  # trunk id -> password (outbound admin trunk)


MODELS: dict[str, type[_Secret]] = {"twilio": TwilioSecret, "telnyx": TelnyxSecret, "vonage": VonageSecret,
                                    "sip": SipSecret}
