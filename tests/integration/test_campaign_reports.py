"""What a campaign reports. Its progress counters only rise: what GET /campaigns/{id} shows as `attempts`,
`answered`, `talk_seconds`, `charged_cents` and `finished` never goes back, through a pause that
puts queued dials back, a cancel, and attempts that end. (`waiting` and `in_flight` are what is
left and what runs now: they go down as the campaign goes on.) On an in-process stack, the
dispatcher's ticks in the test's hands, as test_campaign_engine.py. And every part of a long
results.csv has the same columns."""
from __future__ import annotations

import itertools

import pytest

from tests.conftest import ROOT, in_process_stack

pytestmark = pytest.mark.integration

ORG, FROM = "org_dialer", "+15551235101"
ALL_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
RISING = ("attempts", "answered", "talk_seconds", "charged_cents", "finished")
_numbers = itertools.count(1)  # +1212 558 xxxx: this module's destinations


@pytest.fixture(scope="module")
def stack():
    yield from in_process_stack(ROOT / "tests" / "fixtures" / "campaigns.json")


def new_running_campaign(contacts: int) -> str:
    from outbound.campaigns import contacts as campaign_contacts
    from outbound.campaigns import lifecycle as campaigns
    from outbound.campaigns.models import CampaignCreate, ContactIn
    from outbound.store import campaigns as db

    body = CampaignCreate(name="progress", from_phone_number=FROM, variables={"name": "Ada", "what": "it"},
                          timezone="UTC", calling_window={"days": ALL_DAYS, "start": "00:00", "end": "23:59"},
                          pacing={"max_concurrent_calls": contacts, "calls_per_minute": 600})
    campaign_id = campaigns.create_campaign(ORG, body)["campaign_id"]
    rows = [ContactIn(phone_number=f"+1212558{next(_numbers):04d}", timezone="America/New_York")
            for _ in range(contacts)]
    assert campaign_contacts.add_contacts(ORG, campaign_id, rows)["added"] == contacts
    db.move_campaign(campaign_id, ORG, ("draft",), "running", {"started_at": "2026-01-01T00:00:00.000Z"})
    return campaign_id


def progress(campaign_id: str) -> dict:
    from outbound.campaigns.lifecycle import get_campaign

    return get_campaign(ORG, campaign_id)["progress"]


def ended(dial: dict, status: str, seconds: int) -> dict:
    """The call_ended event the outcomes consumer sends when the attempt's call is settled."""
    from outbound.campaigns.outcomes import ended_event

    call = {"call_id": dial["call_id"], "contact_id": dial["contact_id"], "attempt": dial["attempt"],
            "status": status, "answered_at": "2026-01-01T00:00:05.000Z" if seconds else None,
            "duration_seconds": seconds, "charged_cents": 10 * -(-seconds // 60), "ended_at": None,
            "to_phone_number": dial["phone_number"], "variables": dial.get("variables") or {}}
    return {**ended_event(call), "contact_status": "dialing"}


def rises(seen: list[dict]) -> None:
    for name in RISING:
        values = [p[name] for p in seen]
        assert values == sorted(values), f"{name} went back: {values}"


def test_attempts_never_go_back_when_a_pause_puts_queued_dials_back(stack):
    from outbound.campaigns.dial import _event
    from outbound.campaigns.dispatch import run_tick
    from outbound.store import campaigns as db

    campaign_id = new_running_campaign(4)
    seen = [progress(campaign_id)]
    dials = run_tick(campaign_id, []).dials
    assert len(dials) == 4
    seen.append(progress(campaign_id))
    run_tick(campaign_id, [ended(dials[0], "completed", 65), ended(dials[1], "busy", 0)])
    seen.append(progress(campaign_id))
    assert seen[-1]["attempts"] == 2 and seen[-1]["answered"] == 1 and seen[-1]["talk_seconds"] == 65

    db.move_campaign(campaign_id, ORG, ("running",), "paused")
    run_tick(campaign_id, [_event(dials[2], "deferred")])  # its dial found the campaign paused
    seen.append(progress(campaign_id))
    assert seen[-1]["in_flight"] == 1 and seen[-1]["attempts"] == 2
    rises(seen)


def test_attempts_never_go_back_after_a_cancel(stack):
    from outbound.campaigns.dial import _event
    from outbound.campaigns.dispatch import run_tick
    from outbound.store import campaigns as db

    campaign_id = new_running_campaign(3)
    dials = run_tick(campaign_id, []).dials
    seen = [progress(campaign_id)]
    run_tick(campaign_id, [ended(dials[0], "no-answer", 0)])
    seen.append(progress(campaign_id))
    db.move_campaign(campaign_id, ORG, ("running",), "canceled")
    run_tick(campaign_id, [_event(dials[1], "deferred")])  # queued before the cancel, delivered after
    seen.append(progress(campaign_id))
    run_tick(campaign_id, [ended(dials[2], "completed", 30)])
    seen.append(progress(campaign_id))
    rises(seen)
    assert seen[-1]["attempts"] == 2 and seen[-1]["in_flight"] == 0 and seen[-1]["finished"] == 3


def test_every_part_of_a_long_results_export_has_the_same_columns(stack, monkeypatch):
    """The variable columns come from the whole campaign, not from the contacts of one part: a
    variable only a later contact carries is a column of the first part too."""
    import csv
    import io

    from outbound.campaigns import contacts as campaign_contacts
    from outbound.campaigns.models import ContactIn

    campaign_id = new_running_campaign(1)
    extra = ContactIn(phone_number=f"+1212558{next(_numbers):04d}", variables={"name": "Two", "room": "12"})
    assert campaign_contacts.add_contacts(ORG, campaign_id, [extra])["added"] == 1
    monkeypatch.setattr(campaign_contacts, "MAX_CSV_ROWS", 1)
    first, token = campaign_contacts.results_csv(ORG, campaign_id)
    second, end = campaign_contacts.results_csv(ORG, campaign_id, token)
    assert token and end is None
    headers = [next(csv.reader(io.StringIO(part))) for part in (first, second)]
    assert headers[0] == headers[1] and headers[0][-2:] == ["variables.name", "variables.room"]
    assert [len(list(csv.reader(io.StringIO(part)))) for part in (first, second)] == [2, 2]


def test_a_campaigns_variable_names_are_bounded_and_a_row_past_the_bound_is_a_row_error(stack):
    """Each name is a results.csv column kept on the campaign item: at most 200, so no request can
    grow the item past DynamoDB's item size (a row past the bound is refused, the others added)."""
    from outbound.campaigns import contacts as campaign_contacts
    from outbound.campaigns.models import ContactIn

    campaign_id = new_running_campaign(1)

    def row(first: int, count: int) -> ContactIn:
        return ContactIn(phone_number=f"+1212558{next(_numbers):04d}",
                         variables={f"v{n:03d}": "x" for n in range(first, first + count)})

    result = campaign_contacts.add_contacts(ORG, campaign_id, [row(50 * i, 50) for i in range(4)] + [row(0, 3)])
    assert result["added"] == 5 and result["errors"] == []  # 200 names; the fifth reuses three of them
    refused = campaign_contacts.add_contacts(ORG, campaign_id, [row(0, 2), row(200, 1)])
    assert refused["added"] == 1
    assert refused["errors"][0]["error"] == ("Too many variable names in this campaign: at most 200 "
                                             "(this contact adds v200)")
