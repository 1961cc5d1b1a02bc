"""Every DynamoDB key, query and write of the service (single-table design), by entity.

- ``keys``: every key schema and index name (the entity table is there);
- ``base``: the client and the reads every entity shares;
- ``organizations``, ``calls``, ``compliance`` (the dial counter, evidence records, calling rules), ``call_status``, ``provider_events``, ``provider_checks``, ``schedules``,
  ``suppressions``,
  ``webhook_endpoints``, ``webhook_deliveries``: each entity's queries and writes; ``campaigns``
  (campaigns, contacts, due entries, imports) is imported by the campaign engine directly
  (``from outbound.store import campaigns``), and ``opt_outs`` (what may still dial one number) by
  the opt-out;
- ``limits``: caps on how many of something an organization may have, held by counters written
  in the same transaction as each create and delete (used by the entities they cap);
- ``ledger``: the balance ledger (entries ride in the money transactions above; credits; reads);
- ``directory``: what operators administer (organizations, numbers, assistants, trunks, API keys),
  never money;
- ``int_ids`` (every entity's integer alias, for Burki's SDK) and ``call_search`` (an organization's
  calls by filters, by offset) are imported by their callers directly.

Callers use ``from outbound import store`` and ``store.<name>``: the names below are the API.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

# What initiating a call needs is imported with the package ...
from .base import client, get_item, get_items, now_iso, table
from .calls import (
    ABANDONED_REASON,
    CallAlreadyExists,
    ReserveRefused,
    abandon_call,
    cancel_reservation,
    fail_call_and_release,
    find_call,
    find_calls_by_sid,
    find_stuck_initiating,
    is_call_ref,
    list_calls,
    mark_call_placed,
    mark_call_unconfirmed,
    reserve_and_create_call,
)
from .compliance import (
    DialCounterMoved,
    PreDialCheckChanged,
    PreDialCheckMissing,
    RulesChanged,
    counter_update,
    dial_evidence_of,
    evidence_of_call,
    evidence_put,
    put_evidence,
    recent_dials,
    remove_pre_dial_check,
    set_calling_rules,
    set_pre_dial_check,
)
from .keys import (
    BY_CALL_SID_INDEX,
    BY_INITIATING_INDEX,
    BY_ORGANIZATION_INDEX,
    INITIATING_SHARDS,
    LEAVE_INITIATING,
    SCHEDULES_GSI_PREFIX,
    api_key_key,
    assistant_key,
    call_key,
    campaign_key,
    contact_key,
    dial_counter_key,
    dial_evidence_key,
    due_key,
    events_partition,
    fire_failure_key,
    graph_key,
    hash_api_key,
    import_key,
    initiating_keys,
    organization_calls_partition,
    organization_key,
    phone_number_key,
    refusal_evidence_key,
    schedule_key,
    suppression_key,
    endpoint_deliveries_partition,
    webhook_delivery_key,
    webhook_endpoint_key,
)
from .ledger import (
    CHARGE,
    CREDIT,
    RELEASE,
    RESERVE,
    BalanceLimit,
    CreditConflict,
    NoSuchOrganization,
    call_ledger_entries,
    credit_organization,
    entry_view,
    ledger_entries,
    list_ledger,
    reserves_held_by_calls,
    spend_days,
)
from .organizations import api_key_record, organization_balance, organization_for_api_key

# ... every other entity's module when one of its names is first used. These modules are not on
# initiate's path, and a cold start loads (and, as a Lambda's code directory is read-only and the
# package ships no bytecode, compiles) every module it imports: measured with an A/B of
# alternating cold starts, loading them eagerly cost ~10 ms of the 1.5x budget.
LAZY_NAMES = {
    "call_status": ("CallNotMoved", "advance_call", "set_call_details", "settle_call"),
    "provider_events": ("list_unproven_events", "record_unproven_event"),
    "provider_checks": ("adjust_call_charge", "calls_created_since", "calls_due_for_provider_check",
                        "record_provider_check"),
    "schedules": ("ScheduleNotCancelable", "cancel_schedule", "create_schedule", "delete_schedule", "fire_id_for",
                  "list_schedules", "record_fire_failure", "schedule_created"),
    "suppressions": ("add_suppression", "list_suppressions", "remove_suppression", "suppressed_numbers"),
    "webhook_deliveries": ("DeliveryNotPending", "create_delivery", "delivery_key", "list_deliveries",
                           "list_endpoint_deliveries", "record_attempt", "restart_delivery"),
    "webhook_endpoints": ("EndpointNotFound", "LimitBusy", "LimitReached", "create_endpoint", "delete_endpoint",
                          "endpoints_in_use", "get_endpoint", "list_endpoints", "next_secret_version"),
    # what operators administer (never money), never on a request path
    "directory": ("MONEY_FIELDS", "AlreadyExists", "NotFound", "OwnedByAnother", "add_api_key", "api_key_prefix",
                  "create_organization", "list_api_keys", "put_owned", "revoke_api_key", "set_sip_trunks",
                  "update_fields"),
}

if TYPE_CHECKING:  # the lazily loaded names above, declared for type checkers and editors
    from outbound.store.call_status import CallNotMoved, advance_call, set_call_details, settle_call
    from outbound.store.directory import (
        MONEY_FIELDS,
        AlreadyExists,
        NotFound,
        OwnedByAnother,
        add_api_key,
        api_key_prefix,
        create_organization,
        list_api_keys,
        put_owned,
        revoke_api_key,
        set_sip_trunks,
        update_fields,
    )
    from outbound.store.schedules import (
        ScheduleNotCancelable,
        cancel_schedule,
        create_schedule,
        delete_schedule,
        fire_id_for,
        list_schedules,
        record_fire_failure,
        schedule_created,
    )
    from outbound.store.suppressions import (
        add_suppression,
        list_suppressions,
        remove_suppression,
        suppressed_numbers,
    )
    from outbound.store.webhook_deliveries import (
        DeliveryNotPending,
        create_delivery,
        delivery_key,
        list_deliveries,
        list_endpoint_deliveries,
        record_attempt,
        restart_delivery,
    )
    from outbound.store.webhook_endpoints import (
        EndpointNotFound,
        LimitBusy,
        LimitReached,
        create_endpoint,
        delete_endpoint,
        endpoints_in_use,
        get_endpoint,
        list_endpoints,
        next_secret_version,
    )
MODULE_OF = {name: module for module, names in LAZY_NAMES.items() for name in names}


def __getattr__(name: str):
    module = MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # later lookups are plain attribute reads
    return value
