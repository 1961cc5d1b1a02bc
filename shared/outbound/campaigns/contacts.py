"""A campaign's contacts: add them (a request of up to 1,000, or a CSV import), list them, export
the results.

Adding checks each row the way a dial would (E.164, destination policy, every template variable
present with the campaign's defaults and the row's own) and answers per-row errors without
dropping the valid rows; a number already in the campaign is a ``duplicate`` (a contact's id is
derived from the campaign and the number, so the conditional create catches it even across
requests and imports). A number on the do-not-call list is added as ``suppressed``: no call; a
contact without consent, where the campaign or the organization's calling rules require it, as
``skipped``. Each contact gets its first due time: the campaign's start (or now) moved into the
calling window in every zone the recipient may be in (its own ``timezone``, its number's: the
calling rules, outbound.compliance.rules), ``waiting_window`` when the window moved it.
"""
from __future__ import annotations

import csv
from datetime import datetime, timezone
from typing import Any, Iterable

from outbound import pages, store
from outbound.calls.models import MAX_VARIABLE_NAME_CHARS, MAX_VARIABLES
from outbound.campaigns import queues
from outbound.campaigns.lifecycle import iso, load
from outbound.campaigns.models import ContactIn
from outbound.campaigns.policy import contact_id_for
from outbound.campaigns.settings import Campaign
from outbound.compliance import evidence
from outbound.compliance.destinations import check_destination
from outbound.csv_export import to_csv
from outbound.compliance.organization_rules import organization_rules
from outbound.errors import INVALID_E164, ApiError, Conflict
from outbound.phone import is_e164
from outbound.schedules.times import ScheduleTimeError, zone
from outbound.store import campaigns as db
from outbound.store.keys import (
    campaign_partition,
    contact_key,
    contacts_by_status_partition,
    due_key,
)
from outbound.templates import render_all

UTC = timezone.utc
ROWS_PER_TRANSACTION = 45  # a contact and its due entry each: under DynamoDB's 100 items
CLOSED = ("completed", "canceled")
CONTACT_FIELDS = ("contact_id", "phone_number", "external_id", "metadata", "variables", "timezone", "status", "attempts",
                  "call_ids", "current_call_id", "last_call_status", "last_ended_at", "next_attempt_at",
                  "final_reason", "added_at", "updated_at", "consent", "last_evidence")
CONSENT_MISSING = "Consent required: none recorded for this contact"



def add_contacts(organization_id: str, campaign_id: str, rows: list[ContactIn],
                 import_id: str | None = None, first_row: int = 0) -> dict[str, Any]:
    item = load(organization_id, campaign_id)
    if item["status"] in CLOSED:
        raise Conflict(f"Campaign {campaign_id} is {item['status']}: no contacts can be added")
    organization = store.get_item(store.organization_key(organization_id)) or {}
    result = add_rows(item, organization, rows, import_id, first_row)
    if result["added"] and item["status"] == "running":
        queues.send_tick(campaign_id, "contacts")
    return result


ALREADY_A_CONTACT = "is already a contact of this campaign"


