"""``outbound admin trunk create|update|show TRUNK_ID --org ORG_ID``: an organization's BYO SIP trunks.

Trunks live in the organization's item (``sip_trunks``: the call path reads them with the
organization, in the same BatchGetItem), so a change rewrites that one attribute, conditional on
the list being as it was read. The trunk id is the FreeSWITCH gateway's name. A password never
goes to DynamoDB: ``--password-stdin`` stores it in the organization's ``sip`` secret
(``trunk_passwords``), in Secrets Manager.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from .common import CliError, ascii_int, target_arguments, use_target
from .keys import require_organization

STORED = ("id", "name", "gateway", "username", "priority", "enabled", "register")
NO_SECRET_PREFIX = ("a trunk password goes to Secrets Manager: give --secret-prefix (the stack's "
                    "CredentialsSecretPrefix output) or --local-server")


def _trunks(organization: dict[str, Any]) -> list[dict[str, Any]]:
    return list(organization.get("sip_trunks") or [])


def _changes(args: argparse.Namespace) -> dict[str, Any]:
    changes = {name: getattr(args, name) for name in ("name", "gateway", "username", "priority", "enabled",
                                                       "register") if getattr(args, name, None) is not None}
    for name in getattr(args, "clear", None) or ():
        if name != "username":
            raise CliError(f"--clear {name}: only username is optional")
        changes["username"] = None
    return changes


def _store_password(organization_id: str, trunk_id: str, password: str) -> str:
    import boto3

    from outbound.credentials import secret_name

    from outbound_local import fixture as fixtures

    if not os.environ.get("CREDENTIALS_SECRET_PREFIX"):
        raise CliError(NO_SECRET_PREFIX)
    name, client = secret_name(organization_id, "sip"), boto3.client("secretsmanager")
    try:
        value = json.loads(client.get_secret_value(SecretId=name)["SecretString"])
    except client.exceptions.ResourceNotFoundException:
        value = {}
    value["trunk_passwords"] = {**(value.get("trunk_passwords") or {}), trunk_id: password}
    fixtures.put_secret(client, name, value)
    return name


def cmd_trunk(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from outbound import store

    from outbound_local import fixture as fixtures

    use_target(args)
    organization = require_organization(args.org)
    trunks = _trunks(organization)
    found = next((t for t in trunks if t.get("id") == args.trunk_id), None)
    if args.action == "show":
        if found is None:
            raise CliError(f"no trunk {args.trunk_id} in {args.org}")
        print(json.dumps(found, indent=2, sort_keys=True))
        return 0
    if args.action == "create" and found is not None:
        raise CliError(f"trunk {args.trunk_id} exists already in {args.org} (change it with `update`)")
    if args.action == "update" and found is None:
        raise CliError(f"no trunk {args.trunk_id} in {args.org}")
    changes = _changes(args)
    if args.password_stdin and not os.environ.get("CREDENTIALS_SECRET_PREFIX"):
        raise CliError(NO_SECRET_PREFIX)  # before anything is read or written
    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else None
    if not changes and password is None and args.action == "update":
        raise CliError("nothing to change: give at least one field option, --clear username or --password-stdin")
    merged = {k: v for k, v in {**(found or {}), **changes}.items() if v is not None}
    try:
        trunk = fixtures.SipTrunk.model_validate({**merged, "id": args.trunk_id, "organization_id": args.org})
    except ValidationError as exc:
        raise CliError(fixtures.describe(exc)) from None
    stored = {k: v for k, v in trunk.model_dump(by_alias=True).items() if k in STORED and v is not None}
    others = [t for t in trunks if t.get("id") != args.trunk_id]
    if password:
        # First: a password that cannot be stored (no secret prefix, Secrets Manager refuses) must
        # leave no trunk behind without it. A stored password whose trunk write then fails is
        # harmless: running the command again overwrites it.
        print(f"Password stored in {_store_password(args.org, args.trunk_id, password)}", file=sys.stderr)
    store.set_sip_trunks(args.org, sorted([*others, stored], key=lambda t: (t.get("priority", 1), t["id"])),
                         organization.get("sip_trunks") or None)
    print(json.dumps(stored, indent=2, sort_keys=True))
    return 0


def add_commands(sub: Any) -> None:
    trunk = sub.add_parser("trunk", help="create, update or show an organization's BYO SIP trunk")
    actions = trunk.add_subparsers(dest="action", required=True)
    for action in ("create", "update", "show"):
        command = actions.add_parser(action, help=f"{action} a trunk")
        command.add_argument("trunk_id", metavar="TRUNK_ID", help="also the FreeSWITCH gateway's name")
        command.add_argument("--org", required=True, metavar="ORG_ID")
        if action != "show":
            command.add_argument("--name", required=action == "create")
            command.add_argument("--gateway", required=action == "create", help="host:port of the carrier")
            command.add_argument("--username")
            command.add_argument("--priority", type=ascii_int, help="lowest first (default 1)")
            command.add_argument("--enabled", action=argparse.BooleanOptionalAction, default=None)
            command.add_argument("--register", action=argparse.BooleanOptionalAction, default=None)
            command.add_argument("--password-stdin", action="store_true",
                                 help="read the trunk's password from stdin (kept in Secrets Manager)")
        if action == "update":
            command.add_argument("--clear", action="append", metavar="FIELD", help="username")
        command.set_defaults(run=cmd_trunk)
        target_arguments(command)
