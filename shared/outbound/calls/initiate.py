"""Initiate an outbound call: the steps of the business process, in order."""
from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Any, Callable, NoReturn

from aws_lambda_powertools import Logger

from outbound import aws, deadline, metrics, store
from outbound.calls.models import InitiateCallRequest
from outbound.compliance.destinations import check_destination
from outbound.compliance.dial_check import DialCheck, DialOrigin, reserve_checked
from outbound.compliance.organization_rules import organization_rules
from outbound.config import settings
from outbound.credentials import CredentialsMissing, credentials_for
from outbound.errors import (
    INSUFFICIENT_BALANCE,
    INVALID_API_KEY,
    UNAVAILABLE,
    PaymentRequired,
    ProviderFailed,
    ProviderTimedOut,
    ServiceUnavailable,
    Unauthenticated,
    assistant_not_yours,
    no_assistant_for,
    number_not_yours,
)
from outbound.errors import suppressed as suppressed_destination
from outbound.phone import mask
from outbound.providers import (
    OutboundCall,
    ProviderError,
    ProviderTimeout,
    get_adapter,
    provider_timeout_s,
)
from outbound.templates import render_all

logger = Logger(child=True)

TIMEOUT_DETAIL = ("Telephony provider did not answer in time; the call may still be placed. "
                  "Its status will be reconciled by the provider's webhook.")


@dataclass(frozen=True)
class PreparedCall:
    """Everything a call needs before any write: validated against the organization's data
    (number ownership, assistant, templates, credentials). ``also_read`` holds the extra items
    the caller asked ``prepare_call`` to fetch in the same BatchGetItem (e.g. a schedule);
    ``dial`` the calling rules applied to it, with the recipient's frequency counter read there too."""

    organization_id: str
    request: InitiateCallRequest
    number: dict[str, Any]
    organization: dict[str, Any]
    assistant: dict[str, Any]
    texts: dict[str, str | None]
    credentials: dict[str, Any]
    also_read: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    dial: DialCheck | None = None

    @property
    def provider(self) -> str:
        return self.number["provider"]

    @property
    def reserve_cents(self) -> int:
        return self.organization.get("call_reserve_cents", settings().call_reserve_cents)

    @property
    def per_minute_rate_cents(self) -> int:
        rate = self.organization.get("per_minute_rate_cents")
        return settings().per_minute_rate_cents if rate is None else rate


# Recording a placed call may take two quick writes (when a webhook got there first, the id is
# filled in by a second one); both must fit before the request's deadline.
PLACED_WRITE_S = 2 * aws.QUICK_ATTEMPT_S


def initiate_call(organization_id: str, request: InitiateCallRequest, public_api_url: str,
                  call_id: str | None = None, record_extra: dict[str, Any] | None = None,
                  created: Callable[[dict[str, Any]], None] | None = None,
                  origin: DialOrigin | None = None) -> dict[str, Any]:
    """Prepare, reserve, place, mark. ``call_id`` (default: random) lets a caller that may be
    delivered twice (a scheduled fire) derive it from the delivery: the record's conditional
    create then refuses the second delivery (``store.CallAlreadyExists``) before any call.
    ``created`` is told the record as the reserve transaction wrote it (e.g. its integer alias).
    ``origin``: who asks (the evidence names it; default: the API)."""
    return place_prepared(prepare_call(organization_id, request, origin=origin), public_api_url, call_id,
                          record_extra, created)


