"""The opt-out's pure parts: its optional body (hand validation, on CallsApiFunction's lean route
dict) and which stream records become ``contact.opted_out``."""
import json

import pytest

from outbound.compliance.opt_out import parse_statement
from outbound.compliance.opt_out_events import event_data, is_opt_out
from outbound.errors import BadRequest
from outbound.outcome_events.catalog import EVENT_TYPES, Event


def detail_of(body) -> str:
    with pytest.raises(BadRequest) as err:
        parse_statement(body if isinstance(body, str) else json.dumps(body))
    return err.value.detail


def test_no_body_or_an_empty_one_is_fine():
    assert parse_statement(None) == parse_statement("") == parse_statement("{}") == {
        "method": None, "said": None, "at": None}


def test_the_time_is_kept_in_utc_to_the_millisecond():
    parsed = parse_statement(json.dumps({"method": "dtmf", "said": "stop", "at": "2026-12-07T13:02:11-05:00"}))
    assert parsed == {"method": "dtmf", "said": "stop", "at": "2026-12-07T18:02:11.000Z"}


@pytest.mark.parametrize("body, sentence", [
    ({"method": "SMS"}, "method must be one of: voice, dtmf"),
    ({"said": ["stop"]}, "said must be a string"),
    ({"said": "x" * 1001}, "said must be at most 1000 characters"),
    ({"at": "2026-12-07T18:02:11"}, "at must be an ISO 8601 time with its offset (e.g. 2026-12-07T18:02:11Z)"),
    ({"at": 1733594531}, "at must be an ISO 8601 time with its offset (e.g. 2026-12-07T18:02:11Z)"),
    ({"who": "me"}, "Unknown field: who"),
    ("[]", "Request body must be a JSON object"),
    ("{", "Request body must be a JSON object"),
])
def test_bad_bodies_are_named(body, sentence):
    assert detail_of(body).startswith(sentence)


def test_only_an_opt_out_record_is_an_opt_out_event():
    record = {"eventName": "INSERT", "dynamodb": {"Keys": {"pk": {"S": "EVIDENCE#call_1"}, "sk": {"S": "OPTOUT"}}}}
    assert is_opt_out(record)
    assert not is_opt_out({"dynamodb": {"Keys": {"pk": {"S": "EVIDENCE#call_1"}, "sk": {"S": "DIAL"}}}})
    item = {"opt_out": {"method": "voice", "said": "stop"}, "result": {"call_id": "call_1", "phone_number": "+1"},
            "hmac": "ab"}
    assert event_data(item) == {"call_id": "call_1", "phone_number": "+1", "method": "voice", "said": "stop",
                                "evidence_hmac": "ab"}


def test_the_event_is_in_the_catalog_with_its_own_bus_source():
    assert "contact.opted_out" in EVENT_TYPES
    event = Event("org", "contact.opted_out", "call_1", 100, "2026-12-07T18:02:11Z", {})
    assert event.detail_type == ("Contact Opted Out", "outbound.compliance")
