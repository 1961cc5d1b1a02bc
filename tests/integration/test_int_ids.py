"""Integer aliases (store.int_ids) on an in-process local stack (moto over HTTP, the real store):
a call's is taken in its reserve transaction and a number already taken is never given twice
(the transaction is written again with another); other entities get theirs once, even when two
requests assign at the same time."""
from __future__ import annotations

import threading

import pytest

from tests.conftest import in_process_stack

pytestmark = pytest.mark.integration

ORG = "org_acme"


@pytest.fixture(scope="module")
def stack():
    yield from in_process_stack()


def record(call_id: str, **extra) -> dict:
    from outbound import store

    now = store.now_iso()
    return {"call_id": call_id, "organization_id": ORG, "assistant_id": 123, "from_phone_number": "+15551234567",
            "to_phone_number": "+15559876543", "provider": "twilio", "status": "initiating", "reserve_cents": 100,
            "created_at": now, "updated_at": now, "gsi1pk": f"ORG#{ORG}#CALLS", "gsi1sk": f"{now}#{call_id}", **extra}


def test_a_call_takes_its_alias_in_the_reserve_transaction(stack):
    from outbound import store
    from outbound.store import int_ids

    created = record("call_alias_plain")
    store.reserve_and_create_call(created, 100)
    alias = created["int_id"]
    assert 0 < alias < int_ids.LIMIT
    assert store.get_item(store.call_key("call_alias_plain"))["int_id"] == alias
    assert int_ids.find("call", alias) == {**int_ids.find("call", alias), "target": "call_alias_plain",
                                          "organization_id": ORG}


def test_a_number_already_taken_is_never_given_again(stack):
    from outbound import store
    from outbound.store import int_ids

    first = record("call_alias_first")
    store.reserve_and_create_call(first, 100)
    second = record("call_alias_second", int_id=first["int_id"])  # as if the random draw repeated
    store.reserve_and_create_call(second, 100)
    assert second["int_id"] != first["int_id"]
    assert store.get_item(store.call_key("call_alias_second"))["int_id"] == second["int_id"]
    assert int_ids.find("call", first["int_id"])["target"] == "call_alias_first"  # untouched
    assert int_ids.find("call", second["int_id"])["target"] == "call_alias_second"
    org = store.get_item(store.organization_key(ORG))
    assert org["reserved_cents"] >= 200  # each reserve held once: the canceled attempt wrote nothing


def test_a_duplicate_call_is_still_a_duplicate(stack):
    from outbound import store

    store.reserve_and_create_call(record("call_alias_dup"), 100)
    with pytest.raises(store.CallAlreadyExists):
        store.reserve_and_create_call(record("call_alias_dup"), 100)


def test_concurrent_assignments_agree_on_one_alias(stack):
    from outbound import store
    from outbound.store import int_ids

    store.reserve_and_create_call(record("call_alias_shared"), 100)
    store.client().update_item(TableName=store.table(), UpdateExpression="REMOVE int_id",  # as before aliases
                               Key={"pk": {"S": "CALL#call_alias_shared"}, "sk": {"S": "CALL"}})
    results: list[int | None] = []
    threads = [threading.Thread(target=lambda: results.append(
        int_ids.assign("call", store.call_key("call_alias_shared"), "call_alias_shared", ORG))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(results)) == 1 and results[0] == store.get_item(store.call_key("call_alias_shared"))["int_id"]
    assert int_ids.assign("call", store.call_key("call_missing"), "call_missing", ORG) is None  # no such call
