"""The fixture format (events/fixture.json is the example): validation and loading into DynamoDB +
Secrets Manager.

Used by ``outbound seed`` (local stack or a deployed stack's table: the operators' way to add
organizations, numbers and assistants), ``outbound serve --seed`` and the tests. Unknown
fields are rejected by name. Provider credentials go to Secrets Manager, never to DynamoDB.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from outbound import store
from outbound.cents import MAX_CREDIT_CENTS, MAX_PRICE_CENTS
from outbound.credentials import secret_name
from outbound.errors import BadRequest
from outbound.phone import canonical_e164
from outbound.providers import PROVIDERS

# Money: whole cents only (strict: no 1000.0, no "1000", no true), bounded (outbound.cents).
PriceCents = Annotated[int, Field(strict=True, ge=0, le=MAX_PRICE_CENTS)]
CreditCents = Annotated[int, Field(strict=True, ge=0, le=MAX_CREDIT_CENTS)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def _e164(value: str) -> str:
    try:
        return canonical_e164(value)
    except BadRequest:
        raise ValueError(f"{value} is not an E.164 number") from None


# Stored (and keyed) by its canonical form only, whatever digits the fixture or the CLI wrote.
E164Number = Annotated[str, AfterValidator(_e164)]


class OrganizationProfile(_Strict):
    """An organization's non-money fields: what `outbound admin org` creates and updates."""

    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_-]+$")
    name: str = Field(min_length=1)
    call_reserve_cents: PriceCents | None = None
    per_minute_rate_cents: PriceCents | None = None
    allowed_destination_countries: list[Annotated[str, Field(pattern=r"^[A-Z]{2}$")]] | None = None


class Organization(OrganizationProfile):
    # A new organization's opening credit (ledgered); none: it starts at zero. Never applied to an
    # organization that exists (funds come from `outbound admin credit`), so leave it out there.
    balance_cents: CreditCents | None = None
    api_keys: list[str] = Field(default_factory=list)
    provider_credentials: dict[Literal["twilio", "telnyx", "vonage", "sip"], dict[str, Any]] | None = None


class Assistant(_Strict):
    id: int
    organization_id: str
    name: str
    welcome_message: str | None = None
    agenda: str | None = None


class AssistantGraph(_Strict):
    id: int
    organization_id: str
    entry_assistant_id: int
    name: str | None = None


class SipTrunk(_Strict):
    id: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")  # the bridge's gateway name
    organization_id: str
    name: str
    gateway: str
    username: str | None = None
    password: str | None = None  # a secret: goes to Secrets Manager with the org's sip credentials
    priority: int = 1
    enabled: bool = True
    register_: bool = Field(default=True, alias="register")  # "register" would shadow BaseModel's


class PhoneNumber(_Strict):
    number: E164Number
    organization_id: str
    provider: Literal["twilio", "telnyx", "vonage", "sip"]
    assistant_id: int | None = None
    graph_id: int | None = None
    provider_settings: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check(self) -> "PhoneNumber":
        if self.assistant_id is not None and self.graph_id is not None:
            raise ValueError(f"{self.number}: give assistant_id or graph_id, not both")
        return self


class Call(_Strict):
    """A call already placed and not yet ended (e.g. for the status-webhook sample events): it
    holds its reserve, which the fixture's organization item accounts for."""

    call_id: str = Field(pattern=r"^call_[A-Za-z0-9_]+$")
    organization_id: str
    provider: Literal["twilio", "telnyx", "vonage", "sip"]
    from_phone_number: E164Number
    to_phone_number: E164Number
    call_sid: str | None = None
    assistant_id: int | None = None
    status: Literal["initiating", "unconfirmed", "queued", "ringing", "in-progress"] = "queued"
    reserve_cents: PriceCents | None = None  # default: the organization's reserve
    welcome_message: str | None = None
    agenda: str | None = None
    variables: dict[str, str | int | float | bool] = Field(default_factory=dict)
    created_at: str | None = None  # ISO 8601; default: when seeded
    campaign_id: str | None = None  # an attempt of this campaign (GET /calls?campaign_id=)
    schedule_id: str | None = None  # placed by this schedule (GET /calls?schedule_id=)


