"""The local stack's commands: serve, seed, invoke, emulate-call."""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from typing import Any, Callable

from .common import (SERVER_ENV, CliError, ascii_int, aws_credentials_configured, local_server_info, local_server_target,
                     read_json, reload_provider_accounts, server_default, target_arguments, use_target)


def cmd_serve(args: argparse.Namespace) -> int:
    from outbound_local import stdout

    stdout.install()  # every function's log and metric lines whole, though they share one process
    from outbound_local.server import LocalServer
    from outbound_local.stack import DEMO_FIXTURE, LocalStack

    try:  # bind first: with --port 0 the webhook URLs need the port the OS chose
        server = LocalServer(None, args.host, args.port)
    except OSError as exc:
        raise CliError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}; choose another port "
                       f"with --port N (make run PORT=N)") from None
    except ValueError as exc:  # a bad local setting (e.g. $OUTBOUND_LOCAL_AUTHORIZER_CACHE_S)
        raise CliError(str(exc)) from None
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
    stack.start_event_sources()  # delivers the template's SQS and table-stream events, as Lambda's pollers would
    if not args.seed:
        print(DEMO_HELP.format(url=server.url), flush=True)
    print(f"Console: {server.url}/console (sign in with an organization's API key"
          + (", e.g. sk_live_acme_demo)" if not args.seed else ")"), flush=True)
    print(f"Other terminals: export {SERVER_ENV}={server.url}   (every outbound command that talks to a "
          "server then uses this one)", flush=True)
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

    local = use_target(args)
    try:
        data = fixtures.read(args.file)
    except fixtures.FixtureError as exc:
        raise CliError(str(exc)) from None
    defaults = _emulator_defaults() if local else None
    try:
        counts = fixtures.load(data, boto3.client("secretsmanager"), defaults)
    except fixtures.FixtureError as exc:
        raise CliError(str(exc)) from None
    for note in counts["notes"]:
        print(note)
    print(f"Loaded {counts['items']} items into {os.environ['TABLE_NAME']} and "
          f"{counts['secrets']} credential secrets")
    if local:
        # The server's emulators know the provider accounts they had at their last snapshot:
        # have them register the accounts just seeded, as the providers would know them.
        accounts = reload_provider_accounts(args.local_server, "the fixture was loaded")
        print("Provider accounts registered with the local emulators: "
              + ", ".join(f"{provider} {count}" for provider, count in accounts.items()))
    return 0


def _emulator_defaults() -> dict[str, dict]:
    from outbound_local.stack import LocalStack

    return LocalStack.default_credentials()


def cmd_invoke(args: argparse.Namespace) -> int:
    event = read_json(args.event)
    stack = None
    if not args.seed and not args.local_server:
        args.local_server = local_server_target(None, None)  # $OUTBOUND_SERVER, if set
    if args.local_server:
        from outbound_local.stack import reset_cached_clients

        os.environ.update(local_server_info(args.local_server)["environment"])
        if args.function == "ProviderCallbacksFunction":
            # A provider callback was signed for the URL the provider called, which the event gives
            # (requestContext), as with --seed; the server's own URL is where calls placed from here
            # send theirs, so every other function keeps it.
            os.environ.pop("PUBLIC_API_URL", None)
        reset_cached_clients()
    elif not args.seed and not os.environ.get("AWS_ENDPOINT_URL") and not aws_credentials_configured():
        raise CliError("say where the function runs: --seed FILE (a fresh local stack), --local-server URL "
                       f"(a running `outbound serve`; or ${SERVER_ENV}), or AWS credentials and TABLE_NAME for a "
                       "deployed stack")
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


def cmd_emulate_call(args: argparse.Namespace) -> int:
    from outbound_local.emulators.emulate import emulate_call

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


def register(commands: Any) -> dict[str, Callable[[argparse.Namespace], int]]:
    serve = commands.add_parser("serve", help="run the API locally with demo data")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=ascii_int, default=3000)
    serve.add_argument("--seed", metavar="FILE", help="fixture to load (default: the demo data, events/fixture.json)")

    seed = commands.add_parser("seed", help="load a fixture into the tables (local server or a deployed stack)")
    seed.add_argument("file")
    target_arguments(seed)

    invoke = commands.add_parser("invoke", help="run one function on one event (sam local invoke, no container)")
    invoke.add_argument("function", metavar="FUNCTION_LOGICAL_ID")
    invoke.add_argument("event", metavar="EVENT_FILE")
    invoke_target = invoke.add_mutually_exclusive_group()
    invoke_target.add_argument("--seed", metavar="FILE", help="run on a fresh local stack loaded with this fixture")
    invoke_target.add_argument("--local-server", metavar="URL",
                               help="run against a running `outbound serve` (its tables and provider emulators); "
                                    f"default ${SERVER_ENV} unless --seed is given")

    emulate = commands.add_parser(
        "emulate-call", help="send a call's provider status callbacks (signed as the provider signs) to a local server")
    emulate.add_argument("call_ref", metavar="CALL_SID", help="the call's call_sid (or its call_id)")
    emulate.add_argument("--outcome", default="completed",
                         choices=["completed", "busy", "no-answer", "failed", "canceled", "in-progress"],
                         help="how the call ends (in-progress: answered and still running, no final event)")
    emulate.add_argument("--duration", type=ascii_int, default=60, help="answered seconds (outcome completed)")
    emulate.add_argument("--server", default=server_default(), help=f"the running `outbound serve` (default ${SERVER_ENV}, "
                         "else http://127.0.0.1:3000)")
    emulate.add_argument("--answered-by", choices=["human", "machine", "unknown"],
                         help="answering-machine detection result, sent as each provider reports it after the answer")
    return {"serve": cmd_serve, "seed": cmd_seed, "invoke": cmd_invoke, "emulate-call": cmd_emulate_call}
