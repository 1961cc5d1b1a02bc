"""Every setting the service reads from its environment: the one place to see every knob.

Most come from template.yaml's parameters (each function gets the ones it needs); the
``OUTBOUND_*`` ones are set only by the local stack and the tests, to point the service at its
emulators. ``settings()`` (the call path's) and ``scheduler_settings()`` are read once per
container; the other groups are read at each use (a handful of dictionary lookups), so the local
stack and the tests can change them while a process runs.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class Settings:
    table_name: str
    call_reserve_cents: int  # held per call until it ends; per-organization override in DynamoDB
    per_minute_rate_cents: int
    voice_stream_url: str  # the voice runtime's media WebSocket
    public_api_url: str  # this API's public base URL for provider webhooks; "" = from the request
    api_base_url: str  # the stack's own API URL: webhooks of calls placed with no request (schedules, campaigns)
    credentials_secret_prefix: str  # Secrets Manager names: <prefix><organization_id>/<provider>
    credentials_cache_s: float  # how long a provider secret is reused (OUTBOUND_SECRETS_CACHE_SECONDS)
    ring_timeout_s: int
    max_call_seconds: int
    reserve_sweep_grace_s: int | None  # ReserveSweepAfterSeconds: the sweeper's grace (None: its default)


@lru_cache(maxsize=1)
def settings() -> Settings:
    env = os.environ
    return Settings(
        table_name=env.get("TABLE_NAME", "outbound-local"),
        call_reserve_cents=int(env.get("CALL_RESERVE_CENTS", "100")),
        per_minute_rate_cents=int(env.get("PER_MINUTE_RATE_CENTS", "10")),
        voice_stream_url=env.get("VOICE_STREAM_URL", "wss://voice-runtime.invalid/stream"),
        public_api_url=env.get("PUBLIC_API_URL", "").rstrip("/"),
        api_base_url=env.get("API_BASE_URL", "").rstrip("/"),
        credentials_secret_prefix=env.get("CREDENTIALS_SECRET_PREFIX", "outbound/local/"),
        credentials_cache_s=float(env.get("OUTBOUND_SECRETS_CACHE_SECONDS", "300")),
        ring_timeout_s=int(env.get("RING_TIMEOUT_SECONDS", "30")),
        max_call_seconds=int(env.get("MAX_CALL_SECONDS", "3600")),
        reserve_sweep_grace_s=int(env["RESERVE_SWEEP_AFTER_SECONDS"]) if env.get("RESERVE_SWEEP_AFTER_SECONDS") else None,
    )


def aws_region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


def aws_endpoint_url(service_env_suffix: str) -> str | None:
    """botocore's own endpoint variables (``AWS_ENDPOINT_URL_<SERVICE>``, then ``AWS_ENDPOINT_URL``):
    unset in AWS; the local stack points them at its moto server."""
    return os.environ.get(f"AWS_ENDPOINT_URL_{service_env_suffix}") or os.environ.get("AWS_ENDPOINT_URL")


@dataclass(frozen=True)
class ProviderSettings:
    timeout_s: float  # how long a create-call may wait for its provider: ProviderTimeoutSeconds
    twilio_api_url: str | None  # OUTBOUND_<PROVIDER>_API_URL: the local stack's emulators; unset in AWS
    telnyx_api_url: str | None
    vonage_api_url: str | None
    sip_bridge: str | None  # OUTBOUND_SIP_BRIDGE: the local FreeSWITCH emulator, instead of the trunk's


def provider_settings() -> ProviderSettings:
    env = os.environ
    return ProviderSettings(
        timeout_s=float(env.get("OUTBOUND_PROVIDER_TIMEOUT_S", "10")),
        twilio_api_url=env.get("OUTBOUND_TWILIO_API_URL"),
        telnyx_api_url=env.get("OUTBOUND_TELNYX_API_URL"),
        vonage_api_url=env.get("OUTBOUND_VONAGE_API_URL"),
        sip_bridge=env.get("OUTBOUND_SIP_BRIDGE"),
    )


@dataclass(frozen=True)
class SchedulerSettings:
    group_name: str
    target_arn: str  # ScheduledCallFunction
    role_arn: str  # the role Scheduler assumes: lambda:InvokeFunction on that function only
    dead_letter_arn: str
    retry_attempts: int
    max_event_age_s: int


@lru_cache(maxsize=1)
def scheduler_settings() -> SchedulerSettings:
    env = os.environ
    return SchedulerSettings(
        group_name=env.get("SCHEDULE_GROUP_NAME", "ScheduledCallsGroup"),
        target_arn=env.get("SCHEDULED_CALL_FUNCTION_ARN", ""),
        role_arn=env.get("SCHEDULER_ROLE_ARN", ""),
        dead_letter_arn=env.get("SCHEDULE_DLQ_ARN", ""),
        retry_attempts=int(env.get("SCHEDULE_RETRY_ATTEMPTS", "3")),
        max_event_age_s=int(env.get("SCHEDULE_MAX_EVENT_AGE_SECONDS", "3600")),
    )


@dataclass(frozen=True)
class OutcomeEventSettings:
    event_bus_name: str  # the stack's EventBridge bus
    delivery_queue_url: str  # one message per delivery attempt
    dead_letter_queue_url: str  # deliveries that used up their retry window
    retry_base_s: float  # WebhookRetryBaseSeconds: the first retry's delay, doubled each time
    retry_window_s: float  # how long a delivery is retried (24 h)
    attempt_timeout_s: float  # one POST to a customer endpoint
    secret_prefix: str  # Secrets Manager names of the endpoints' signing secrets
    allow_loopback: bool  # OUTBOUND_WEBHOOKS_ALLOW_LOOPBACK=1: the local stack only, never in AWS


def outcome_event_settings() -> OutcomeEventSettings:
    env = os.environ
    return OutcomeEventSettings(
        event_bus_name=env.get("EVENT_BUS_NAME", "default"),
        delivery_queue_url=env.get("WEBHOOK_DELIVERY_QUEUE_URL", ""),
        dead_letter_queue_url=env.get("WEBHOOK_DEAD_LETTER_QUEUE_URL", ""),
        retry_base_s=float(env.get("WEBHOOK_RETRY_BASE_SECONDS", "10")),
        retry_window_s=float(env.get("WEBHOOK_RETRY_WINDOW_SECONDS", str(24 * 3600))),
        attempt_timeout_s=float(env.get("WEBHOOK_TIMEOUT_SECONDS", "10")),
        secret_prefix=env.get("WEBHOOK_SECRET_PREFIX", "outbound-webhooks/local/"),
        allow_loopback=env.get("OUTBOUND_WEBHOOKS_ALLOW_LOOPBACK") == "1",
    )


@dataclass(frozen=True)
class CampaignSettings:
    ticks_queue_url: str  # FIFO, grouped by campaign: one tick of a campaign at a time
    ticks_queue_arn: str  # (heartbeats of campaigns started before the timers queue existed)
    dial_queue_url: str  # one message per dial, delayed to its pacing slot
    timers_queue_url: str  # standard: wake-ups at a time (SQS delays), the heartbeat, checks of attempts
    timers_queue_arn: str  # the heartbeat's and the one-off at() schedules' target
    schedule_group: str  # the campaigns' heartbeat and at() schedules
    scheduler_role_arn: str  # the role Scheduler assumes to send a heartbeat or a timer
    imports_bucket: str  # CSV uploads (presigned PUT)
    # The imports queue's maxReceiveCount: the delivery that reaches it is a message's last (None:
    # not told, so no delivery is taken for the last).
    imports_max_receive_count: int | None
    # The heartbeat's repairs (outbound.campaigns.repair); the OUTBOUND_* variables are the tests'.
    unknown_check_s: float  # an attempt whose outcome is unknown: its provider is first asked this much later
    never_rang_s: float  # a call the provider has no record of this long after it was created never rang
    unknown_give_up_s: float  # an outcome still unknown this long after the call: the contact ends `unknown`
    lost_dial_s: float  # a contact dialing with no call this long after its dial's slot: the dial was lost


def campaign_settings() -> CampaignSettings:
    env = os.environ
    return CampaignSettings(
        ticks_queue_url=env.get("CAMPAIGN_TICKS_QUEUE_URL", ""),
        ticks_queue_arn=env.get("CAMPAIGN_TICKS_QUEUE_ARN", ""),
        dial_queue_url=env.get("CAMPAIGN_DIAL_QUEUE_URL", ""),
        timers_queue_url=env.get("CAMPAIGN_TIMERS_QUEUE_URL", ""),
        timers_queue_arn=env.get("CAMPAIGN_TIMERS_QUEUE_ARN", ""),
        schedule_group=env.get("CAMPAIGN_SCHEDULE_GROUP", ""),
        scheduler_role_arn=env.get("CAMPAIGN_SCHEDULER_ROLE_ARN", ""),
        imports_bucket=env.get("CAMPAIGN_IMPORTS_BUCKET", ""),
        imports_max_receive_count=int(env["IMPORTS_MAX_RECEIVE_COUNT"])
        if env.get("IMPORTS_MAX_RECEIVE_COUNT", "").isdigit() else None,
        unknown_check_s=float(env.get("OUTBOUND_CAMPAIGN_UNKNOWN_CHECK_SECONDS", "30")),
        never_rang_s=float(env.get("OUTBOUND_CAMPAIGN_NEVER_RANG_SECONDS", "60")),
        unknown_give_up_s=float(env.get("OUTBOUND_CAMPAIGN_UNKNOWN_GIVE_UP_SECONDS", "600")),
        lost_dial_s=float(env.get("OUTBOUND_CAMPAIGN_LOST_DIAL_SECONDS", "60")),
    )


@dataclass(frozen=True)
class ComplianceSettings:
    evidence_key_secret: str  # EvidenceKeySecret: the Secrets Manager secret keying every evidence record's HMAC
    evidence_key_cache_s: float  # how long the key is reused (as provider credentials: OUTBOUND_SECRETS_CACHE_SECONDS)
    pre_dial_retry_s: float  # a campaign contact whose pre-dial check could not be asked waits this long


def compliance_settings() -> ComplianceSettings:
    env = os.environ
    return ComplianceSettings(evidence_key_secret=env.get("EVIDENCE_KEY_SECRET", ""),
                              evidence_key_cache_s=float(env.get("OUTBOUND_SECRETS_CACHE_SECONDS", "300")),
                              pre_dial_retry_s=float(env.get("OUTBOUND_PRE_DIAL_RETRY_SECONDS", "30")))


# POST /calls/{call_ref}/opt-out: how much of what the person said is kept in the evidence (the
# voice runtime's transcript of the request, not the conversation).
OPT_OUT_SAID_MAX_CHARS = 1000


def public_api_url(request_context: dict | None = None) -> str:
    """The base URL providers call back (``<it>/webhooks/<provider>``): PublicApiUrl (a custom
    domain) when set; else the URL the request came in on (``https://{domainName}/{stage}``);
    else, for calls placed with no request (schedules, campaigns), the stack's own API URL."""
    if settings().public_api_url:
        return settings().public_api_url
    if request_context is not None:
        return f"https://{request_context.get('domainName', '')}/{request_context.get('stage', '')}"
    return settings().api_base_url
