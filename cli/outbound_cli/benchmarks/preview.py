"""``outbound bench preview --contacts N``: a campaign's dry run (POST /campaigns/{id}/preview) on
the local stack, timed: the first page, whose summary covers every contact in one pass over the
contacts' Query pages (with the do-not-call list and the recipients' dial counters, 100 numbers a
BatchGetItem), and a later page (no summary). Prints the time, the DynamoDB requests it made, and
what the summary said.

The contacts mix what a real list holds: numbers of one zone (Honolulu, New York, Los Angeles),
numbers of no zone with the contact's own, a few on the do-not-call list. Without ``--server``
it starts ``outbound serve`` in a child process.
"""
from __future__ import annotations

import json
import statistics
import time
from typing import Any

from .campaign import FROM_NUMBER, Api, daytime_zone
from .load import start_server

PREFIXES = ("+1808", "+1212", "+1415", "+1555")
ADD_PER_REQUEST = 250


def contacts_of(count: int, run: int) -> list[dict[str, Any]]:
    zone = daytime_zone()
    rows = []
    for i in range(count):
        prefix = PREFIXES[i % len(PREFIXES)]
        rows.append({"phone_number": f"{prefix}{run % 10}{i:06d}", **({"timezone": zone} if i % 3 else {})})
    return rows


def add(api: Api, campaign_id: str, rows: list[dict[str, Any]]) -> None:
    """Add a chunk; sent again after a timeout (on a busy machine), the contacts already added
    are answered as duplicates, nothing twice."""
    for attempt in range(5):
        try:
            api("POST", f"/campaigns/{campaign_id}/contacts", {"contacts": rows})
            return
        except Exception:  # noqa: BLE001 - a read timeout: the server is still adding them
            if attempt == 4:
                raise
            time.sleep(5)


def in_process(server: str, campaign_id: str) -> tuple[float, dict[str, Any]]:
    """The same use case in this process against the local stack's DynamoDB, with no 29 s limit:
    how long the whole summary takes when nothing cuts it short."""
    import os

    from outbound import aws, config
    from outbound.campaigns.preview import preview_campaign

    environment = Api(server).local("/_local/aws")["environment"]
    os.environ.update({k: v for k, v in environment.items() if v})
    aws.reset()
    config.settings.cache_clear()
    started = time.perf_counter()
    answer = preview_campaign("org_acme", campaign_id, "50")
    return time.perf_counter() - started, answer


def preview(contacts: int = 10_000, runs: int = 3, server: str | None = None, as_json: bool = False,
            campaign_id: str | None = None) -> int:
    process = None
    if server is None:
        process, server = start_server()
    api = Api(server)
    try:
        added_s = None
        if campaign_id is None:
            campaign_id, added_s = _campaign(api, contacts)
        first_page, later_page, operations, answer = [], [], {}, {}
        for _ in range(runs):
            before = api.local("/_local/dynamodb-operations?exclude=event-sources")
            started = time.perf_counter()
            answer = api("POST", f"/campaigns/{campaign_id}/preview?limit=50")
            first_page.append(time.perf_counter() - started)
            after = api.local("/_local/dynamodb-operations?exclude=event-sources")
            operations = {op: n - before.get(op, 0) for op, n in after.items() if n != before.get(op, 0)}
            started = time.perf_counter()
            api("POST", f"/campaigns/{campaign_id}/preview?limit=50&next_token={answer['next_token']}")
            later_page.append(time.perf_counter() - started)
        summary = answer["summary"]
        whole_s, whole = in_process(server, campaign_id)
        result = {"campaign_id": campaign_id, "contacts": whole["summary"]["contacts"], "runs": runs,
                  "add_contacts_s": round(added_s, 1) if added_s else None,
                  "summary_complete_over_http": summary["complete"], "summary_counted_over_http": summary["contacts"],
                  "whole_summary_in_process_s": round(whole_s, 2),
                  "preview_first_page_s": {"median": round(statistics.median(first_page), 2),
                                           "max": round(max(first_page), 2)},
                  "preview_later_page_s": round(statistics.median(later_page), 3),
                  "per_1000_contacts_ms": round(whole_s / whole["summary"]["contacts"] * 1e6, 1),
                  "dynamodb_requests": operations, "by_reason": whole["summary"]["by_reason"],
                  "finish": {k: v for k, v in whole["summary"]["finish"].items() if k != "assumes"}}
        if as_json:
            print(json.dumps(result, indent=2))
        else:
            print(f"Campaign preview of {campaign_id}, {result['contacts']:,} contacts on the local stack:")
            print(f"  the whole summary (in process, nothing cut short): {result['whole_summary_in_process_s']} s "
                  f"({result['per_1000_contacts_ms']} ms per 1,000 contacts)")
            print(f"  over HTTP, first page with the summary ({runs} runs): {result['preview_first_page_s']['median']} s "
                  f"median, {result['preview_first_page_s']['max']} s max; the summary "
                  + ("covered every contact" if summary["complete"] else
                     f"was cut short to answer within 29 s: {summary['contacts']:,} contacts counted"))
            print(f"  over HTTP, a later page (50 contacts, no summary): {result['preview_later_page_s']} s")
            print(f"  DynamoDB requests of one first page: {json.dumps(operations)}")
            print(f"  summary: by reason {json.dumps(result['by_reason'])}, finish {json.dumps(result['finish'])}")
            if added_s:
                print(f"  (adding the contacts took {result['add_contacts_s']} s; not part of the preview)")
        return 0
    finally:
        if process is not None:
            process.terminate()


def _campaign(api: Api, contacts: int) -> tuple[str, float]:
    run = int(time.time()) % 10
    created = api("POST", "/campaigns", {"name": f"bench preview {contacts}", "from_phone_number": FROM_NUMBER,
                                         "retry_policy": {"max_attempts": 3, "delays_minutes": [60]},
                                         "pacing": {"max_concurrent_calls": 20, "calls_per_minute": 120}})
    rows = contacts_of(contacts, run)
    started = time.perf_counter()
    for first in range(0, len(rows), ADD_PER_REQUEST):
        add(api, created["campaign_id"], rows[first:first + ADD_PER_REQUEST])
    added_s = time.perf_counter() - started
    for row in rows[:contacts // 100]:  # 1% on the do-not-call list, after they were added
        api("POST", "/suppressions", {"phone_number": row["phone_number"]})
    return created["campaign_id"], added_s
