"""One webhook POST to the addresses the guard checked, with a per-attempt timeout.

The connection goes to a checked address (``webhook_guard.resolve_checked``), never to a name
resolved again here, while TLS still verifies the certificate against the URL's host name (SNI
and hostname check on the name, socket on the address). No redirects are followed: a redirect
could point anywhere. urllib3 is what botocore already loads.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass

import urllib3

from outbound.outcome_events.guard import CheckedUrl

USER_AGENT = "outbound-webhooks/1.0"
_pools: dict[tuple[str, str, int, str], urllib3.HTTPConnectionPool] = {}


@dataclass(frozen=True)
class PostResult:
    status_code: int | None  # None: no HTTP answer (refused, timed out, TLS...)
    latency_ms: int
    error: str | None  # None: a 2xx
    body: bytes = b""  # the answer's first 64 KiB (a webhook's is ignored; a pre-dial check's is its verdict)

    @property
    def succeeded(self) -> bool:
        return self.error is None


def _ca_bundle() -> str | None:
    try:
        import certifi

        return certifi.where()
    except ImportError:
        import botocore

        bundled = os.path.join(os.path.dirname(botocore.__file__), "cacert.pem")
        return bundled if os.path.exists(bundled) else None


def _pool(checked: CheckedUrl, address: str, timeout_s: float) -> urllib3.HTTPConnectionPool:
    key = (checked.scheme, address, checked.port, checked.host)
    pool = _pools.get(key)
    if pool is None:
        timeout = urllib3.Timeout(connect=min(5.0, timeout_s), read=timeout_s)
        if checked.scheme == "https":
            pool = urllib3.HTTPSConnectionPool(address, checked.port, timeout=timeout, retries=False, maxsize=4,
                                               server_hostname=checked.host, assert_hostname=checked.host,
                                               cert_reqs="CERT_REQUIRED", ca_certs=_ca_bundle())
        else:  # the local stack's loopback receiver only (see webhook_guard)
            pool = urllib3.HTTPConnectionPool(address, checked.port, timeout=timeout, retries=False, maxsize=4)
        _pools[key] = pool
    return pool


def post(checked: CheckedUrl, body: bytes, headers: dict[str, str], timeout_s: float) -> PostResult:
    """POST once per address until one answers; the attempt's whole time is bounded by
    ``timeout_s`` per address tried (connect + read)."""
    default_port = 443 if checked.scheme == "https" else 80
    host = f"[{checked.host}]" if ":" in checked.host else checked.host  # an IPv6 literal, bracketed
    host_header = host if checked.port == default_port else f"{host}:{checked.port}"
    all_headers = {"Host": host_header, "Content-Type": "application/json", "User-Agent": USER_AGENT, **headers}
    started = time.monotonic()
    error = "no address to connect to"
    for address in checked.addresses:
        try:
            response = _pool(checked, address, timeout_s).urlopen(
                "POST", checked.target, body=body, headers=all_headers, redirect=False,
                assert_same_host=False, preload_content=False, timeout=urllib3.Timeout(total=timeout_s))
        except urllib3.exceptions.NewConnectionError:
            error = "connection refused"
            continue  # nothing was sent: the next address may answer
        except urllib3.exceptions.ConnectTimeoutError:
            error = f"could not connect within {timeout_s:g} s"
            continue
        except urllib3.exceptions.ReadTimeoutError:
            return _result(None, started, f"no answer within {timeout_s:g} s")
        except urllib3.exceptions.SSLError as exc:
            return _result(None, started, f"TLS failed: {_reason(exc)}")
        except urllib3.exceptions.HTTPError as exc:
            return _result(None, started, f"connection failed: {_reason(exc)}")
        answer = b""
        try:
            answer = response.read(64 * 1024, decode_content=False)
        except urllib3.exceptions.HTTPError:
            pass
        finally:
            response.release_conn()
        status = response.status
        if 200 <= status < 300:
            return _result(status, started, None, answer)
        note = ": redirects are not followed" if 300 <= status < 400 else ""
        return _result(status, started, f"HTTP {status}{note}")
    return _result(None, started, error)


def _reason(exc: Exception) -> str:
    reason = getattr(exc, "reason", None) or exc
    return type(reason).__name__ if not str(reason) else str(reason)[:200]


def _result(status: int | None, started: float, error: str | None, body: bytes = b"") -> PostResult:
    return PostResult(status, round((time.monotonic() - started) * 1000), error, body)