def prepare_call(organization_id: str, request: InitiateCallRequest,
                 also_read: tuple[dict[str, str], ...] = (), origin: DialOrigin | None = None) -> PreparedCall:
    """Every check initiate makes before writing anything; no write, no call. The recipient's
    frequency counter rides in the same BatchGetItem (the calling rules are judged at the reserve)."""
    counter_key = store.dial_counter_key(organization_id, request.to_phone_number)
    number, organization, override, extra, suppressed = load_caller_context(organization_id, request,
                                                                             (*also_read, counter_key))
    counter = extra.pop(tuple(counter_key.values()), None)
    check_destination(request.to_phone_number, request.from_phone_number,
                      organization.get("allowed_destination_countries"))
    if suppressed:
        raise suppressed_destination(request.to_phone_number)
    assistant = resolve_assistant(organization_id, request, number, override)
    texts = render_all(
        {"welcome_message": request.welcome_message if request.welcome_message is not None
         else assistant.get("welcome_message"),
         "agenda": request.agenda if request.agenda is not None else assistant.get("agenda")},
        request.variables,
    )
    credentials = provider_credentials(organization_id, number["provider"])
    dial = DialCheck(organization_id, request.from_phone_number, request.to_phone_number, origin or DialOrigin(),
                     organization_rules(organization), counter, request.recipient_timezone, request.consent)
    return PreparedCall(organization_id, request, number, organization, assistant, texts, credentials, extra, dial)


