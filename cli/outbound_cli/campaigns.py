"""``outbound campaign watch ID``: a campaign's progress, live, until it ends; and, against the
local server, ``outbound campaign emulate ID``: its attempts ended as the providers would."""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any, Callable

from . import campaign_preview
from .common import SERVER_ENV, CliError, ascii_int, server_default

DEMO_KEY = "sk_live_acme_demo"
ENDED = ("completed", "canceled")
BAR = 30
GIVE_UP_AFTER_S = 60


def register(commands: Any) -> dict[str, Callable[[argparse.Namespace], int]]:
    campaign = commands.add_parser("campaign", help="campaigns")
    actions = campaign.add_subparsers(dest="action", required=True)
    watch = actions.add_parser("watch", help="a live progress bar and counts until the campaign ends")
    watch.add_argument("campaign_id", metavar="ID")
    watch.add_argument("--server", default=server_default(),
                       help=f"the API's base URL, local or deployed (default ${SERVER_ENV}, else http://127.0.0.1:3000)")
    watch.add_argument("--api-key", default=os.environ.get("OUTBOUND_API_KEY") or DEMO_KEY,
                       help="$OUTBOUND_API_KEY, else the demo key")
    watch.add_argument("--every", type=float, default=1.0, help="seconds between refreshes")
    watch.add_argument("--timeout", type=float, default=0, help="give up after this many seconds (0: never)")
    emulate = actions.add_parser(
        "emulate", help="local server: end each attempt as it is dialed, as the providers would (until the campaign ends)")
    emulate.add_argument("campaign_id", metavar="ID")
    emulate.add_argument("--server", default=server_default(),
                         help=f"the running `outbound serve` (default ${SERVER_ENV}, else http://127.0.0.1:3000)")
    emulate.add_argument("--api-key", default=os.environ.get("OUTBOUND_API_KEY") or DEMO_KEY)
    emulate.add_argument("--mix", default="completed:8,busy:1,no-answer:1",
                         help="outcomes and their weights (completed, busy, no-answer, failed, canceled)")
    emulate.add_argument("--duration", type=ascii_int, default=45, help="seconds talked on a completed call")
    emulate.add_argument("--answered-by", help="answering-machine detection result for answered calls")
    shown = actions.add_parser("preview", help="a draft or paused campaign's dry run: summary first, then contacts")
    campaign_preview.add_arguments(
        shown, f"the API's base URL, local or deployed (default ${SERVER_ENV}, else http://127.0.0.1:3000)",
        server_default(), os.environ.get("OUTBOUND_API_KEY") or DEMO_KEY)
    return {"campaign": cmd_campaign}


def cmd_campaign(args: argparse.Namespace) -> int:
    if args.action == "preview":
        return campaign_preview.preview(args.server, args.campaign_id, args.api_key, args.limit, args.json)
    if args.action == "emulate":
        return emulate(args.server, args.campaign_id, args.api_key, _mix(args.mix), args.duration, args.answered_by)
    return watch(args.server, args.campaign_id, args.api_key, args.every, args.timeout)


def _mix(text: str) -> list[tuple[str, float]]:
    from outbound_local.emulators.webhooks import OUTCOMES

    mix = []
    for part in text.split(","):
        name, _, weight = part.strip().partition(":")
        if name not in OUTCOMES:
            raise CliError(f"--mix: unknown outcome {name!r} (one of {', '.join(OUTCOMES)})")
        try:
            mix.append((name, float(weight or 1)))
        except ValueError:
            raise CliError(f"--mix: the weight of {name} must be a number") from None
    return mix


