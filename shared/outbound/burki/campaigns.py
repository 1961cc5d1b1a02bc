"""Burki's ``campaigns`` methods on this service's campaign engine (outbound.campaigns): a Burki
campaign is a campaign here, its schedule our calling window and start, its settings our pacing,
retry policy and templates; its contacts ours (``name`` and ``email`` kept in their metadata)."""
from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from outbound import store
from outbound.burki import ids, views
from outbound.burki.models import (BurkiCampaignCreate, BurkiCampaignUpdate, BurkiContact, BurkiSchedule,
                                   BurkiSettings)
from outbound.campaigns import contacts as campaign_contacts
from outbound.campaigns import lifecycle
from outbound.campaigns.models import CampaignCreate
from outbound.campaigns.models import ContactIn as NativeContact
from outbound.campaigns.policy import CONTACT_STATUSES, DAYS
from outbound.errors import BadRequest, Conflict
from outbound.store import campaigns as db

MAX_SKIP = 10_000
PAGE = 100  # items read per Query while skipping
ENDED = ("completed", "canceled")
NUMBER_REQUIRED = ("phone_number_id is required: the from number's E.164 digits, e.g. 15551234567 for "
                   "+15551234567 (this service does not pick a number for the assistant)")


# --- create, read, list ------------------------------------------------------------------------------

def create(organization_id: str, body: BurkiCampaignCreate) -> dict[str, Any]:
    """A draft with its contacts; a contact refused refuses the whole request (nothing is kept)."""
    if body.campaign_type != "call":
        raise BadRequest(f"campaign_type {body.campaign_type} is not supported: this service places calls")
    if body.phone_number_id is None:
        raise BadRequest(NUMBER_REQUIRED)
    native = _native({"name": body.name, "from_phone_number": ids.number_of(body.phone_number_id),
                      "assistant_id": body.assistant_id},
                     body.schedule or BurkiSchedule(), body.settings or BurkiSettings())
    item = lifecycle.load(organization_id, lifecycle.create_campaign(organization_id, native)["campaign_id"])
    if body.description is not None:
        item = db.move_campaign(item["campaign_id"], organization_id, ("draft",), "draft",
                                {"description": body.description})
    if body.contacts:
        added = campaign_contacts.add_contacts(organization_id, item["campaign_id"], _rows(body.contacts))
        if added["errors"]:
            db.delete_campaign(item["campaign_id"], organization_id, ("draft",))
            first = added["errors"][0]
            raise BadRequest(f"contacts[{first['index']}]: {first['error']}")
    return _shown(ids.with_campaign_alias(lifecycle.load(organization_id, item["campaign_id"])))


def get(organization_id: str, ref: str) -> dict[str, Any]:
    return _shown(ids.campaign_or_404(organization_id, ref))


def list_(organization_id: str, status: str | None, skip: int, limit: int) -> list[dict[str, Any]]:
    """Newest first; ``status`` in Burki's words (``cancelled``) or ours."""
    wanted = {"cancelled": "canceled"}.get(status or "", status)
    matches: list[dict[str, Any]] = []
    start = None
    while len(matches) < skip + limit:
        items, start = db.list_campaigns(organization_id, PAGE, start)
        matches += [i for i in items if not wanted or i["status"] == wanted]
        if not start:
            break
    organization = ids.organization_alias(organization_id)
    return [views.campaign_view(ids.with_campaign_alias(i), organization) for i in matches[skip:skip + limit]]


def progress(organization_id: str, ref: str) -> dict[str, Any]:
    item = ids.campaign_or_404(organization_id, ref)
    return views.progress_view(item, item["int_id"])


# --- change, delete ---------------------------------------------------------------------------------

