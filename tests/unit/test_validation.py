import json

import pytest

from outbound.calls.models import MAX_TEXT_CHARS, parse_initiate_request
from outbound.errors import BadRequest
from outbound.phone import is_e164, mask

GOOD = {"from_phone_number": "+15551234567", "to_phone_number": "+15559876543"}


def parse(body):
    return parse_initiate_request(json.dumps(body) if not isinstance(body, str) else body)


def detail_of(body) -> str:
    with pytest.raises(BadRequest) as err:
        parse(body)
    return err.value.detail


def test_minimal_request_parses_with_defaults():
    request = parse(GOOD)
    assert request.assistant_id is None and request.variables == {} and request.welcome_message is None


@pytest.mark.parametrize("missing", ["from_phone_number", "to_phone_number"])
@pytest.mark.parametrize("absent", ["drop", None, ""])
def test_required_fields_have_the_contract_sentence(missing, absent):
    body = dict(GOOD)
    if absent == "drop":
        del body[missing]
    else:
        body[missing] = absent
    assert detail_of(body) == f"{missing} is required"


@pytest.mark.parametrize("number", ["5551234567", "+1555", "+1 555 123 4567", "+15551234567x", "++15551234567",
                                    "+999123456789", "+1555123456789012"])
def test_non_e164_numbers_are_refused(number):
    for field in ("from_phone_number", "to_phone_number"):
        assert detail_of({**GOOD, field: number}) == "Invalid phone number format. Use E.164 format (e.g., +1234567890)"


def test_documentation_numbers_are_possible():
    assert is_e164("+15551234567") and is_e164("+15559876543") and is_e164("+442071838750")


@pytest.mark.parametrize("raw", ["", "not json", "[1, 2]", "null", '"text"', '{"from_phone_number": '])
def test_malformed_bodies(raw):
    assert detail_of(raw) == "Request body must be a JSON object"


@pytest.mark.parametrize("field,value,expected", [
    ("assistant_id", "123", "assistant_id must be an integer"),
    ("assistant_id", True, "assistant_id must be an integer"),
    ("assistant_id", 1.5, "assistant_id must be an integer"),
    ("from_phone_number", 15551234567, "from_phone_number must be a string"),
    ("welcome_message", 5, "welcome_message must be a string or null"),
    ("variables", ["a"], "variables must be an object"),
    ("variables", {"name": {"nested": 1}}, "variables.name must be a string, number or boolean"),
    ("variables", {"name": None}, "variables.name must be a string, number or boolean"),
    ("assistantId", 1, "Unknown field: assistantId"),
])
def test_wrong_types_name_the_field(field, value, expected):
    assert detail_of({**GOOD, field: value}) == expected


def test_limits_name_the_limit():
    assert detail_of({**GOOD, "agenda": "x" * (MAX_TEXT_CHARS + 1)}) == f"agenda must have at most {MAX_TEXT_CHARS} characters"
    assert detail_of({**GOOD, "variables": {f"v{i}": i for i in range(51)}}) == "variables must have at most 50 entries"
    assert "at most 1000 characters" in detail_of({**GOOD, "variables": {"v": "x" * 1001}})


def test_scalar_variables_are_kept_typed():
    request = parse({**GOOD, "variables": {"name": "Ann", "n": 3, "ok": True, "f": 1.5}})
    assert request.variables == {"name": "Ann", "n": 3, "ok": True, "f": 1.5}


def test_mask_hides_the_middle_of_numbers():
    assert mask("+15551234567") == "+1555***4567"
    assert "1234" not in mask("+15551234567")[:-4]


@pytest.mark.parametrize("value", [2.2250738585072014e-308, 1e-131, 1e126, -1e200, 10**39 + 1])
def test_a_variable_number_the_call_record_cannot_store_is_a_400(value):
    # Found by Schemathesis: DynamoDB refused 2.2e-308 inside the reserve transaction (a 500).
    assert detail_of({**GOOD, "variables": {"x": value}}).startswith("variables.x is out of range")


@pytest.mark.parametrize("value", [0, 0.0, 1e-130, -5, 1.5, 9.9e125, 10**40])
def test_storable_variable_numbers_are_accepted(value):
    assert parse({**GOOD, "variables": {"x": value}}).variables == {"x": value}


def test_an_unpaired_surrogate_escape_is_a_400():
    raw = json.dumps(GOOD)[:-1] + ', "welcome_message": "\\ud800"}'
    assert "unpaired surrogate" in detail_of(raw)