class Fixture(_Strict):
    organizations: list[Organization] = Field(default_factory=list)
    assistants: list[Assistant] = Field(default_factory=list)
    assistant_graphs: list[AssistantGraph] = Field(default_factory=list)
    sip_trunks: list[SipTrunk] = Field(default_factory=list)
    phone_numbers: list[PhoneNumber] = Field(default_factory=list)
    calls: list[Call] = Field(default_factory=list)

    @model_validator(mode="after")
    def _calls_reserve_on_their_organization(self) -> "Fixture":
        organizations = {org.id: org for org in self.organizations}
        for call in self.calls:
            if call.organization_id not in organizations:
                raise ValueError(f"call {call.call_id}: organization {call.organization_id} is not in this fixture "
                                 "(its reserve is held on the organization item the fixture writes)")
        for org in self.organizations:
            held = sum(_call_reserve(call, org) for call in self.calls if call.organization_id == org.id)
            # (No balance given: the organization may exist; the reserve transaction checks it.)
            if org.balance_cents is not None and held > org.balance_cents:
                raise ValueError(f"organization {org.id}: its calls hold {held} cents, more than its balance")
        return self


def _call_reserve(call: Call, org: Organization) -> int:
    from outbound.config import settings

    if call.reserve_cents is not None:
        return call.reserve_cents
    return org.call_reserve_cents if org.call_reserve_cents is not None else settings().call_reserve_cents


class FixtureError(Exception):
    pass


def read(path: str | Path) -> Fixture:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise FixtureError(f"{path}: {exc}") from None
    try:
        return Fixture.model_validate(data)
    except ValidationError as exc:
        raise FixtureError(f"{path}: {describe(exc)}") from None


def describe(exc: ValidationError) -> str:
    """pydantic's errors as ``field: problem; ...`` (unknown fields named as such)."""
    problems = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"])
        what = "unknown field" if err["type"] == "extra_forbidden" else err["msg"]
        problems.append(f"{where}: {what}" if where else what)
    return "; ".join(problems)


OPENING_BALANCE_REFERENCE = "opening-balance"


def organization_fields(fixture: Fixture, org: Organization) -> dict[str, Any]:
    """An organization's non-money fields as stored (fields the fixture leaves out are left out)."""
    trunks = [t.model_dump(by_alias=True, exclude={"password", "organization_id"})
              for t in fixture.sip_trunks if t.organization_id == org.id]
    fields = {"name": org.name, "call_reserve_cents": org.call_reserve_cents,
              "per_minute_rate_cents": org.per_minute_rate_cents,
              "allowed_destination_countries": org.allowed_destination_countries, "sip_trunks": trunks or None}
    return {name: value for name, value in fields.items() if value is not None}


def directory_items(fixture: Fixture) -> list[dict[str, Any]]:
    """The assistants, graphs and phone numbers as stored (whole items; no money, no secrets)."""
    out: list[dict[str, Any]] = []
    for assistant in fixture.assistants:
        out.append({**store.assistant_key(assistant.id), **assistant.model_dump()})
    graphs = {g.id: g for g in fixture.assistant_graphs}
    for graph in fixture.assistant_graphs:
        out.append({**store.graph_key(graph.id), **graph.model_dump()})
    for number in fixture.phone_numbers:
        item = {**store.phone_number_key(number.number), **number.model_dump()}
        if number.graph_id in graphs:  # lets one read fetch graph and entry assistant together
            item["graph_entry_hint"] = graphs[number.graph_id].entry_assistant_id
        out.append(item)
    return out


def call_records(fixture: Fixture) -> list[tuple[dict[str, Any], int]]:
    """(call record, reserve it holds) for each fixture call, as the reserve transaction writes it."""
    organizations = {org.id: org for org in fixture.organizations}
    out = []
    for call in fixture.calls:
        created_at = call.created_at or store.now_iso()
        reserve = _call_reserve(call, organizations[call.organization_id])
        record = {**call.model_dump(), "reserve_cents": reserve, "created_at": created_at, "updated_at": created_at,
                  "gsi1pk": store.organization_calls_partition(call.organization_id),
                  "gsi1sk": f"{created_at}#{call.call_id}"}
        out.append((record, reserve))
    return out


def load(fixture: Fixture, secrets_client: Any, defaults: dict[str, dict] | None = None) -> dict[str, Any]:
    """Write a fixture; returns {"items", "secrets", "notes"}. Safe on a table in use:
    - a new organization starts at zero and gets its ``balance_cents`` as a ledgered opening credit;
      an existing one gets the fixture's non-money fields merged in and its money left as it is;
    - an API key that exists stays as it is (a revoked key stays revoked);
    - nothing that belongs to another organization is moved to this one (FixtureError);
    - each call holds its reserve through the same transaction as a placed call (ledgered);
      a call that exists already is left as it is.
    Every step is idempotent: loading the same fixture twice changes nothing the second time."""
    writes, notes = 0, []
    for org in fixture.organizations:
        writes += _load_organization(fixture, org, notes)
    for item in directory_items(fixture):
        try:
            store.put_owned(item)
        except store.OwnedByAnother as exc:
            raise FixtureError(f"{item['pk']} belongs to organization {exc.owner}; it was not moved to "
                               f"{item['organization_id']}") from None
        writes += 1
    for record, reserve in call_records(fixture):
        try:
            store.reserve_and_create_call(record, reserve)
            writes += 1
        except store.CallAlreadyExists:
            notes.append(f"call {record['call_id']} exists: left as it is")
        except store.ReserveRefused:
            raise FixtureError(f"organization {record['organization_id']} has less than {reserve} cents available "
                               f"for the reserve of call {record['call_id']}") from None
    written = write_secrets(secrets_client, fixture, defaults)
    return {"items": writes, "secrets": written, "notes": notes}


