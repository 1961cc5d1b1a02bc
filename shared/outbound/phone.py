"""Phone numbers at the boundary: one canonical ASCII E.164 string, or the contract's 400.

Every phone number that enters (request bodies, paths, query strings, CSV rows, scheduled and
EventBridge inputs, fixtures, the admin CLI) goes through ``canonical_e164`` before anything
compares, stores or sends it, so one number has one form: a do-not-call entry, a contact's
duplicate check, an ownership lookup and the provider all see the same string.

Accepted: optional surrounding whitespace, then ``+`` (or the fullwidth ``＋``), then 1 to 15
decimal digits of any one or several Unicode scripts (``+١٥٥٥...``, ``+१५५५...``, ``+１５５５...``),
which phonenumbers (its metadata, not a hand-written regex) must find to be a possible number
for its country code. The result is phonenumbers' E.164 format of it: ``+`` and ASCII digits
(e.g. ``+4407911123456``, with the national prefix, is ``+447911123456``). Refused, with
"Invalid phone number format. Use E.164 format (e.g., +1234567890)": anything else, such as
spaces, ``-``, brackets or letters inside, superscripts and fractions (``²``, ``½``), a missing
``+``, more than 15 digits, lone surrogates, or more than 64 characters (refused before parsing).

``is_possible_number`` rather than ``is_valid_number``: the documentation's own examples
(+15551234567) are possible but unassigned ranges, and must work.
"""
from __future__ import annotations

import unicodedata

import phonenumbers

from .errors import INVALID_E164, BadRequest

MAX_INPUT_CHARS = 64  # whitespace included: longer input is refused before any other work
MAX_DIGITS = 15  # E.164's own maximum
PLUS_SIGNS = ("+", "\uff0b")  # ASCII and fullwidth: phonenumbers reads both as the plus


def canonical_e164(value: object) -> str:
    """The canonical ASCII E.164 form of ``value``; the contract's 400 if it is not a number."""
    number = _canonical(value)
    if number is None:
        raise BadRequest(INVALID_E164)
    return number


def is_e164(value: object) -> bool:
    """True only for a number already in its canonical form (what may be stored or sent)."""
    return isinstance(value, str) and _canonical(value) == value


def _canonical(value: object) -> str | None:
    if not isinstance(value, str) or len(value) > MAX_INPUT_CHARS:
        return None
    text = value.strip()
    digits = text[1:]
    # isdecimal: Unicode decimal digits only (not "²", "½", separators, lone surrogates).
    if not text or text[0] not in PLUS_SIGNS or not 0 < len(digits) <= MAX_DIGITS or not digits.isdecimal():
        return None
    if not digits.isascii():
        digits = "".join(str(unicodedata.decimal(d)) for d in digits)
    number = _formatted("+" + digits)
    if number is not None and number != "+" + digits and _formatted(number) != number:
        return None  # never seen: a form phonenumbers would rewrite again is not one canonical form
    return number


def _formatted(number: str) -> str | None:
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def mask(number: str | None) -> str:
    """What logs may show of a phone number: ``+1555***4567``."""
    if not number:
        return ""
    if len(number) <= 8:
        return number[:2] + "***"
    return f"{number[:5]}***{number[-4:]}"
