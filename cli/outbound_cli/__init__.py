"""``outbound``: the local stack and the operators' tools.

Commands that talk to a running ``outbound serve`` (``--local-server``/``--server``) default to
``$OUTBOUND_SERVER``, which ``outbound serve`` prints.

  outbound serve [--host 127.0.0.1] [--port 3000] [--seed FILE]
  outbound seed FILE [--local-server URL | --table NAME --secret-prefix PREFIX]
  outbound invoke FUNCTION_LOGICAL_ID EVENT_FILE [--seed FILE | --local-server URL]
  outbound admin org|number|assistant|graph|trunk create|update|show ...  [--local-server URL | --table NAME]
  outbound admin api-key create|list|revoke ORG_ID [KEY_OR_PREFIX]      (also: outbound api-key ...)
  outbound admin credentials set|show|delete ORG_ID PROVIDER [--file PATH]   provider secrets, never echoed
  outbound admin credit ORG_ID AMOUNT_CENTS --reason TEXT --reference REF
  outbound admin ledger ORG_ID | outbound admin reconcile ORG_ID
  outbound admin reconcile-provider ORG_ID [--since ISO]   charges against the providers' own records
  outbound admin calling-rules show|set ORG_ID [...] | outbound admin evidence CALL   compliance
  outbound bench cold-start [--runs N] [--json] [--check]
  outbound bench load [--requests N] [--concurrency C] [--server URL] [--json]
  outbound campaign watch|emulate ID [--server URL] [--api-key KEY]
  outbound bench webhook-delivery [--calls N] [--server URL] [--json]
  outbound emulate-call CALL_SID [--outcome completed] [--duration N] [--server URL] [--answered-by human]
  outbound env-vars (--local-server URL | --stack NAME) [--output FILE]   a `sam local invoke -n` file
  outbound teardown (--stack NAME | --local-server URL) [--yes]           the stack and what it leaves behind
"""
from __future__ import annotations

import argparse
import sys

from . import admin, bench, campaigns, deploy, keys, local_stack
from .common import CliError

# Each group adds its subcommands and returns their handlers: a new group is a new module here.
GROUPS = (local_stack, keys, campaigns, bench, admin, deploy)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="outbound", description="Outbound calls: local stack and operator tools")
    commands = parser.add_subparsers(dest="command", required=True)
    handlers = {}
    for group in GROUPS:
        handlers.update(group.register(commands))
    args = parser.parse_args(argv)
    try:
        return handlers[args.command](args)
    except CliError as exc:
        print(f"outbound: {exc}", file=sys.stderr)
        return 2
