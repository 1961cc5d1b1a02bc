"""``outbound admin credentials set|show|delete ORG_ID PROVIDER``: an organization's provider
credentials, in Secrets Manager (``<CredentialsSecretPrefix><org>/<provider>``, one JSON object
per organization and provider: see outbound.credentials), on a local server or a deployed stack.

- ``set`` reads the secret's JSON from ``--file PATH`` or stdin (without echo when stdin is a
  terminal), checks it has the provider's fields and no others, and never prints a value. A
  ``sip`` secret keeps the trunk passwords ``outbound admin trunk --password-stdin`` stored when
  the JSON gives none;
- ``show`` says which fields are set (never their values) and when the secret last changed;
- ``delete`` removes the secret: on a deployed stack with Secrets Manager's 7-day recovery window
  (``--now``: at once), locally at once.

On a local server, every change is registered with its provider emulators (as ``outbound seed``
does): they accept exactly the credentials registered, as a provider knows the accounts it issued.
The functions cache a secret up to OUTBOUND_SECRETS_CACHE_SECONDS (300 s by default).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from .common import CliError, reload_provider_accounts, target_arguments, use_target
from .keys import require_organization

RECOVERY_DAYS = 7  # Secrets Manager's shortest recovery window
PROVIDERS = ("twilio", "telnyx", "vonage", "sip")


def _secrets_client() -> Any:
    import boto3

    if not os.environ.get("CREDENTIALS_SECRET_PREFIX"):
        raise CliError("say where the secrets are: --secret-prefix (the stack's CredentialsSecretPrefix output, "
                       "or $CREDENTIALS_SECRET_PREFIX) or --local-server")
    return boto3.client("secretsmanager")


def _read_secret_json(path: str | None, provider: str) -> dict[str, Any]:
    """The secret's JSON object from the file, or stdin; errors name fields, never values."""
    if path and path != "-":
        try:
            with open(path, encoding="utf-8") as file:
                text = file.read()
        except OSError as exc:
            raise CliError(f"{path}: {exc.strerror or exc}") from None
    elif sys.stdin.isatty():
        import getpass

        text = getpass.getpass(f"The {provider} secret's JSON (one line, not echoed): ")
    else:
        text = sys.stdin.read()
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise CliError(f"the secret is not JSON ({type(exc).__name__} at line {getattr(exc, 'lineno', '?')}, "
                       f"column {getattr(exc, 'colno', '?')})") from None
    from pydantic import ValidationError

    from .credential_fields import MODELS

    if not isinstance(value, dict):
        raise CliError(f"the secret must be a JSON object with the {provider} fields: "
                       + ", ".join(MODELS[provider].model_fields))
    try:
        model = MODELS[provider].model_validate(value)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"])
            problems.append(f"{where}: " + ("unknown field" if err["type"] == "extra_forbidden" else err["msg"]))
        raise CliError(f"not {provider} credentials: " + "; ".join(problems)) from None
    return model.model_dump(exclude_none=True)


def _current(client: Any, name: str) -> dict[str, Any] | None:
    """The secret's JSON object now (None: there is none)."""
    try:
        text = client.get_secret_value(SecretId=name).get("SecretString") or ""
    except (client.exceptions.ResourceNotFoundException, client.exceptions.InvalidRequestException):
        return None  # none, or scheduled for deletion
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _put(client: Any, name: str, value: dict[str, Any]) -> None:
    """Create the secret, or give the existing one this value; one scheduled for deletion is
    restored first (Secrets Manager refuses a new secret under its name, and a value for it)."""
    body = json.dumps(value)
    try:
        client.create_secret(Name=name, SecretString=body)
        return
    except (client.exceptions.ResourceExistsException, client.exceptions.InvalidRequestException):
        pass
    if client.describe_secret(SecretId=name).get("DeletedDate"):
        client.restore_secret(SecretId=name)  # scheduled for deletion: it takes the new value
    client.put_secret_value(SecretId=name, SecretString=body)


def _fields(value: dict[str, Any]) -> str:
    parts = []
    for name in sorted(value):
        if name == "trunk_passwords" and isinstance(value[name], dict):
            parts.append(f"trunk_passwords ({', '.join(sorted(value[name])) or 'none'})")
        else:
            parts.append(name)
    return ", ".join(parts) or "none"


