"""Deliver one queued webhook (one event to one endpoint): sign it, POST it, record the attempt,
and schedule the next one with exponential backoff until the retry window (24 hours) is over.

A queue message names a delivery, the generation it was sent for and the attempt it is for (how
many were made when it was queued; none in messages queued before that field existed: taken as
the current one). Per attempt [round trips]:
1. A message whose ``not_before`` is still ahead (waits longer than SQS's 15-minute maximum
   delay) goes back to the queue for the rest of the wait [no DynamoDB].
2. The delivery and its endpoint, in one BatchGetItem [1]. Nothing to do when the delivery is no
   longer pending in that generation (delivered already: a duplicate message; or retried since),
   or when its attempt count is not the message's (a duplicate of a message acted on already).
3. The URL is checked again (webhook_guard: DNS may have changed since the endpoint was made);
   a refused URL is a failed attempt, and nothing is sent. When the invocation has no time left
   for a whole attempt (the per-attempt timeout for each address it may try, plus a margin), the
   message goes back to the queue unchanged instead: a batch never outlasts the function.
4. Signed with the endpoint's live secrets (Standard Webhooks, the ``standardwebhooks`` package),
   POSTed to the checked address with a per-attempt timeout.
5. The attempt (status code, latency, error) is appended to the delivery, which becomes
   ``succeeded``, stays ``pending`` (the next attempt queued with its delay), or becomes
   ``failed`` once the next attempt would fall outside the window: then a message goes to the
   dead-letter queue, whose alarm tells the operator [1 UpdateItem].
"""
from __future__ import annotations

import json
import math
import random
import time
from datetime import datetime, timedelta, timezone
from typing import Any

from aws_lambda_powertools import Logger

from outbound import aws, store
from outbound.config import outcome_event_settings
from outbound.outcome_events import guard as webhook_guard
from outbound.outcome_events import secrets as webhook_secrets
from outbound.outcome_events import transport as webhook_http
from outbound.outcome_events.publish import enqueue, queue_message
from outbound.store.webhook_deliveries import FAILED, PENDING, SUCCEEDED

logger = Logger(child=True)

MAX_DELAY_S = 3 * 3600  # backoff doubles up to every 3 hours
ATTEMPT_MARGIN_S = 5.0  # around the POST: the reads, the attempt's write, the next message


def retry_base_s() -> float:
    return outcome_event_settings().retry_base_s


def retry_window() -> timedelta:
    return timedelta(seconds=outcome_event_settings().retry_window_s)


def attempt_timeout_s() -> float:
    return outcome_event_settings().attempt_timeout_s


