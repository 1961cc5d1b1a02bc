"""Every key of the single table, and its indexes: the one place that knows them.

| entity        | pk                    | sk          | notes                                     |
|---------------|-----------------------|-------------|-------------------------------------------|
| organization  | ORG#<id>              | ORG         | balance_cents, reserved_cents, available_cents, sip_trunks |
| API key       | APIKEY#<sha256(key)>  | APIKEY      | organization_id, prefix, created_at, revoked; |
|               |                       |             | gsi1 = ORG#<org>#APIKEYS by creation (listing) |
| assistant     | ASSISTANT#<id>        | ASSISTANT   | organization_id, welcome_message, agenda  |
| graph         | GRAPH#<id>            | GRAPH       | organization_id, entry_assistant_id       |
| phone number  | PHONE#<e164>          | PHONE       | organization_id, provider, assistant_id or graph_id (+ entry hint) |
| call          | CALL#<call_id>        | CALL        | gsi1 (org calls by time), call_sid (index ByCallSid) |
|               |                       |             | initiating_shard/_since (sparse index ByInitiating) until the call is |
|               |                       |             | placed, refused or heard of (initiating, unconfirmed) |
|               |                       |             | provider_check_shard/_after (sparse index ByProviderCheck) until its |
|               |                       |             | charge was compared with the provider's own record of it |
| schedule      | SCHEDULE#<id>         | SCHEDULE    | organization_id, kind, call, status; gsi1 = ORG#<org>#SCHEDULES by creation |
| fire failure  | FIRE#<fire_id>        | FIRE        | a fire refused for good (400/401/402/403/404): status_code, detail |
| campaign      | CAMPAIGN#<id>         | A#CAMPAIGN  | settings, status, counters (contacts by status, in_flight, attempts...), |
|               |                       |             | pacing cursor; gsi1 = ORG#<org>#CAMPAIGNS by creation |
| due entry     | CAMPAIGN#<id>         | D#<due>#<contact_id> | a contact waiting to be dialed at <due> (ISO): the dispatcher's queue |
| contact       | CAMPAIGN#<id>         | K#<contact_id> | number, variables, zone, status, attempts' call ids; gsi1 = CAMPAIGN#<id>#STATUS#<status> |
| import        | CAMPAIGN#<id>         | I#<import_id> | a CSV import's progress and row errors |
| suppression   | SUPPRESSION#<org>#<e164> | SUPPRESSION | do-not-call; gsi1 = ORG#<org>#SUPPRESSIONS by number |
| dial counter  | DIALS#<org>#<e164>    | DIALS       | recent dials to one person (``d_<call_id>``: when), version, TTL |
|               |                       |             | expires_at; read in initiate's BatchGetItem, written in the reserve |
| evidence      | EVIDENCE#<call_id>    | DIAL        | why the call was allowed (write-once, keyed hash); written with the reserve |
|               |                       | REFUSED#<at> | a dial refused by the calling rules (campaign, scheduled) |
|               |                       | OPTOUT      | the person opted out during this call: what was said and done (write-once; |
|               |                       |             | its INSERT on the stream is the ``contact.opted_out`` event) |
| webhook endpoint | ORG#<org>          | WHEP#<id>   | url, events, description, secret_version (the secret: Secrets Manager) |
| limit counter | ORG#<org>             | COUNT#<what> | in_use: how many of a capped thing exist (e.g. webhook_endpoints) |
| webhook delivery | EVENTS#<subject>   | WHDEL#<seq>#<endpoint> | one event to one endpoint: payload, status, attempts; |
|               |                       |             | gsi1 = ORG#<org>#WHEP#<endpoint>#DELIVERIES by creation (the endpoint's log) |
| ledger entry  | LEDGER#<org>          | <entry_id>  | one money movement (credit, reserve, release, charge) with its signed |
|               |                       |             | effects; gsi1 = ORG#<org>#LEDGER by time (GET /organization/ledger) |
| spend per day | SPEND#<org>           | DAY#<yyyy-mm-dd> | what the organization's calls were charged that UTC day, net of |
|               |                       |             | corrections, and how many charges: updated in the charging transactions |
| integer alias | INTID#<kind>#<n>      | INTID       | the entity (call, campaign, contact, organization) |
|               |                       |             | the integer <n> stands for: target, organization_id; never deleted |
|               |                       |             | (the entity itself carries ``int_id``; see store.int_ids) |
| unproven event | PROVIDER_EVENT#<provider>#<provider call id> | <sha256(body)> | a signed status event |
|               |                       |             | that did not prove which call it is (recorded, never applied); TTL; |
|               |                       |             | gsi1 = ORG#<org>#PROVIDER_EVENTS by receipt time |

A campaign's partition sorts its meta item ("A#") just before its due entries ("D#"): one strongly
consistent Query (``A#CAMPAIGN`` to ``D#<now>``) reads the campaign and what is due.

Webhook endpoints live in their organization's partition: an organization's endpoints are one
strongly consistent Query, and another organization's endpoint is not even addressable.

A cap on how many of something an organization may have holds under concurrency because the
create and a counter's conditional increment (``in_use < cap``) are ONE transaction, and a delete
decrements it in the delete's transaction: never a count read before a write. The counter sits
in the organization's partition beside what it counts, not on the organization item (whose
balance every call updates), so it never conflicts with money transactions.

Deliveries live in the partition of the event's subject (a call id; later a campaign id), in
sequence order: a call's deliveries are one Query.

A ledger entry's id is derived from what it records (``credit#<reference>``,
``call#<call_id>#<created_at>#<kind>``, ``call#<call_id>#<created_at>#adjusted#<from>-><to>``) and
written with ``attribute_not_exists(pk)`` in the same transaction as the balance change, so a
retried transaction can never write it twice. One partition per organization: ``reconcile`` sums
it with a strongly consistent Query.

``available_cents`` is kept equal to ``balance_cents - reserved_cents`` by every write, because a
DynamoDB condition cannot do arithmetic: the reserve's condition is ``available_cents >= :r``.
"""
from __future__ import annotations

