"""SQS delivers a queue message at least once: a duplicate of a webhook delivery's message must not
start a second retry loop beside the first. Each message names the attempt it is for (how many
attempts were made when it was queued); a message for another attempt changes nothing, and of two
twins handled at once only one records its attempt and queues the next.

Runs on an in-process local stack (moto over HTTP, the real store code); the POST itself is
replaced by an answer of 503, and the queue by a list, so what is queued is exactly what is seen."""
from __future__ import annotations

import secrets

import pytest

from tests.conftest import in_process_stack

pytestmark = pytest.mark.integration

ORG = "org_acme"


@pytest.fixture(scope="module")
def stack():
    yield from in_process_stack()


@pytest.fixture
def queued(stack, monkeypatch):
    """Every message the deliverer queues (instead of SQS), and every POST failing with a 503."""
    from outbound.outcome_events import deliver as deliver_webhook
    from outbound.outcome_events import transport as webhook_http

    sent: list[dict] = []
    monkeypatch.setattr(deliver_webhook, "enqueue", lambda messages, delay_s=0: sent.extend(messages))
    monkeypatch.setattr(deliver_webhook, "attempt",
                        lambda endpoint, delivery, *checked: webhook_http.PostResult(503, 3, "HTTP 503"))
    return sent


def new_delivery() -> dict:
    from outbound import store
    from outbound.outcome_events import publish as publish_events
    from outbound.outcome_events.catalog import Event

    endpoint = {"id": f"we_{secrets.token_hex(12)}", "url": "https://93.184.216.34/in",
                "events": ["call.completed"], "secret_version": 1}
    store.create_endpoint(ORG, endpoint, 20)
    event = Event(ORG, "call.completed", f"call_{secrets.token_hex(6)}", 4, store.now_iso(), {"status": "busy"})
    delivery = publish_events.new_delivery(event, endpoint)
    assert store.create_delivery(delivery) is None
    return delivery


def due(message: dict) -> dict:
    """The message once its backoff is over."""
    return {**message, "not_before": 0}


def stored(delivery: dict) -> dict:
    from outbound import store

    [found] = [d for d in store.list_deliveries(delivery["subject"]) if d["delivery_id"] == delivery["delivery_id"]]
    return found


def test_a_message_handled_twice_records_one_attempt_and_queues_one_next_message(queued):
    from outbound.outcome_events.deliver import handle_message
    from outbound.outcome_events.publish import queue_message

    delivery = new_delivery()
    message = queue_message(delivery)
    assert message["attempt"] == 0
    assert handle_message(dict(message)) == "retrying"
    assert handle_message(dict(message)) == "skipped"  # SQS delivered it again
    assert int(stored(delivery)["attempt_count"]) == 1
    assert len(queued) == 1 and queued[0]["attempt"] == 1  # one loop goes on, for the second attempt
    assert handle_message(due(queued[0])) == "retrying"
    assert int(stored(delivery)["attempt_count"]) == 2 and [m["attempt"] for m in queued] == [1, 2]


def test_a_stale_message_for_an_earlier_attempt_is_skipped(queued):
    from outbound.outcome_events.deliver import handle_message
    from outbound.outcome_events.publish import queue_message

    delivery = new_delivery()
    first = queue_message(delivery)
    assert handle_message(dict(first)) == "retrying"
    assert handle_message(due(queued[0])) == "retrying"
    assert handle_message({**first, "attempt": 1}) == "skipped"  # a twin of the second message, late
    assert int(stored(delivery)["attempt_count"]) == 2 and len(queued) == 2


def test_a_message_queued_before_attempts_were_counted_is_handled(queued):
    """Messages queued by the previous version carry no attempt: taken as for the current one."""
    from outbound.outcome_events.deliver import handle_message
    from outbound.outcome_events.publish import queue_message

    delivery = new_delivery()
    message = {k: v for k, v in queue_message(delivery).items() if k != "attempt"}
    assert handle_message(message) == "retrying"
    assert int(stored(delivery)["attempt_count"]) == 1 and len(queued) == 1


def test_of_two_twins_handled_at_once_only_one_records_its_attempt(stack):
    """Both read the delivery before either wrote: the second write finds another attempt count."""
    from outbound import store
    from outbound.store.webhook_deliveries import PENDING

    delivery = new_delivery()
    read_by_both = stored(delivery)
    entry = {"attempt": 1, "at": store.now_iso(), "status_code": 503, "latency_ms": 3, "error": "HTTP 503"}
    assert int(store.record_attempt(read_by_both, entry, PENDING, store.now_iso())["attempt_count"]) == 1
    with pytest.raises(store.DeliveryNotPending):
        store.record_attempt(read_by_both, entry, PENDING, store.now_iso())
    assert int(stored(delivery)["attempt_count"]) == 1
