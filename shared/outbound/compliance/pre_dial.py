"""The organization's own pre-dial check: an https endpoint of the customer's, asked before each
campaign or scheduled dial (national do-not-call scrubs, consent stores in the customer's own
systems). POST /calls/initiate never asks it: its hot path and contract stay as they are.

Registered on the organization item (``pre_dial_check``: id, url, timeout_ms, secret_version), so
the dialer reads it in the BatchGetItem initiate makes anyway: an organization without one pays
nothing, not even a read. Its signing secret is kept in Secrets Manager like a webhook endpoint's
(outcome_events.secrets, named by the check's id ``pdc_...``) and shown once, at registration; the
URL obeys the webhook endpoints' SSRF rules (outcome_events.guard), at registration and again
before every request (DNS can change), connecting to the very addresses checked.

Each check is one POST, signed with Standard Webhooks headers by the same code as the outcome
webhooks, bounded by ``timeout_ms`` (default 2 s, at most 5 s), no retry within the dial. The
answer must be ``{"allow": true}`` or ``{"allow": false, "reason": "..."}``. It fails closed: no
answer, a timeout, a non-2xx or an unreadable answer means no call, with the reason. Every result
goes into the dial's sealed evidence (``pre_dial``) and the metrics (allowed, denied, failed).
"""
from __future__ import annotations

import json
import secrets
import uuid
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any

from aws_lambda_powertools import Logger

from outbound import metrics, store
from outbound.errors import ApiError, BadRequest, Conflict, NotFound
from outbound.phone import mask

from .dial_check import DialCheck, iso_ms

logger = Logger(child=True)

DEFAULT_TIMEOUT_MS, MIN_TIMEOUT_MS, MAX_TIMEOUT_MS = 2000, 100, 5000
MAX_REASON_CHARS = 300
EVENT_TYPE = "pre_dial.check"
VIEW_FIELDS = ("id", "url", "timeout_ms", "created_at", "updated_at")


# --- configuration (PUT, GET, DELETE /organization/pre-dial-check) ---------------------------------------

def get_check(organization_id: str) -> dict[str, Any]:
    return _view(_registered(organization_id))


def put_check(organization_id: str, url: str, timeout_ms: int | None) -> dict[str, Any]:
    """Register the check (its secret made and shown once) or change its URL and timeout (the
    secret kept, not shown again)."""
    from outbound.outcome_events import guard
    from outbound.outcome_events import secrets as signing

    try:
        guard.resolve_checked(url)
    except guard.UnsafeUrl as exc:
        raise BadRequest(str(exc)) from None
    organization = store.get_item(store.organization_key(organization_id))
    if organization is None:
        raise NotFound(f"No organization {organization_id}")
    current, now = organization.get("pre_dial_check"), store.now_iso()
    if current:
        config = {**current, "url": url, "timeout_ms": timeout_ms or DEFAULT_TIMEOUT_MS, "updated_at": now}
        _store(organization_id, config, current["id"])
        return _view(config)
    config = {"id": f"pdc_{secrets.token_hex(12)}", "url": url, "timeout_ms": timeout_ms or DEFAULT_TIMEOUT_MS,
              "secret_version": 1, "created_at": now, "updated_at": now}
    secret = signing.create(config["id"])
    try:
        _store(organization_id, config, None)
    except BaseException:
        signing.delete(config["id"])  # nothing half-made is left behind
        raise
    logger.info("Pre-dial check registered", extra={"check_id": config["id"]})
    return {**_view(config), "secret": secret}


def delete_check(organization_id: str) -> dict[str, Any]:
    from outbound.outcome_events import secrets as signing

    try:
        removed = store.remove_pre_dial_check(organization_id)
    except store.PreDialCheckMissing:
        raise _none_registered() from None
    if removed.get("id"):
        signing.delete(removed["id"])
    logger.info("Pre-dial check removed", extra={"check_id": removed.get("id")})
    return {"message": "Pre-dial check removed: dials no longer ask it", "id": removed.get("id")}


def _registered(organization_id: str) -> dict[str, Any]:
    organization = store.get_item(store.organization_key(organization_id)) or {}
    if not organization.get("pre_dial_check"):
        raise _none_registered()
    return organization["pre_dial_check"]


def _store(organization_id: str, config: dict[str, Any], replacing: str | None) -> None:
    try:
        store.set_pre_dial_check(organization_id, config, replacing)
    except store.PreDialCheckChanged:
        raise Conflict("The pre-dial check was changed by another request meanwhile; read it and try again") from None


def _view(config: dict[str, Any]) -> dict[str, Any]:
    return {name: int(config[name]) if name == "timeout_ms" else config.get(name) for name in VIEW_FIELDS}


