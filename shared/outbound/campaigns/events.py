"""A campaign's outcome events, from the table's stream (CallEventsFunction, beside calls'
events): ``campaign.status_changed`` when a campaign's status moves, ``campaign.contact_finalized``
when a contact reaches a final status. Published like a call's (EventBridge, signed webhooks),
each with the stream record's sequence number, which grows with every change of that item.
"""
from __future__ import annotations

from typing import Any

from outbound.campaigns.contacts import contact_view
from outbound.campaigns.lifecycle import campaign_view
from outbound.campaigns.policy import FINAL_CONTACT_STATUSES
from outbound.dynamodb_json import from_item
from outbound.outcome_events.publish import publish_event
from outbound.store.keys import CAMPAIGN_META, CONTACT_PREFIX


def is_campaign_change(record: dict[str, Any]) -> bool:
    sk = (((record.get("dynamodb") or {}).get("Keys") or {}).get("sk") or {}).get("S", "")
    return sk == CAMPAIGN_META or sk.startswith(CONTACT_PREFIX)


def publish_campaign_change(record: dict[str, Any], endpoints_by_org: dict[str, list]) -> str | None:
    """The event a campaign or contact item's change makes, published; None when it makes none."""
    change = record.get("dynamodb") or {}
    new, old = from_item(change.get("NewImage")) or {}, from_item(change.get("OldImage")) or {}
    sequence = int(change.get("SequenceNumber") or 0)
    if not new or new.get("status") == old.get("status"):
        return None
    if new["sk"] == CAMPAIGN_META:
        publish_event(new["organization_id"], "campaign.status_changed", new["campaign_id"], sequence,
                      {**campaign_view(new), "previous_status": old.get("status")}, endpoints_by_org=endpoints_by_org)
        return "campaign.status_changed"
    if new.get("status") in FINAL_CONTACT_STATUSES and old.get("status") not in FINAL_CONTACT_STATUSES:
        publish_event(new["organization_id"], "campaign.contact_finalized", new["contact_id"], sequence,
                      {"campaign_id": new["campaign_id"], **contact_view(new)}, endpoints_by_org=endpoints_by_org)
        return "campaign.contact_finalized"
    return None
