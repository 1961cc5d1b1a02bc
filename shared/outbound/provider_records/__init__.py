"""The providers' own records of an organization's calls, read with the organization's credentials
(what telephone billing reconciles against: call detail records, not the webhooks).

| provider | one call                                         | search (our unconfirmed calls)              |
|----------|--------------------------------------------------|---------------------------------------------|
| twilio   | ``GET /2010-04-01/Accounts/{sid}/Calls/{CallSid}.json`` | ``GET .../Calls.json?To=&From=&StartTime>=&StartTime<=`` |
| vonage   | ``GET /v1/calls/{uuid}``                         | ``GET /v1/calls?date_start=&date_end=`` (HAL pages; numbers compared here) |
| telnyx   | ``GET /v2/detail_records?filter[record_type]=call-control&filter[telnyx_call_control_id]=`` (finished calls only), else ``GET /v2/calls/{id}`` (alive or not) | ``GET /v2/detail_records?...&filter[cld]=&filter[cli]=&filter[created_at][gte]=&[lt]=`` |
| sip      | none: the FreeSWITCH bridge is the organization's own, its signed events are its records |

Each provider module offers ``fetch(credentials, call_sid) -> ProviderRecord | None`` (None: the
provider has no such call for these credentials) and ``search(credentials, to, from_, since,
until) -> list[ProviderRecord]``; both raise :class:`RecordsUnavailable` when the provider cannot
be read (credentials refused, 5xx, timeout, an answer we cannot read). Plain urllib3 GETs (reads
are idempotent: retried on 429 and 5xx), through the adapters' base URLs (the local stack points
them at its emulators). Never on a request path.
"""
from __future__ import annotations

import importlib
import json
from dataclasses import dataclass
from typing import Any

import urllib3

from outbound.calls.lifecycle import is_final

PROVIDERS = ("twilio", "telnyx", "vonage")
TIMEOUT_S = 10

_pool = urllib3.PoolManager(retries=urllib3.Retry(total=3, backoff_factor=0.2, allowed_methods=["GET"],
                                                  status_forcelist=(429, 500, 502, 503, 504), raise_on_status=False),
                            timeout=urllib3.Timeout(connect=TIMEOUT_S, read=TIMEOUT_S))


class RecordsUnavailable(Exception):
    """The provider's records could not be read now: nothing is concluded from them."""


@dataclass(frozen=True)
class ProviderRecord:
    """One call as its provider records it, in our terms."""

    provider_call_id: str
    status: str  # our status model: queued, ringing, in-progress, or a final status
    provider_status: str  # the provider's own word for it
    duration_s: int | None = None  # answered seconds (what is charged), once finished
    to_number: str | None = None  # E.164
    from_number: str | None = None
    started_at: str | None = None  # ISO 8601 (UTC, ...Z)
    ended_at: str | None = None

    @property
    def finished(self) -> bool:
        return is_final(self.status)


def module(provider: str):
    if provider not in PROVIDERS:
        raise ValueError(f"no provider records for {provider}")
    return importlib.import_module(f"{__name__}.{provider}")


def fetch(provider: str, credentials: dict[str, Any], call_sid: str) -> ProviderRecord | None:
    return module(provider).fetch(credentials, call_sid)


def search(provider: str, credentials: dict[str, Any], to: str, from_: str, since: str,
           until: str) -> list[ProviderRecord]:
    """The provider's calls from ``from_`` to ``to`` created between ``since`` and ``until``
    (ISO 8601): the candidates for a call whose provider id we never learned."""
    return module(provider).search(credentials, to, from_, since, until)


def get_json(provider: str, url: str, headers: dict[str, str], fields: dict[str, Any] | None = None) -> Any:
    """GET a provider's JSON; None for a 404 (no such record); RecordsUnavailable otherwise."""
    try:
        response = _pool.request("GET", url, fields=fields, headers={"Accept": "application/json", **headers})
    except urllib3.exceptions.HTTPError as exc:
        raise RecordsUnavailable(f"{provider} is unreachable: {type(exc).__name__}") from None
    if response.status == 404:
        return None
    if response.status in (401, 403):
        raise RecordsUnavailable(f"{provider} refused the organization's credentials (HTTP {response.status})")
    if response.status >= 300:
        raise RecordsUnavailable(f"{provider} answered HTTP {response.status}")
    try:
        return json.loads(response.data)
    except ValueError:
        raise RecordsUnavailable(f"{provider} answered something that is not JSON") from None


def seconds(value: Any) -> int | None:
    try:
        return max(0, int(float(value)))
    except (TypeError, ValueError):
        return None
