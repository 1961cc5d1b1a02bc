"""One campaign attempt (CampaignDialerFunction, from the dial queue): the same use case as
POST /calls/initiate, with the attempt's call id derived from contact and attempt number, so
however often the message is delivered the call is placed at most once.

The dial message carries the call's body (built by the dispatcher from the campaign it had just
read), and the campaign, the contact and the attempt's call record are read in initiate's own
BatchGetItem (``also_read``): the attempt costs exactly a call's round trips. Before anything is
written:
- the contact no longer holds this attempt (a repeated or stale message), or the attempt's call
  exists already (a repeated message, whatever the campaign's status since): nothing to do;
- the campaign is no longer running: the contact goes back to waiting, the attempt not burned
  (paused), or ends ``canceled`` (canceled, ended: the dispatcher decides, from the campaign);
- the call cannot be made (invalid number or destination, missing variable, do-not-call): the
  contact ends ``invalid`` or ``suppressed``, no call;
- AWS fails before the provider was asked (DynamoDB throttled or down, Secrets Manager): the
  contact waits again at once, its slot given back and the attempt not burned, due again after a
  growing pause (2, 4, 8... s); its fifth failure in a row ends it ``failed`` with the reason;
- the calling rules refuse it (outbound.compliance: the organization's rules narrowed by the
  campaign's, in every zone the contact may be in, its caps counted over every path, consent):
  the refusal's evidence is written, and the contact waits for the next allowed time (attempt
  not burned) or, when waiting cannot help (consent missing), ends ``skipped``;
- the organization's own pre-dial check (compliance.pre_dial, when registered) denies it: the
  contact ends ``skipped`` with the customer's reason; cannot be asked: it waits briefly, and the
  third failure in a row ends it ``skipped`` (_refused_by_pre_dial).
A 402 puts the contact back (attempt not burned): while the balance itself covers a call, the
shortfall is reserves of calls in flight, so the dial waits 10 s and tries again; only when the
balance cannot cover one more call is the campaign paused (``insufficient_balance``; a credit
resumes it). A provider refusal or timeout leaves a call record like any other call: its status
flows back through the table's stream like every call's end; a timeout (the outcome unknown) is
also checked with the provider shortly after (outbound.campaigns.repair).
"""
from __future__ import annotations

import time
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError

from outbound import store
from outbound.calls.initiate import place_prepared, prepare_call
from outbound.calls.models import initiate_request_from
from outbound.campaigns import queues, timers
from outbound.campaigns.lifecycle import pause_for_balance
from outbound.campaigns.policy import WAITING_STATUSES
from outbound.campaigns.settings import Campaign
from outbound.compliance import evidence, pre_dial
from outbound.compliance.dial_check import CallingRulesRefused, DialOrigin
from outbound.errors import (
    ApiError,
    PaymentRequired,
    ProviderFailed,
    ProviderTimedOut,
    ServiceUnavailable,
    Suppressed,
)
from outbound.config import campaign_settings, compliance_settings
from outbound.phone import mask

logger = Logger(child=True)

AWS_FAILURES = (ServiceUnavailable, ClientError, BotoCoreError)  # before the provider: nothing placed
RESERVES_IN_FLIGHT_WAIT_S = 10.0


class ClaimNotWritten(Exception):
    """The dispatcher sends a dial before it writes its claim (so a claim never lacks its dial);
    this dial came first. Retried shortly; if the claim never lands, the message goes stale."""


