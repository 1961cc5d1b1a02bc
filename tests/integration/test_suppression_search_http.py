"""GET /suppressions?starting_with=: search the do-not-call list by a number's beginning (the list
is kept by number, so this is the index Query's own key condition, paged as before)."""
from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.integration

KEY = "sk_live_dnc_search_test"
NUMBERS = ["+15550101001", "+15550101002", "+15550101100", "+15550202000", "+447700900123"]


@pytest.fixture(scope="module")
def listed(server, tmp_path_factory):
    path = tmp_path_factory.mktemp("dnc") / "fixture.json"
    path.write_text(json.dumps({"organizations": [{"id": "org_dnc_search", "name": "DNC", "balance_cents": 100,
                                                   "api_keys": [KEY]}]}))
    server.outbound("seed", str(path), "--local-server", server.url)
    for number in NUMBERS:
        assert server.request("POST", "/suppressions", {"phone_number": number}, key=KEY).status_code == 201
    return server


def found(server, query: str) -> list[str]:
    response = server.request("GET", f"/suppressions{query}", key=KEY)
    assert response.status_code == 200, response.text
    return [entry["phone_number"] for entry in response.json()["suppressions"]]


def test_by_the_beginning_of_the_number(listed):
    assert found(listed, "?starting_with=%2B1555010100") == ["+15550101001", "+15550101002"]
    assert found(listed, "?starting_with=1555010") == ["+15550101001", "+15550101002", "+15550101100"]
    assert found(listed, "?starting_with=%2B44") == ["+447700900123"]
    assert found(listed, "?starting_with=%2B1999") == []
    assert found(listed, "?starting_with=") == sorted(NUMBERS)


def test_pages_stay_inside_the_search(listed):
    first = listed.request("GET", "/suppressions?starting_with=%2B155501&limit=2", key=KEY).json()
    assert [e["phone_number"] for e in first["suppressions"]] == ["+15550101001", "+15550101002"]
    rest = listed.request("GET", f"/suppressions?starting_with=%2B155501&limit=2&next_token={first['next_token']}",
                          key=KEY).json()
    assert [e["phone_number"] for e in rest["suppressions"]] == ["+15550101100"]


@pytest.mark.parametrize("value", ["abc", "%2B1-555", "%2B" + "1" * 16, "%D9%A1"])
def test_a_prefix_that_is_not_digits_is_400(listed, value):
    response = listed.request("GET", f"/suppressions?starting_with={value}", key=KEY)
    assert response.status_code == 400
    assert response.json() == {"detail": "starting_with must be the beginning of an E.164 number: + and up to 15 digits"}
