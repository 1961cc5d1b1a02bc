"""``outbound admin org|number|assistant|graph|trunk create|update|show``.

``create`` writes a new item (refused if it exists); ``update`` changes exactly the fields given
(``--clear FIELD`` removes an optional one) in one conditional UpdateItem, after validating the
result with the fixture format's models; ``show`` prints the item. An organization is created
with a zero balance and no update can touch its money (store.directory refuses it): funds come
from ``outbound admin credit`` only. Items of one organization are never moved to another, and a
number, graph or trunk may only point at its own organization's assistants.
"""
from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from typing import Any, Callable

from .common import CliError, ascii_int, e164_number, target_arguments, use_target
from .keys import require_organization

HIDDEN = ("pk", "sk", "gsi1pk", "gsi1sk")


@dataclass(frozen=True)
class Option:
    flag: str
    field: str
    type: Callable[[str], Any] | None = str  # None: a --x/--no-x switch
    help: str = ""


@dataclass(frozen=True)
class Entity:
    command: str
    id_name: str
    id_field: str
    id_type: Callable[[str], Any]
    model_name: str  # its pydantic model in outbound_local.fixture (imported when a command runs)
    key_name: str  # its key function in outbound.store
    options: tuple[Option, ...]
    owned: bool = True  # belongs to an organization (--org on create)

    @property
    def model(self) -> Any:
        from outbound_local import fixture

        return getattr(fixture, self.model_name)

    def key(self, ident: Any) -> dict[str, str]:
        from outbound import store

        return getattr(store, self.key_name)(ident)


def _entities() -> tuple[Entity, ...]:
    text = "text with {{variable}} placeholders"
    return (
        Entity("org", "ORG_ID", "id", str, "OrganizationProfile", "organization_key", (
            Option("--name", "name"),
            Option("--call-reserve-cents", "call_reserve_cents", price_cents("--call-reserve-cents"),
                   "held per call (default: the stack's)"),
            Option("--per-minute-rate-cents", "per_minute_rate_cents", price_cents("--per-minute-rate-cents"),
                   "price per started minute"),
            Option("--allowed-countries", "allowed_destination_countries", _countries,
                   "comma-separated ISO codes, e.g. US,CA (default: the from number's country)")), owned=False),
        Entity("assistant", "ASSISTANT_ID", "id", ascii_int, "Assistant", "assistant_key", (
            Option("--name", "name"), Option("--welcome-message", "welcome_message", str, text),
            Option("--agenda", "agenda", str, text))),
        Entity("graph", "GRAPH_ID", "id", ascii_int, "AssistantGraph", "graph_key", (
            Option("--name", "name"), Option("--entry-assistant-id", "entry_assistant_id", ascii_int))),
        Entity("number", "E164_NUMBER", "number", e164_number, "PhoneNumber", "phone_number_key", (
            Option("--provider", "provider", str, "twilio, telnyx, vonage or sip"),
            Option("--assistant-id", "assistant_id", ascii_int, "the number's assistant (replaces a graph)"),
            Option("--graph-id", "graph_id", ascii_int, "the number's assistant graph (replaces an assistant)"),
            Option("--setting", "provider_settings", _setting,
                   "KEY=VALUE in provider_settings, e.g. connection_id=... for Telnyx (repeatable; KEY= removes)"))),
    )


def price_cents(flag: str) -> Callable[[str], int]:
    """An argparse type: a price in whole cents, ASCII digits, 0 to outbound.money.MAX_PRICE_CENTS."""
    def convert(text: str) -> int:
        from outbound.cents import MAX_PRICE_CENTS, parse_cents

        try:
            return parse_cents(text, flag, 0, MAX_PRICE_CENTS)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    convert.__name__ = "cents"  # what argparse names in its message
    return convert


def _countries(value: str) -> list[str]:
    return [code.strip().upper() for code in value.split(",") if code.strip()]


def _setting(value: str) -> tuple[str, str]:
    name, sep, setting = value.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError("expected KEY=VALUE")
    return name, setting


def _view(item: dict[str, Any]) -> str:
    return json.dumps({k: v for k, v in item.items() if k not in HIDDEN}, indent=2, sort_keys=True)


def _validate(model: Any, data: dict[str, Any]) -> Any:
    from pydantic import ValidationError

    from outbound_local import fixture

    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise CliError(fixture.describe(exc)) from None


