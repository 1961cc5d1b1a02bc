"""Webhook deliveries without AWS: the ids the API hands out and reads back."""
from __future__ import annotations

import pytest

from outbound.usecases.publish_events import delivery_id
from outbound.usecases.webhook_endpoints import delivery_ref

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
