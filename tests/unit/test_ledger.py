"""The ledger's arithmetic and reconcile's checks (pure parts: no I/O)."""
import pytest

from outbound.money.reconcile import check
from outbound.store import directory, ledger

ORG = {"id": "org_a", "balance_cents": 964, "reserved_cents": 100, "available_cents": 864}


def entry(kind, cents, call_id=None, created_at="2030-01-01T00:00:00.000Z"):
    entry_id = f"call#{call_id}#{created_at}#{kind}" if call_id else f"credit#ref-{cents}"
    return ledger.entry_item("org_a", entry_id, kind, cents, created_at, call_id=call_id)


HISTORY = [entry("credit", 1000), entry("reserve", 100, "call_1"), entry("charge", 36, "call_1"),
           entry("release", 100, "call_1"), entry("reserve", 100, "call_2")]


def test_each_kind_moves_balance_or_reserved_by_its_amount():
    assert [(e["balance_delta_cents"], e["reserved_delta_cents"]) for e in HISTORY] == [
        (1000, 0), (0, 100), (-36, 0), (0, -100), (0, 100)]
    item = HISTORY[1]
    assert item["pk"] == "LEDGER#org_a" and item["sk"] == "call#call_1#2030-01-01T00:00:00.000Z#reserve"
    assert item["gsi1pk"] == "ORG#org_a#LEDGER" and item["gsi1sk"] == "2030-01-01T00:00:00.000Z#" + item["sk"]
    assert "reference" not in item  # None is left out


def test_a_consistent_organization_reconciles():
    result = check(ORG, HISTORY, {"call_2": 100})
    assert result.ok, result.problems
    assert (result.ledger_balance_cents, result.ledger_reserved_cents, result.calls_reserved_cents) == (964, 100, 100)


@pytest.mark.parametrize("organization,held,expected", [
    ({**ORG, "balance_cents": 1464, "available_cents": 1364}, {"call_2": 100},
     "balance_cents is 1464, but the ledger's balance entries sum to 964 (off by +500)"),
    ({**ORG, "reserved_cents": 0, "available_cents": 964}, {"call_2": 100},
     "reserved_cents is 0, but the ledger's reserve entries sum to 100 (off by -100)"),
    ({**ORG, "available_cents": 900}, {"call_2": 100},
     "available_cents is 900, but balance_cents - reserved_cents sum to 864 (off by +36)"),
    (ORG, {"call_2": 100, "call_3": 50}, "call call_3 holds 50 cents, but its ledger entries hold 0"),
    (ORG, {}, "reserved_cents is 100, but the reserves its calls hold sum to 0 (off by +100)"),
])
def test_every_kind_of_drift_is_named(organization, held, expected):
    result = check(organization, HISTORY, held)
    assert not result.ok and expected in result.problems, result.problems


def test_credits_are_positive_whole_cents_with_a_reference():
    for cents in (0, -5, 1.5, True):
        with pytest.raises(ValueError):
            ledger.credit_organization("org_a", cents, "ref", "why")
    with pytest.raises(ValueError):
        ledger.credit_organization("org_a", 100, "", "why")


def test_the_directory_refuses_to_write_money_fields():
    for field in ("balance_cents", "reserved_cents", "available_cents"):
        with pytest.raises(ValueError, match=field):
            directory.update_fields({"pk": "ORG#org_a", "sk": "ORG"}, {field: 0})
        with pytest.raises(ValueError):
            directory.create_organization("org_a", {"name": "A", field: 5})
        with pytest.raises(ValueError):
            directory.put_owned({"pk": "PHONE#+1", "sk": "PHONE", "organization_id": "org_a", field: 1})
