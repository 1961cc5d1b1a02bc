"""POST /calls/initiate with an ``Idempotency-Key``: a retried request never places a second call.

The key is folded into the call record itself, so it costs no extra round trip:
- the call_id is derived from (organization, key), and the record is read in the same
  BatchGetItem that already fetches the from number and the organization (``also_read``);
- a record found there answers the first response again (``Idempotent-Replayed: true``), or
  422 when the body differs, or 409 while the first request is still in flight;
- two identical requests racing past that read meet at the record's conditional create in the
  reserve transaction: only one holds a reserve and places a call; the other replays.
Keys are remembered 24 hours; reusing one later is a 422 (never a silent second call).
Requests refused before any record exists (400/402/403/404) are not remembered: a retry is
evaluated afresh.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from datetime import datetime, timedelta, timezone
from typing import Any

from outbound import store
from outbound.calls.initiate import TIMEOUT_DETAIL, place_prepared, prepare_call
from outbound.compliance.dial_check import DialOrigin
from outbound.calls.models import COMPLIANCE_FIELDS, OUTCOME_FIELDS, InitiateCallRequest
from outbound.errors import Conflict, ProviderFailed, ProviderTimedOut, Unprocessable
from outbound.idempotency import KEY_TTL, REPLAYED, check_key

FIRST_REQUEST_LIFETIME = timedelta(seconds=30)  # API Gateway gives up on a request after 29 s


def idempotent_call_id(organization_id: str, key: str) -> str:
    return "call_" + hashlib.sha256(f"idempotency|{organization_id}|{key}".encode()).hexdigest()[:24]


def request_hash(request: InitiateCallRequest) -> str:
    """The request as parsed (so JSON spacing and key order do not matter). Outcome fields left
    unset are left out, so a key stored before they existed still matches its retry."""
    fields = {k: v for k, v in asdict(request).items()
              if not (k in OUTCOME_FIELDS + COMPLIANCE_FIELDS and v in (None, {}))}
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


def initiate_call_once(organization_id: str, request: InitiateCallRequest, public_api_url: str,
                       key: str, origin: DialOrigin | None = None) -> tuple[dict[str, Any], dict[str, str]]:
    """(response body, extra headers) for an initiate carrying an Idempotency-Key."""
    call_id = idempotent_call_id(organization_id, check_key(key))
    fingerprint = request_hash(request)
    record_key = store.call_key(call_id)
    prepared = prepare_call(organization_id, request, also_read=(record_key,), origin=origin)
    existing = prepared.also_read.get(tuple(record_key.values()))
    if existing is None:
        try:
            body = place_prepared(prepared, public_api_url, call_id,
                                  {"request_hash": fingerprint, "idempotency_key": True})
            return body, {}
        except store.CallAlreadyExists as exc:  # lost the race to an identical request
            existing = exc.existing or store.get_item(record_key)
    return replay(existing, fingerprint), REPLAYED


def replay(record: dict[str, Any], fingerprint: str) -> dict[str, Any]:
    """The first request's answer, rebuilt from its call record."""
    if record.get("request_hash") != fingerprint:
        raise Unprocessable("Idempotency-Key was already used with a different request")
    created = datetime.fromisoformat(record["created_at"].replace("Z", "+00:00"))
    age = datetime.now(timezone.utc) - created
    if age > KEY_TTL:
        raise Unprocessable("Idempotency-Key has expired (keys are kept 24 hours); use a new key")
    if record.get("call_sid"):
        return {"message": "Call initiated successfully", "call_sid": record["call_sid"],
                "call_id": record["call_id"], "assistant_id": record["assistant_id"],
                "provider": record["provider"], "status": "queued"}
    status = record.get("status")
    if status == "failed" and not record.get("abandoned_at"):  # refused by the provider
        raise ProviderFailed(f"Telephony provider error: {record.get('failure_reason')}", headers=REPLAYED)
    if status in ("unconfirmed", "failed") or (status == "initiating" and age > FIRST_REQUEST_LIFETIME):
        # The first request has ended without recording the provider's answer (the sweeper may
        # have released it since): it may have placed the call, so never a go-ahead to try again.
        raise ProviderTimedOut(TIMEOUT_DETAIL, headers=REPLAYED, call_id=record["call_id"])
    raise Conflict("A request with this Idempotency-Key is still in progress", headers=REPLAYED)
