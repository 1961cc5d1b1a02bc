"""``outbound``: the local stack and the operators' tools.

  outbound serve [--host 127.0.0.1] [--port 3000] [--seed FILE]
  outbound seed FILE [--local-server URL | --table NAME --secret-prefix PREFIX]
  outbound invoke FUNCTION_LOGICAL_ID EVENT_FILE [--seed FILE | --local-server URL]
  outbound api-key create ORG_ID [--local-server URL | --table NAME]
  outbound bench cold-start [--runs N] [--json] [--check]
  outbound bench load [--requests N] [--concurrency C] [--server URL] [--json]
  outbound emulate-call CALL_SID [--outcome completed] [--duration N] [--server URL] [--answered-by human]
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import sys
from pathlib import Path
from typing import Any


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="outbound", description="Outbound calls: local stack and operator tools")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the API locally with demo data")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=3000)
    serve.add_argument("--seed", metavar="FILE", help="fixture to load (default: the demo data, events/fixture.json)")

    seed = commands.add_parser("seed", help="load a fixture into the tables (local server or a deployed stack)")
    seed.add_argument("file")
    _target_arguments(seed)

    invoke = commands.add_parser("invoke", help="run one function on one event (sam local invoke, no container)")
    invoke.add_argument("function", metavar="FUNCTION_LOGICAL_ID")
    invoke.add_argument("event", metavar="EVENT_FILE")
    invoke_target = invoke.add_mutually_exclusive_group()
    invoke_target.add_argument("--seed", metavar="FILE", help="run on a fresh local stack loaded with this fixture")
    invoke_target.add_argument("--local-server", metavar="URL",
                               help="run against a running `outbound serve` (its tables and provider emulators)")

    api_key = commands.add_parser("api-key", help="manage API keys")
    api_key_commands = api_key.add_subparsers(dest="action", required=True)
    create = api_key_commands.add_parser("create", help="create a key; it is printed once, only its hash is stored")
    create.add_argument("organization_id", metavar="ORG_ID")
    _target_arguments(create)

    emulate = commands.add_parser(
        "emulate-call", help="send a call's provider status callbacks (signed as the provider signs) to a local server")
    emulate.add_argument("call_ref", metavar="CALL_SID", help="the call's call_sid (or its call_id)")
    emulate.add_argument("--outcome", default="completed", choices=["completed", "busy", "no-answer", "failed", "canceled"])
    emulate.add_argument("--duration", type=int, default=60, help="answered seconds (outcome completed)")
    emulate.add_argument("--server", default="http://127.0.0.1:3000", help="the running `outbound serve`")
    emulate.add_argument("--answered-by", help="answering-machine detection result, e.g. human or machine")

    bench = commands.add_parser("bench", help="benchmarks")
    bench_commands = bench.add_subparsers(dest="benchmark", required=True)
    cold = bench_commands.add_parser("cold-start", help="fresh process to first placed call, per provider")
    cold.add_argument("--json", action="store_true")
    cold.add_argument("--runs", type=int, default=5, help="measured runs per provider (medians of these)")
    cold.add_argument("--check", action="store_true", help="exit 1 when a provider is over the 1.5x budget")
    load = bench_commands.add_parser("load", help="POST /calls/initiate at a concurrency against `outbound serve`")
    load.add_argument("--requests", type=int, default=2000)
    load.add_argument("--concurrency", type=int, default=32)
    load.add_argument("--server", help="a running `outbound serve` (default: start one with the demo data)")
    load.add_argument("--json", action="store_true")

    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except CliError as exc:
        print(f"outbound: {exc}", file=sys.stderr)
        return 2


class CliError(Exception):
    pass


def _target_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--local-server", metavar="URL", help="a running `outbound serve` (e.g. http://127.0.0.1:3000)")
    parser.add_argument("--table", help="a deployed stack's table (its CallsTableName output); default $TABLE_NAME")
    parser.add_argument("--secret-prefix", help="the stack's CredentialsSecretPrefix output; default $CREDENTIALS_SECRET_PREFIX")


def _use_target(args: argparse.Namespace) -> bool:
    """Point the store at the chosen tables; True when the target is a local server."""
    from outbound_local.stack import reset_cached_clients

    if args.local_server:
        info = _local_server_info(args.local_server)
        os.environ.update({"AWS_ENDPOINT_URL": info["endpoint_url"], "TABLE_NAME": info["table_name"],
                           "CREDENTIALS_SECRET_PREFIX": info["credentials_secret_prefix"],
                           "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
                           "AWS_DEFAULT_REGION": info["region"]})
    else:
        if args.table:
            os.environ["TABLE_NAME"] = args.table
        if args.secret_prefix:
            os.environ["CREDENTIALS_SECRET_PREFIX"] = args.secret_prefix
        if not os.environ.get("TABLE_NAME"):
            raise CliError("say which tables: --local-server URL, or --table NAME (or $TABLE_NAME)")
    reset_cached_clients()
    return bool(args.local_server)


def _local_server_info(url: str) -> dict[str, Any]:
    """Where a running `outbound serve` keeps its local AWS and emulators (GET /_local/aws)."""
    import urllib.request

    try:
        with urllib.request.urlopen(url.rstrip("/") + "/_local/aws", timeout=5) as response:
            return json.load(response)
    except (OSError, ValueError) as exc:
        raise CliError(f"no local server at {url}: {exc}") from None


def _aws_credentials_configured() -> bool:
    import botocore.session

    return bool(os.environ.get("TABLE_NAME")) and botocore.session.get_session().get_credentials() is not None


def cmd_serve(args: argparse.Namespace) -> int:
    from outbound_local.server import LocalServer
    from outbound_local.stack import DEMO_FIXTURE, LocalStack

    try:  # bind first: with --port 0 the webhook URLs need the port the OS chose
        server = LocalServer(None, args.host, args.port)
    except OSError as exc:
        raise CliError(f"cannot listen on {args.host}:{args.port}: {exc}") from None
    try:
        stack = LocalStack(public_url=server.url)
    except ValueError as exc:  # a bad local setting (e.g. $OUTBOUND_LOCAL_PROVIDER_TIMEOUT_S)
        server.stop()
        raise CliError(str(exc)) from None
    server.stack = stack.start()
    try:
        counts = stack.seed(args.seed or DEMO_FIXTURE)
    except Exception as exc:
        server.stop()
        stack.stop()
        raise CliError(str(exc)) from None
    print(f"Loaded {counts['items']} items and {counts['secrets']} credential secrets "
          f"from {args.seed or DEMO_FIXTURE}", flush=True)
    stack.start_scheduler()  # fires POST /calls/schedule's schedules when due, as EventBridge Scheduler would
    if not args.seed:
        print(DEMO_HELP.format(url=server.url), flush=True)
    print(f"Listening on {server.url}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        stack.stop()
    return 0


DEMO_HELP = """
Demo data: organization org_acme, API key sk_live_acme_demo, +15551234567 (Twilio) assigned to
assistant 123 "Sarah". Place a call:

  curl -X POST {url}/calls/initiate \\
    -H "Authorization: Bearer sk_live_acme_demo" \\
    -H "Content-Type: application/json" \\
    -d '{{"from_phone_number": "+15551234567", "to_phone_number": "+15559876543"}}'

