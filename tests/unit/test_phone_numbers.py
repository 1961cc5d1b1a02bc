"""Phone numbers become one canonical ASCII E.164 string at the boundary, and numbers read from
text (query strings, crons, CLI arguments) take ASCII digits only: the pure parts.

Unicode has dozens of decimal digit scripts (Arabic-Indic, Devanagari, fullwidth ...): Python's
``str.isdigit()`` and ``int()`` accept them all, so "+١٥٥٥٩٨٧٦٠٠٠" used to pass as a number
distinct from "+15559876000" (a do-not-call bypass)."""
from __future__ import annotations

import argparse
import json
import sys
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from outbound.errors import INVALID_E164, BadRequest
from outbound.calls.models import parse_initiate_request
from outbound import phone

# Every decimal digit script Unicode has: the characters whose value is 0 and whose next nine
# characters are 1..9 (Unicode keeps each script's digits contiguous).
ZEROS = [chr(c) for c in range(sys.maxunicode + 1)
         if unicodedata.decimal(chr(c), None) == 0
         and all(unicodedata.decimal(chr(c + d), None) == d for d in range(10))]
ARABIC_INDIC, DEVANAGARI, FULLWIDTH = "\u0660", "\u0966", "\uff10"


def canonical_e164(value):
    return phone.canonical_e164(value)  # looked up when called: each test fails on its own without it


def is_e164(value) -> bool:
    return phone.is_e164(value)


def written_in(zero: str, number: str) -> str:
    """``number`` (+ and ASCII digits) with its digits in the script whose zero is ``zero``."""
    return number[0] + "".join(chr(ord(zero) + int(d)) for d in number[1:])


def refused(value) -> bool:
    with pytest.raises(BadRequest) as err:
        canonical_e164(value)
    return err.value.detail == INVALID_E164


def test_there_are_many_digit_scripts_and_ascii_is_one_of_them():
    assert len(ZEROS) > 50 and "0" in ZEROS and {ARABIC_INDIC, DEVANAGARI, FULLWIDTH} <= set(ZEROS)


def test_the_contracts_examples_are_their_own_canonical_form():
    for number in ("+15551234567", "+15559876543", "+442071838750"):
        assert canonical_e164(number) == number and is_e164(number)


@pytest.mark.parametrize("zero", [ARABIC_INDIC, DEVANAGARI, FULLWIDTH, "\u06f0", "\u09e6", "\u0e50", "\U0001d7ce"])
def test_digits_of_any_script_become_ascii(zero):
    assert canonical_e164(written_in(zero, "+15559876000")) == "+15559876000"
    assert not is_e164(written_in(zero, "+15559876000"))  # a check on the raw form says: not canonical


def test_mixed_scripts_a_fullwidth_plus_and_surrounding_whitespace_are_the_same_number():
    mixed = "+1" + written_in(ARABIC_INDIC, "+555")[1:] + written_in(DEVANAGARI, "+9876")[1:] + "000"
    assert canonical_e164(mixed) == "+15559876000"
    assert canonical_e164("\uff0b" + written_in(FULLWIDTH, "+15559876000")[1:]) == "+15559876000"
    assert canonical_e164(" \t+15559876000\n") == "+15559876000"


def test_a_national_prefix_after_the_country_code_is_one_number_with_the_form_without_it():
    assert canonical_e164("+4407911123456") == canonical_e164("+447911123456") == "+447911123456"


@pytest.mark.parametrize("value", [
    "5551234567", "+1555", "+1 555 123 4567", "+1-555-123-4567", "+1(555)1234567", "+15551234567x",
    "+15551234567;ext=1", "++15551234567", "+999123456789", "+1555123456789012", "+",  "", "   ",
    "+\u00b9\u00b2\u00b3\u2074567890",  # superscripts: isdigit() but not decimal digits
    "+1555\u00bd234567",  # a vulgar fraction: numeric, not a digit
    "+1555123\ud8004567",  # a lone surrogate (JSON's "\\ud800")
    "+1555\u200b1234567",  # a zero-width space inside
    "\u20781555123456",  # superscript plus
    "+" + "1" * 10_000,  # long: refused before any parsing
    " " * 10_000 + "+15551234567",
    None, 15551234567, ["+15551234567"],
])
def test_anything_else_is_the_contracts_400(value):
    assert refused(value)


# Strings that look like numbers in assorted ways, and arbitrary text.
DIGITS = st.sampled_from(ZEROS).flatmap(lambda zero: st.integers(0, 9).map(lambda d: chr(ord(zero) + d)))
NUMBERISH = st.builds(lambda plus, body, pad: pad + plus + "".join(body) + pad,
                      st.sampled_from(["+", "\uff0b", "", "++"]),
                      st.lists(DIGITS | st.sampled_from([" ", "-", "x", "\u00b2"]), min_size=0, max_size=17),
                      st.sampled_from(["", " ", "\u00a0"]))


@settings(max_examples=1500, deadline=None)
@given(st.one_of(NUMBERISH, st.text(max_size=40)))
def test_what_is_accepted_is_canonical_ascii_and_stays_what_it_is(value):
    try:
        number = canonical_e164(value)
    except BadRequest as exc:
        assert exc.detail == INVALID_E164
        return
    assert number.isascii() and number[0] == "+" and number[1:].isdigit() and 2 <= len(number) <= 16
    assert canonical_e164(number) == number and is_e164(number)