def update(organization_id: str, ref: str, body: BurkiCampaignUpdate) -> dict[str, Any]:
    """Name and description at any time; schedule and settings while a draft (409 after)."""
    item = ids.campaign_or_404(organization_id, ref)
    fields: dict[str, Any] = {k: v for k, v in (("name", body.name), ("description", body.description))
                              if v is not None}
    statuses: tuple[str, ...] = (item["status"],)
    if body.schedule is not None or body.settings is not None:
        if item["status"] != "draft":
            raise Conflict(f"Campaign {item['int_id']} is {views.campaign_status(item)}: "
                           "only a draft's schedule and settings can change")
        shown = views.campaign_view(item, 0)
        native = _native({"name": body.name or item["name"], "from_phone_number": item["from_phone_number"],
                          "assistant_id": item.get("assistant_id")},
                         body.schedule or BurkiSchedule.model_validate(shown["schedule"]),
                         body.settings or BurkiSettings.model_validate(shown["settings"]))
        fields.update(_draft_fields(item, native))
        statuses = ("draft",)
    if fields:
        unset = tuple(name for name, value in fields.items() if value is None)  # e.g. no start_at any more
        try:
            item = db.move_campaign(item["campaign_id"], organization_id, statuses, statuses[0],
                                    {**{k: v for k, v in fields.items() if v is not None},
                                     "updated_at": lifecycle.iso(lifecycle.now_utc())}, remove=unset)
        except db.CampaignNotMoved as exc:
            raise Conflict(f"Campaign {ref} changed meanwhile ({(exc.current or {}).get('status', 'gone')}): "
                           "read it and try again") from None
    return _shown(ids.with_campaign_alias(item))


def delete(organization_id: str, ref: str) -> None:
    """A draft, or a campaign that has ended with no call in flight: it and its contacts go (its
    calls stay, and its alias is never given again)."""
    from outbound.campaigns.deletion import delete_campaign

    delete_campaign(organization_id, ids.campaign_or_404(organization_id, ref))


# --- moves -------------------------------------------------------------------------------------------

MOVES = {"start": lifecycle.start_campaign, "pause": lifecycle.pause_campaign,
         "resume": lifecycle.resume_campaign, "cancel": lifecycle.cancel_campaign}


def move(organization_id: str, ref: str, how: str) -> dict[str, Any]:
    """start, pause, resume or cancel: the native move (409 when the status does not allow it)."""
    item = ids.campaign_or_404(organization_id, ref)
    MOVES[how](organization_id, item["campaign_id"])
    return _shown(ids.with_campaign_alias(lifecycle.load(organization_id, item["campaign_id"])))


# --- contacts ----------------------------------------------------------------------------------------

def add_contacts(organization_id: str, ref: str, contacts: list[BurkiContact]) -> dict[str, Any]:
    """The valid rows are added, the others answered with why (``errors``), as natively."""
    item = ids.campaign_or_404(organization_id, ref)
    added = campaign_contacts.add_contacts(organization_id, item["campaign_id"], _rows(contacts))
    aliases = _contact_aliases(item, [a["contact_id"] for a in added["contacts"]])
    return {"success": True, "added": added["added"],
            "contacts": [{"index": a["index"], "id": aliases.get(a["contact_id"]),
                          "status": views.CONTACT_STATUS.get(a["status"], "pending")} for a in added["contacts"]],
            "errors": added["errors"]}


def list_contacts(organization_id: str, ref: str, status: str | None, skip: int, limit: int) -> list[dict[str, Any]]:
    """In the order they are kept; ``status`` in Burki's words or ours."""
    item = ids.campaign_or_404(organization_id, ref)
    if status and status not in views.CONTACT_STATUS.values() and status not in CONTACT_STATUSES:
        raise BadRequest("status must be one of: " + ", ".join(dict.fromkeys(views.CONTACT_STATUS.values())))
    matches: list[dict[str, Any]] = []
    start = None
    while len(matches) < skip + limit:
        items, start = db.list_contacts(item["campaign_id"], None, PAGE, start)
        matches += [c for c in items if not status or status in (c["status"], views.CONTACT_STATUS.get(c["status"]))]
        if not start:
            break
    page = ids.with_contact_aliases(item, matches[skip:skip + limit])
    # The call in flight, else the last one (a call joins call_ids once it has ended).
    call_ids = [c.get("current_call_id") or (c.get("call_ids") or [None])[-1] for c in page]
    calls = store.get_items([store.call_key(c) for c in call_ids if c]) if any(call_ids) else {}
    return [views.contact_view(contact, item["int_id"], calls.get(tuple(store.call_key(call_id).values()))
                               if call_id else None) for contact, call_id in zip(page, call_ids)]