def add_rows(item: dict[str, Any], organization: dict[str, Any], rows: list[ContactIn],
             import_id: str | None = None, first_row: int = 0, rows_of_file: list[int] | None = None) -> dict[str, Any]:
    """Validate and write ``rows``; ``first_row`` numbers them; an import gives each row's line
    in its file (``rows_of_file``), kept on the contact."""
    campaign = Campaign.from_item(item)
    now = datetime.now(UTC)
    errors: list[dict[str, Any]] = []
    accepted: list[tuple[int, ContactIn, str]] = []
    seen: set[str] = set()
    names = set(item.get("variable_names") or ())  # kept on the campaign: results.csv's columns
    for index, row in enumerate(rows, start=first_row):
        problem = _row_problem(item, organization, row, seen) or _too_many_names(names, row)
        if problem:
            errors.append({"index": index, "phone_number": row.phone_number, "error": problem})
            continue
        seen.add(row.phone_number)
        accepted.append((index, row, contact_id_for(campaign.campaign_id, row.phone_number)))
    suppressed = store.suppressed_numbers(campaign.organization_id, [row.phone_number for _, row, _ in accepted])
    needs_consent = campaign.rules.require_consent or organization_rules(organization).rules.require_consent
    added = []
    for start in range(0, len(accepted), ROWS_PER_TRANSACTION):
        chunk = accepted[start:start + ROWS_PER_TRANSACTION]
        writes, update = [], db.CampaignUpdate()
        for index, row, contact_id in chunk:
            contact, due = _new_contact(campaign, row, contact_id, row.phone_number in suppressed, now, import_id,
                                        needs_consent and row.consent is None)
            if rows_of_file:
                contact["import_row"] = rows_of_file[index - first_row]
            writes.append((contact, due))
            update.moved(None, contact["status"])
            update.count("contacts_total", 1)
            # Every variable name any contact has: results.csv's columns, the same for each part.
            update.names.setdefault("variable_names", set()).update(row.variables)
        update.fields["updated_at"] = iso(now)
        try:
            duplicates = db.add_contacts(campaign.campaign_id, writes, update)
        except db.CampaignNotMoved as exc:  # closed since it was read
            raise Conflict(f"Campaign {campaign.campaign_id} is {(exc.current or {}).get('status', 'gone')}: "
                           "no contacts can be added") from None
        for (index, row, contact_id), (contact, _) in zip(chunk, writes):
            if contact_id in duplicates:
                errors.append({"index": index, "phone_number": row.phone_number,
                               "error": f"Duplicate: {row.phone_number} {ALREADY_A_CONTACT}"})
            else:
                added.append({"index": index, "contact_id": contact_id, "status": contact["status"]})
    return {"added": len(added), "contacts": added, "errors": sorted(errors, key=lambda e: e["index"])}


MAX_CAMPAIGN_VARIABLE_NAMES = 200  # a column each in results.csv; the campaign item keeps them


def _too_many_names(names: set[str], row: ContactIn) -> str | None:
    """A row bringing variable names past the campaign's limit (``names`` grows with each row
    accepted: the names of a request's earlier rows count)."""
    new = set(row.variables) - names
    if len(names) + len(new) > MAX_CAMPAIGN_VARIABLE_NAMES:
        return (f"Too many variable names in this campaign: at most {MAX_CAMPAIGN_VARIABLE_NAMES} "
                f"(this contact adds {', '.join(sorted(new))[:200]})")
    names |= new
    return None


def _row_problem(item: dict[str, Any], organization: dict[str, Any], row: ContactIn, seen: set[str]) -> str | None:
    if not is_e164(row.phone_number):
        return INVALID_E164
    if row.phone_number in seen:
        return f"Duplicate: {row.phone_number} appears twice in this request"
    if row.timezone:
        try:
            zone(row.timezone)
        except ScheduleTimeError as exc:
            return str(exc)
    try:
        check_destination(row.phone_number, item["from_phone_number"], organization.get("allowed_destination_countries"))
        render_all(item.get("template_texts") or {}, {**(item.get("variables") or {}), **row.variables})
    except ApiError as exc:
        return exc.detail
    return None


def _new_contact(campaign: Campaign, row: ContactIn, contact_id: str, suppressed: bool, now: datetime,
                 import_id: str | None, no_consent: bool = False) -> tuple[dict[str, Any], dict[str, Any] | None]:
    tz = row.timezone  # the contact's own zone: its number's zones count too, at every dial
    base = max(now, campaign.start_at or now)
    due = None if suppressed or no_consent else campaign.next_window(base, row.phone_number, tz)
    if suppressed:
        status, reason = "suppressed", "On the organization's do-not-call list"
    elif no_consent:
        status, reason = "skipped", CONSENT_MISSING
    elif due is None or (campaign.end_at and due >= campaign.end_at):
        status, reason, due = "canceled", "No calling time left before end_at", None
    else:
        status, reason = ("waiting_window" if due > base else "pending"), None
    added_at = iso(now)
    contact = {**contact_key(campaign.campaign_id, contact_id), "contact_id": contact_id,
               "campaign_id": campaign.campaign_id, "organization_id": campaign.organization_id,
               "phone_number": row.phone_number, "variables": row.variables, "timezone": tz,
               "external_id": row.external_id, "metadata": row.metadata, "status": status, "attempts": 0, "call_ids": [],
               "consent": row.consent.model_dump(exclude_none=True) if row.consent else None,
               "added_at": added_at, "updated_at": added_at, "final_reason": reason, "import_id": import_id,
               "gsi1pk": contacts_by_status_partition(campaign.campaign_id, status),
               "gsi1sk": f"{added_at}#{contact_id}"}
    if due is None:
        return contact, None
    contact["next_attempt_at"] = iso(due)
    return contact, {**due_key(campaign.campaign_id, iso(due), contact_id), "contact_id": contact_id,
                     "phone_number": row.phone_number, "variables": row.variables, "timezone": tz,
                     "external_id": row.external_id, "metadata": row.metadata, "attempt": 1, "status": status}


