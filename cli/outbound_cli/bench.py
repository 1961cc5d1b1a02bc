"""``outbound bench ...``: benchmarks that print figures (outbound_cli.benchmarks)."""
from __future__ import annotations

import argparse
from typing import Any, Callable

from .common import SERVER_ENV, CliError, ascii_int, env_server

CAMPAIGN_DEFAULTS = (200, 10, 300, 0.5)  # contacts, max concurrent, calls per minute, hold
FAULTS_DEFAULTS = (100, 5, 60, 1.0)


def cmd_bench(args: argparse.Namespace) -> int:
    if args.benchmark == "console":
        from outbound_cli.benchmarks.console import console

        if args.runs < 1:
            raise CliError("--runs must be at least 1")
        return console(args.runs, args.server, args.json)
    if args.benchmark == "campaign":
        defaults = FAULTS_DEFAULTS if args.faults else CAMPAIGN_DEFAULTS
        contacts, max_concurrent, calls_per_minute, hold = (
            value if value is not None else default for value, default in
            zip((args.contacts, args.max_concurrent, args.calls_per_minute, args.hold), defaults))
        if not 1 <= contacts <= 100_000 or max_concurrent < 1 or calls_per_minute < 1:
            raise CliError("--contacts must be 1 to 100000, --max-concurrent and --calls-per-minute at least 1")
        if args.faults:
            from outbound_cli.benchmarks.campaign_faults import campaign_faults

            return campaign_faults(contacts, max_concurrent, calls_per_minute, hold, args.server, args.json)
        from outbound_cli.benchmarks.campaign import campaign

        return campaign(contacts, max_concurrent, calls_per_minute, hold, args.server, args.json)
    if args.benchmark == "preview":
        from outbound_cli.benchmarks.preview import preview

        if not 1 <= args.contacts <= 100_000 or args.runs < 1:
            raise CliError("--contacts must be 1 to 100000 and --runs at least 1")
        return preview(args.contacts, args.runs, args.server, args.json, args.campaign)
    if args.benchmark == "webhook-delivery":
        from outbound_cli.benchmarks.webhook_delivery import webhook_delivery

        if args.calls < 1:
            raise CliError("--calls must be at least 1")
        return webhook_delivery(args.calls, args.server, args.json)
    if args.benchmark == "pre-dial":
        from outbound_cli.benchmarks.pre_dial import pre_dial

        if args.fires < 2:
            raise CliError("--fires must be at least 2")
        return pre_dial(args.fires, args.server, args.json)
    if args.benchmark == "load":
        from outbound_cli.benchmarks.load import load

        if args.requests < 10 or args.concurrency < 1:
            raise CliError("--requests must be at least 10 and --concurrency at least 1")
        return load(args.requests, args.concurrency, args.server, args.json)
    from outbound_cli.benchmarks.cold_start import cold_start

    if args.runs < 1:
        raise CliError("--runs must be at least 1")
    return cold_start(runs=args.runs, as_json=args.json, check=args.check)


SERVER_HELP = f"a running `outbound serve` (default ${SERVER_ENV}; unset: start one with the demo data)"


def register(commands: Any) -> dict[str, Callable[[argparse.Namespace], int]]:
    bench = commands.add_parser("bench", help="benchmarks")
    bench_commands = bench.add_subparsers(dest="benchmark", required=True)
    cold = bench_commands.add_parser("cold-start", help="fresh process to first placed call, per provider")
    cold.add_argument("--json", action="store_true")
    cold.add_argument("--runs", type=ascii_int, default=5, help="measured runs per provider (medians of these)")
    cold.add_argument("--check", action="store_true", help="exit 1 when a provider is over the 1.5x budget")
    load = bench_commands.add_parser("load", help="POST /calls/initiate at a concurrency against `outbound serve`")
    load.add_argument("--requests", type=ascii_int, default=2000)
    load.add_argument("--concurrency", type=ascii_int, default=32)
    load.add_argument("--server", default=env_server(), help=SERVER_HELP)
    load.add_argument("--json", action="store_true")
    campaign = bench_commands.add_parser("campaign", help="one campaign end to end: pacing, slots, round trips")
    campaign.add_argument("--contacts", type=ascii_int, help="default 200 (--faults: 100)")
    campaign.add_argument("--max-concurrent", type=ascii_int, help="default 10 (--faults: 5)")
    campaign.add_argument("--calls-per-minute", type=ascii_int, help="default 300 (--faults: 60)")
    campaign.add_argument("--hold", type=float, help="seconds each call lasts before it is ended (0.5; --faults: 1)")
    campaign.add_argument("--faults", action="store_true",
                          help="through a schedule of DynamoDB and provider faults: does the campaign heal?")
    campaign.add_argument("--server", default=env_server(), help=SERVER_HELP)
    campaign.add_argument("--json", action="store_true")
    dry_run = bench_commands.add_parser("preview", help="a campaign's dry run: its summary over N contacts, timed")
    dry_run.add_argument("--contacts", type=ascii_int, default=10_000)
    dry_run.add_argument("--runs", type=ascii_int, default=3)
    dry_run.add_argument("--campaign", help="time this campaign of the demo organization instead of making one")
    dry_run.add_argument("--server", default=env_server(), help=SERVER_HELP)
    dry_run.add_argument("--json", action="store_true")
    delivery = bench_commands.add_parser(
        "webhook-delivery", help="status webhook -> signed delivery at the customer's endpoint (latency, round trips)")
    delivery.add_argument("--calls", type=ascii_int, default=30)
    delivery.add_argument("--server", default=env_server(), help=SERVER_HELP)
    delivery.add_argument("--json", action="store_true")
    check = bench_commands.add_parser("pre-dial", help="one dial with and without the organization's pre-dial check")
    check.add_argument("--fires", type=ascii_int, default=30, help="dials measured each way")
    check.add_argument("--server", default=env_server(), help=SERVER_HELP)
    check.add_argument("--json", action="store_true")
    page = bench_commands.add_parser("console", help="the web console's first views, in Debian's chromium (Playwright)")
    page.add_argument("--runs", type=ascii_int, default=10)
    page.add_argument("--server", help="a running `outbound serve` (default: start one with the demo data)")
    page.add_argument("--json", action="store_true")
    return {"bench": cmd_bench}
