"""Deleting a campaign: a draft, or one that has ended (completed, canceled) with no call in flight.
The campaign and its contacts, due entries and imports go; its calls stay (they are the
organization's records, with their charges), and so do its events' deliveries."""
from __future__ import annotations

from typing import Any

from outbound.errors import Conflict, NotFound
from outbound.store import campaigns as db

DELETABLE = ("draft", "completed", "canceled")


def delete_campaign(organization_id: str, item: dict[str, Any]) -> None:
    """``item``: the organization's campaign as read (lifecycle.load)."""
    try:
        db.delete_campaign(item["campaign_id"], organization_id, DELETABLE)
    except db.CampaignNotMoved as exc:
        current = exc.current
        if current is None or current.get("organization_id") != organization_id:
            raise NotFound(f"Campaign {item['campaign_id']} not found") from None
        if current["status"] in DELETABLE:
            raise Conflict(f"Campaign {item['campaign_id']} still has calls in flight: "
                           "delete it once they have ended") from None
        raise Conflict(f"Campaign {item['campaign_id']} is {current['status']}: cancel it before deleting it") from None
