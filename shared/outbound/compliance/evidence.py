"""Evidence: for any call, why this number was dialed and whether it was allowed.

Each dial writes, in the transaction that reserves it, a write-once record (``EVIDENCE#<call_id>``
/ ``DIAL``): who asked (API key prefix, schedule, campaign), the caller ID, the rules applied
and their version, the verdict (every zone with its local time, the frequency count, the
consent), the do-not-call result and the organization's own pre-dial check's answer (None when it
has none registered: compliance.pre_dial).
A dial the rules refused is recorded too when no person is there to be told (a campaign's or a
schedule's: ``REFUSED#<when>``); a refused POST /calls/initiate is answered, and counted in
metrics.

Tampering is detectable: every record carries ``hmac``, HMAC-SHA256 over its canonical JSON
(every field but the keys and the hmac, sorted, compact), keyed by the stack's evidence key in
Secrets Manager (EvidenceKeySecret; ``key_version`` names the secret version used). Whoever can
write the table cannot re-seal an altered record without that key; `outbound admin evidence
CALL` checks every record of a call.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

from outbound.config import compliance_settings

from .rules import Verdict

UNSEALED = ("pk", "sk", "hmac")
_keys: dict[str | None, tuple[float, bytes, str]] = {}  # version (None: current) -> (until, key, version)


class EvidenceKeyMissing(Exception):
    """The evidence key could not be read: no dial may go out without its evidence."""


def signing_key(version: str | None = None) -> tuple[bytes, str]:
    """(key, its version): the current version, or the one an older record names. Cached like the
    provider credentials (a warm function reads it once per cache period)."""
    cached = _keys.get(version)
    if cached and cached[0] > time.monotonic():
        return cached[1], cached[2]
    from outbound.credentials import CredentialsMissing, get_secret_value

    name = compliance_settings().evidence_key_secret
    if not name:
        raise EvidenceKeyMissing("EVIDENCE_KEY_SECRET is not set: the stack's evidence key is unknown")
    try:
        answer = get_secret_value(name, "evidence key", version)
    except CredentialsMissing as exc:
        raise EvidenceKeyMissing(str(exc)) from None
    key, found = str(answer.get("SecretString") or "").encode(), str(answer.get("VersionId") or "")
    if not key:
        raise EvidenceKeyMissing("The evidence key secret is empty")
    until = time.monotonic() + compliance_settings().evidence_key_cache_s
    _keys[version] = _keys[found] = (until, key, found)
    return key, found


def clear_cache() -> None:
    _keys.clear()


def canonical(record: dict[str, Any]) -> bytes:
    """What the hmac covers: the record as stored (top-level nulls are not stored) without keys."""
    body = {k: v for k, v in record.items() if k not in UNSEALED and v is not None}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def seal(record: dict[str, Any]) -> dict[str, Any]:
    key, version = signing_key()
    sealed = {**record, "key_version": version}
    sealed["hmac"] = hmac.new(key, canonical(sealed), hashlib.sha256).hexdigest()
    return sealed


def verify(record: dict[str, Any]) -> tuple[bool, str]:
    """(intact, why): the hmac recomputed with the key version the record names."""
    if not record.get("hmac") or not record.get("key_version"):
        return False, "no hmac or key_version: not a sealed record"
    try:
        key, _ = signing_key(str(record["key_version"]))
    except EvidenceKeyMissing as exc:
        return False, f"its key version could not be read ({exc})"
    expected = hmac.new(key, canonical(record), hashlib.sha256).hexdigest()
    if hmac.compare_digest(expected, str(record["hmac"])):
        return True, "hmac verified"
    return False, "hmac does not match: the record was altered after it was written"


def build(kind: str, key: dict[str, str], call_id: str, organization_id: str, recorded_at: str,
          requested_by: dict[str, Any], caller_id: str, to_number: str, provider: str | None,
          rules_applied: bool, verdict: Verdict, rules_note: str | None = None,
          pre_dial: dict[str, Any] | None = None) -> dict[str, Any]:
    """An evidence record (unsealed): ``kind`` "dial" (allowed and reserved) or "refusal"."""
    return {**key, "evidence_id": f"{call_id}/{key['sk']}", "kind": kind, "call_id": call_id,
            "organization_id": organization_id, "recorded_at": recorded_at, "requested_by": requested_by,
            "caller_id": caller_id, "recipient": to_number, "provider": provider,
            "rules_applied": rules_applied, "rules_note": rules_note, "verdict": verdict.as_dict(),
            # Reaching the verdict means the do-not-call entry was read (in the same BatchGetItem)
            # and absent: a listed number is refused before.
            "suppression": {"checked": True, "listed": False},
            "pre_dial": pre_dial}  # the organization's own pre-dial check's answer, when it has one


def view(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in ("pk", "sk")}


SUMMARY_FIELDS = ("evidence_id", "evidence_verdict", "evidence_reasons", "evidence_zones",
                  "evidence_rules_version", "evidence_hmac")


def summary(record: dict[str, Any] | None) -> dict[str, Any]:
    """A record in a few flat fields (a results.csv row's evidence columns, a contact's
    ``last_evidence``)."""
    if not record:
        return {name: None for name in SUMMARY_FIELDS}
    verdict = record.get("verdict") or {}
    if record.get("kind") == "refusal":
        outcome = "refused"
    else:
        outcome = "allowed" if record.get("rules_applied") else "not_checked"
    zones = "; ".join(f"{z['zone']} {str(z['local_time'])[11:16]}" for z in verdict.get("zones") or ())
    reasons = [r["code"] for r in verdict.get("reasons") or ()]
    pre_dial = record.get("pre_dial") or {}
    if pre_dial.get("result") in ("denied", "failed"):  # the organization's own check said no, or was not reached
        reasons.append(f"pre_dial_{pre_dial['result']}")
    return {"evidence_id": record.get("evidence_id"), "evidence_verdict": outcome,
            "evidence_reasons": " ".join(reasons),
            "evidence_zones": zones, "evidence_rules_version": (verdict.get("rules") or {}).get("version"),
            "evidence_hmac": record.get("hmac"), "recorded_at": record.get("recorded_at")}