def retry_delay_s(failed_attempts: int) -> int:
    """After the n-th failed attempt: base * 2^(n-1), at most MAX_DELAY_S, plus up to 10% jitter
    (so endpoints that failed together are not retried together)."""
    delay = min(MAX_DELAY_S, retry_base_s() * 2 ** max(0, failed_attempts - 1))
    return max(1, math.ceil(delay * (1 + random.random() * 0.1)))


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _parse_iso(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def has_time_for_attempt(addresses: int, remaining_ms: int | None, invocation_ms: int | None = None) -> bool:
    """Whether ``remaining_ms`` (None: no deadline) holds a whole attempt: the per-attempt
    timeout for each address it may try, plus a margin. An attempt longer than a whole
    invocation (``invocation_ms``) gets nearly a whole one instead of being deferred forever."""
    if remaining_ms is None:
        return True
    needed_s = attempt_timeout_s() * max(1, addresses) + ATTEMPT_MARGIN_S
    if invocation_ms is not None:
        needed_s = min(needed_s, invocation_ms / 1000 - ATTEMPT_MARGIN_S)
    return remaining_ms / 1000 >= needed_s


def handle_message(message: dict[str, Any], remaining_ms: int | None = None, invocation_ms: int | None = None) -> str:
    """One queue message -> what happened: deferred, skipped, delivered, retrying or failed.
    ``remaining_ms``: the invocation's time left (None: no deadline); ``invocation_ms``: what it
    had when it started."""
    wait = float(message.get("not_before") or 0) - time.time()
    if wait > 1:
        enqueue([message], delay_s=math.ceil(min(wait, 900)))
        return "deferred"
    delivery_key = store.webhook_delivery_key(message["subject"], int(message["sequence"]), message["endpoint_id"])
    endpoint_key = store.webhook_endpoint_key(message["organization_id"], message["endpoint_id"])
    items = store.get_items([delivery_key, endpoint_key])
    delivery = items.get((delivery_key["pk"], delivery_key["sk"]))
    endpoint = items.get((endpoint_key["pk"], endpoint_key["sk"]))
    if (delivery is None or delivery.get("organization_id") != message["organization_id"]
            or delivery.get("status") != PENDING or int(delivery.get("generation", 0)) != int(message["generation"])
            or not _for_current_attempt(message, delivery)):
        return "skipped"
    if endpoint is None:
        # Deleted on purpose: the delivery ends here, and no alarm is raised for it.
        return _finish(delivery, _attempt_entry(delivery, None, 0, "the endpoint was deleted"), FAILED,
                       dead_letter=False)
    try:
        checked = webhook_guard.resolve_checked(endpoint["url"])
    except webhook_guard.UnsafeUrl as exc:
        result = webhook_http.PostResult(None, 0, f"refused before sending: {exc}")
    else:
        if not has_time_for_attempt(len(checked.addresses), remaining_ms, invocation_ms):
            enqueue([message], delay_s=0)  # a later invocation makes the attempt
            return "deferred"
        result = attempt(endpoint, delivery, checked)
    entry = _attempt_entry(delivery, result.status_code, result.latency_ms, result.error)
    if result.succeeded:
        return _finish(delivery, entry, SUCCEEDED)
    return _retry_or_fail(delivery, entry)


def _for_current_attempt(message: dict[str, Any], delivery: dict[str, Any]) -> bool:
    """A duplicate SQS message, or one for an attempt made since, would start a second retry
    loop. A message queued before messages named their attempt is taken as for the current one
    (record_attempt's condition still keeps two such copies from both recording)."""
    return "attempt" not in message or int(message["attempt"]) == int(delivery.get("attempt_count") or 0)


def attempt(endpoint: dict[str, Any], delivery: dict[str, Any],
            checked: webhook_guard.CheckedUrl) -> webhook_http.PostResult:
    """Signed, and POSTed to the addresses the guard checked."""
    secrets_now = webhook_secrets.signing_secrets(endpoint["id"], int(endpoint.get("secret_version", 1)))
    payload = delivery["payload"]
    headers = webhook_secrets.sign(secrets_now, delivery["event_id"], datetime.now(timezone.utc), payload)
    return webhook_http.post(checked, payload.encode(), headers, attempt_timeout_s())


def _attempt_entry(delivery: dict[str, Any], status_code: int | None, latency_ms: int, error: str | None) -> dict:
    return {"attempt": int(delivery.get("attempt_count") or 0) + 1, "at": store.now_iso(),
            "status_code": status_code, "latency_ms": latency_ms, "error": error}


def _finish(delivery: dict[str, Any], entry: dict[str, Any], status: str, dead_letter: bool = True) -> str:
    try:
        updated = store.record_attempt(delivery, entry, status, None)
    except store.DeliveryNotPending:
        return "skipped"  # a concurrent duplicate finished it first
    if status == FAILED and dead_letter:
        _dead_letter(updated, entry)
    _log(updated, entry, "delivered" if status == SUCCEEDED else "failed")
    return "delivered" if status == SUCCEEDED else "failed"


def _retry_or_fail(delivery: dict[str, Any], entry: dict[str, Any]) -> str:
    delay = retry_delay_s(entry["attempt"])
    now = datetime.now(timezone.utc)
    window_end = _parse_iso(delivery["window_started_at"]) + retry_window()
    if now + timedelta(seconds=delay) > window_end:
        return _finish(delivery, entry, FAILED)
    next_at = now + timedelta(seconds=delay)
    try:
        updated = store.record_attempt(delivery, entry, PENDING, _iso(next_at))
    except store.DeliveryNotPending:
        return "skipped"
    enqueue([queue_message(updated, not_before=next_at.timestamp())], delay_s=min(900, delay))
    _log(updated, entry, "retrying", retry_in_s=delay)
    return "retrying"


def _dead_letter(delivery: dict[str, Any], entry: dict[str, Any]) -> None:
    aws.client("sqs").send_message(QueueUrl=outcome_event_settings().dead_letter_queue_url, MessageBody=json.dumps({
        "delivery_id": delivery["delivery_id"], "organization_id": delivery["organization_id"],
        "subject": delivery["subject"], "endpoint_id": delivery["endpoint_id"],
        "event_type": delivery["event_type"], "attempts": int(delivery.get("attempt_count") or 0),
        "last_error": entry.get("error")}))


def _log(delivery: dict[str, Any], entry: dict[str, Any], outcome: str, **extra: Any) -> None:
    # Never the URL (it may carry the customer's tokens), never a header or a secret.
    logger.info(f"Webhook {outcome}", extra={
        "delivery_id": delivery["delivery_id"], "endpoint_id": delivery["endpoint_id"],
        "event_type": delivery["event_type"], "attempt": entry["attempt"], "status_code": entry["status_code"],
        "latency_ms": entry["latency_ms"], "error": entry["error"], **extra})