KNOWN = ["+15559876000", "+15551234567", "+442071838750", "+33142685300", "+819012345678", "+390612345678",
         "+4915112345678", "+966501234567", "+919876543210"]


@settings(max_examples=500, deadline=None)
@given(st.sampled_from(KNOWN), st.lists(st.sampled_from(ZEROS), min_size=15, max_size=15))
def test_a_number_is_one_number_in_every_script(number, zeros):
    """What a do-not-call entry is keyed by: whichever script each digit is written in, the
    same canonical string (so a suppression written in one blocks every other)."""
    written = number[0] + "".join(chr(ord(zero) + int(d)) for zero, d in zip(zeros, number[1:]))
    assert canonical_e164(written) == canonical_e164(number) == number


def test_the_initiate_body_keeps_only_canonical_numbers():
    body = {"from_phone_number": "\uff0b" + written_in(FULLWIDTH, "+15551234567")[1:],
            "to_phone_number": written_in(ARABIC_INDIC, "+15559876000")}
    request = parse_initiate_request(json.dumps(body))
    assert (request.from_phone_number, request.to_phone_number) == ("+15551234567", "+15559876000")


def test_a_scheduled_or_eventbridge_fire_keeps_only_canonical_numbers():
    from outbound.calls.models import initiate_request_from

    call = {"from_phone_number": written_in(DEVANAGARI, "+15551234567"),
            "to_phone_number": written_in(ARABIC_INDIC, "+15559876000")}
    request = initiate_request_from(call)
    assert (request.from_phone_number, request.to_phone_number) == ("+15551234567", "+15559876000")


# --- numbers read from text: ASCII digits only ----------------------------------------------------------

@pytest.mark.parametrize("value", ["\u00b2", "\u0663", "\uff15", "\u0967\u0966", "1\u0660", " 5", "5 ", "+5", "-1",
                                   "1_0", "0x10", "\u00b9\u2070"])
def test_a_page_size_takes_ascii_digits_only(value):
    from outbound.pages import parse_limit
    from outbound.calls.list_calls import parse_limit as calls_limit

    for parse in (parse_limit, calls_limit):
        with pytest.raises(BadRequest) as err:
            parse(value)
        assert err.value.detail == "limit must be an integer from 1 to 100"
    assert parse_limit("7") == calls_limit("7") == 7


@pytest.mark.parametrize("expression", ["cron(0 \u0669 ? * MON-FRI *)", "cron(\u0660 9 ? * MON-FRI *)",
                                        "cron(0 9 ? * MON-FR\u0131 *)",  # dotless i: "FR\u0131".upper() == "FRI"
                                        "cron(0 9 ? * \u017fUN *)",  # long s: "\u017fUN".upper() == "SUN"
                                        "cron(0 9 \uff11 * ? *)", "cron(0\u30009 ? * MON *)"])
def test_a_cron_takes_ascii_only(expression):
    from outbound.schedules.times import ScheduleTimeError, parse_cron

    with pytest.raises(ScheduleTimeError) as err:
        parse_cron(expression)
    assert str(err.value).startswith("recurrence.cron")


def test_cli_numbers_take_ascii_digits_only():
    from outbound_cli.common import ascii_int

    parser = argparse.ArgumentParser(exit_on_error=False)
    parser.add_argument("n", type=ascii_int)
    assert parser.parse_args(["42"]).n == 42
    for value in ("\u0664\u0662", "\u00b2", "\uff14\uff12", "4_2", " 42"):
        with pytest.raises(argparse.ArgumentError):
            parser.parse_args([value])


@pytest.mark.parametrize("port", ["\u00b2", "\uff15\uff10\uff16\uff10", "\u0665\u0660\u0666\u0660"])
def test_a_sip_bridge_port_takes_ascii_digits_only(monkeypatch, port):
    """The bridge's host:port (an operator's secret): "²" made the adapter fail (a 504) and
    "５０６０" was read as 5060."""
    from outbound.providers import OutboundCall, ProviderRefused, get_adapter

    monkeypatch.setenv("OUTBOUND_SIP_BRIDGE", f"127.0.0.1:{port}")
    call = OutboundCall(call_id="call_1", from_number="+15551230009", to_number="+15559876543",
                        stream_url="wss://runtime.example.com/stream",
                        status_callback_url="https://api.example.com/x",
                        provider_settings={"trunks": [{"id": "t", "gateway": "sip.example.com", "enabled": True}]})
    with pytest.raises(ProviderRefused, match="host:port"):
        get_adapter("sip").place_call(call, {"password": "x"})


def test_a_ledger_token_takes_ascii_digits_only():
    import base64

    from outbound.money.ledger import decode_token

    position = "\u0662\u0660\u0662\u0666-03-10T09:00:00.000Z#credit#ref"
    token = base64.urlsafe_b64encode(position.encode()).decode().rstrip("=")
    with pytest.raises(BadRequest):
        decode_token(token)
    assert decode_token(base64.urlsafe_b64encode(b"2026-03-10T09:00:00.000Z#credit#ref").decode().rstrip("="))


def test_the_local_schedulers_rate_takes_ascii_digits_only():
    from datetime import datetime, timezone

    from outbound_local.scheduler import LocalScheduler

    at = datetime(2026, 3, 7, tzinfo=timezone.utc)
    assert LocalScheduler._next("rate(2 hours)", "UTC", at, at) == datetime(2026, 3, 7, 2, tzinfo=timezone.utc)
    assert LocalScheduler._next("rate(\u0662 hours)", "UTC", at, at) is None
