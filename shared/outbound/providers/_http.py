"""The one HTTP path every REST adapter uses to place (and hang up) a call.

urllib3 is already loaded by botocore, so it costs nothing on a cold start. ``retries=False``:
a create-call is not idempotent at any provider, so it is sent exactly once; a connection that
drops after the request went out is a ProviderTimeout (the provider may have placed the call),
never a retry. One pool per process keeps connections (and TLS sessions) warm across
invocations.
"""
from __future__ import annotations

import json
from typing import Any, Callable

import urllib3

from . import ProviderAuthError, ProviderRefused, ProviderTimeout, provider_timeout_s

_pool = urllib3.PoolManager(retries=False)


def close_connections() -> None:
    """Close the kept-alive connections (after a SnapStart restore: outbound.snapstart)."""
    _pool.clear()


def post(provider: str, url: str, body: bytes, headers: dict[str, str],
         error_message: Callable[[Any, int], str]) -> Any:
    """POST once; return the parsed JSON of a 2xx, or raise the typed ProviderError."""
    status, data = send("POST", provider, url, body, headers)
    if status in (401, 403):
        raise ProviderAuthError(error_message(data, status))
    if status >= 300:
        raise ProviderRefused(error_message(data, status))
    return data


def send(method: str, provider: str, url: str, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
    """Send once; (HTTP status, parsed JSON or None), or the typed ProviderError of a transport
    failure (the caller judges the status: a hang-up takes a 404 as "already ended")."""
    seconds = provider_timeout_s()
    try:
        response = _pool.request(method, url, body=body, headers={"Accept": "application/json", **headers},
                                 timeout=urllib3.Timeout(total=seconds, connect=seconds, read=seconds))
    except urllib3.exceptions.NewConnectionError:  # before ConnectTimeoutError: a subclass
        raise ProviderRefused(f"{provider} is unreachable: connection refused") from None
    except urllib3.exceptions.ConnectTimeoutError:
        # Nothing was sent, so nothing was placed: a plain refusal, safe to release.
        raise ProviderRefused(f"{provider} is unreachable: connection timed out") from None
    except (urllib3.exceptions.ReadTimeoutError, urllib3.exceptions.ProtocolError):
        raise ProviderTimeout(f"No answer from {provider} in time") from None
    except urllib3.exceptions.HTTPError as exc:  # TLS and other transport failures
        raise ProviderRefused(f"{provider} is unreachable: {type(exc).__name__}") from None
    try:
        data = json.loads(response.data or b"null")
    except ValueError:
        data = None
    return response.status, data


def hang_up_answer(provider: str, status: int, data: Any, error_message: Callable[[Any, int], str],
                   already_ended: bool) -> None:
    """Judge a hang-up's answer: done on a 2xx, and when the provider says the call has ended already
    (``already_ended``: hanging up is idempotent); else the typed ProviderError."""
    if 200 <= status < 300 or already_ended:
        return
    if status in (401, 403):
        raise ProviderAuthError(error_message(data, status))
    raise ProviderRefused(error_message(data, status))
