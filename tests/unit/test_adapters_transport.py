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


@pytest.fixture
def accepts_without_id():
    """A provider that answers 2xx with a body that names no call: it accepted *something*."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's naming
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            body = b'{"status": "queued"}'
            self.send_response(201)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.mark.parametrize("provider", sorted(REST_PROVIDERS))
def test_a_success_answer_without_the_call_id_is_ambiguous_not_a_refusal(provider, accepts_without_id, monkeypatch):
    """Answered 2xx, the provider may be ringing someone: a refusal would release the reserve and
    tell the client to retry (a second call); a timeout keeps the reserve and answers 504."""
    env_var, path, _ = REST_PROVIDERS[provider]
    point_adapter_at(monkeypatch, env_var, accepts_without_id + path)
    with pytest.raises(ProviderTimeout, match="accepted the request"):
        place(provider)
