"""POST /campaigns/{id}/preview: a draft or paused campaign's dry run. Nothing is dialed,
reserved or written: the contacts are read a Query page at a time (with their recipients'
frequency counters and the do-not-call list, 100 numbers a BatchGetItem) and each is judged by
outbound.campaigns.forecast, which applies THE calling rules as the dialer does.

The answer: ``contacts``, a page of per-contact forecasts (``limit``, ``next_token`` over the
contacts in key order), and on the first page (no next_token) ``summary``, over EVERY contact,
built in the same single pass over the contacts' Query pages (later pages leave it out: it
would be the same). Measured: `outbound bench preview`.
"""
from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any

from outbound import deadline, pages, store
from outbound.campaigns.forecast import Judge, Summary
from outbound.campaigns.lifecycle import load
from outbound.campaigns.settings import Campaign
from outbound.compliance.destinations import country_of
from outbound.compliance.organization_rules import organization_rules
from outbound.config import settings
from outbound.errors import Conflict
from outbound.store import campaign_preview as db
from outbound.store.keys import campaign_partition

UTC = timezone.utc
PREVIEWABLE = ("draft", "paused")
# Contacts per Query page of the summary's pass: ~200 KB of projected attributes (DynamoDB answers
# that in tens of ms); a bigger page only saves round trips, and the local DynamoDB's time per
# Query grows with the partition, not the page (see Performance).
SUMMARY_QUERY_PAGE = 1000
SUMMARY_MARGIN_S = 2.0  # left for shaping the answer when the summary's count must stop early
ESTIMATE_S_PER_CONTACT = 0.0002  # the finish estimate's walk (measured ~0.1 ms a contact on a busy 2-core machine)


def preview_campaign(organization_id: str, campaign_id: str, limit: Any = None, next_token: str | None = None,
                     now: datetime | None = None) -> dict[str, Any]:
    item = load(organization_id, campaign_id)
    if item["status"] not in PREVIEWABLE:
        raise Conflict(f"Campaign {campaign_id} is {item['status']}: only a draft or paused campaign can be "
                       "previewed")
    size = pages.parse_limit(limit)
    start = pages.decode(next_token, "pk", campaign_partition(campaign_id))
    organization = store.get_item(store.organization_key(organization_id)) or {}
    campaign = Campaign.from_item(item)
    own = organization_rules(organization)
    judge = Judge(campaign, own.rules.narrowed(campaign.rules), now or datetime.now(UTC),
                  _destination_check(item["from_phone_number"], organization.get("allowed_destination_countries")))
    summary = Summary() if start is None else None
    shown: list[dict[str, Any]] = []
    last_key: dict[str, Any] | None = None
    more = False
    page_started = time.monotonic()
    for page, another in db.contact_pages(campaign_id, start, SUMMARY_QUERY_PAGE if summary else size + 1):
        numbers = [c.get("phone_number") or "" for c in page]
        suppressed, counters = db.recipients(organization_id, numbers)
        for contact in page:
            if len(shown) == size:
                more = True
                if summary is None:
                    break
            number = contact.get("phone_number") or ""
            forecast = judge.contact(contact, number in suppressed, tuple(store.recent_dials(counters.get(number))))
            if summary is not None:
                summary.add(forecast)
            if len(shown) < size:
                shown.append(forecast.view())
                last_key = {"pk": contact["pk"], "sk": contact["sk"]}
        if more and summary is None:
            break
        if summary is not None and another:  # stop counting while the answer can still be sent (29 s)
            took, page_started = time.monotonic() - page_started, time.monotonic()
            if deadline.remaining() < SUMMARY_MARGIN_S + 2 * took + summary.contacts * ESTIMATE_S_PER_CONTACT:
                summary.complete = False
                if len(shown) < size:  # the page shown is then what was judged: its token goes on from there
                    more = True
                break
    answer: dict[str, Any] = {"campaign_id": campaign_id, "status": item["status"], "at": _iso(judge.now),
                              "rules": judge.rules.as_dict(), "timezone": campaign.timezone}
    if summary is not None:
        rate = organization.get("per_minute_rate_cents")
        answer["summary"] = summary.view(campaign, judge.rules.window_only(),
                                         settings().per_minute_rate_cents if rate is None else int(rate),
                                         int(organization.get("call_reserve_cents", settings().call_reserve_cents)))
    answer["contacts"] = shown
    answer["next_token"] = pages.encode(last_key) if more else None
    return answer


def _destination_check(from_number: str, allowed: Any):
    """Whether each number is still a permitted destination: its country among the organization's
    allowed countries as they are NOW (they may have changed since the contact was added). The
    number's type (premium rate, shared cost) was refused when it was added and never changes,
    so it is not judged again: that check costs more than the rest of a contact's verdict."""
    countries = {c.upper() for c in allowed or ()} or {country_of(from_number)}

    def problem(number: str) -> str | None:
        if number == from_number:
            return "to_phone_number must differ from from_phone_number"
        try:
            permitted = country_of(number) in countries
        except Exception:  # noqa: BLE001 - a number phonenumbers cannot parse
            return f"{number} is not a valid destination"
        return None if permitted else f"Destination {number} is not permitted for your organization"
    return problem


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
