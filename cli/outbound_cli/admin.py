"""``outbound admin ...``: the operators' commands, against a running `outbound serve`
(``--local-server URL``) or a deployed stack's table (``--table NAME``, AWS credentials from the
environment as for the AWS CLI).

  admin org|number|assistant|graph|trunk create|update|show ...   (cli.admin_directory)
  admin api-key create|list|revoke ORG_ID [KEY_OR_PREFIX]          (cli.keys)
  admin credentials set|show|delete ORG_ID PROVIDER               provider secrets (cli.admin_credentials)
  admin credit ORG_ID AMOUNT_CENTS --reason TEXT --reference REF   add funds, ledgered, once per reference
  admin ledger ORG_ID [--limit N]                                  the newest ledger entries
  admin reconcile ORG_ID                                           prove balance and reserves from the ledger
  admin reconcile-provider ORG_ID [--since ISO]                    compare charges with the providers' own records
  admin calling-rules show|set ORG_ID [--enable] [--window ...]    an organization's calling rules (cli.admin_compliance)
  admin evidence CALL                                              a call's evidence, each record's HMAC checked

Nothing here can change ``balance_cents``, ``reserved_cents`` or ``available_cents`` except
``credit`` and ``reconcile-provider`` (a charge corrected to the provider's record), each of which
writes its ledger entry in the same transaction.
"""
from __future__ import annotations

import argparse
import json
from typing import Any, Callable

from . import admin_compliance, admin_credentials, admin_directory, keys
from .common import CliError, ascii_int, target_arguments, use_target
from .keys import require_organization


def dollars(cents: int) -> str:
    """Money as the CLI prints it (integer arithmetic: a float misprints above 2**53 cents)."""
    from outbound.cents import format_cents

    return format_cents(cents)


def credit_cents(text: str) -> int:
    """AMOUNT_CENTS: whole cents in ASCII digits, 1 to outbound.money.MAX_CREDIT_CENTS."""
    from outbound.cents import MAX_CREDIT_CENTS, parse_cents

    try:
        return parse_cents(text, "AMOUNT_CENTS", 1, MAX_CREDIT_CENTS)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def cmd_credit(args: argparse.Namespace) -> int:
    from outbound import store

    use_target(args)
    require_organization(args.organization_id)
    try:
        applied, entry = store.credit_organization(args.organization_id, args.amount_cents, args.reference,
                                                   args.reason)
    except store.CreditConflict as exc:
        raise CliError(f"{exc}; nothing was credited (use a new --reference for a new credit)") from None
    except store.BalanceLimit as exc:
        raise CliError(f"{exc}; nothing was credited") from None
    except ValueError as exc:
        raise CliError(str(exc)) from None
    balance = store.organization_balance(args.organization_id)
    if applied:
        print(f"Credited {dollars(args.amount_cents)} to {args.organization_id} (reference {args.reference}).")
    else:
        print(f"Already credited: reference {args.reference} added {dollars(int(entry['amount_cents']))} to "
              f"{args.organization_id} at {entry.get('created_at')}; nothing changed.")
    print(json.dumps(balance))
    return 0


def cmd_ledger(args: argparse.Namespace) -> int:
    from outbound import store

    use_target(args)
    require_organization(args.organization_id)
    entries, _ = store.list_ledger(args.organization_id, args.limit)
    if args.json:
        print(json.dumps([store.entry_view(e) for e in entries], indent=2))
        return 0
    print(f"{'created_at':<25} {'kind':<8} {'balance':>10} {'reserved':>10}  about")
    for entry in entries:
        about = entry.get("call_id") or f"{entry.get('reference')}: {entry.get('reason')}"
        print(f"{entry['created_at']:<25} {entry['kind']:<8} {entry['balance_delta_cents']:>+10d} "
              f"{entry['reserved_delta_cents']:>+10d}  {about}" + (f" ({entry['cause']})" if entry.get("cause") else ""))
    return 0


def cmd_reconcile(args: argparse.Namespace) -> int:
    from outbound.money.reconcile import reconcile

    use_target(args)
    result = reconcile(args.organization_id, attempts=args.attempts)
    if result is None:
        raise CliError(f"no organization {args.organization_id}")
    if args.json:
        print(json.dumps({**result.__dict__, "ok": result.ok}, indent=2))
    else:
        print(f"{args.organization_id}: balance {result.balance_cents}, reserved {result.reserved_cents}, "
              f"available {result.available_cents} (cents)")
        print(f"  ledger: {result.entries} entries, balance {result.ledger_balance_cents}, "
              f"reserved {result.ledger_reserved_cents}")
        print(f"  calls holding a reserve: {result.calls_holding}, {result.calls_reserved_cents} cents")
        for problem in result.problems:
            print(f"  MISMATCH: {problem}")
        print("Reconciled: balance and reserves match the ledger and the calls." if result.ok else
              f"NOT reconciled (the same after {result.attempts} reads).")
    return 0 if result.ok else 1