# --- listing and results ------------------------------------------------------------------------------

def list_contacts(organization_id: str, campaign_id: str, status: str | None, limit: Any = None,
                  next_token: str | None = None) -> dict[str, Any]:
    load(organization_id, campaign_id)
    if status:
        start = pages.decode(next_token, "gsi1pk", contacts_by_status_partition(campaign_id, status))
    else:
        start = pages.decode(next_token, "pk", campaign_partition(campaign_id))
    items, last = db.list_contacts(campaign_id, status, pages.parse_limit(limit), start)
    return {"contacts": [contact_view(i) for i in items], "next_token": pages.encode(last)}


def contact_view(item: dict[str, Any]) -> dict[str, Any]:
    view = {name: item.get(name) for name in CONTACT_FIELDS}
    view["call_ids"] = list(item.get("call_ids") or [])
    return view


CSV_COLUMNS = ("contact_id", "phone_number", "external_id", "status", "attempts", "last_call_status",
               "last_ended_at", "final_reason", "timezone", "call_ids", *evidence.SUMMARY_FIELDS)
CALL_COLUMNS = ("talk_seconds", "charged_cents", "answered_by")  # over the contact's calls
VARIABLE_COLUMN = "variables."  # then one column per variable name
MAX_CSV_ROWS = 10_000


def results_csv(organization_id: str, campaign_id: str, next_token: str | None = None) -> tuple[str, str | None]:
    """Up to 10,000 contacts as CSV, and the token for the next part (None at the end). Each row
    adds what the contact's calls say (seconds talked and cents charged, summed; the last
    answering-machine result: read from the call records, 100 a BatchGetItem) and the contact's
    own variables, a column per name any contact of the campaign has (so every part has the same
    columns; a campaign from before the names were kept: the names of this part)."""
    campaign = load(organization_id, campaign_id)
    start = pages.decode(next_token, "pk", campaign_partition(campaign_id))
    items: list[dict[str, Any]] = []
    while len(items) < MAX_CSV_ROWS:
        page, start = db.list_contacts(campaign_id, None, min(1000, MAX_CSV_ROWS - len(items)), start)
        items += page
        if not start:
            break
    names = sorted(set(campaign.get("variable_names") or ()).union(
        *(() if campaign.get("variable_names") else [(i.get("variables") or {}) for i in items])))
    calls = _calls_of(items)
    proofs = _evidence_columns(items)
    rows = []
    for item in items:
        view = {**contact_view(item), **proofs[item["contact_id"]]}
        own = [calls[call_id] for call_id in view["call_ids"] if call_id in calls]
        answered_by = next((c["answered_by"] for c in reversed(own) if c.get("answered_by")), None)
        rows.append([view.get(c) if c != "call_ids" else " ".join(view["call_ids"]) for c in CSV_COLUMNS]
                    + [sum(int(c.get("duration_seconds") or 0) for c in own),
                       sum(int(c.get("charged_cents") or 0) for c in own), answered_by]
                    + [(view["variables"] or {}).get(name) for name in names])
    header = (*CSV_COLUMNS, *CALL_COLUMNS, *(VARIABLE_COLUMN + name for name in names))
    return to_csv(header, rows), pages.encode(start)


