"""Every money input is whole cents in ASCII digits, bounded, and money is printed with integer
arithmetic: `outbound admin credit`, the organization's reserve and rate (`outbound admin org`)
and the fixture's money fields (`outbound seed`), run as an operator runs them (a process each;
the full lists of refused forms are checked in-process by tests/unit/test_money.py)."""
from __future__ import annotations

import json
import uuid

import pytest

pytestmark = pytest.mark.integration

ORG = "org_globex"
MAX_CREDIT_CENTS = 100_000_000  # $1,000,000.00 in one credit
MAX_BALANCE_CENTS = 10**15  # $10,000,000,000,000.00
MAX_PRICE_CENTS = 1_000_000  # $10,000.00: a reserve per call, a rate per minute


def credit(server, amount: str):
    return server.outbound("admin", "credit", ORG, amount, "--reason", "test", "--reference",
                           f"money-{uuid.uuid4().hex}", "--local-server", server.url, check=False)


@pytest.mark.parametrize("amount", [
    "1" + "0" * 39,  # 40 digits: more than a DynamoDB number holds
    str(MAX_CREDIT_CENTS + 1), "1e3", "+500",
    "\u0665\u0660\u0660",  # Arabic-Indic digits: int() reads them as 500
])
def test_a_credit_that_is_not_whole_bounded_cents_is_refused_and_changes_nothing(server, amount):
    before = server.organization(ORG)
    done = credit(server, amount)
    assert done.returncode != 0, done.stdout
    assert "Traceback" not in done.stderr
    assert "AMOUNT_CENTS must be a whole number of cents from 1 to 100000000" in done.stderr
    assert server.organization(ORG) == before


def test_the_largest_credit_is_accepted_and_printed_exactly(server):
    done = credit(server, str(MAX_CREDIT_CENTS))
    assert done.returncode == 0, done.stderr
    assert f"Credited $1,000,000.00 to {ORG}" in done.stdout


def test_a_credit_that_would_take_the_balance_past_its_bound_is_refused(server):
    """The balance itself stays far inside DynamoDB's 38 digits, however many credits."""
    before = server.organization(ORG)
    table = server.aws()["table_name"]
    near_limit = MAX_BALANCE_CENTS - 10  # as if the organization had been credited that much already
    server.dynamodb().update_item(TableName=table, Key={"pk": {"S": f"ORG#{ORG}"}, "sk": {"S": "ORG"}},
                                  UpdateExpression="SET balance_cents = :b",
                                  ExpressionAttributeValues={":b": {"N": str(near_limit)}})
    try:
        done = credit(server, "11")
        assert done.returncode != 0 and "Traceback" not in done.stderr
        assert "balance" in done.stderr and "at most" in done.stderr, done.stderr
        assert server.organization(ORG)["balance_cents"] == near_limit
    finally:
        server.dynamodb().update_item(TableName=table, Key={"pk": {"S": f"ORG#{ORG}"}, "sk": {"S": "ORG"}},
                                      UpdateExpression="SET balance_cents = :b",
                                      ExpressionAttributeValues={":b": {"N": str(before["balance_cents"])}})


@pytest.mark.parametrize("option,value", [("--call-reserve-cents", "1" + "0" * 39), ("--call-reserve-cents", "12.5"),
                                          ("--per-minute-rate-cents", str(MAX_PRICE_CENTS + 1)),
                                          ("--per-minute-rate-cents", "\u0661\u0662")])
def test_an_organizations_reserve_and_rate_are_bounded_whole_cents(server, option, value):
    done = server.outbound("admin", "org", "update", ORG, option, value, "--local-server", server.url, check=False)
    assert done.returncode != 0, done.stdout
    assert "Traceback" not in done.stderr
    assert f"must be a whole number of cents from 0 to {MAX_PRICE_CENTS}" in done.stderr


@pytest.mark.parametrize("field,value", [
    ("balance_cents", 10**39), ("balance_cents", 1000.0), ("per_minute_rate_cents", True),
])
def test_fixture_money_fields_are_bounded_whole_cents(server, tmp_path, field, value):
    organization = {"id": f"org_money_{uuid.uuid4().hex[:8]}", "name": "Money", "balance_cents": 100, field: value}
    path = tmp_path / "fixture.json"
    path.write_text(json.dumps({"organizations": [organization]}))
    done = server.outbound("seed", str(path), "--local-server", server.url, check=False)
    assert done.returncode != 0, done.stdout
    assert "Traceback" not in done.stderr
    assert field in done.stderr
