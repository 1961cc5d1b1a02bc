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