Then: GET {url}/calls/<call_sid> (same header), and {url}/_local/provider-requests
to see what the Twilio emulator received. Play the call's status webhooks, signed as Twilio
signs them, and see it settle (3 started minutes charged, the reserve released):

  outbound emulate-call <call_sid> --outcome completed --duration 125 --server {url}
  curl {url}/organization/balance -H "Authorization: Bearer sk_live_acme_demo"
"""


def cmd_seed(args: argparse.Namespace) -> int:
    import boto3

    from outbound_local import fixture as fixtures

    local = _use_target(args)
    try:
        data = fixtures.read(args.file)
    except fixtures.FixtureError as exc:
        raise CliError(str(exc)) from None
    defaults = _emulator_defaults() if local else None
    counts = fixtures.load(data, boto3.client("secretsmanager"), defaults)
    print(f"Loaded {counts['items']} items into {os.environ['TABLE_NAME']} and "
          f"{counts['secrets']} credential secrets")
    if local:
        # The server's emulators know the provider accounts they had at their last snapshot:
        # have them register the accounts just seeded, as the providers would know them.
        accounts = _reload_provider_accounts(args.local_server)
        print("Provider accounts registered with the local emulators: "
              + ", ".join(f"{provider} {count}" for provider, count in accounts.items()))
    return 0


def _reload_provider_accounts(server_url: str) -> dict[str, int]:
    import urllib.request

    request = urllib.request.Request(server_url.rstrip("/") + "/_local/provider-accounts/reload",
                                     data=b"", method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)["accounts"]
    except (OSError, ValueError, KeyError) as exc:
        raise CliError(f"the fixture was loaded, but {server_url} did not register its provider accounts "
                       f"(its emulators will refuse the new credentials): {exc}") from None


def _emulator_defaults() -> dict[str, dict]:
    from outbound_local.stack import LocalStack

    return LocalStack.default_credentials()


def cmd_invoke(args: argparse.Namespace) -> int:
    event = _read_json(args.event)
    stack = None
    if args.local_server:
        from outbound_local.stack import reset_cached_clients

        os.environ.update(_local_server_info(args.local_server)["environment"])
        reset_cached_clients()
    elif not args.seed and not os.environ.get("AWS_ENDPOINT_URL") and not _aws_credentials_configured():
        raise CliError("say where the function runs: --seed FILE (a fresh local stack), --local-server URL "
                       "(a running `outbound serve`), or AWS credentials and TABLE_NAME for a deployed stack")
    # Function logs go to stderr: stdout carries only the Lambda result, as sam local invoke.
    with contextlib.redirect_stdout(sys.stderr):
        if args.seed:
            from outbound_local.stack import LocalStack

            try:
                stack = LocalStack()
            except ValueError as exc:  # a bad local setting (e.g. $OUTBOUND_LOCAL_PROVIDER_TIMEOUT_S)
                raise CliError(str(exc)) from None
            stack.start()
            try:
                stack.seed(args.seed)
            except Exception as exc:
                stack.stop()
                raise CliError(str(exc)) from None
        try:
            result = _invoke(args.function, event)
        finally:
            if stack is not None:
                for request in stack.requests.entries():
                    print("provider request: " + json.dumps(request), file=sys.stderr)
                stack.stop()
    print(json.dumps(result, indent=2))
    return 0


def _invoke(function: str, event: dict) -> Any:
    from outbound_local import functions

    try:
        functions.handler(function)
    except KeyError as exc:
        raise CliError(exc.args[0]) from None
    try:
        return functions.invoke(function, event)
    except Exception as exc:  # what the Lambda service reports for an unhandled error
        return {"errorMessage": str(exc), "errorType": type(exc).__name__}


def cmd_api_key(args: argparse.Namespace) -> int:
    from outbound import store

    _use_target(args)
    if store.get_item(store.organization_key(args.organization_id)) is None:
        raise CliError(f"no organization {args.organization_id} in {os.environ['TABLE_NAME']}")
    key = "sk_live_" + secrets.token_urlsafe(32)
    store.put_item({**store.api_key_key(store.hash_api_key(key)), "organization_id": args.organization_id,
                    "created_at": store.now_iso()})
    print(key)
    print(f"API key for {args.organization_id}. It is shown once: only its SHA-256 is stored.", file=sys.stderr)
    return 0


def cmd_emulate_call(args: argparse.Namespace) -> int:
    from outbound_local.emulators.webhooks import emulate_call

    if args.duration < 0:
        raise CliError("--duration must be zero or more seconds")
    try:
        results = emulate_call(args.server, args.call_ref, args.outcome, args.duration, args.answered_by)
    except (LookupError, ValueError) as exc:
        raise CliError(str(exc)) from None
    except OSError as exc:
        raise CliError(f"no local server at {args.server}: {exc}") from None
    for callback, status, body in results:
        print(f"{callback.provider} {callback.label:<12} -> {status} {json.dumps(body)}")
    return 0 if all(200 <= status < 300 for _, status, _ in results) else 1


def cmd_bench(args: argparse.Namespace) -> int:
    if args.benchmark == "load":
        from outbound_local.bench.load import load

        if args.requests < 10 or args.concurrency < 1:
            raise CliError("--requests must be at least 10 and --concurrency at least 1")
        return load(args.requests, args.concurrency, args.server, args.json)
    from outbound_local.bench.cold_start import cold_start

    if args.runs < 1:
        raise CliError("--runs must be at least 1")
    return cold_start(runs=args.runs, as_json=args.json, check=args.check)


def _read_json(path: str) -> Any:
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise CliError(f"{path}: {exc}") from None


COMMANDS = {"serve": cmd_serve, "seed": cmd_seed, "invoke": cmd_invoke, "api-key": cmd_api_key, "bench": cmd_bench,
            "emulate-call": cmd_emulate_call}

if __name__ == "__main__":
    sys.exit(main())
