"""Settings from the function's environment (template.yaml's parameters)."""
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
    credentials_secret_prefix: str  # Secrets Manager names: <prefix><organization_id>/<provider>
    ring_timeout_s: int
    max_call_seconds: int


@lru_cache(maxsize=1)
def settings() -> Settings:
    env = os.environ
    return Settings(
        table_name=env.get("TABLE_NAME", "outbound-local"),
        call_reserve_cents=int(env.get("CALL_RESERVE_CENTS", "100")),
        per_minute_rate_cents=int(env.get("PER_MINUTE_RATE_CENTS", "10")),
        voice_stream_url=env.get("VOICE_STREAM_URL", "wss://voice-runtime.invalid/stream"),
        public_api_url=env.get("PUBLIC_API_URL", "").rstrip("/"),
        credentials_secret_prefix=env.get("CREDENTIALS_SECRET_PREFIX", "outbound/local/"),
        ring_timeout_s=int(env.get("RING_TIMEOUT_SECONDS", "30")),
        max_call_seconds=int(env.get("MAX_CALL_SECONDS", "3600")),
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