import hashlib
from typing import Any

BY_ORGANIZATION_INDEX = "ByOrganization"
BY_CALL_SID_INDEX = "ByCallSid"
BY_INITIATING_INDEX = "ByInitiating"  # sparse: only calls still "initiating" (see reserve sweeper)
INITIATING_SHARDS = 8
# sparse: calls placed through a provider whose records have not been compared with ours yet
# (see usecases.provider_reconcile); removed once they were, or when the provider refused it.
BY_PROVIDER_CHECK_INDEX = "ByProviderCheck"
PROVIDER_CHECK_SHARDS = 8
LEAVE_PROVIDER_CHECK = "provider_check_shard, provider_check_after"
# Providers whose records we read back; the SIP bridge is the organization's own (trusted).
CHECKED_PROVIDERS = ("twilio", "telnyx", "vonage")
# Every status write that proves the provider has (or never had) the call removes these: the call
# leaves ByInitiating, whose entries the reserve sweeper may release once they are old enough.
LEAVE_INITIATING = "initiating_shard, initiating_since"
SCHEDULES_GSI_PREFIX = "ORG#{organization_id}#SCHEDULES"


def organization_key(organization_id: str) -> dict[str, str]:
    return {"pk": f"ORG#{organization_id}", "sk": "ORG"}


def api_key_key(key_hash: str) -> dict[str, str]:
    return {"pk": f"APIKEY#{key_hash}", "sk": "APIKEY"}


def assistant_key(assistant_id: int) -> dict[str, str]:
    return {"pk": f"ASSISTANT#{assistant_id}", "sk": "ASSISTANT"}


def graph_key(graph_id: int) -> dict[str, str]:
    return {"pk": f"GRAPH#{graph_id}", "sk": "GRAPH"}


def phone_number_key(number: str) -> dict[str, str]:
    return {"pk": f"PHONE#{number}", "sk": "PHONE"}


def call_key(call_id: str) -> dict[str, str]:
    return {"pk": f"CALL#{call_id}", "sk": "CALL"}


