"""Every DynamoDB key, query and write of the service (single-table design), by entity.

- ``keys``: every key schema and index name (the entity table is there);
- ``base``: the client and the reads every entity shares;
- ``organizations``, ``calls``, ``call_status``, ``schedules``, ``suppressions``,
  ``webhook_endpoints``, ``webhook_deliveries``: each entity's queries and writes; ``campaigns``
  (campaigns, contacts, due entries, imports) is imported by the campaign engine directly
  (``from outbound.store import campaigns``);
- ``ledger``: the balance ledger (entries ride in the money transactions above; credits; reads);
- ``directory``: what operators administer (organizations, numbers, assistants, trunks, API keys),
  never money.

Callers use ``from outbound import store`` and ``store.<name>``: the names below are the API.
"""
from __future__ import annotations

from .base import client, get_item, get_items, now_iso, put_item, table
from .call_status import CallNotMoved, advance_call, set_call_details, settle_call
from .calls import (ABANDONED_REASON, CallAlreadyExists, ReserveRefused, abandon_call, cancel_reservation,
                    fail_call_and_release, find_call, find_calls_by_sid, find_stuck_initiating, list_calls,
                    mark_call_placed, mark_call_unconfirmed, reserve_and_create_call)
from .keys import (BY_CALL_SID_INDEX, BY_INITIATING_INDEX, BY_ORGANIZATION_INDEX, INITIATING_SHARDS,
                   LEAVE_INITIATING, SCHEDULES_GSI_PREFIX, api_key_key, assistant_key, call_key, campaign_key,
                   contact_key, due_key, fire_failure_key, graph_key, hash_api_key, import_key, initiating_keys,
                   organization_calls_partition, organization_key, phone_number_key, schedule_key, suppression_key)
from .organizations import organization_balance, organization_for_api_key
from .schedules import (ScheduleNotCancelable, cancel_schedule, create_schedule, delete_schedule, fire_id_for,
                        list_schedules, record_fire_failure, schedule_created)
from .suppressions import add_suppression, list_suppressions, remove_suppression, suppressed_numbers
# Outcome events: webhook endpoints (per organization) and their deliveries (per event subject).
from .keys import events_partition, webhook_delivery_key, webhook_endpoint_key
from .webhook_deliveries import (DeliveryNotPending, create_delivery, delivery_key, list_deliveries, record_attempt,
                                 restart_delivery)
from .webhook_endpoints import (EndpointNotFound, create_endpoint, delete_endpoint, get_endpoint, list_endpoints,
                                next_secret_version)
# --- the balance ledger, and what operators administer (never money) ---
from .ledger import (CHARGE, CREDIT, RELEASE, RESERVE, CreditConflict, NoSuchOrganization, credit_organization,
                     entry_view, ledger_entries, list_ledger, reserves_held_by_calls)

# What operators administer (store.directory) is imported when first used: it is never on a request
# path, so the API functions' cold start does not pay for it.
DIRECTORY_NAMES = ("MONEY_FIELDS", "AlreadyExists", "NotFound", "OwnedByAnother", "add_api_key", "api_key_prefix",
                   "create_organization", "list_api_keys", "put_owned", "revoke_api_key", "set_sip_trunks",
                   "update_fields")


def __getattr__(name: str):
    if name in DIRECTORY_NAMES:
        from . import directory

        return getattr(directory, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