def _given(entity: Entity, args: argparse.Namespace, existing: dict[str, Any] | None) -> dict[str, Any]:
    """The fields this command sets (None: remove), from its options and --clear."""
    changes: dict[str, Any] = {}
    for option in entity.options:
        value = getattr(args, option.field, None)
        if value is None:
            continue
        if option.field == "provider_settings":  # merged into the current settings, KEY= removes
            settings = dict((existing or {}).get("provider_settings") or {})
            for name, setting in value:
                if setting:
                    settings[name] = setting
                else:
                    settings.pop(name, None)
            value = settings
        changes[option.field] = value
    for name in getattr(args, "clear", None) or ():
        if name in entity.model.model_fields and not entity.model.model_fields[name].is_required():
            changes[name] = None
        else:
            raise CliError(f"--clear {name}: not an optional field of a {entity.command}")
    if entity.command == "number":  # a number has an assistant or a graph, not both
        if changes.get("assistant_id") is not None:
            changes.update(graph_id=None, graph_entry_hint=None)
        if changes.get("graph_id") is not None:
            changes["assistant_id"] = None
    return changes


def _check_references(organization_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """Assistants and graphs a number or graph points at must be its organization's. Returns
    extra fields to store (a graph number's cached entry assistant)."""
    from outbound import store

    extra: dict[str, Any] = {}
    for field, key in (("assistant_id", store.assistant_key), ("entry_assistant_id", store.assistant_key),
                       ("graph_id", store.graph_key)):
        if data.get(field) is None:
            continue
        item = store.get_item(key(data[field]))
        if item is None or item.get("organization_id") != organization_id:
            raise CliError(f"{field} {data[field]} is not an item of {organization_id}")
        if field == "graph_id":
            extra["graph_entry_hint"] = item["entry_assistant_id"]
    return extra


def cmd_create(entity: Entity, args: argparse.Namespace) -> int:
    from outbound import store

    use_target(args)
    ident = args.ident
    changes = {k: v for k, v in _given(entity, args, None).items() if v is not None}
    if entity.owned:
        require_organization(args.org)
        changes["organization_id"] = args.org
    model = _validate(entity.model, {entity.id_field: ident, **changes})
    data = model.model_dump(by_alias=True, exclude_none=True)
    try:
        if not entity.owned:
            item = store.create_organization(ident, {k: v for k, v in data.items() if k != "id"})
        else:
            item = {**entity.key(ident), **data, **_check_references(args.org, data)}
            store.put_owned(item, create_only=True)
    except (store.AlreadyExists, store.OwnedByAnother):
        raise CliError(f"{entity.command} {ident} exists already (change it with `outbound admin "
                       f"{entity.command} update`)") from None
    print(_view(store.get_item(entity.key(ident)) or item))
    return 0


def cmd_update(entity: Entity, args: argparse.Namespace) -> int:
    from outbound import store

    use_target(args)
    existing = store.get_item(entity.key(args.ident))
    if existing is None:
        raise CliError(f"no {entity.command} {args.ident}")
    changes = _given(entity, args, existing)
    if not changes:
        raise CliError("nothing to change: give at least one field option or --clear FIELD")
    fields = entity.model.model_fields
    current = {name: existing[name] for name in fields if name in existing}
    merged = {k: v for k, v in {**current, **changes}.items() if v is not None and k in fields}
    _validate(entity.model, merged)
    if entity.owned:
        changes.update(_check_references(existing["organization_id"], changes))
    try:
        item = store.update_fields(entity.key(args.ident), changes,
                                   existing.get("organization_id") if entity.owned else None)
    except (store.NotFound, store.OwnedByAnother) as exc:
        raise CliError(f"{entity.command} {args.ident} changed meanwhile ({exc}); nothing was written") from None
    print(_view(item))
    return 0


def cmd_show(entity: Entity, args: argparse.Namespace) -> int:
    from outbound import store

    use_target(args)
    item = store.get_item(entity.key(args.ident))
    if item is None:
        raise CliError(f"no {entity.command} {args.ident}")
    print(_view(item))
    return 0


def add_commands(sub: Any) -> None:
    for entity in _entities():
        noun = "an organization" if entity.command == "org" else "a phone number" if entity.command == "number" \
            else f"an {entity.command}" if entity.command[0] in "aeiou" else f"a {entity.command}"
        parser = sub.add_parser(entity.command, help=f"create, update or show {noun}")
        actions = parser.add_subparsers(dest="action", required=True)
        for action, run in (("create", cmd_create), ("update", cmd_update), ("show", cmd_show)):
            command = actions.add_parser(action, help=f"{action} {noun}")
            command.add_argument("ident", metavar=entity.id_name, type=entity.id_type)
            if action == "create" and entity.owned:
                command.add_argument("--org", required=True, metavar="ORG_ID", help="the organization it belongs to")
            if action != "show":
                for option in entity.options:
                    kind = {"action": "append", "metavar": "KEY=VALUE"} if option.field == "provider_settings" else {}
                    command.add_argument(option.flag, dest=option.field, type=option.type, help=option.help, **kind)
            if action == "update":
                command.add_argument("--clear", action="append", metavar="FIELD", help="remove an optional field")
            command.set_defaults(run=lambda args, entity=entity, run=run: run(entity, args))
            target_arguments(command)
    from . import admin_trunks

    admin_trunks.add_commands(sub)
