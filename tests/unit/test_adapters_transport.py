"""What every REST adapter does on the wire when the provider is slow, drops the connection or
is unreachable (one shared HTTP path, outbound.providers._http): never a second create-call."""
from __future__ import annotations

import pytest

from outbound.providers import OutboundCall, ProviderRefused, ProviderTimeout, get_adapter
from outbound_local.emulators import telnyx, twilio, vonage
from outbound_local.emulators.base import DROPPED_NUMBER, SILENT_NUMBER
from tests.unit.emulator_hosts import point_adapter_at, start_http_emulator, unused_port

# provider -> (URL env variable, the path the adapter's base URL includes, its emulator module)
REST_PROVIDERS = {
    "twilio": ("OUTBOUND_TWILIO_API_URL", "", twilio),
    "telnyx": ("OUTBOUND_TELNYX_API_URL", "/v2", telnyx),
    "vonage": ("OUTBOUND_VONAGE_API_URL", "", vonage),
}


@pytest.fixture(scope="module")
def host():
    host = start_http_emulator({"/2010-04-01/": ("twilio", twilio), "/v2": ("telnyx", telnyx),
                                "/v1": ("vonage", vonage)})
    yield host
    host.stop()


@pytest.fixture(params=sorted(REST_PROVIDERS))
def provider(request, host, monkeypatch):
    env_var, path, _ = REST_PROVIDERS[request.param]
    host.log.clear()
    point_adapter_at(monkeypatch, env_var, host.url + path)
    return request.param


def place(provider: str, to: str = "+15559876543") -> str:
    call = OutboundCall(call_id="call_123", from_number="+15551234567", to_number=to,
                        stream_url="wss://runtime.example.com/stream",
                        status_callback_url=f"https://api.example.com/webhooks/{provider}?call_id=call_123",
                        provider_settings={"connection_id": "1494404757140276705"},
                        ring_timeout_s=25, time_limit_s=1800)
    return get_adapter(provider).place_call(call, REST_PROVIDERS[provider][2].DEFAULT_CREDENTIALS)


def test_silent_provider_is_a_timeout(provider, monkeypatch):
    monkeypatch.setenv("OUTBOUND_PROVIDER_TIMEOUT_S", "0.5")
    with pytest.raises(ProviderTimeout):
        place(provider, SILENT_NUMBER)


def test_dropped_connection_is_a_timeout_after_exactly_one_post(provider, host):
    with pytest.raises(ProviderTimeout):
        place(provider, DROPPED_NUMBER)
    assert [e["method"] for e in host.log.entries()] == ["POST"]


def test_unreachable_api_is_a_refusal_not_a_timeout(provider, monkeypatch):
    env_var, path, _ = REST_PROVIDERS[provider]
    monkeypatch.setenv(env_var, f"http://127.0.0.1:{unused_port()}{path}")
    with pytest.raises(ProviderRefused, match="unreachable"):
        place(provider)