def cmd_set(args: argparse.Namespace) -> int:
    from outbound.credentials import secret_name

    local = use_target(args)
    client = _secrets_client()
    require_organization(args.organization_id)
    value = _read_secret_json(args.file, args.provider)
    name = secret_name(args.organization_id, args.provider)
    if args.provider == "sip" and "trunk_passwords" not in value:
        kept = (_current(client, name) or {}).get("trunk_passwords")
        if kept:
            value["trunk_passwords"] = kept  # the trunks' passwords stay (outbound admin trunk stores them)
    _put(client, name, value)
    print(f"Stored the {args.provider} credentials of {args.organization_id} in {name}: {_fields(value)} "
          "(values not shown).")
    if local:
        reload_provider_accounts(args.local_server, "the credentials were stored")
        print("Registered with the local server's provider emulators.")
    else:
        print("Calls use them within OUTBOUND_SECRETS_CACHE_SECONDS (300 s by default) of the change.")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from outbound.credentials import secret_name

    use_target(args)
    client = _secrets_client()
    require_organization(args.organization_id)
    from .credential_fields import MODELS

    missing = 0
    for provider in [args.provider] if args.provider else PROVIDERS:
        name = secret_name(args.organization_id, provider)
        value = _current(client, name)
        if value is None:
            missing += 1
            print(f"{provider}: none ({name}); set them with `outbound admin credentials set "
                  f"{args.organization_id} {provider}`")
            continue
        model = MODELS[provider]
        absent = [f for f, info in model.model_fields.items() if info.is_required() and f not in value]
        unknown = [f for f in value if f not in model.model_fields]
        changed = client.describe_secret(SecretId=name).get("LastChangedDate")
        line = f"{provider}: {name}: set {_fields(value)}"
        if absent:
            line += f"; MISSING {', '.join(absent)}"
        if unknown:
            line += f"; not {provider} fields: {', '.join(sorted(unknown))}"
        print(line + (f"; last changed {changed.isoformat()}" if changed else ""))
    return 1 if args.provider and missing else 0


def cmd_delete(args: argparse.Namespace) -> int:
    from datetime import datetime, timedelta, timezone

    from outbound.credentials import secret_name

    local = use_target(args)
    client = _secrets_client()
    require_organization(args.organization_id)
    name = secret_name(args.organization_id, args.provider)
    if _current(client, name) is None:
        raise CliError(f"{args.organization_id} has no {args.provider} credentials ({name})")
    at_once = local or args.now
    if at_once:
        client.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
        print(f"Deleted {name}: calls of {args.organization_id} through {args.provider} now answer 502 "
              "(no credentials) once the functions' cached copy expires.")
    else:
        client.delete_secret(SecretId=name, RecoveryWindowInDays=RECOVERY_DAYS)
        until = (datetime.now(timezone.utc) + timedelta(days=RECOVERY_DAYS)).date().isoformat()
        print(f"Scheduled {name} for deletion on {until} (until then: aws secretsmanager restore-secret "
              f"--secret-id {name}); calls through {args.provider} answer 502 once the functions' cached "
              "copy expires.")
    if local:
        reload_provider_accounts(args.local_server, "the credentials were deleted")
    return 0


def add_commands(sub: Any) -> None:
    credentials = sub.add_parser("credentials", help="set, show or delete an organization's provider credentials "
                                                     "(Secrets Manager)")
    actions = credentials.add_subparsers(dest="action", required=True)
    providers = list(PROVIDERS)
    setting = actions.add_parser("set", help="store the provider's secret JSON (from --file or stdin; never echoed)")
    setting.add_argument("organization_id", metavar="ORG_ID")
    setting.add_argument("provider", metavar="PROVIDER", choices=providers, help=", ".join(providers))
    setting.add_argument("--file", metavar="PATH", help="the JSON object (default: stdin)")
    setting.set_defaults(run=cmd_set)
    showing = actions.add_parser("show", help="which fields are set (never their values), per provider")
    showing.add_argument("organization_id", metavar="ORG_ID")
    showing.add_argument("provider", metavar="PROVIDER", nargs="?", choices=providers,
                         help="one provider (default: every provider)")
    showing.set_defaults(run=cmd_show)
    deleting = actions.add_parser("delete", help="delete the secret (deployed: 7 days to restore it, unless --now)")
    deleting.add_argument("organization_id", metavar="ORG_ID")
    deleting.add_argument("provider", metavar="PROVIDER", choices=providers, help=", ".join(providers))
    deleting.add_argument("--now", action="store_true", help="no recovery window (a local server's are deleted "
                                                             "at once anyway)")
    deleting.set_defaults(run=cmd_delete)
    for parser in (setting, showing, deleting):
        target_arguments(parser)