def place_prepared(prepared: PreparedCall, public_api_url: str, call_id: str | None = None,
                   record_extra: dict[str, Any] | None = None,
                   created: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """Reserve + create the record (one transaction), place the call, record its provider id.

    Once the provider has accepted the call, the answer is 200 with its call_sid whatever fails
    next: an error would tell the client to retry, and a retry rings the person twice. The
    record is then reconciled by the retried write here, by the provider's status webhooks
    (they carry our call_id), or, if nothing is ever heard, by the reserve sweeper once no call
    could still be running."""
    request, provider = prepared.request, prepared.provider
    record = new_call_record(prepared.organization_id, request, prepared.assistant["id"], provider,
                             prepared.texts, prepared.reserve_cents, call_id)
    # The price is fixed when the call starts, and settlement needs no read of the organization.
    record["per_minute_rate_cents"] = prepared.per_minute_rate_cents
    record.update(record_extra or {})
    try:  # the calling rules judged, then the reserve, the record, the dial counted and its evidence, at once
        reserve_checked(prepared.dial, record, prepared.reserve_cents)
    except store.ReserveRefused:
        raise PaymentRequired(INSUFFICIENT_BALANCE) from None
    if created is not None:
        created(record)
    ensure_time_to_place(record)
    call_sid = place_call(record, prepared.number, prepared.organization, prepared.credentials, public_api_url)
    # The provider has the call: from here on, nothing may turn the answer into an error.
    after_provider(lambda db: store.mark_call_placed(record["call_id"], call_sid, dynamodb=db),
                   "record the placed call", record, attempt_s=PLACED_WRITE_S, call_sid=call_sid)
    logger.info("Call placed", extra={"call_id": record["call_id"], "provider": provider,
                                       "to": mask(request.to_phone_number)})
    metrics.count(metrics.CALLS_PLACED, provider)
    return {"message": "Call initiated successfully", "call_sid": call_sid, "call_id": record["call_id"],
            "assistant_id": prepared.assistant["id"], "provider": provider, "status": "queued"}


def ensure_time_to_place(record: dict[str, Any]) -> None:
    """Ask the provider only if its answer and the write after it still fit in this request:
    a call placed after the request's own deadline would be answered by a gateway timeout (and
    retried). Otherwise give the reserve back and answer 503 (nothing was placed)."""
    needed = provider_timeout_s() + PLACED_WRITE_S
    if deadline.remaining() >= needed:
        return
    logger.warning("Not enough time left to place the call", extra={
        "call_id": record["call_id"], "remaining_s": round(deadline.remaining(), 1), "needed_s": needed})
    # Undone, not failed: a retry (same Idempotency-Key, or a fire delivered again) starts afresh.
    after_provider(lambda db: store.cancel_reservation(record, dynamodb=db),
                   "give back the reserve of a call not placed", record)
    raise ServiceUnavailable(UNAVAILABLE, headers={"Retry-After": "1"})


def after_provider(write: Callable[[Any], Any], what: str, record: dict[str, Any],
                   attempt_s: float = aws.QUICK_ATTEMPT_S, **about: Any) -> bool:
    """A write that follows the provider's answer: retried with short attempts until the
    request's deadline, and never raised. False (logged as an error) when it could not be made;
    the record is then reconciled by the status webhooks or the reserve sweeper."""
    dynamodb, pause = aws.client("dynamodb", quick=True), 0.05
    # Without a deadline (tools, tests) the writes still end: as within API Gateway's 29 s.
    give_up_at = time.monotonic() + min(deadline.remaining(), deadline.API_GATEWAY_LIMIT_S)
    while True:
        try:
            write(dynamodb)
            return True
        except Exception as exc:  # noqa: BLE001 - the answer must not depend on this write
            if give_up_at - time.monotonic() < pause + attempt_s:
                logger.error(f"Could not {what}; the status webhook or the reserve sweeper reconciles it",
                             extra={"call_id": record["call_id"], "provider": record["provider"],
                                    "error": type(exc).__name__, **about})
                return False
            time.sleep(pause)
            pause = min(pause * 2, 1.0)


def load_caller_context(organization_id: str, request: InitiateCallRequest,
                        also_read: tuple[dict[str, str], ...] = ()) -> tuple[dict, dict, dict | None, dict, bool]:
    """One BatchGetItem: the from number, the organization, the destination's do-not-call entry,
    the override assistant (and the ``also_read`` items, which then cost no round trip either)."""
    suppression = store.suppression_key(organization_id, request.to_phone_number)
    keys = [store.phone_number_key(request.from_phone_number), store.organization_key(organization_id)]
    if request.assistant_id is not None:
        keys.append(store.assistant_key(request.assistant_id))
    items = store.get_items([*keys, suppression, *also_read])
    number = items.get(tuple(keys[0].values()))
    if number is None or number.get("organization_id") != organization_id:
        # Unknown and foreign numbers answer alike: no enumeration of other tenants' numbers.
        raise number_not_yours(request.from_phone_number)
    organization = items.get(tuple(keys[1].values()))
    if organization is None:  # a key whose organization was removed
        raise Unauthenticated(INVALID_API_KEY)
    override = items.get(tuple(keys[2].values())) if request.assistant_id is not None else None
    extra = {tuple(k.values()): items[tuple(k.values())] for k in also_read if tuple(k.values()) in items}
    return number, organization, override, extra, tuple(suppression.values()) in items


def resolve_assistant(organization_id: str, request: InitiateCallRequest, number: dict,
                      override: dict | None) -> dict[str, Any]:
    """Explicit assistant_id > the number's assistant > the number's graph's entry assistant."""
    if request.assistant_id is not None:
        if override is None or override.get("organization_id") != organization_id:
            raise assistant_not_yours(request.assistant_id)
        return override
    if number.get("assistant_id") is not None:
        assistant = store.get_item(store.assistant_key(number["assistant_id"]))
    elif number.get("graph_id") is not None:
        assistant = graph_entry_assistant(number)
    else:
        assistant = None
    if assistant is None or assistant.get("organization_id") != organization_id:
        raise no_assistant_for(request.from_phone_number)
    return assistant


def graph_entry_assistant(number: dict) -> dict | None:
    """The graph and its entry assistant in one BatchGetItem, using the entry id the number
    caches (``graph_entry_hint``); when the graph's entry has changed since, one more read."""
    graph_key = store.graph_key(number["graph_id"])
    keys = [graph_key]
    hint = number.get("graph_entry_hint")
    if hint is not None:
        keys.append(store.assistant_key(hint))
    items = store.get_items(keys)
    graph = items.get(tuple(graph_key.values()))
    if graph is None or graph.get("organization_id") != number["organization_id"]:
        return None
    entry_key = store.assistant_key(graph["entry_assistant_id"])
    return items.get(tuple(entry_key.values())) or store.get_item(entry_key)


def provider_credentials(organization_id: str, provider: str) -> dict[str, Any]:
    try:
        return credentials_for(organization_id, provider)
    except CredentialsMissing as exc:
        # Before any reserve is held: nothing to release, nothing charged.
        raise ProviderFailed(f"Telephony provider error: {exc}") from None


def new_call_record(organization_id: str, request: InitiateCallRequest, assistant_id: int, provider: str,
                    texts: dict[str, str | None], reserve_cents: int, call_id: str | None = None) -> dict[str, Any]:
    now = store.now_iso()
    call_id = call_id or f"call_{secrets.token_hex(12)}"
    return {
        "call_id": call_id,
        "organization_id": organization_id,
        "assistant_id": assistant_id,
        "from_phone_number": request.from_phone_number,
        "to_phone_number": request.to_phone_number,
        "provider": provider,
        "status": "initiating",  # reserve held, provider not yet asked
        "welcome_message": texts["welcome_message"],
        "agenda": texts["agenda"],
        "variables": dict(request.variables),
        **outcome_fields(request),
        "reserve_cents": reserve_cents,
        "created_at": now,
        "updated_at": now,
        "gsi1pk": f"ORG#{organization_id}#CALLS",
        "gsi1sk": f"{now}#{call_id}",
    }


def outcome_fields(request: InitiateCallRequest) -> dict[str, Any]:
    """What the request says about the call's outcome: the application's metadata and
    external_id (echoed in every call event) and the per-call limits, kept on the record. The
    limits default to the stack's, so every record says what its provider was told."""
    fields: dict[str, Any] = {
        "ring_timeout_seconds": request.ring_timeout_seconds or settings().ring_timeout_s,
        "max_duration_seconds": request.max_duration_seconds or settings().max_call_seconds,
    }
    if request.metadata:
        fields["metadata"] = dict(request.metadata)
    if request.external_id is not None:
        fields["external_id"] = request.external_id
    if request.answering_machine_detection:
        fields["answering_machine_detection"] = dict(request.answering_machine_detection)
    return fields


def place_call(record: dict, number: dict, organization: dict, credentials: dict, public_api_url: str) -> str:
    provider = record["provider"]
    provider_settings = dict(number.get("provider_settings") or {})
    if provider == "sip":
        provider_settings["trunks"] = organization.get("sip_trunks", [])
    call = OutboundCall(
        call_id=record["call_id"],
        from_number=record["from_phone_number"],
        to_number=record["to_phone_number"],
        stream_url=settings().voice_stream_url,
        status_callback_url=f"{public_api_url}/webhooks/{provider}?call_id={record['call_id']}",
        provider_settings=provider_settings,
        ring_timeout_s=record["ring_timeout_seconds"],
        time_limit_s=record["max_duration_seconds"],
        machine_detection=(record.get("answering_machine_detection") or {}).get("mode"),
    )
    try:
        return get_adapter(provider).place_call(call, credentials)
    except ProviderTimeout as exc:
        return unconfirmed(record, exc.message)
    except ProviderError as exc:
        reason = exc.message
        logger.warning("Provider refused the call", extra={"call_id": record["call_id"], "provider": provider})
        metrics.count(metrics.CALLS_REFUSED, provider)
        after_provider(lambda db: store.fail_call_and_release(record, reason, dynamodb=db),
                       "release the reserve of a refused call", record)
        raise ProviderFailed(f"Telephony provider error: {reason}") from None
    except Exception as exc:  # noqa: BLE001 - an adapter's own failure may come after it sent the call
        # Its type only: an adapter's message may quote the request (numbers stay out of logs).
        logger.error("Provider adapter failed", extra={"call_id": record["call_id"], "provider": provider,
                                                      "error": type(exc).__name__})
        return unconfirmed(record, f"The {provider} adapter failed: {type(exc).__name__}")


def unconfirmed(record: dict[str, Any], reason: str) -> NoReturn:
    """The provider may have the call: keep the reserve (its webhooks, which carry our call_id,
    or the sweeper reconcile the record) and answer 504 with the call_id, never a retryable error."""
    provider = record["provider"]
    logger.warning("Provider timed out", extra={"call_id": record["call_id"], "provider": provider})
    metrics.count(metrics.CALLS_TIMED_OUT, provider)
    after_provider(lambda db: store.mark_call_unconfirmed(record["call_id"], reason, dynamodb=db),
                   "mark the call unconfirmed", record)
    raise ProviderTimedOut(TIMEOUT_DETAIL, call_id=record["call_id"])