# --- plumbing ------------------------------------------------------------------------------------------

def _shown(item: dict[str, Any]) -> dict[str, Any]:
    return views.campaign_view(item, ids.organization_alias(item["organization_id"]))


def _native(base: dict[str, Any], schedule: BurkiSchedule, settings: BurkiSettings) -> CampaignCreate:
    """Burki's schedule and settings as this service's campaign (its validation, its sentences)."""
    if settings.leave_voicemail:
        raise BadRequest("settings.leave_voicemail is not supported: the assistant speaks to whoever answers")
    if schedule.schedule_type == "once" and schedule.scheduled_at is None:
        raise BadRequest("schedule.scheduled_at is required for a schedule_type once")
    if any(not 0 <= day <= 6 for day in schedule.days_of_week):
        raise BadRequest("schedule.days_of_week: days are 0 (Monday) to 6 (Sunday)")
    window: dict[str, Any] = {"start": schedule.start_time or "09:00", "end": schedule.end_time or "20:00"}
    if schedule.days_of_week:
        window["days"] = [DAYS[day] for day in sorted(set(schedule.days_of_week))]
    data = {**{k: v for k, v in base.items() if v is not None},
            "welcome_message": settings.welcome_template, "agenda": settings.agenda_template,
            "calling_window": window, "timezone": schedule.timezone,
            "retry_policy": {"max_attempts": settings.max_attempts, "delays_minutes": [settings.retry_delay_minutes]},
            "pacing": {"max_concurrent_calls": settings.max_concurrent_calls,
                       "calls_per_minute": settings.calls_per_minute},
            "start_at": schedule.scheduled_at if schedule.schedule_type == "once" else None}
    native = CampaignCreate.model_validate(data)  # a refusal: a 400 naming the field (outbound.http.burki)
    try:
        from outbound.schedules.times import zone

        zone(native.timezone)
    except Exception as exc:  # noqa: BLE001 - ScheduleTimeError: an unknown zone
        raise BadRequest(f"schedule.timezone: {exc}") from None
    return native


def _draft_fields(item: dict[str, Any], native: CampaignCreate) -> dict[str, Any]:
    """What a draft's item keeps of its settings (as create_campaign writes them)."""
    assistant = store.get_item(store.assistant_key(item["resolved_assistant_id"])) or {}
    return {"welcome_message": native.welcome_message, "agenda": native.agenda,
            "template_texts": {
                "welcome_message": native.welcome_message if native.welcome_message is not None
                else assistant.get("welcome_message"),
                "agenda": native.agenda if native.agenda is not None else assistant.get("agenda")},
            "calling_window": native.calling_window.model_dump(), "timezone": native.timezone,
            "retry_policy": native.retry_policy.model_dump(), "pacing": native.pacing.model_dump(),
            "start_at": lifecycle.iso(native.start_at) if native.start_at else None}


def _rows(contacts: list[BurkiContact]) -> list[NativeContact]:
    """Burki's contacts as ours: ``name`` and ``email`` kept in the metadata, ``name`` also a variable."""
    rows = []
    for index, contact in enumerate(contacts):
        metadata = {k: v for k, v in (("name", contact.name), ("email", contact.email)) if v}
        variables = {**({"name": contact.name} if contact.name else {}), **contact.variables}
        try:
            rows.append(NativeContact.model_validate({"phone_number": contact.phone_number, "variables": variables,
                                                      "timezone": contact.timezone, "metadata": metadata}))
        except ValidationError as exc:
            error = exc.errors()[0]
            where = ".".join(str(part) for part in error.get("loc", ()))
            raise BadRequest(f"contacts[{index}].{where}: {error.get('msg', 'is not valid')}") from None
    return rows


def _contact_aliases(item: dict[str, Any], contact_ids: list[str]) -> dict[str, int]:
    contacts = [{"contact_id": c, "int_id": None} for c in contact_ids]
    return {c["contact_id"]: c["int_id"] for c in ids.with_contact_aliases(item, contacts)}

