"""Assistant resolution order: explicit id > the number's assistant > the graph's entry."""
import pytest

from outbound import store
from outbound.calls.initiate import resolve_assistant
from outbound.calls.models import InitiateCallRequest
from outbound.errors import Forbidden, NotFound

ORG = "org_a"
ITEMS = {
    ("ASSISTANT#1", "ASSISTANT"): {"id": 1, "organization_id": ORG},
    ("ASSISTANT#2", "ASSISTANT"): {"id": 2, "organization_id": ORG},
    ("ASSISTANT#9", "ASSISTANT"): {"id": 9, "organization_id": "org_b"},
    ("GRAPH#7", "GRAPH"): {"id": 7, "organization_id": ORG, "entry_assistant_id": 2},
    ("GRAPH#8", "GRAPH"): {"id": 8, "organization_id": "org_b", "entry_assistant_id": 9},
}


@pytest.fixture(autouse=True)
def fake_store(monkeypatch):
    reads = []

    def get_item(key):
        reads.append(key["pk"])
        return ITEMS.get((key["pk"], key["sk"]))

    def get_items(keys):
        reads.append([k["pk"] for k in keys])
        return {(k["pk"], k["sk"]): ITEMS[(k["pk"], k["sk"])] for k in keys if (k["pk"], k["sk"]) in ITEMS}

    monkeypatch.setattr(store, "get_item", get_item)
    monkeypatch.setattr(store, "get_items", get_items)
    return reads


def request(assistant_id=None):
    return InitiateCallRequest(from_phone_number="+15551234567", to_phone_number="+15559876543",
                               assistant_id=assistant_id)


def number(**kw):
    return {"organization_id": ORG, "provider": "twilio", **kw}


def test_explicit_assistant_wins_over_the_number(fake_store):
    override = ITEMS[("ASSISTANT#1", "ASSISTANT")]
    assert resolve_assistant(ORG, request(1), number(assistant_id=2), override)["id"] == 1
    assert fake_store == []  # the override came with the first batch read


def test_explicit_assistant_of_another_org_or_unknown_is_403():
    with pytest.raises(Forbidden, match="assistant 9 does not belong"):
        resolve_assistant(ORG, request(9), number(assistant_id=2), ITEMS[("ASSISTANT#9", "ASSISTANT")])
    with pytest.raises(Forbidden, match="assistant 404 does not belong"):
        resolve_assistant(ORG, request(404), number(assistant_id=2), None)


def test_number_assistant_before_graph():
    assert resolve_assistant(ORG, request(), number(assistant_id=1), None)["id"] == 1


def test_graph_entry_assistant_in_one_read_with_the_hint(fake_store):
    assert resolve_assistant(ORG, request(), number(graph_id=7, graph_entry_hint=2), None)["id"] == 2
    assert fake_store == [["GRAPH#7", "ASSISTANT#2"]]


def test_stale_hint_costs_one_more_read_and_stays_correct(fake_store):
    assert resolve_assistant(ORG, request(), number(graph_id=7, graph_entry_hint=1), None)["id"] == 2
    assert fake_store == [["GRAPH#7", "ASSISTANT#1"], "ASSISTANT#2"]


@pytest.mark.parametrize("num", [number(), number(assistant_id=404), number(graph_id=99),
                                 number(graph_id=8), number(assistant_id=9)])
def test_nothing_resolvable_is_404(num):
    with pytest.raises(NotFound, match=r"No assistant found for phone number \+15551234567"):
        resolve_assistant(ORG, request(), num, None)