DEFAULT_SINCE_DAYS = 7


def since_argument(value: str) -> str:
    """An ISO 8601 date or date-time (UTC unless it says otherwise) -> our stored form."""
    from datetime import datetime, timezone

    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not an ISO 8601 date or date-time "
                                         "(e.g. 2026-12-01 or 2026-12-01T09:00:00Z)") from None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def cmd_reconcile_provider(args: argparse.Namespace) -> int:
    from datetime import datetime, timedelta, timezone

    from outbound.money.provider_reconcile import reconcile_organization

    use_target(args)
    since = args.since or since_argument((datetime.now(timezone.utc) - timedelta(days=DEFAULT_SINCE_DAYS)).isoformat())
    result = reconcile_organization(args.organization_id, since)
    if result is None:
        raise CliError(f"no organization {args.organization_id}")
    if args.json:
        print(json.dumps(result.as_dict(), indent=2))
        return 1 if result.needs_attention() else 0
    print(f"{args.organization_id}: {len(result.checks)} calls since {since} compared with the providers' records")
    for check in result.checks:
        if check.outcome == "matched" and not args.verbose:
            continue
        money = f" ({check.adjustment_cents:+d} cents)" if check.adjustment_cents else ""
        print(f"  {check.call_id}  {check.provider:<7} {check.outcome.upper():<12}{money} {check.detail}")
    counts = result.counts()
    print("  " + ", ".join(f"{outcome} {n}" for outcome, n in counts.items() if n) if result.checks else "  no calls")
    print(f"  adjustments: {result.adjustment_cents:+d} cents; unproven provider events recorded: "
          f"{result.unproven_events}")
    if result.needs_attention():
        print("Needs attention: FLAGGED calls are not reported finished by their provider (never charged on a "
              "guess), NOT CHECKED ones could not be read; both are checked again.")
    else:
        print("Charges match the providers' records.")
    return 1 if result.needs_attention() else 0


def register(commands: Any) -> dict[str, Callable[[argparse.Namespace], int]]:
    admin = commands.add_parser("admin", help="operate a stack: directory, API keys, provider credentials, credits, "
                                               "ledger, reconcile, reconcile-provider, calling rules, evidence")
    sub = admin.add_subparsers(dest="admin_command", required=True)
    admin_directory.add_commands(sub)
    admin_credentials.add_commands(sub)
    admin_compliance.add_commands(sub)
    api_key = sub.add_parser("api-key", help="create, list and revoke API keys")
    keys.add_commands(api_key.add_subparsers(dest="action", required=True))

    credit = sub.add_parser("credit", help="add funds (a ledgered credit; once per --reference)")
    credit.add_argument("organization_id", metavar="ORG_ID")
    credit.add_argument("amount_cents", metavar="AMOUNT_CENTS", type=credit_cents,
                        help="whole cents, e.g. 5000 for $50.00 (at most 100000000: $1,000,000.00 per credit)")
    credit.add_argument("--reason", required=True, help="why, for the ledger (e.g. 'Invoice 1042 paid')")
    credit.add_argument("--reference", required=True,
                        help="your unique id for this credit (e.g. the payment id): run again with it, nothing changes")
    credit.set_defaults(run=cmd_credit)

    ledger = sub.add_parser("ledger", help="an organization's newest ledger entries")
    ledger.add_argument("organization_id", metavar="ORG_ID")
    ledger.add_argument("--limit", type=ascii_int, default=20, choices=range(1, 101), metavar="N")
    ledger.add_argument("--json", action="store_true")
    ledger.set_defaults(run=cmd_ledger)

    reconcile = sub.add_parser("reconcile", help="prove balance = sum of the ledger and reserved = open reserves "
                                                 "(exit 1 when not)")
    reconcile.add_argument("organization_id", metavar="ORG_ID")
    reconcile.add_argument("--attempts", type=ascii_int, default=3, choices=range(1, 11), metavar="N",
                           help="reads before a mismatch is reported (the calls' index is eventually consistent)")
    reconcile.add_argument("--json", action="store_true")
    reconcile.set_defaults(run=cmd_reconcile)

    providers = sub.add_parser(
        "reconcile-provider", help="compare the organization's charges with its providers' own call records; "
                                   "correct differences (ledgered, once), flag calls not reported finished "
                                   "(exit 1 when any is flagged or could not be checked)")
    providers.add_argument("organization_id", metavar="ORG_ID")
    providers.add_argument("--since", type=since_argument, metavar="ISO",
                           help=f"calls created since then (default: the last {DEFAULT_SINCE_DAYS} days)")
    providers.add_argument("--verbose", action="store_true", help="list matched calls too")
    providers.add_argument("--json", action="store_true")
    providers.set_defaults(run=cmd_reconcile_provider)
    for parser in (credit, ledger, reconcile, providers):
        target_arguments(parser)
    return {"admin": run}


def run(args: argparse.Namespace) -> int:
    return args.run(args)
