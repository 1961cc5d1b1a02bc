"""The dry run's pure part (outbound.campaigns.forecast) agrees with the engine: for a sample of
contacts (numbers of one zone, of several, of none; a contact's own zone or not; consent or not;
dials counted against the caps) at a spread of instants, the preview's first dial time is the
instant the dialer's own check (compliance.dial_check.DialCheck, as CampaignDialerFunction builds
it) allows, or the next allowed time it names; and a contact it refuses for good is never dialed."""
from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone

from outbound import store
from outbound.campaigns.forecast import Judge, Summary
from outbound.campaigns.settings import Campaign
from outbound.compliance.dial_check import DialCheck, DialOrigin
from outbound.compliance.organization_rules import organization_rules

UTC = timezone.utc
FROM = "+15551230000"
CONSENT = {"type": "express_written", "obtained_at": "2026-11-02T15:04:05Z", "source": "web", "proof_reference": "x"}


def campaign_item(**fields) -> dict:
    return {"campaign_id": "cmp_sample", "organization_id": "org_x", "status": "draft", "from_phone_number": FROM,
            "calling_window": {"start": "09:00", "end": "20:00", "days": ["mon", "tue", "wed", "thu", "fri", "sat"]},
            "timezone": "America/Chicago",
            "retry_policy": {"max_attempts": 3, "delays_minutes": [30], "retry_on": ["busy", "no-answer"]},
            "pacing": {"max_concurrent_calls": 5, "calls_per_minute": 30}, **fields}


ORGANIZATION = {"calling_rules": {"window": {"start": "08:30", "end": "21:00"}, "max_dials_24h": 2,
                                  "max_dials_7d": 4, "blackout_dates": ["2026-12-25"]}}
NUMBERS = ("+18087390001", "+12127390002", "+14157390003", "+15557390004", "+33612730005", "+81373900006",
           "+17057390007")  # Honolulu, New York, Los Angeles, no zone, Paris, Tokyo, Ontario (several zones)
CONTACT_ZONES = (None, "America/New_York", "Pacific/Honolulu", "Asia/Tokyo")
INSTANTS = [datetime(2026, 12, 7, 0, 0, tzinfo=UTC) + timedelta(hours=h, minutes=17 * h) for h in range(0, 200, 17)]


def counter(at: datetime, ago_hours: tuple[float, ...]) -> dict | None:
    if not ago_hours:
        return None
    return {f"d_call_{i}": (at - timedelta(hours=h)).isoformat().replace("+00:00", "Z") for i, h in enumerate(ago_hours)}


def test_the_preview_dials_when_the_dialers_own_check_allows(checked=0):
    own = organization_rules(ORGANIZATION)
    for require_consent in (False, True):
        campaign = Campaign.from_item(campaign_item(require_consent=require_consent))
        for at in INSTANTS:
            judge = Judge(campaign, own.rules.narrowed(campaign.rules), at, lambda n: None)
            for number, zone, consent, dials in itertools.product(NUMBERS, CONTACT_ZONES, (None, CONSENT),
                                                                  ((), (3.0,), (1.0, 20.0), (30.0, 50.0, 100.0, 120.0))):
                read = counter(at, dials)
                contact = {"contact_id": "ct", "phone_number": number, "timezone": zone, "status": "pending",
                           "attempts": 0, "consent": consent}
                forecast = judge.contact(contact, False, tuple(store.recent_dials(read)))
                check = DialCheck("org_x", FROM, number, DialOrigin("campaign"), own, read).for_campaign(
                    campaign.rules, zone, campaign.timezone, consent)
                verdict = check.verdict(at)
                if verdict.allowed:
                    assert forecast.first_dial_at == at and not forecast.waits, (number, zone, at)
                else:
                    assert forecast.first_dial_at == verdict.next_allowed_at, (number, zone, at, verdict.codes)
                if forecast.first_dial_at is not None:  # and at that instant the dialer allows it
                    assert check.verdict(forecast.first_dial_at).allowed, (number, zone, at)
                    if forecast.first_dial_at > at:  # the first such instant: a minute before, refused
                        assert not check.verdict(forecast.first_dial_at - timedelta(minutes=1)).allowed
                else:
                    assert forecast.reason in ("consent_missing", "zone_unknown", "no_common_window")
                checked += 1
    assert checked > 4000


def test_final_in_flight_suppressed_and_end_at_contacts_are_not_dialed_and_are_counted():
    at = datetime(2026, 12, 7, 18, 0, tzinfo=UTC)  # 12:00 in Chicago
    campaign = Campaign.from_item(campaign_item(end_at="2026-12-07T19:00:00Z"))
    judge = Judge(campaign, campaign.rules, at, lambda n: "Destination not permitted" if n.startswith("+44") else None)
    base = {"contact_id": "ct", "phone_number": "+15557390004", "timezone": None, "attempts": 0}
    summary = Summary()
    cases = [({**base, "status": "completed", "attempts": 1}, False, "already_final"),
             ({**base, "status": "dialing", "attempts": 1}, False, "in_flight"),
             ({**base, "status": "pending"}, True, "suppressed"),
             ({**base, "status": "suppressed"}, False, "suppressed"),
             ({**base, "status": "pending", "phone_number": "+447700900123"}, False, "invalid_destination"),
             ({**base, "status": "pending", "timezone": "Asia/Tokyo"}, False, "no_time_before_end"),
             ({**base, "status": "pending"}, False, None)]
    for contact, suppressed, reason in cases:
        forecast = judge.contact(contact, suppressed, ())
        assert forecast.reason == reason, (contact, forecast)
        summary.add(forecast)
    view = summary.view(campaign, campaign.rules, 10, 100)
    assert view["contacts"] == 7 and view["dialed"] == 1 and view["by_reason"]["now"] == 1
    assert view["attempts"] == {**view["attempts"], "min": 1, "max": 3}
    assert view["cost_cents"]["min"] == 10 and view["cost_cents"]["max"] == 300