def _get(server: str, path: str, api_key: str) -> Any:
    import urllib.error
    import urllib.request

    request = urllib.request.Request(server.rstrip("/") + path, headers={"Authorization": f"Bearer {api_key}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)
    except urllib.error.HTTPError as exc:
        raise CliError(f"{exc.code}: {json.loads(exc.read() or b'{}').get('detail', exc.reason)}") from None
    except OSError as exc:
        raise CliError(f"no API at {server}: {exc}") from None


def emulate(server: str, campaign_id: str, api_key: str, mix: list[tuple[str, float]], duration: int,
            answered_by: str | None) -> int:
    """Every attempt the campaign dials is ended once, with an outcome drawn from ``mix``. An error
    on the way (the server answering 5xx, a webhook refused, a dropped connection) is reported and
    the emulation goes on: that attempt is ended again on the next round. Only a campaign that does
    not exist (404) or cannot be read with this key stops it, or a minute of nothing but errors."""
    import random

    ended: set[str] = set()
    failing_since: float | None = None
    chosen: dict[str, str] = {}  # an attempt's outcome, kept across a retried ending
    while True:
        try:
            placed = _get(server, "/_local/provider-calls", api_key)
            for status in ("dialing", "in_progress"):
                page = _get(server, f"/campaigns/{campaign_id}/contacts?status={status}&limit=100", api_key)
                for contact in page["contacts"]:
                    call_id = contact.get("current_call_id")
                    if not call_id or call_id in ended or call_id not in placed:
                        continue  # not placed yet (its dial is still queued)
                    outcome = chosen.setdefault(call_id, random.choices([m for m, _ in mix], [w for _, w in mix])[0])
                    if _end(server, call_id, outcome, duration, answered_by):
                        ended.add(call_id)
                        print(f"{contact['phone_number'][:5]}***{contact['phone_number'][-4:]} attempt "
                              f"{contact['attempts']}: {outcome}", flush=True)
            if fetch(server, campaign_id, api_key)["status"] in ENDED:
                print(f"{len(ended)} attempts ended; the campaign is over.")
                return 0
            failing_since = None
        except Exception as exc:  # noqa: BLE001 - a local emulation tool: report and go on
            if isinstance(exc, CliError) and str(exc).startswith(("401", "403", "404")):
                raise
            failing_since = failing_since or time.monotonic()
            if time.monotonic() - failing_since > GIVE_UP_AFTER_S:
                raise CliError(f"nothing but errors for {GIVE_UP_AFTER_S} s, the last: {exc}") from None
            print(f"error: {exc if isinstance(exc, CliError) else f'{type(exc).__name__}: {exc}'} (going on)",
                  file=sys.stderr, flush=True)
        time.sleep(0.5)


def _end(server: str, call_id: str, outcome: str, duration: int, answered_by: str | None) -> bool:
    """The call's webhooks sent; False (said on stderr) when the server did not take them all."""
    from outbound_local.emulators.emulate import emulate_call

    results = emulate_call(server, call_id, outcome, duration if outcome == "completed" else 0,
                           answered_by if outcome == "completed" else None)
    refused = [status for _, status, _ in results if status >= 500 or status == 429]
    if refused:
        print(f"error: the server answered {refused[0]} to a status webhook of {call_id} (sent again next round)",
              file=sys.stderr, flush=True)
    return not refused


def fetch(server: str, campaign_id: str, api_key: str) -> dict[str, Any]:
    import urllib.error
    import urllib.request

    request = urllib.request.Request(f"{server.rstrip('/')}/campaigns/{campaign_id}",
                                     headers={"Authorization": f"Bearer {api_key}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)
    except urllib.error.HTTPError as exc:
        detail = json.loads(exc.read() or b"{}").get("detail", exc.reason)
        raise CliError(f"{exc.code}: {detail}") from None
    except OSError as exc:
        raise CliError(f"no API at {server}: {exc}") from None


def line(campaign: dict[str, Any]) -> str:
    progress = campaign["progress"]
    total = progress["contacts_total"] or 1
    done = progress["finished"]
    filled = int(BAR * done / total)
    counts = progress["by_status"]
    ended = ", ".join(f"{name} {counts[name]}" for name in ("completed", "busy", "no_answer", "failed", "suppressed",
                                                            "invalid", "canceled") if counts[name])
    paused = f" ({campaign['paused_reason']})" if campaign.get("paused_reason") else ""
    return (f"[{'#' * filled}{'.' * (BAR - filled)}] {done}/{progress['contacts_total']} finished | "
            f"waiting {progress['waiting']} | in flight {progress['in_flight']} | attempts {progress['attempts']} | "
            f"answered {progress['answered']} | {campaign['status']}{paused}" + (f" | {ended}" if ended else ""))


def watch(server: str, campaign_id: str, api_key: str, every: float = 1.0, timeout: float = 0) -> int:
    started = time.monotonic()
    interactive = sys.stdout.isatty()
    last = ""
    while True:
        campaign = fetch(server, campaign_id, api_key)
        text = line(campaign)
        if interactive:
            print("\r" + text.ljust(len(last)), end="", flush=True)
        elif text != last:
            print(text, flush=True)
        last = text
        if campaign["status"] in ENDED:
            if interactive:
                print()
            progress = campaign["progress"]
            print(f"{campaign['name']}: {campaign['status']}. {progress['attempts']} attempts, "
                  f"{progress['answered']} answered, {progress['talk_seconds']} s talked, "
                  f"{progress['charged_cents']} cents charged.")
            return 0
        if timeout and time.monotonic() - started > timeout:
            if interactive:
                print()
            raise CliError(f"campaign {campaign_id} still {campaign['status']} after {timeout:g} s")
        time.sleep(every)