def _none_registered() -> NotFound:
    return NotFound("No pre-dial check is registered: PUT /organization/pre-dial-check registers one")


# --- the check, before a dial ------------------------------------------------------------------------------

class PreDialRefused(ApiError):
    """The pre-dial check denied the dial (422) or could not be asked (502): no call."""

    def __init__(self, check: DialCheck, answer: dict[str, Any]):
        self.status = 422 if answer["result"] == "denied" else 502
        detail = (f"Your pre-dial check denied this call: {answer['reason']}" if answer["result"] == "denied" else
                  f"Your pre-dial check could not be asked ({answer['reason']}): no call, it fails closed")
        super().__init__(detail, reasons=[f"pre_dial_{answer['result']}"])
        self.check, self.answer = check, answer

    @property
    def denied(self) -> bool:
        return self.answer["result"] == "denied"

    def evidence(self, call_id: str) -> dict[str, Any]:
        """The refusal's sealed evidence, with the check's answer and the rules' verdict now."""
        return self.check.evidence(call_id, self.check.verdict(datetime.now(timezone.utc)), None, refused=True)


def checked(dial: DialCheck, organization: dict[str, Any], call_id: str | None,
            about: dict[str, Any]) -> DialCheck:
    """The dial with the check's answer for its evidence; PreDialRefused unless allowed. Nothing is
    asked when no check is registered, nor when the calling rules refuse the dial anyway (the
    reserve then refuses it with their reasons)."""
    config = organization.get("pre_dial_check")
    if not config or not config.get("url"):
        return dial
    now = datetime.now(timezone.utc)
    if not dial.verdict(now).allowed:
        return dial
    payload = {"type": EVENT_TYPE, "check_id": config["id"], "call_id": call_id, "dial_at": iso_ms(now),
               "from_phone_number": dial.from_number, "to_phone_number": dial.to_number,
               "via": dial.origin.via, **{k: v for k, v in about.items() if v is not None}}
    answer = ask(config, payload)
    logger.info("Pre-dial check answered", extra={"check_id": config["id"], "result": answer["result"],
                                                  "to": mask(dial.to_number), "latency_ms": answer["latency_ms"]})
    metrics.count({"allowed": metrics.PRE_DIAL_ALLOWED, "denied": metrics.PRE_DIAL_DENIED}.get(
        answer["result"], metrics.PRE_DIAL_FAILED))
    dial = replace(dial, pre_dial=answer)
    if answer["result"] != "allowed":
        raise PreDialRefused(dial, answer)
    return dial


def ask(config: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
    """One signed POST; the answer as the evidence keeps it (result allowed, denied or failed)."""
    from outbound.outcome_events import guard, transport
    from outbound.outcome_events import secrets as signing

    asked_at = datetime.now(timezone.utc)
    record = {"check_id": config["id"], "asked_at": iso_ms(asked_at), "status_code": None, "latency_ms": 0}
    timeout_s = min(MAX_TIMEOUT_MS, int(config.get("timeout_ms") or DEFAULT_TIMEOUT_MS)) / 1000
    try:
        target = guard.resolve_checked(config["url"])
    except guard.UnsafeUrl as exc:
        return {**record, "result": "failed", "reason": f"refused to ask it: {exc}"}
    record["host"] = target.host
    try:
        signing_secrets = signing.signing_secrets(config["id"], int(config.get("secret_version") or 1))
    except Exception as exc:  # noqa: BLE001 - fail closed, and say why
        return {**record, "result": "failed", "reason": f"its signing secret could not be read ({type(exc).__name__})"}
    body = json.dumps(payload, separators=(",", ":"))
    headers = signing.sign(signing_secrets, f"msg_{uuid.uuid4().hex}", asked_at, body)
    result = transport.post(target, body.encode(), headers, timeout_s)
    record.update(status_code=result.status_code, latency_ms=result.latency_ms)
    if result.error:
        return {**record, "result": "failed", "reason": result.error}
    return {**record, **verdict_of(result.body)}


def verdict_of(body: bytes) -> dict[str, Any]:
    """``{"allow": true}`` or ``{"allow": false, "reason": "..."}``; anything else fails closed."""
    try:
        answer = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        answer = None
    if not isinstance(answer, dict) or not isinstance(answer.get("allow"), bool):
        return {"result": "failed", "reason": 'the answer is not a JSON object with a boolean "allow"'}
    if answer["allow"]:
        return {"result": "allowed", "reason": None}
    reason = answer.get("reason")
    reason = reason.strip()[:MAX_REASON_CHARS] if isinstance(reason, str) and reason.strip() else "no reason given"
    return {"result": "denied", "reason": reason}
