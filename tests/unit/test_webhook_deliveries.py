"""Webhook deliveries without AWS: the ids the API hands out and reads back."""
from __future__ import annotations

import pytest

from outbound.outcome_events.endpoints import delivery_ref
from outbound.outcome_events.publish import delivery_id

ENDPOINT = "we_" + "0" * 24


@pytest.mark.parametrize("sequence", [
    1, 4,  # a call's events: its status rank
    # Campaign events: the DynamoDB stream record's SequenceNumber (21 to 40 digits), see
    # usecases.campaign_events; POST /webhook-deliveries/{id}/retry must find those deliveries too.
    100000000000000000001, int("4" * 40),
])
def test_a_delivery_id_reads_back_for_call_and_campaign_sequences(sequence):
    assert delivery_ref(delivery_id("cmp_1", sequence, ENDPOINT)) == ("cmp_1", sequence, ENDPOINT)


@pytest.mark.parametrize("value", [
    delivery_id("call_1", 0, ENDPOINT), delivery_id("call_1", -3, ENDPOINT),
    delivery_id("call_1", 10**40, ENDPOINT),  # 41 digits
    delivery_id("call 1", 1, ENDPOINT), delivery_id("call_1", 1, "we_nope"),
    "dlv_bm9wZQ", "nope",
])
def test_malformed_delivery_ids_are_refused(value):
    assert delivery_ref(value) is None


# --- a batch never overruns the function's timeout ------------------------------------------------

@pytest.mark.parametrize("addresses,remaining_s,invocation_s,fits", [
    (1, 15.0, 60, True),    # 10 s per address + a 5 s margin
    (1, 14.9, 60, False),
    (2, 24.9, 60, False),   # each address may take the whole timeout
    (2, 25.0, 60, True),
    (0, 15.0, 60, True),    # nothing to try still needs one timeout's worth
    (6, 59.9, 60, True),    # 65 s never fits: attempted with (nearly) a whole invocation ...
    (6, 50.0, 60, False),   # ... not in one that has used some already
    (3, 20.0, None, False),
])
def test_an_attempt_is_made_only_with_time_for_all_of_it(monkeypatch, addresses, remaining_s, invocation_s, fits):
    from outbound.outcome_events.deliver import has_time_for_attempt

    monkeypatch.setenv("WEBHOOK_TIMEOUT_SECONDS", "10")
    invocation_ms = None if invocation_s is None else invocation_s * 1000
    assert has_time_for_attempt(addresses, int(remaining_s * 1000), invocation_ms) is fits


def test_without_a_deadline_every_attempt_is_made():
    from outbound.outcome_events.deliver import has_time_for_attempt

    assert has_time_for_attempt(50, None)


@pytest.fixture
def pending(monkeypatch):
    """A pending delivery whose endpoint resolves to two addresses; what is queued, what is POSTed."""
    from outbound import store
    from outbound.outcome_events import deliver as deliver_webhook
    from outbound.outcome_events import guard as webhook_guard
    from outbound.outcome_events import transport as webhook_http

    monkeypatch.setenv("WEBHOOK_TIMEOUT_SECONDS", "10")
    delivery = {"organization_id": "org_1", "subject": "call_1", "sequence": 4, "endpoint_id": ENDPOINT,
                "status": "pending", "generation": 1, "attempt_count": 2}
    endpoint = {"id": ENDPOINT, "url": "https://hooks.example.com/in"}

    def get_items(keys):
        return {(k["pk"], k["sk"]): item for k, item in zip(keys, (delivery, endpoint))}

    seen = {"queued": [], "posted": []}
    monkeypatch.setattr(store, "get_items", get_items)
    monkeypatch.setattr(webhook_guard, "resolve_checked", lambda url: webhook_guard.CheckedUrl(
        url, "https", "hooks.example.com", 443, "/in", ("93.184.216.34", "2606:4700::1111")))
    monkeypatch.setattr(deliver_webhook, "enqueue", lambda messages, delay_s=0: seen["queued"].append(
        (messages, delay_s)))
    monkeypatch.setattr(deliver_webhook, "attempt", lambda *args: seen["posted"].append(args)
                        or webhook_http.PostResult(204, 5, None))
    monkeypatch.setattr(deliver_webhook, "_finish", lambda delivery, entry, status, **kwargs: "delivered")
    message = {"organization_id": "org_1", "subject": "call_1", "sequence": 4, "endpoint_id": ENDPOINT,
               "generation": 1, "attempt": 2, "not_before": 0}
    return message, seen


def test_a_message_without_time_for_its_attempt_goes_back_to_the_queue_unchanged(pending):
    from outbound.outcome_events.deliver import handle_message

    message, seen = pending
    assert handle_message(dict(message), remaining_ms=24_000, invocation_ms=60_000) == "deferred"  # needs 25 s
    assert seen == {"queued": [([message], 0)], "posted": []}


def test_a_message_with_time_for_its_attempt_is_attempted(pending):
    from outbound.outcome_events.deliver import handle_message

    message, seen = pending
    assert handle_message(dict(message), remaining_ms=25_000, invocation_ms=60_000) == "delivered"
    assert seen["queued"] == [] and len(seen["posted"]) == 1
