"""`outbound emulate-call`: drive a call on a running local server as its provider would.

The provider's side first: the emulated provider records what happened to the call (its own call
record: status, answered seconds, times; ``POST /_local/provider-calls/play``), then the signed
status callbacks telling the same story are sent (outbound_local.emulators.webhooks), so the
provider's records and its webhooks agree, as they do at a real provider.
"""
from __future__ import annotations

import json
import time
from typing import Any

from .webhooks import RING_S, Callback, callback_url, callback_url_from_requests, callbacks, send


def _get_json(url: str) -> Any:
    import urllib.request

    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


def find_local_call(server_url: str, call_ref: str) -> tuple[dict, dict]:
    """(call record, its organization's credentials for the call's provider), read from the
    running server's local DynamoDB and Secrets Manager (``/_local/aws``)."""
    import boto3

    from outbound.dynamodb_json import from_item

    info = _get_json(server_url.rstrip("/") + "/_local/aws")
    common = {"endpoint_url": info["endpoint_url"], "region_name": info["region"],
              "aws_access_key_id": "local", "aws_secret_access_key": "local"}
    dynamodb = boto3.client("dynamodb", **common)
    if call_ref.startswith("call_"):
        item = dynamodb.get_item(TableName=info["table_name"],
                                 Key={"pk": {"S": f"CALL#{call_ref}"}, "sk": {"S": "CALL"}}).get("Item")
        items = [item] if item else []
    else:
        items = dynamodb.query(TableName=info["table_name"], IndexName="ByCallSid",
                               KeyConditionExpression="call_sid = :sid",
                               ExpressionAttributeValues={":sid": {"S": call_ref}})["Items"]
    if not items:
        raise LookupError(f"no call {call_ref} on {server_url}")
    call = from_item(items[0])
    secret = boto3.client("secretsmanager", **common).get_secret_value(
        SecretId=f"{info['credentials_secret_prefix']}{call['organization_id']}/{call['provider']}")
    return call, json.loads(secret["SecretString"])


def emulate_call(server_url: str, call_ref: str, outcome: str, duration: int,
                 answered_by: str | None = None) -> list[tuple[Callback, int, Any]]:
    """Send the call's provider's status sequence for ``outcome`` to the local server, signed as
    that provider signs; returns each callback with the server's answer."""
    call, credentials = find_local_call(server_url, call_ref)
    try:
        logged = _get_json(server_url.rstrip("/") + f"/_local/provider-requests?call_id={call['call_id']}")
    except OSError:
        logged = []
    if not call.get("call_sid"):  # the provider placed it, our record does not say so (yet)
        known = _get_json(server_url.rstrip("/") + "/_local/provider-calls").get(call["call_id"])
        if known:
            call["call_sid"] = known["call_sid"]
    url = callback_url_from_requests(logged, call) or callback_url(server_url, call)
    now = time.time()
    ends_at = call_end(call, outcome, duration, now)
    play_at_provider(server_url, call["call_sid"] or "", outcome, duration, ends_at)
    results = []
    for callback in callbacks(call, credentials, url, outcome, duration, answered_by, now, ends_at):
        status, body = send(callback)
        results.append((callback, status, body))
    return results


def call_end(call: dict, outcome: str, duration: int, now: float) -> float:
    """When the played call ends: now, unless that would put its ringing and talking before the
    call was created (a call placed a moment ago and "talked" 125 s): then as long after its
    creation as they last. The events are all sent now, told with those times."""
    from datetime import datetime

    try:
        created = datetime.fromisoformat(str(call.get("created_at")).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return now
    talked = duration if outcome == "completed" else 0
    return max(now, created + RING_S + talked)


def play_at_provider(server_url: str, call_sid: str, outcome: str, duration: int, now: float) -> dict | None:
    """Tell the emulated provider what happened to the call, ending at ``now`` (nothing when no
    emulator placed it, e.g. a fixture's sample call): its record then says what the callbacks say."""
    import urllib.request

    body = json.dumps({"call_sid": call_sid, "outcome": outcome, "duration": duration, "now": now}).encode()
    request = urllib.request.Request(server_url.rstrip("/") + "/_local/provider-calls/play", data=body,
                                     headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response).get("call")
