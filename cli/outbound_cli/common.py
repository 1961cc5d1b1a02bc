"""What every ``outbound`` command shares: errors, and pointing the store at a local server or a
deployed stack."""
from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any


class CliError(Exception):
    """A message for the user (printed as ``outbound: <message>``, exit status 2)."""


# Every command that talks to a running `outbound serve` (or, for `campaign watch`, any API)
# takes its URL from this variable when no flag names one: `outbound serve` prints it.
SERVER_ENV = "OUTBOUND_SERVER"
DEFAULT_SERVER = "http://127.0.0.1:3000"


def env_server() -> str | None:
    """``$OUTBOUND_SERVER``, if set."""
    return os.environ.get(SERVER_ENV) or None


def server_default() -> str:
    """The server a command talks to when ``--server`` is not given."""
    return env_server() or DEFAULT_SERVER


def ascii_int(text: str) -> int:
    """An argparse ``type`` for whole numbers: ASCII digits, an optional leading ``-`` (``int``
    would also read other scripts' digits, ``int("٣") == 3``)."""
    from outbound.digits import ascii_int as digits_value

    value = digits_value(text[1:] if text.startswith("-") else text)
    if value is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number in ASCII digits (0-9)")
    return -value if text.startswith("-") else value


def e164_number(text: str) -> str:
    """An argparse ``type`` for phone numbers: their canonical ASCII E.164 form (outbound.phone)."""
    from outbound.errors import BadRequest
    from outbound.phone import canonical_e164

    try:
        return canonical_e164(text)
    except BadRequest as exc:
        raise argparse.ArgumentTypeError(f"{text!r}: {exc.detail}") from None


def target_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--local-server", metavar="URL",
                        help=f"a running `outbound serve` (e.g. {DEFAULT_SERVER}); default ${SERVER_ENV}")
    parser.add_argument("--table", help="a deployed stack's table (its CallsTableName output); default $TABLE_NAME")
    parser.add_argument("--secret-prefix", help="the stack's CredentialsSecretPrefix output; default $CREDENTIALS_SECRET_PREFIX")


def use_target(args: argparse.Namespace) -> bool:
    """Point the store at the chosen tables; True when the target is a local server (then
    ``args.local_server`` is its URL, from the flag or ``$OUTBOUND_SERVER``)."""
    from outbound_local.stack import reset_cached_clients

    args.local_server = local_server_target(args.local_server, args.table)
    if args.local_server:
        info = local_server_info(args.local_server)
        os.environ.update({"AWS_ENDPOINT_URL": info["endpoint_url"], "TABLE_NAME": info["table_name"],
                           "CREDENTIALS_SECRET_PREFIX": info["credentials_secret_prefix"],
                           "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
                           "AWS_DEFAULT_REGION": info["region"]})
        # ... and its provider emulators (commands that read the providers' records).
        os.environ.update({name: value for name, value in (info.get("environment") or {}).items()
                           if name.startswith("OUTBOUND_") and (name.endswith("_API_URL") or name == "OUTBOUND_SIP_BRIDGE")})
    else:
        if args.table:
            os.environ["TABLE_NAME"] = args.table
        if args.secret_prefix:
            os.environ["CREDENTIALS_SECRET_PREFIX"] = args.secret_prefix
        if not os.environ.get("TABLE_NAME"):
            raise CliError("say which tables: --local-server URL, or --table NAME "
                           f"(or ${SERVER_ENV} for a local server, $TABLE_NAME for a deployed stack)")
    reset_cached_clients()
    return bool(args.local_server)


def local_server_target(flag: str | None, table: str | None) -> str | None:
    """The local server a command acts on: ``--local-server``, else ``$OUTBOUND_SERVER`` unless
    ``--table`` names a deployed stack's. Both variables set and no flag is refused: these
    commands move money, and which stack they act on is not for the CLI to guess."""
    if flag or table or not env_server():
        return flag
    if os.environ.get("TABLE_NAME"):
        raise CliError(f"both ${SERVER_ENV} and $TABLE_NAME are set: say which with --local-server URL "
                       "or --table NAME")
    return env_server()


def local_server_info(url: str) -> dict[str, Any]:
    """Where a running `outbound serve` keeps its local AWS and emulators (GET /_local/aws)."""
    import urllib.request

    try:
        with urllib.request.urlopen(url.rstrip("/") + "/_local/aws", timeout=5) as response:
            return json.load(response)
    except (OSError, ValueError) as exc:
        raise CliError(f"no local server at {url}: {exc}") from None


def reload_provider_accounts(server_url: str, done: str) -> dict[str, int]:
    """Have a local server's emulators register the provider accounts its Secrets Manager holds
    now, as the providers know the accounts they issued (``done``: what was already written, for
    the message when they cannot)."""
    import urllib.request

    request = urllib.request.Request(server_url.rstrip("/") + "/_local/provider-accounts/reload",
                                     data=b"", method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)["accounts"]
    except (OSError, ValueError, KeyError) as exc:
        raise CliError(f"{done}, but {server_url} did not register its provider accounts "
                       f"(its emulators will refuse the new credentials): {exc}") from None


def aws_credentials_configured() -> bool:
    import botocore.session

    return bool(os.environ.get("TABLE_NAME")) and botocore.session.get_session().get_credentials() is not None


def read_json(path: str) -> Any:
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise CliError(f"{path}: {exc}") from None