def hash_api_key(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


def schedule_key(schedule_id: str) -> dict[str, str]:
    return {"pk": f"SCHEDULE#{schedule_id}", "sk": "SCHEDULE"}


def fire_failure_key(fire_id: str) -> dict[str, str]:
    return {"pk": f"FIRE#{fire_id}", "sk": "FIRE"}


CAMPAIGN_META = "A#CAMPAIGN"
DUE_PREFIX, CONTACT_PREFIX, IMPORT_PREFIX = "D#", "K#", "I#"


def campaign_partition(campaign_id: str) -> str:
    return f"CAMPAIGN#{campaign_id}"


def campaign_key(campaign_id: str) -> dict[str, str]:
    return {"pk": campaign_partition(campaign_id), "sk": CAMPAIGN_META}


def contact_key(campaign_id: str, contact_id: str) -> dict[str, str]:
    return {"pk": campaign_partition(campaign_id), "sk": CONTACT_PREFIX + contact_id}


def due_key(campaign_id: str, due_at: str, contact_id: str) -> dict[str, str]:
    return {"pk": campaign_partition(campaign_id), "sk": f"{DUE_PREFIX}{due_at}#{contact_id}"}


def import_key(campaign_id: str, import_id: str) -> dict[str, str]:
    return {"pk": campaign_partition(campaign_id), "sk": IMPORT_PREFIX + import_id}


def campaigns_partition(organization_id: str) -> str:
    return f"ORG#{organization_id}#CAMPAIGNS"


def contacts_by_status_partition(campaign_id: str, status: str) -> str:
    return f"CAMPAIGN#{campaign_id}#STATUS#{status}"


def suppression_key(organization_id: str, number: str) -> dict[str, str]:
    return {"pk": f"SUPPRESSION#{organization_id}#{number}", "sk": "SUPPRESSION"}


def suppressions_partition(organization_id: str) -> str:
    return f"ORG#{organization_id}#SUPPRESSIONS"


def organization_calls_partition(organization_id: str) -> str:
    return f"ORG#{organization_id}#CALLS"


def ledger_partition(organization_id: str) -> str:
    return f"LEDGER#{organization_id}"


def ledger_entry_key(organization_id: str, entry_id: str) -> dict[str, str]:
    return {"pk": ledger_partition(organization_id), "sk": entry_id}


def organization_ledger_partition(organization_id: str) -> str:
    """ByOrganization's partition of an organization's ledger entries (newest first by gsi1sk)."""
    return f"ORG#{organization_id}#LEDGER"


def spend_partition(organization_id: str) -> str:
    return f"SPEND#{organization_id}"


def spend_day_key(organization_id: str, day: str) -> dict[str, str]:
    """``day``: YYYY-MM-DD (UTC)."""
    return {"pk": spend_partition(organization_id), "sk": f"DAY#{day}"}


def organization_api_keys_partition(organization_id: str) -> str:
    """ByOrganization's partition of an organization's API keys (by creation)."""
    return f"ORG#{organization_id}#APIKEYS"


def credit_entry_id(reference: str) -> str:
    return f"credit#{reference}"


def call_entry_id(call_id: str, created_at: str, kind: str) -> str:
    """One entry per kind (reserve, release, charge) per hold: a call record's ``created_at`` tells
    apart two holds of the same call_id (a reserve undone before the provider, then retried)."""
    return f"call#{call_id}#{created_at}#{kind}"


def call_entries_prefix(call_id: str) -> str:
    """Every ledger entry id of a call starts with this (its holds, charges and adjustments)."""
    return f"call#{call_id}#"


def call_adjustment_entry_id(call_id: str, created_at: str, from_cents: int, to_cents: int) -> str:
    """A settled call's charge corrected from ``from_cents`` to ``to_cents`` (the provider's record
    disagreed): the same correction is one entry however often it is attempted."""
    return f"call#{call_id}#{created_at}#adjusted#{from_cents}->{to_cents}"


def int_id_key(kind: str, number: int) -> dict[str, str]:
    """The item that makes ``number`` the integer alias of one entity of ``kind`` (store.int_ids)."""
    return {"pk": f"INTID#{kind}#{number}", "sk": "INTID"}


def provider_check_keys(record: dict[str, Any], after: str | None = None) -> dict[str, str]:
    """The sparse ByProviderCheck index's keys: written with the record in the reserve
    transaction (no extra round trip), due ``after`` (ISO; default its creation)."""
    shard = int(hashlib.sha256(record["call_id"].encode()).hexdigest()[:8], 16) % PROVIDER_CHECK_SHARDS
    return {"provider_check_shard": f"PROVIDERCHECK#{shard}",
            "provider_check_after": after or record["created_at"]}


def provider_event_key(provider: str, provider_call_id: str | None, event_hash: str) -> dict[str, str]:
    return {"pk": f"PROVIDER_EVENT#{provider}#{provider_call_id or '-'}", "sk": event_hash}


def organization_provider_events_partition(organization_id: str) -> str:
    """ByOrganization's partition of an organization's unproven provider events (by receipt)."""
    return f"ORG#{organization_id}#PROVIDER_EVENTS"


def initiating_keys(record: dict[str, Any]) -> dict[str, str]:
    """The sparse ByInitiating index's keys, written with the record in the reserve transaction
    and removed by every later status write: the index holds exactly the calls whose reserve is
    held while nobody has heard from the provider. Sharded (call_id hash) so that one partition
    does not take every call's create + remove at high call rates."""
    shard = int(hashlib.sha256(record["call_id"].encode()).hexdigest()[:8], 16) % INITIATING_SHARDS
    return {"initiating_shard": f"INITIATING#{shard}", "initiating_since": record["created_at"]}



# --- webhook endpoints and deliveries (outcome events) -------------------------------------------

WEBHOOK_ENDPOINT_PREFIX = "WHEP#"
WEBHOOK_DELIVERY_PREFIX = "WHDEL#"


def webhook_endpoint_key(organization_id: str, endpoint_id: str) -> dict[str, str]:
    return {"pk": f"ORG#{organization_id}", "sk": f"{WEBHOOK_ENDPOINT_PREFIX}{endpoint_id}"}


WEBHOOK_ENDPOINTS_LIMIT = "webhook_endpoints"


def limit_counter_key(organization_id: str, limit: str) -> dict[str, str]:
    """How many of ``limit`` (e.g. WEBHOOK_ENDPOINTS_LIMIT) the organization has: ``in_use``."""
    return {"pk": f"ORG#{organization_id}", "sk": f"COUNT#{limit}"}


def events_partition(subject: str) -> str:
    return f"EVENTS#{subject}"


def endpoint_deliveries_partition(organization_id: str, endpoint_id: str) -> str:
    """ByOrganization's partition of one endpoint's deliveries (by creation): its delivery log."""
    return f"ORG#{organization_id}#WHEP#{endpoint_id}#DELIVERIES"


def webhook_delivery_key(subject: str, sequence: int, endpoint_id: str) -> dict[str, str]:
    return {"pk": events_partition(subject), "sk": f"{WEBHOOK_DELIVERY_PREFIX}{sequence:06d}#{endpoint_id}"}


# --- compliance: the frequency counter and the evidence of each dial --------------------------------------

DIAL_COUNTER_SK = "DIALS"
DIAL_EVIDENCE_SK = "DIAL"
REFUSAL_EVIDENCE_PREFIX = "REFUSED#"
OPT_OUT_EVIDENCE_SK = "OPTOUT"


def dial_counter_key(organization_id: str, number: str) -> dict[str, str]:
    """One item per organization and recipient: the dials that count towards its caps."""
    return {"pk": f"DIALS#{organization_id}#{number}", "sk": DIAL_COUNTER_SK}


def evidence_partition(call_id: str) -> str:
    return f"EVIDENCE#{call_id}"


def dial_evidence_key(call_id: str) -> dict[str, str]:
    return {"pk": evidence_partition(call_id), "sk": DIAL_EVIDENCE_SK}


def refusal_evidence_key(call_id: str, recorded_at: str) -> dict[str, str]:
    return {"pk": evidence_partition(call_id), "sk": f"{REFUSAL_EVIDENCE_PREFIX}{recorded_at}"}


def opt_out_evidence_key(call_id: str) -> dict[str, str]:
    """The opt-out said during one call: one record per call (a second opt-out finds it)."""
    return {"pk": evidence_partition(call_id), "sk": OPT_OUT_EVIDENCE_SK}