def dial(message: dict[str, Any], public_api_url: str) -> dict[str, Any]:
    campaign_id, contact_id, attempt = message["campaign_id"], message["contact_id"], int(message["attempt"])
    about = {"campaign_id": campaign_id, "contact_id": contact_id, "attempt": attempt, "call_id": message["call_id"]}
    campaign_key, contact_key = store.campaign_key(campaign_id), store.contact_key(campaign_id, contact_id)
    call_key = store.call_key(message["call_id"])
    try:
        request = initiate_request_from(message["call"])
        origin = DialOrigin("campaign", campaign_id=campaign_id, contact_id=contact_id, attempt=attempt)
        prepared = prepare_call(message["organization_id"], request, also_read=(campaign_key, contact_key, call_key),
                                origin=origin)
    except AWS_FAILURES as exc:
        return _failed(message, about, exc)
    except Suppressed as exc:
        return _not_placed(message, "suppressed", exc.detail, about)
    except ApiError as exc:  # 400/403/404, or no provider credentials: this contact cannot be called
        return _not_placed(message, "invalid" if not isinstance(exc, ProviderFailed) else "failed", exc.detail, about)
    item = prepared.also_read.get(tuple(campaign_key.values()))
    contact = prepared.also_read.get(tuple(contact_key.values())) or {}
    if contact.get("status") != "dialing" or contact.get("current_call_id") != message["call_id"]:
        if contact.get("status") in WAITING_STATUSES and int(contact.get("attempts") or 0) == attempt - 1:
            raise ClaimNotWritten(f"the claim of {message['call_id']} is not written yet")
        logger.info("Stale dial message: nothing to do", extra=about)
        return {"outcome": "stale", **about}
    if tuple(call_key.values()) in prepared.also_read:  # placed by an earlier delivery: the call's
        # end settles the contact (deferring now would put a contact whose call is live back to waiting)
        logger.info("Repeated dial message: the call exists", extra=about)
        if prepared.also_read[tuple(call_key.values())].get("status") in ("initiating", "unconfirmed"):
            timers.check_attempt(campaign_id, contact_id, message["call_id"], campaign_settings().unknown_check_s)
        return {"outcome": "duplicate", **about}
    if item is None or item.get("status") != "running":
        return _deferred(message, about, (item or {}).get("status"))
    campaign = Campaign.from_item(item)
    prepared = replace(prepared, dial=prepared.dial.for_campaign(campaign.rules, message.get("timezone"),
                                                                 campaign.timezone, contact.get("consent")))
    _wait_for_slot(message.get("dial_at"))
    try:  # the organization's own pre-dial check, when it registered one
        prepared = replace(prepared, dial=pre_dial.checked(prepared.dial, prepared.organization, message["call_id"], {
            "campaign_id": campaign_id, "contact_id": contact_id, "attempt": attempt,
            "external_id": message.get("external_id"), "variables": prepared.request.variables}))
    except pre_dial.PreDialRefused as refused:
        return _refused_by_pre_dial(message, refused, about)
    extra = {"campaign_id": campaign_id, "contact_id": contact_id, "attempt": attempt,
             "recipient_timezone": message.get("timezone")}
    try:
        result = place_prepared(prepared, public_api_url, message["call_id"],
                                {k: v for k, v in extra.items() if v is not None})
    except store.CallAlreadyExists:  # a repeated delivery: the first one placed it
        return {"outcome": "duplicate", **about}
    except PaymentRequired:
        if int(prepared.organization.get("balance_cents") or 0) >= prepared.reserve_cents:
            # the money is there, held by calls in flight: wait for them to settle, no pause
            return _deferred(message, about, "reserves_in_flight", retry_after_s=RESERVES_IN_FLIGHT_WAIT_S)
        pause_for_balance(campaign_id, message["organization_id"])
        return _deferred(message, about, "insufficient_balance")
    except CallingRulesRefused as refused:
        return _refused_by_rules(message, refused, about)
    except AWS_FAILURES as exc:  # the reserve could not be written (or undone: too little time left)
        return _failed(message, about, exc)
    except ProviderTimedOut:  # the outcome is unknown: ask the provider shortly (outbound.campaigns.repair)
        timers.check_attempt(campaign_id, contact_id, message["call_id"], campaign_settings().unknown_check_s)
        return {"outcome": "provider_timeout", **about}
    except ProviderFailed:  # a call record exists: its end comes by the stream
        return {"outcome": "provider_failed", **about}
    logger.info("Campaign call placed", extra={**about, "to": mask(message["phone_number"])})
    return {"outcome": "placed", "call_sid": result["call_sid"], **about}


MAX_SLOT_WAIT_S = 2.0


def _wait_for_slot(dial_at: str | None) -> None:
    """SQS delays in whole seconds: a dial can arrive up to a second before its pacing slot. Wait
    for it, so that no 60 seconds hold more than calls_per_minute placements."""
    if not dial_at:
        return
    ahead = (datetime.fromisoformat(dial_at.replace("Z", "+00:00")) - datetime.now(timezone.utc)).total_seconds()
    if 0 < ahead <= MAX_SLOT_WAIT_S:
        time.sleep(ahead)


