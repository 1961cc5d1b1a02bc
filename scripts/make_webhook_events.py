"""Writes the status-webhook sample events (events/webhook-*.json), signed for the fixture's
sample calls (events/fixture.json, organization org_events) with the emulators' default
credentials, as API Gateway would deliver them (REST proxy events, no authorizer context).

Run it again after changing a sample call or a default credential:
    python scripts/make_webhook_events.py

Signed times: each event's ``requestContext.requestTimeEpoch`` (when API Gateway received it)
is the signing time, so the Telnyx / Vonage / SIP replay windows hold when the event is replayed
later with `outbound invoke` or `sam local invoke`: the function measures the window against
API Gateway's receipt time, not its own clock.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from urllib.parse import parse_qs

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "local"), str(ROOT / "shared")]

from outbound_local.emulators import freeswitch, telnyx, twilio, vonage  # noqa: E402
from outbound_local.emulators import webhooks  # noqa: E402

EVENTS = ROOT / "events"
HOST = "abc123.execute-api.us-east-1.amazonaws.com"
STAGE = "v1"
PUBLIC = f"https://{HOST}/{STAGE}"
RECEIVED_AT = 1795424400  # 23/Nov/2026:09:00:00 +0000, as the other sample events


def calls() -> dict[str, dict]:
    fixture = json.loads((EVENTS / "fixture.json").read_text())
    return {c["call_id"]: c for c in fixture["calls"]}


def proxy_event(provider: str, callback: webhooks.Callback, received_at: int = RECEIVED_AT) -> dict:
    """The REST API proxy event for one callback (no authorizer: the route has Authorizer NONE)."""
    path = f"/webhooks/{provider}"
    query = callback.url.partition("?")[2]
    multi = parse_qs(query, keep_blank_values=True) if query else None
    headers = {"Host": HOST, "X-Forwarded-Proto": "https", **callback.headers}
    return {
        "resource": "/webhooks/{provider}", "path": path, "httpMethod": "POST",
        "headers": headers, "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": {k: v[-1] for k, v in multi.items()} if multi else None,
        "multiValueQueryStringParameters": multi,
        "pathParameters": {"provider": provider}, "stageVariables": None,
        "requestContext": {
            "resourceId": "local", "resourcePath": "/webhooks/{provider}", "httpMethod": "POST",
            "extendedRequestId": "EXAMPLE=", "requestId": f"webhook-{provider}-{callback.label}",
            "requestTime": "23/Nov/2026:09:00:00 +0000", "requestTimeEpoch": received_at * 1000,
            "path": f"/{STAGE}{path}", "accountId": "123456789012", "protocol": "HTTP/1.1",
            "stage": STAGE, "domainPrefix": "abc123", "domainName": HOST, "apiId": "local",
            "identity": {"sourceIp": "203.0.113.20", "userAgent": callback.headers.get("User-Agent")},
        },
        "body": callback.body.decode(),
        "isBase64Encoded": False,
    }


def pick(callbacks: list[webhooks.Callback], label: str) -> webhooks.Callback:
    return next(c for c in callbacks if c.label == label)


def build() -> dict[str, dict]:
    sample = calls()
    now = float(RECEIVED_AT)

    def sequence(call_id: str, credentials: dict, outcome: str, duration: int = 0) -> list[webhooks.Callback]:
        call = sample[call_id]
        return webhooks.callbacks(call, credentials, webhooks.callback_url(PUBLIC, call), outcome, duration, now=now)

    out: dict[str, dict] = {}
    # Twilio: the answered call ends after 125 s -> completed, 3 minutes charged.
    twilio_done = pick(sequence("call_sample_twilio", twilio.DEFAULT_CREDENTIALS, "completed", 125), "completed")
    out["webhook-twilio-completed.json"] = proxy_event("twilio", twilio_done)
    # Twilio without its signature: 403, nothing written.
    unsigned = webhooks.Callback("twilio", "unsigned", twilio_done.url,
                                 {k: v for k, v in twilio_done.headers.items() if k != "X-Twilio-Signature"},
                                 twilio_done.body)
    out["webhook-twilio-unsigned.json"] = proxy_event("twilio", unsigned)
    # Twilio reconciling a call whose create-call timed out (status unconfirmed, no call_sid yet).
    unconfirmed = {**sample["call_sample_unconfirmed"], "call_sid": "CA9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a"}
    ringing = pick(webhooks.callbacks(unconfirmed, twilio.DEFAULT_CREDENTIALS,
                                      webhooks.callback_url(PUBLIC, unconfirmed), "busy", 0, now=now), "ringing")
    out["webhook-twilio-reconcile-unconfirmed.json"] = proxy_event("twilio", ringing)
    # Telnyx: call.answered -> in-progress.
    answered = pick(sequence("call_sample_telnyx", telnyx.DEFAULT_CREDENTIALS, "completed", 60), "in-progress")
    out["webhook-telnyx-answered.json"] = proxy_event("telnyx", answered)
    # Telnyx replayed 10 minutes after it was signed: outside the 300 s window -> 403.
    out["webhook-telnyx-replayed.json"] = proxy_event("telnyx", answered, received_at=RECEIVED_AT + 600)
    # Vonage: completed after 61 s -> 2 minutes charged.
    vonage_done = pick(sequence("call_sample_vonage", vonage.DEFAULT_CREDENTIALS, "completed", 61), "completed")
    out["webhook-vonage-completed.json"] = proxy_event("vonage", vonage_done)
    # Vonage with a genuine JWT but a tampered body (duration 1 s): payload_hash differs -> 403.
    tampered = webhooks.Callback("vonage", "tampered", vonage_done.url, vonage_done.headers,
                                 vonage_done.body.replace(b'"duration": "61"', b'"duration": "1"'))
    assert tampered.body != vonage_done.body
    out["webhook-vonage-tampered.json"] = proxy_event("vonage", tampered)
    # SIP bridge: the callee never answered -> no-answer, nothing charged, reserve released.
    no_answer = pick(sequence("call_sample_sip", freeswitch.DEFAULT_CREDENTIALS, "no-answer"), "no-answer")
    out["webhook-sip-no-answer.json"] = proxy_event("sip", no_answer)
    return out


# events/expected.json entries for these files (the contract test checks each).
EXPECTED = {
    "webhook-twilio-completed.json": {"status": 200, "call_status": "completed"},
    "webhook-twilio-unsigned.json": {"status": 403},
    "webhook-twilio-reconcile-unconfirmed.json": {"status": 200, "call_status": "ringing"},
    "webhook-telnyx-answered.json": {"status": 200, "call_status": "in-progress"},
    "webhook-telnyx-replayed.json": {"status": 403},
    "webhook-vonage-completed.json": {"status": 200, "call_status": "completed"},
    "webhook-vonage-tampered.json": {"status": 403},
    "webhook-sip-no-answer.json": {"status": 200, "call_status": "no-answer"},
}


def main() -> None:
    for name, event in build().items():
        (EVENTS / name).write_text(json.dumps(event, indent=2) + "\n")
        print(f"wrote events/{name}")


if __name__ == "__main__":
    main()
