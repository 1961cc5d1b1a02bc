"""API keys: ``outbound api-key create``."""
from __future__ import annotations

import argparse
import os
import secrets
import sys
from typing import Any, Callable

from .common import CliError, target_arguments, use_target


def cmd_api_key(args: argparse.Namespace) -> int:
    from outbound import store

    use_target(args)
    if store.get_item(store.organization_key(args.organization_id)) is None:
        raise CliError(f"no organization {args.organization_id} in {os.environ['TABLE_NAME']}")
    key = "sk_live_" + secrets.token_urlsafe(32)
    store.put_item({**store.api_key_key(store.hash_api_key(key)), "organization_id": args.organization_id,
                    "created_at": store.now_iso()})
    print(key)
    print(f"API key for {args.organization_id}. It is shown once: only its SHA-256 is stored.", file=sys.stderr)
    return 0


def register(commands: Any) -> dict[str, Callable[[argparse.Namespace], int]]:
    api_key = commands.add_parser("api-key", help="manage API keys")
    api_key_commands = api_key.add_subparsers(dest="action", required=True)
    create = api_key_commands.add_parser("create", help="create a key; it is printed once, only its hash is stored")
    create.add_argument("organization_id", metavar="ORG_ID")
    target_arguments(create)
    return {"api-key": cmd_api_key}
