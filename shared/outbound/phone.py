"""E.164 checks with phonenumbers (the library's metadata, not a hand-written regex)."""
from __future__ import annotations

import phonenumbers

from .errors import INVALID_E164, BadRequest


def is_e164(number: str) -> bool:
    """``+``, a country code and a possible length for that country.

    ``is_possible_number`` rather than ``is_valid_number``: the documentation's own examples
    (+15551234567) are possible but unassigned ranges, and must work.
    """
    if not number.startswith("+") or not number[1:].isdigit():
        return False
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_possible_number(parsed)


def require_e164(number: str) -> str:
    if not is_e164(number):
        raise BadRequest(INVALID_E164)
    return number


def mask(number: str | None) -> str:
    """What logs may show of a phone number: ``+1555***4567``."""
    if not number:
        return ""
    if len(number) <= 8:
        return number[:2] + "***"
    return f"{number[:5]}***{number[-4:]}"