def _load_organization(fixture: Fixture, org: Organization, notes: list[str]) -> int:
    fields, writes, existing = organization_fields(fixture, org), 0, None
    try:
        store.create_organization(org.id, fields)
        writes += 1
        if org.balance_cents:
            store.credit_organization(org.id, org.balance_cents, OPENING_BALANCE_REFERENCE,
                                      "Opening balance from a fixture")
            writes += 1
    except store.AlreadyExists:
        existing = store.get_item(store.organization_key(org.id))
    if existing is not None:
        changed = {name: value for name, value in fields.items() if existing.get(name) != value}
        if changed:
            store.update_fields(store.organization_key(org.id), changed)
            writes += 1
        notes.append(_merged_note(org, existing, changed))
    for key in org.api_keys:
        try:
            if store.add_api_key(org.id, store.hash_api_key(key), store.api_key_prefix(key)) is not None:
                writes += 1
        except store.OwnedByAnother as exc:
            raise FixtureError(f"organization {org.id}: an API key it lists belongs to {exc.owner}") from None
    return writes


def _merged_note(org: Organization, existing: dict[str, Any], changed: dict[str, Any]) -> str:
    note = f"organization {org.id} exists: " + (f"updated {', '.join(sorted(changed))}" if changed
                                                 else "no field changed")
    note += (f"; its money is left as it is (balance_cents {existing.get('balance_cents')}, "
             f"reserved_cents {existing.get('reserved_cents')})")
    if org.balance_cents is not None and org.balance_cents != existing.get("balance_cents"):
        note += (f"; the fixture's balance_cents {org.balance_cents} is not applied "
                 "(add funds with `outbound admin credit`)")
    return note


def secrets(fixture: Fixture, defaults: dict[str, dict] | None = None) -> dict[str, tuple[dict, bool]]:
    """Secret name -> (JSON value, given), for each organization and provider. ``defaults`` (the
    local emulators' credentials) fill in providers the fixture does not give (``given`` False)."""
    out: dict[str, tuple[dict, bool]] = {}
    for org in fixture.organizations:
        given = dict(org.provider_credentials or {})
        passwords = {t.id: t.password for t in fixture.sip_trunks if t.organization_id == org.id and t.password}
        for provider in PROVIDERS:
            value = given.get(provider) or (defaults or {}).get(provider)
            if provider == "sip" and passwords:
                value = {**(value or {}), "trunk_passwords": passwords}
            if value:
                out[secret_name(org.id, provider)] = (value, provider in given or (provider == "sip" and bool(passwords)))
    return out


def write_secrets(client: Any, fixture: Fixture, defaults: dict[str, dict] | None = None) -> int:
    """Write the fixture's secrets without losing what an existing secret holds that the fixture
    does not say: a default never replaces a secret that exists, and a ``sip`` secret keeps the
    passwords of trunks the fixture does not list."""
    written = 0
    for name, (value, given) in secrets(fixture, defaults).items():
        if not given:
            try:
                client.create_secret(Name=name, SecretString=json.dumps(value))
                written += 1
            except client.exceptions.ResourceExistsException:
                pass
            continue
        if name.endswith("/sip"):
            value = {**value, "trunk_passwords": {**_current(client, name).get("trunk_passwords", {}),
                                                  **value.get("trunk_passwords", {})}}
        put_secret(client, name, value)
        written += 1
    return written


def _current(client: Any, name: str) -> dict:
    try:
        return json.loads(client.get_secret_value(SecretId=name)["SecretString"])
    except client.exceptions.ResourceNotFoundException:
        return {}


def put_secret(client: Any, name: str, value: dict) -> None:
    """Create the secret, or give an existing one this value (create first: a fresh stack, where
    every secret is new, then makes one call per secret instead of two)."""
    body = json.dumps(value)
    try:
        client.create_secret(Name=name, SecretString=body)
    except client.exceptions.ResourceExistsException:
        client.put_secret_value(SecretId=name, SecretString=body)