def _calls_of(contacts: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The contacts' call records by call id (BatchGetItem, 100 keys a request)."""
    keys = [store.call_key(call_id) for item in contacts for call_id in item.get("call_ids") or ()]
    found: dict[str, dict[str, Any]] = {}
    for first in range(0, len(keys), 100):
        for record in store.get_items(keys[first:first + 100]).values():
            found[record["call_id"]] = record
    return found


def _evidence_columns(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each contact's latest evidence in a few columns: its latest call's dial record (one
    BatchGetItem per 100 contacts), or a later refusal by the calling rules (kept on the contact)."""
    last_calls = {i["contact_id"]: i.get("current_call_id") or (i.get("call_ids") or [None])[-1] for i in items}
    dials = store.dial_evidence_of(c for c in last_calls.values() if c)
    columns = {}
    for item in items:
        dial = evidence.summary(dials.get(last_calls[item["contact_id"]] or ""))
        refusal = item.get("last_evidence") or {}
        newer = refusal and str(refusal.get("recorded_at") or "") > str(dial.get("recorded_at") or "")
        chosen = {**evidence.summary(None), **refusal} if newer else dial
        columns[item["contact_id"]] = {name: chosen.get(name) for name in evidence.SUMMARY_FIELDS}
    return columns



# A CSV import's rows: the longest a valid row can be is 50 variables of 1,000 characters with
# their column's commas, the number, the zone and an external id (~51,000): the bound leaves room.
MAX_ROW_CHARS = 65_536
RECOGNISED_COLUMNS = ("phone_number", "timezone", "external_id")
MAX_COLUMNS = len(RECOGNISED_COLUMNS) + MAX_VARIABLES


class UnreadableFile(ValueError):
    """A CSV that cannot be imported at all; the message says what to fix."""


def check_columns(fieldnames: list[str] | None) -> None:
    """The header row: UnreadableFile when no row of the file could be imported."""
    if fieldnames is None:
        raise UnreadableFile("The file is empty: its first line must name its columns, phone_number among them")
    names = [f.strip() for f in fieldnames]
    if "phone_number" not in names:
        raise UnreadableFile("The CSV's first line must name its columns, phone_number among them")
    named = [name for name in names if name]  # unnamed columns are ignored
    if len(named) > MAX_COLUMNS:
        raise UnreadableFile(f"The file has {len(named):,} named columns; at most {MAX_COLUMNS} (phone_number, "
                             f"timezone, external_id and {MAX_VARIABLES} variables)")
    for position, name in enumerate(names, start=1):
        if len(name) > MAX_VARIABLE_NAME_CHARS:
            raise UnreadableFile(f"Column {position}'s name has {len(name):,} characters; a column name has at most "
                                 f"{MAX_VARIABLE_NAME_CHARS} characters")



def rows_from_csv(lines: Iterable[str]) -> Iterable[tuple[int, ContactIn | None, str | None]]:
    """(CSV line number, contact or None, problem) per data row: ``phone_number`` is required,
    ``timezone`` and ``external_id`` are recognised, every other column is a variable. A row of
    more than MAX_ROW_CHARS is a problem of its own (every column's own limit applies too)."""
    from pydantic import ValidationError

    reader = csv.DictReader(lines)
    check_columns(reader.fieldnames)
    for number, record in enumerate(reader, start=2):
        size = _row_chars(record)
        if size > MAX_ROW_CHARS:
            yield number, None, f"Row too long: {size:,} characters (at most {MAX_ROW_CHARS:,} characters)"
            continue
        data = {(k or "").strip(): (v or "").strip() for k, v in record.items() if k}
        variables = {k: v for k, v in data.items() if k not in RECOGNISED_COLUMNS and v}
        try:
            yield number, ContactIn(phone_number=data.get("phone_number", ""), variables=variables,
                                    timezone=data.get("timezone") or None, external_id=data.get("external_id") or None), None
        except ValidationError as exc:
            first = exc.errors()[0]
            yield number, None, f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"


def _row_chars(record: dict[str | None, Any]) -> int:
    """Characters in a DictReader row's cells, extra cells (under the key None) included."""
    return sum(len(v) if isinstance(v, str) else sum(len(x) for x in v) if isinstance(v, list) else 0
               for v in record.values())