def _refused_by_rules(message: dict[str, Any], refused: CallingRulesRefused, about: dict[str, Any]) -> dict[str, Any]:
    """The refusal's evidence (under the attempt's call id), then the contact waits for the next
    allowed time, or ends skipped when no time can help."""
    record = refused.evidence(message["call_id"])
    store.put_evidence(record)
    summary = {k: v for k, v in evidence.summary(record).items() if v not in (None, "")}
    if refused.verdict.waiting_helps:
        return _deferred(message, about, "calling_rules", not_before=iso(refused.verdict.next_allowed_at),
                         evidence=summary)
    return _not_placed(message, "skipped", refused.detail, about, evidence=summary)


PRE_DIAL_MAX_FAILURES = 3  # an unreachable pre-dial check defers the contact; this many in a row skip it


def _refused_by_pre_dial(message: dict[str, Any], refused: pre_dial.PreDialRefused,
                         about: dict[str, Any]) -> dict[str, Any]:
    """Denied: the contact ends skipped with the customer's reason. Not reached (fail closed): it
    waits OUTBOUND_PRE_DIAL_RETRY_SECONDS (attempt not burned), and its third failure in a row
    (counted with the attempt's other dial failures) ends it skipped. Each is sealed evidence."""
    record = refused.evidence(message["call_id"])
    store.put_evidence(record)
    summary = {k: v for k, v in evidence.summary(record).items() if v not in (None, "")}
    if refused.denied:
        return _not_placed(message, "skipped", refused.detail, about, evidence=summary)
    failures = int(message.get("dial_failures") or 0) + 1
    if failures >= PRE_DIAL_MAX_FAILURES:
        return _not_placed(message, "skipped", f"{refused.detail} ({failures} tries)", about, evidence=summary)
    return _deferred(message, about, "pre_dial_failed", dial_failures=failures, evidence=summary,
                     retry_after_s=compliance_settings().pre_dial_retry_s, detail=refused.detail)


def iso(at: datetime) -> str:
    return at.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _not_placed(message: dict[str, Any], status: str, detail: str, about: dict[str, Any],
                **extra: Any) -> dict[str, Any]:
    logger.info("Campaign contact cannot be called", extra={**about, "status": status, "detail": detail})
    queues.send_tick(message["campaign_id"], "not_placed",
                     [_event(message, "not_placed", status=status, detail=detail, **extra)])
    return {"outcome": status, **about}


def _deferred(message: dict[str, Any], about: dict[str, Any], why: str | None, **extra: Any) -> dict[str, Any]:
    logger.info("Campaign attempt deferred", extra={**about, "reason": why, **{k: v for k, v in extra.items()
                                                                               if k == "not_before"}})
    queues.send_tick(message["campaign_id"], "deferred", [_event(message, "deferred", **extra)])
    return {"outcome": "deferred", "reason": why, **about}


def _failed(message: dict[str, Any], about: dict[str, Any], exc: Exception) -> dict[str, Any]:
    """AWS failed before the provider was asked: give the slot back now, try again after a pause."""
    failures = int(message.get("dial_failures") or 0) + 1
    error = exc.response.get("Error", {}).get("Code") if isinstance(exc, ClientError) else type(exc).__name__
    logger.warning("Campaign dial failed before the provider was asked", extra={**about, "error": error,
                                                                                "failures": failures})
    return _deferred(message, about, "dial_failed", dial_failures=failures, retry_after_s=min(60, 2 ** failures),
                     detail=f"{error} before the provider was asked")


def _event(message: dict[str, Any], kind: str, **extra: Any) -> dict[str, Any]:
    return {"kind": kind, "contact_id": message["contact_id"], "call_id": message["call_id"],
            "attempt": message["attempt"], "phone_number": message["phone_number"],
            "variables": message.get("variables") or {}, "timezone": message.get("timezone"),
            "external_id": message.get("external_id"), "metadata": message.get("metadata") or {}, **extra}
