"""The fixture format (events/fixture.json is the example): validation and loading into DynamoDB +
Secrets Manager.

Used by ``outbound seed`` (local stack or a deployed stack's table: the operators' way to add
organizations, numbers and assistants), ``outbound serve --seed`` and the tests. Unknown
fields are rejected by name. Provider credentials go to Secrets Manager, never to DynamoDB.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from outbound import store
from outbound.credentials import secret_name
from outbound.phone import is_e164
from outbound.providers import PROVIDERS


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Organization(_Strict):
    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_-]+$")
    name: str
    balance_cents: int = Field(ge=0)
    api_keys: list[str] = Field(default_factory=list)
    call_reserve_cents: int | None = Field(default=None, ge=0)
    per_minute_rate_cents: int | None = Field(default=None, ge=0)
    allowed_destination_countries: list[str] | None = None
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
    number: str
    organization_id: str
    provider: Literal["twilio", "telnyx", "vonage", "sip"]
    assistant_id: int | None = None
    graph_id: int | None = None
    provider_settings: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check(self) -> "PhoneNumber":
        if not is_e164(self.number):
            raise ValueError(f"{self.number} is not an E.164 number")
        if self.assistant_id is not None and self.graph_id is not None:
            raise ValueError(f"{self.number}: give assistant_id or graph_id, not both")
        return self


class Call(_Strict):
    """A call already placed and not yet ended (e.g. for the status-webhook sample events): it
    holds its reserve, which the fixture's organization item accounts for."""

    call_id: str = Field(pattern=r"^call_[A-Za-z0-9_]+$")
    organization_id: str
    provider: Literal["twilio", "telnyx", "vonage", "sip"]
    from_phone_number: str
    to_phone_number: str
    call_sid: str | None = None
    assistant_id: int | None = None
    status: Literal["initiating", "unconfirmed", "queued", "ringing", "in-progress"] = "queued"
    reserve_cents: int | None = Field(default=None, ge=0)  # default: the organization's reserve
    welcome_message: str | None = None
    agenda: str | None = None
    variables: dict[str, str | int | float | bool] = Field(default_factory=dict)
    created_at: str | None = None  # ISO 8601; default: when seeded


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
            if held > org.balance_cents:
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
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise FixtureError(f"{path}: {exc}") from None
    try:
        return Fixture.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"])
            what = "unknown field" if err["type"] == "extra_forbidden" else err["msg"]
            problems.append(f"{where}: {what}")
        raise FixtureError(f"{path}: " + "; ".join(problems)) from None


def items(fixture: Fixture) -> list[dict[str, Any]]:
    """The DynamoDB items of a fixture (no secrets among them)."""
    out: list[dict[str, Any]] = []
    trunks_by_org: dict[str, list[dict]] = {}
    for trunk in fixture.sip_trunks:
        trunks_by_org.setdefault(trunk.organization_id, []).append(trunk.model_dump(by_alias=True, exclude={"password", "organization_id"}))
    for org in fixture.organizations:
        held = sum(_call_reserve(call, org) for call in fixture.calls if call.organization_id == org.id)
        out.append({
            **store.organization_key(org.id), "id": org.id, "name": org.name,
            "balance_cents": org.balance_cents, "reserved_cents": held, "available_cents": org.balance_cents - held,
            "call_reserve_cents": org.call_reserve_cents, "per_minute_rate_cents": org.per_minute_rate_cents,
            "allowed_destination_countries": org.allowed_destination_countries,
            "sip_trunks": trunks_by_org.get(org.id),
        })
        for key in org.api_keys:
            out.append({**store.api_key_key(store.hash_api_key(key)), "organization_id": org.id,
                        "created_at": store.now_iso()})
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
    organizations = {org.id: org for org in fixture.organizations}
    for call in fixture.calls:
        created_at = call.created_at or store.now_iso()
        record = {**store.call_key(call.call_id), **call.model_dump(),
                  "reserve_cents": _call_reserve(call, organizations[call.organization_id]),
                  "created_at": created_at, "updated_at": created_at,
                  "gsi1pk": f"ORG#{call.organization_id}#CALLS", "gsi1sk": f"{created_at}#{call.call_id}"}
        if call.status in ("initiating", "unconfirmed"):  # no provider answer recorded: the sweeper's to watch
            record.update(store.initiating_keys(record))
        out.append(record)
    return out


def secrets(fixture: Fixture, defaults: dict[str, dict] | None = None) -> dict[str, dict]:
    """Secret name -> JSON value, for each organization and provider. ``defaults`` (the local
    emulators' credentials) fill in providers the fixture does not give."""
    out: dict[str, dict] = {}
    for org in fixture.organizations:
        given = dict(org.provider_credentials or {})
        passwords = {t.id: t.password for t in fixture.sip_trunks if t.organization_id == org.id and t.password}
        for provider in PROVIDERS:
            value = given.get(provider) or (defaults or {}).get(provider)
            if provider == "sip" and passwords:
                value = {**(value or {}), "trunk_passwords": passwords}
            if value:
                out[secret_name(org.id, provider)] = value
    return out


def load(fixture: Fixture, secrets_client: Any, defaults: dict[str, dict] | None = None) -> dict[str, int]:
    """Write a fixture's items and secrets; returns what was written."""
    rows = items(fixture)
    for item in rows:
        store.put_item(item)
    written = secrets(fixture, defaults)
    for name, value in written.items():
        put_secret(secrets_client, name, value)
    return {"items": len(rows), "secrets": len(written)}


def put_secret(client: Any, name: str, value: dict) -> None:
    body = json.dumps(value)
    try:
        client.put_secret_value(SecretId=name, SecretString=body)
    except client.exceptions.ResourceNotFoundException:
        client.create_secret(Name=name, SecretString=body)
