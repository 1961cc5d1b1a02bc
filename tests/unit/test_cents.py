"""Money inputs, in-process: every form an operator might type or a fixture might hold that is not
whole bounded cents is refused with a sentence naming the input and its range, and money is
printed with integer arithmetic (tests/integration/test_money_inputs.py runs the CLI itself)."""
import argparse

import pytest
from pydantic import ValidationError

from outbound.cents import (
    MAX_BALANCE_CENTS,
    MAX_CREDIT_CENTS,
    MAX_PRICE_CENTS,
    is_cents,
    parse_cents,
)
from outbound_cli.admin import credit_cents, dollars
from outbound_cli.admin_directory import price_cents
from outbound_local.fixture import Call, Organization

NOT_CENTS = ["1" + "0" * 39, "1e3", "1000.0", "10.50", "+500", "5_000", " 500", "500 ", "0x1F4", "-500", "",
             "\u0665\u0660\u0660",  # Arabic-Indic digits: int() reads them as 500
             "\uff15\uff10\uff10",  # fullwidth digits
             "9" * 5000]


@pytest.mark.parametrize("text", NOT_CENTS + [str(MAX_CREDIT_CENTS + 1), "0"], ids=lambda t: repr(t)[:20])
def test_a_credit_amount_is_whole_cents_from_1_to_the_maximum(text):
    with pytest.raises(argparse.ArgumentTypeError, match=f"AMOUNT_CENTS must be a whole number of cents from 1 to "
                                                         f"{MAX_CREDIT_CENTS}"):
        credit_cents(text)


def test_credit_amounts_in_range_are_read():
    assert credit_cents("1") == 1 and credit_cents(str(MAX_CREDIT_CENTS)) == MAX_CREDIT_CENTS
    assert credit_cents("0005000") == 5000


@pytest.mark.parametrize("text", NOT_CENTS + [str(MAX_PRICE_CENTS + 1)], ids=lambda t: repr(t)[:20])
def test_a_price_is_whole_cents_up_to_the_maximum(text):
    with pytest.raises(argparse.ArgumentTypeError, match=f"--per-minute-rate-cents must be a whole number of cents "
                                                         f"from 0 to {MAX_PRICE_CENTS}"):
        price_cents("--per-minute-rate-cents")(text)
    assert price_cents("--x")("0") == 0 and price_cents("--x")(str(MAX_PRICE_CENTS)) == MAX_PRICE_CENTS


@pytest.mark.parametrize("field,value", [
    ("balance_cents", 10**39), ("balance_cents", MAX_CREDIT_CENTS + 1), ("balance_cents", 1000.0),
    ("balance_cents", True), ("balance_cents", "1000"), ("balance_cents", -1),
    ("call_reserve_cents", MAX_PRICE_CENTS + 1), ("call_reserve_cents", 1.5), ("call_reserve_cents", 100.0),
    ("per_minute_rate_cents", 10**39), ("per_minute_rate_cents", False), ("per_minute_rate_cents", "12"),
], ids=lambda v: repr(v)[:20])
def test_fixture_money_fields_are_strict_bounded_ints(field, value):
    with pytest.raises(ValidationError, match=field):
        Organization.model_validate({"id": "org_x", "name": "X", "balance_cents": 100, field: value})


def test_a_fixture_calls_reserve_is_bounded_too():
    call = {"call_id": "call_x", "organization_id": "org_x", "provider": "twilio",
            "from_phone_number": "+15551234567", "to_phone_number": "+15559876543"}
    with pytest.raises(ValidationError, match="reserve_cents"):
        Call.model_validate({**call, "reserve_cents": MAX_PRICE_CENTS + 1})
    assert Call.model_validate({**call, "reserve_cents": 100}).reserve_cents == 100


@pytest.mark.parametrize("cents,text", [
    (0, "$0.00"), (5, "$0.05"), (-5, "-$0.05"), (123456, "$1,234.56"), (-100, "-$1.00"),
    (MAX_BALANCE_CENTS, "$10,000,000,000,000.00"),
    (2**53 + 1, "$90,071,992,547,409.93"),  # a float prints ...409.92
    (10**37 + 1, "$100,000,000,000,000,000,000,000,000,000,000,000.01"),
])
def test_money_is_printed_exactly(cents, text):
    assert dollars(cents) == text


def test_is_cents_wants_an_int_in_range():
    assert is_cents(0) and is_cents(MAX_BALANCE_CENTS) and not is_cents(MAX_BALANCE_CENTS + 1)
    assert not any(is_cents(v) for v in (True, 1.0, "1", None, -1))
    with pytest.raises(ValueError, match="x must be a whole number of cents from 1 to 5"):
        parse_cents("6", "x", 1, 5)
