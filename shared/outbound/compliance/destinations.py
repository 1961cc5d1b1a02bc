"""Destination safety (toll fraud): where an organization may call.

A destination is allowed when its country is one of the organization's
``allowed_destination_countries`` (default: the from number's country) and it is not a
premium-rate or shared-cost number; calling your own from number is refused too. A
destination's country is phonenumbers' region for the number; where the range is unassigned
(the documentation's +1555... examples), the calling code's main country (+1 -> US), so the
documented examples keep working by default while +1 876 (Jamaica) is refused for a US
organization.
"""
from __future__ import annotations

from typing import Iterable

import phonenumbers
from phonenumbers import PhoneNumberType

from outbound.errors import BadRequest, Forbidden

REFUSED_TYPES = (PhoneNumberType.PREMIUM_RATE, PhoneNumberType.SHARED_COST)


def country_of(number: str) -> str | None:
    parsed = phonenumbers.parse(number, None)
    return (phonenumbers.region_code_for_number(parsed)
            or phonenumbers.region_code_for_country_code(parsed.country_code))


def check_destination(to_number: str, from_number: str, allowed_countries: Iterable[str] | None) -> None:
    """Raise 400 for a call to the from number itself, 403 for a destination not permitted."""
    if to_number == from_number:
        raise BadRequest("to_phone_number must differ from from_phone_number")
    allowed = {c.upper() for c in allowed_countries or ()} or {country_of(from_number)}
    parsed = phonenumbers.parse(to_number, None)
    if country_of(to_number) not in allowed or phonenumbers.number_type(parsed) in REFUSED_TYPES:
        raise Forbidden(f"Destination {to_number} is not permitted for your organization")
