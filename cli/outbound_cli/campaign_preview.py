"""``outbound campaign preview ID``: a campaign's dry run (POST /campaigns/{id}/preview), printed
readably: the summary over every contact first, then the first page of contacts."""
from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from .common import CliError


def add_arguments(parser: Any, server_help: str, server_default: str, api_key_default: str) -> None:
    parser.add_argument("campaign_id", metavar="ID")
    parser.add_argument("--server", "--local-server", dest="server", default=server_default, help=server_help)
    parser.add_argument("--api-key", default=api_key_default, help="$OUTBOUND_API_KEY, else the demo key")
    parser.add_argument("--limit", type=int, default=20, help="contacts shown (1-100; the summary covers all)")
    parser.add_argument("--json", action="store_true", help="the API's answer as it is")


def fetch_preview(server: str, campaign_id: str, api_key: str, limit: int) -> dict[str, Any]:
    query = urllib.parse.urlencode({"limit": limit})
    request = urllib.request.Request(f"{server.rstrip('/')}/campaigns/{urllib.parse.quote(campaign_id)}/preview?{query}",
                                     method="POST", headers={"Authorization": f"Bearer {api_key}"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.load(response)
    except urllib.error.HTTPError as exc:
        raise CliError(f"{exc.code}: {json.loads(exc.read() or b'{}').get('detail', exc.reason)}") from None
    except OSError as exc:
        raise CliError(f"no API at {server}: {exc}") from None


def preview(server: str, campaign_id: str, api_key: str, limit: int, as_json: bool) -> int:
    if not 1 <= limit <= 100:
        raise CliError("--limit must be from 1 to 100")
    answer = fetch_preview(server, campaign_id, api_key, limit)
    if as_json:
        print(json.dumps(answer, indent=2))
        return 0
    print("\n".join(render(answer)))
    return 0


def render(answer: dict[str, Any]) -> list[str]:
    summary = answer["summary"]
    lines = [f"Summary of {answer['campaign_id']} ({answer['status']}), as of {answer['at']} "
             "(nothing was dialed or written)",
             f"  {summary['contacts']:,} contacts: {summary['dialed']:,} would be dialed, "
             f"{summary['not_dialed']:,} would not"]
    for reason, count in summary["by_reason"].items():
        lines.append(f"    {reason:<22} {count:,}")
    attempts, finish, cost = summary["attempts"], summary["finish"], summary["cost_cents"]
    lines += [f"  first dial   {summary['first_dial_at'] or '-'}",
              f"  attempts     {attempts['min']:,} to {attempts['max']:,}",
              f"  finish       {finish['earliest'] or '-'} to {finish['latest'] or '-'}",
              f"  cost         {_dollars(cost['min'])} to {_dollars(cost['max'])} "
              f"({cost['per_minute_rate_cents']} cents a minute, {cost['reserve_cents']} cents reserved a call)",
              f"  assumes      {cost['assumes']}; {finish['assumes']}", "",
              f"Contacts (the first {len(answer['contacts'])}):"]
    for contact in answer["contacts"]:
        who = contact["phone_number"] + (f" ({contact['external_id']})" if contact.get("external_id") else "")
        if not contact["dialed"]:
            lines.append(f"  {who}: not dialed, {contact['reason']}: {contact['detail']}")
            continue
        local = ", ".join(f"{z['local_time'][11:16]} {z['local_time'][:10]} in {z['zone']}"
                          for z in contact["local_times"])
        when = "now" if contact["now"] else f"not now, at {contact['first_dial_at']}"
        why = f" (waits for {', '.join(contact['waits_for'])})" if contact.get("waits_for") else ""
        lines.append(f"  {who}: {when}{why}; local {local or '-'}")
    if answer.get("next_token"):
        lines.append("  ... more contacts: POST /campaigns/{id}/preview?next_token=" + answer["next_token"])
    return lines


def _dollars(cents: int) -> str:
    return f"${cents / 100:,.2f}"
