import pytest

from outbound.compliance.destinations import check_destination, country_of
from outbound.errors import BadRequest, Forbidden

US_FROM = "+15551234567"


@pytest.mark.parametrize("number,country", [("+15559876543", "US"), ("+18765551234", "JM"),
                                            ("+14165551234", "CA"), ("+442071838750", "GB")])
def test_country_of_uses_the_main_country_for_unassigned_ranges(number, country):
    assert country_of(number) == country


@pytest.mark.parametrize("to", ["+15559876543", "+18005550100", "+15005550001"])
def test_documented_and_ordinary_us_destinations_are_allowed_by_default(to):
    check_destination(to, US_FROM, None)


@pytest.mark.parametrize("to,allowed", [
    ("+18765551234", None),  # Jamaica from a US number
    ("+442071838750", None),
    ("+14165551234", None),  # Canada is not the US by default...
    ("+19005550100", None),  # US premium rate
    ("+19005550100", ["US", "CA"]),  # premium rate even where the country is allowed
    ("+448712345678", ["GB"]),  # UK premium rate
    ("+15559876543", ["CA"]),
])
def test_refused_destinations(to, allowed):
    with pytest.raises(Forbidden) as err:
        check_destination(to, US_FROM, allowed)
    assert err.value.detail == f"Destination {to} is not permitted for your organization"


def test_allowed_countries_widen_the_default():
    check_destination("+14165551234", US_FROM, ["US", "CA"])  # ...unless the organization allows it
    check_destination("+442071838750", US_FROM, ["gb"])


def test_calling_your_own_number_is_a_400():
    with pytest.raises(BadRequest, match="to_phone_number must differ from from_phone_number"):
        check_destination(US_FROM, US_FROM, None)
