"""metadata, external_id, per-call limits and answering-machine detection on the initiate body,
and every provider's machine-detection words in ours."""
from __future__ import annotations

import json

import pytest

from outbound.calls.lifecycle import normalize_answered_by
from outbound.calls.models import (
    MAX_METADATA_ENTRIES,
    MAX_METADATA_VALUE_CHARS,
    MAX_RING_TIMEOUT_S,
    parse_initiate_request,
)
from outbound.errors import BadRequest

GOOD = {"from_phone_number": "+15551234567", "to_phone_number": "+15559876543"}


def parse(**fields):
    return parse_initiate_request(json.dumps({**GOOD, **fields}))


def detail_of(**fields) -> str:
    with pytest.raises(BadRequest) as err:
        parse(**fields)
    return err.value.detail


def test_outcome_fields_parse():
    request = parse(metadata={"crm_id": "A-17", "attempt": 2, "vip": True}, external_id="order-9",
                    max_duration_seconds=600, ring_timeout_seconds=45, answering_machine_detection=True)
    assert request.metadata == {"crm_id": "A-17", "attempt": 2, "vip": True}
    assert request.external_id == "order-9"
    assert (request.max_duration_seconds, request.ring_timeout_seconds) == (600, 45)
    assert request.answering_machine_detection == {"mode": "detect"}


def test_defaults_leave_the_contract_unchanged():
    request = parse()
    assert request.metadata == {} and request.external_id is None
    assert request.answering_machine_detection is None and request.max_duration_seconds is None


@pytest.mark.parametrize("value,expected", [(False, None), (None, None), ({"mode": "detect_beep"}, {"mode": "detect_beep"})])
def test_machine_detection_forms(value, expected):
    assert parse(answering_machine_detection=value).answering_machine_detection == expected


@pytest.mark.parametrize("fields,sentence", [
    ({"metadata": [1]}, "metadata must be an object"),
    ({"metadata": {"a": {"nested": 1}}}, "metadata.a must be a string, number or boolean"),
    ({"metadata": {f"k{i}": i for i in range(MAX_METADATA_ENTRIES + 1)}},
     f"metadata must have at most {MAX_METADATA_ENTRIES} entries"),
    ({"metadata": {"a": "x" * (MAX_METADATA_VALUE_CHARS + 1)}},
     f"metadata.a must have at most {MAX_METADATA_VALUE_CHARS} characters"),
    ({"metadata": {"k" * 41: "v"}}, "metadata keys must have 1 to 40 characters"),
    ({"external_id": ""}, "external_id must be a string of 1 to 255 characters"),
    ({"external_id": 7}, "external_id must be a string of 1 to 255 characters"),
    ({"ring_timeout_seconds": MAX_RING_TIMEOUT_S + 1}, f"ring_timeout_seconds must be an integer from 5 to {MAX_RING_TIMEOUT_S}"),
    ({"ring_timeout_seconds": True}, f"ring_timeout_seconds must be an integer from 5 to {MAX_RING_TIMEOUT_S}"),
    ({"max_duration_seconds": 3601}, "max_duration_seconds must be an integer from 10 to 3600"),
    ({"answering_machine_detection": "yes"}, 'answering_machine_detection must be true, false or {"mode": "detect"} '
                                            "(modes: detect, detect_beep)"),
    ({"answering_machine_detection": {"mode": "premium"}}, 'answering_machine_detection must be true, false or '
                                                            '{"mode": "detect"} (modes: detect, detect_beep)'),
])
def test_bad_outcome_fields_answer_400_naming_the_field(fields, sentence):
    assert detail_of(**fields) == sentence


@pytest.mark.parametrize("raw,ours", [
    ("human", "human"), ("machine_start", "machine"), ("machine_end_beep", "machine"), ("fax", "machine"),
    ("unknown", "unknown"), ("not_sure", "unknown"), ("human_residence", "human"), ("fax_detected", "machine"),
    ("MACHINE", "machine"), ("HUMAN", "human"), ("NOTSURE", "unknown"), ("silence", "unknown"), (None, None),
])
def test_every_providers_detection_words_become_ours(raw, ours):
    assert normalize_answered_by(raw) == ours
