"""API keys: ``outbound admin api-key create|list|revoke`` (``outbound api-key`` is the same).

Keys are stored as SHA-256 only: ``create`` prints the key once; ``list`` shows each key's
prefix (its first 14 characters) and creation time; ``revoke`` takes the key itself or a prefix
that names exactly one of the organization's keys. The authorizer refuses a revoked key at
once, but API Gateway keeps its cached "allow" for that key up to AuthorizerCacheSeconds
(300 s by default): that is how long a revocation takes to be effective everywhere.
"""
from __future__ import annotations

import argparse
import json
import secrets
import sys
from typing import Any, Callable

from .common import CliError, target_arguments, use_target


def require_organization(organization_id: str) -> dict[str, Any]:
    from outbound import store

    organization = store.get_item(store.organization_key(organization_id))
    if organization is None:
        raise CliError(f"no organization {organization_id} in {store.table()}")
    return organization


def cmd_create(args: argparse.Namespace) -> int:
    from outbound import store

    use_target(args)
    require_organization(args.organization_id)
    key = "sk_live_" + secrets.token_urlsafe(32)
    store.add_api_key(args.organization_id, store.hash_api_key(key), store.api_key_prefix(key))
    print(key)
    print(f"API key for {args.organization_id}. It is shown once: only its SHA-256 is stored.", file=sys.stderr)
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from outbound import store

    use_target(args)
    require_organization(args.organization_id)
    keys = [{k: v for k, v in key.items() if k != "key_hash"} for key in store.list_api_keys(args.organization_id)]
    if args.json:
        print(json.dumps(keys, indent=2))
        return 0
    print(f"{'prefix':<16} {'created_at':<26} revoked_at")
    for key in keys:
        print(f"{key['prefix'] or '?':<16} {key['created_at'] or '?':<26} {key['revoked_at'] or '-'}")
    return 0


def cmd_revoke(args: argparse.Namespace) -> int:
    from outbound import store

    use_target(args)
    require_organization(args.organization_id)
    key_hash = matching_key_hash(args.organization_id, args.key)
    revoked = store.revoke_api_key(args.organization_id, key_hash)
    print(f"Revoked {revoked.get('prefix') or 'the key'} of {args.organization_id} at {revoked['revoked_at']}. "
          "Requests with it are refused once API Gateway's cached authorization expires "
          "(AuthorizerCacheSeconds, 300 s by default).")
    return 0


def matching_key_hash(organization_id: str, key_or_prefix: str) -> str:
    """The hash of the organization's key named by the key itself, or by a prefix (10 to 14
    characters, as `list` shows them) of exactly one of its keys."""
    from outbound import store

    keys = store.list_api_keys(organization_id)
    from outbound.store.directory import API_KEY_PREFIX_CHARS

    if len(key_or_prefix) > API_KEY_PREFIX_CHARS:  # a whole key: only that key
        full = store.hash_api_key(key_or_prefix)
        if any(key["key_hash"] == full for key in keys):
            return full
        raise CliError(f"that key is not one of {organization_id}'s")
    matches = [key for key in keys if (key["prefix"] or "").startswith(key_or_prefix)]
    if len(matches) == 1 and len(key_or_prefix) >= 10:  # more than "sk_live_" and 2 characters
        return matches[0]["key_hash"]
    if len(matches) > 1:
        raise CliError(f"{key_or_prefix} matches {len(matches)} keys of {organization_id}: give more of the key")
    raise CliError(f"no API key of {organization_id} matches {key_or_prefix} (see `outbound admin api-key list`)")


def add_commands(subcommands: Any) -> None:
    """create / list / revoke under a parser's subcommands (``admin api-key`` and ``api-key``)."""
    create = subcommands.add_parser("create", help="create a key; it is printed once, only its hash is stored")
    create.add_argument("organization_id", metavar="ORG_ID")
    create.set_defaults(run=cmd_create)
    listing = subcommands.add_parser("list", help="an organization's keys: prefix, creation and revocation times")
    listing.add_argument("organization_id", metavar="ORG_ID")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(run=cmd_list)
    revoke = subcommands.add_parser("revoke", help="revoke a key (by the key, or a prefix naming one key)")
    revoke.add_argument("organization_id", metavar="ORG_ID")
    revoke.add_argument("key", metavar="KEY_OR_PREFIX")
    revoke.set_defaults(run=cmd_revoke)
    for parser in (create, listing, revoke):
        target_arguments(parser)


def register(commands: Any) -> dict[str, Callable[[argparse.Namespace], int]]:
    api_key = commands.add_parser("api-key", help="manage API keys (the same as `outbound admin api-key`)")
    add_commands(api_key.add_subparsers(dest="action", required=True))
    return {"api-key": lambda args: args.run(args)}
