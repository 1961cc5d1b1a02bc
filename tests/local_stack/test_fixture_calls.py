"""The fixture format's ``calls``: placed calls that hold their reserve on their organization."""
import json

import pytest

from outbound_local import fixture as fixtures


def write(tmp_path, data):
    path = tmp_path / "f.json"
    path.write_text(json.dumps(data))
    return path


ORG = {"id": "org_a", "name": "A", "balance_cents": 500, "call_reserve_cents": 150}
CALL = {"call_id": "call_a1", "organization_id": "org_a", "provider": "telnyx", "from_phone_number": "+15551230007",
        "to_phone_number": "+15559876543", "call_sid": "v3:a1", "created_at": "2026-11-23T09:00:00.000Z"}


def test_calls_hold_their_reserve_and_are_indexed_for_listing(tmp_path):
    data = fixtures.read(write(tmp_path, {"organizations": [ORG], "calls": [CALL, {**CALL, "call_id": "call_a2",
                                                                                     "reserve_cents": 40}]}))
    records = {record["call_id"]: (record, reserve) for record, reserve in fixtures.call_records(data)}
    call, reserve = records["call_a1"]
    assert reserve == call["reserve_cents"] == 150 and records["call_a2"][1] == 40  # the org's, or the call's own
    assert call["status"] == "queued" and call["call_sid"] == "v3:a1"
    assert call["gsi1pk"] == "ORG#org_a#CALLS" and call["gsi1sk"] == "2026-11-23T09:00:00.000Z#call_a1"


def test_an_organization_is_written_without_money_fields(tmp_path):
    """Money is never part of the fields a fixture writes or merges: the opening balance is a
    ledgered credit, and reserves are held by the calls' own reserve transactions."""
    data = fixtures.read(write(tmp_path, {"organizations": [{**ORG, "allowed_destination_countries": ["US"]}]}))
    fields = fixtures.organization_fields(data, data.organizations[0])
    assert fields == {"name": "A", "call_reserve_cents": 150, "allowed_destination_countries": ["US"]}


@pytest.mark.parametrize("data,message", [
    ({"organizations": [ORG], "calls": [{**CALL, "organization_id": "org_b"}]}, "organization org_b is not in this fixture"),
    ({"organizations": [ORG], "calls": [CALL, {**CALL, "call_id": "call_a2"}, {**CALL, "call_id": "call_a3"},
                                         {**CALL, "call_id": "call_a4"}]}, "more than its balance"),
    ({"organizations": [ORG], "calls": [{**CALL, "status": "completed"}]}, "calls.0.status"),
    ({"organizations": [ORG], "calls": [{**CALL, "colour": "red"}]}, "calls.0.colour: unknown field"),
    ({"organizations": [ORG], "calls": [{**CALL, "call_id": "abc"}]}, "calls.0.call_id"),
])
def test_bad_calls_are_refused_by_name(tmp_path, data, message):
    with pytest.raises(fixtures.FixtureError, match=message):
        fixtures.read(write(tmp_path, data))
