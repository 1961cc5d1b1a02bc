"""The providers' side of status webhooks: the callbacks each provider sends for a call's
outcome, signed the way that provider signs them. Used by ``outbound emulate-call``, the tests
and the sample events (scripts/make_webhook_events.py).

| provider | sequence (outcome completed)                                   | signature |
|----------|----------------------------------------------------------------|-----------|
| twilio   | form: initiated, ringing, in-progress (answered), completed     | X-Twilio-Signature: HMAC-SHA1(auth token, URL + sorted params), base64 |
| telnyx   | JSON: call.initiated, call.answered, call.hangup                | ed25519 over "{timestamp}|{body}" with the emulator's key (telnyx.WEBHOOK_PRIVATE_KEY) |
| vonage   | JSON: started, ringing, answered, completed                     | Authorization: Bearer HS256 JWT (signature secret), payload_hash = sha256(body) |
| sip      | JSON: CHANNEL_PROGRESS, CHANNEL_ANSWER, CHANNEL_HANGUP_COMPLETE  | X-Outbound-Signature: hex HMAC-SHA256(webhook_secret, "{timestamp}.{body}") |

Event times are laid out so the call ends at ``ends_at`` (default: now), answered ``duration``
seconds before; the signatures are made at ``now`` (the sending time, as a provider signs).

``answered_by`` (human, machine or unknown) adds each provider's own machine-detection event
after the answer, in its own words: Twilio's AsyncAmdStatusCallback (``AnsweredBy`` human,
machine_start or machine_end_beep for "detect_beep" calls, unknown), Telnyx's
``call.machine.detection.ended`` (human, machine, not_sure), Vonage's event (``status`` human or
machine) and the SIP bridge's ``AMD_RESULT`` (mod_amd's HUMAN, MACHINE, NOTSURE).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import formatdate
from typing import Any
from urllib.parse import urlencode

OUTCOMES = ("completed", "busy", "no-answer", "failed", "canceled")
PLAYABLE = ("in-progress", *OUTCOMES)  # in-progress: answered, still talking (no final event)
RING_S = 5  # seconds between the call being placed and answered (or given up)


@dataclass
class Callback:
    """One status callback as the provider would send it."""

    provider: str
    label: str  # what it reports, for humans (e.g. "ringing")
    url: str
    headers: dict[str, str]
    body: bytes
    meta: dict[str, Any] = field(default_factory=dict)


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _steps(outcome: str) -> list[str]:
    """Our statuses the provider walks through for an outcome (its final event last; for
    ``in-progress``, the call answered and still running: no final event yet)."""
    if outcome not in PLAYABLE:
        raise ValueError(f"outcome must be one of {', '.join(PLAYABLE)}")
    return {"in-progress": ["queued", "ringing", "in-progress"],
            "completed": ["queued", "ringing", "in-progress", "completed"],
            "busy": ["queued", "ringing", "busy"],
            "no-answer": ["queued", "ringing", "no-answer"],
            "failed": ["queued", "failed"],
            "canceled": ["queued", "ringing", "canceled"]}[outcome]


def _times(outcome: str, duration: int, end: float) -> dict[str, float]:
    """When each step happened so that the call ends at ``end``."""
    answered = end - duration if outcome == "completed" else end  # in-progress: answered now
    placed = answered - RING_S
    return {"queued": placed, "ringing": placed + 1, "in-progress": answered, "final": end}


# --- Twilio -------------------------------------------------------------------------------------

TWILIO_STATUS = {"queued": "initiated", "ringing": "ringing", "in-progress": "in-progress"}


def twilio_signature(url: str, params: list[tuple[str, str]], auth_token: str) -> str:
    """X-Twilio-Signature: base64 HMAC-SHA1 of the URL followed by the sorted name+value pairs."""
    from twilio.request_validator import RequestValidator

    grouped: dict[str, list[str]] = {}
    for name, value in params:
        grouped.setdefault(name, []).append(value)

    class _Form(dict):
        def getlist(self, name: str) -> list[str]:
            return self[name]

    return RequestValidator(auth_token).compute_signature(url, _Form(grouped))


def twilio_callbacks(call: dict, credentials: dict, url: str, outcome: str, duration: int,
                     answered_by: str | None = None, now: float | None = None,
                     ends_at: float | None = None) -> list[Callback]:
    now = time.time() if now is None else now
    times = _times(outcome, duration, now if ends_at is None else ends_at)
    callbacks = []
    for sequence, step in enumerate(_steps(outcome)):
        final = step in OUTCOMES
        params = [
            ("AccountSid", credentials["account_sid"]), ("ApiVersion", "2010-04-01"),
            ("CallSid", call["call_sid"]), ("CallStatus", step if final else TWILIO_STATUS[step]),
            ("Called", call["to_phone_number"]), ("Caller", call["from_phone_number"]),
            ("CallbackSource", "call-progress-events"), ("Direction", "outbound-api"),
            ("From", call["from_phone_number"]), ("To", call["to_phone_number"]),
            ("SequenceNumber", str(sequence)),
            ("Timestamp", formatdate(times["final" if final else step], usegmt=True)),
        ]
        if final:
            seconds = duration if step == "completed" else 0
            params += [("CallDuration", str(seconds)), ("Duration", str(-(-seconds // 60)))]
        if step == "failed":
            params.append(("SipResponseCode", "404"))
        body = urlencode(params).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded",
                   "X-Twilio-Signature": twilio_signature(url, params, credentials["auth_token"]),
                   "User-Agent": "TwilioProxy/1.1"}
        callbacks.append(Callback("twilio", step, url, headers, body))
        if step == "in-progress" and answered_by:
            callbacks.append(twilio_amd_callback(call, credentials, url, answered_by))
    return callbacks


def twilio_amd_callback(call: dict, credentials: dict, url: str, answered_by: str) -> Callback:
    """The AsyncAmdStatusCallback: the detection result alone (no CallStatus)."""
    beep = (call.get("answering_machine_detection") or {}).get("mode") == "detect_beep"
    word = {"machine": "machine_end_beep" if beep else "machine_start"}.get(answered_by, answered_by)
    params = [("AccountSid", credentials["account_sid"]), ("CallSid", call["call_sid"]),
              ("AnsweredBy", word), ("MachineDetectionDuration", "2400")]
    headers = {"Content-Type": "application/x-www-form-urlencoded",
               "X-Twilio-Signature": twilio_signature(url, params, credentials["auth_token"]),
               "User-Agent": "TwilioProxy/1.1"}
    return Callback("twilio", "answered-by", url, headers, urlencode(params).encode())


# --- Telnyx -------------------------------------------------------------------------------------

TELNYX_HANGUP_CAUSE = {"completed": "normal_clearing", "busy": "user_busy", "no-answer": "timeout",
                       "failed": "not_found", "canceled": "originator_cancel"}


def telnyx_signature_headers(body: bytes, public_key: str, timestamp: int) -> dict[str, str]:
    from . import telnyx

    if public_key != telnyx.WEBHOOK_PUBLIC_KEY:
        raise ValueError("this organization's Telnyx public_key is not the emulator's: only Telnyx holds "
                         "the matching private key, so the emulator cannot sign its webhooks")
    return telnyx.webhook_signature_headers(body, timestamp)


def telnyx_callbacks(call: dict, credentials: dict, url: str, outcome: str, duration: int,
                     answered_by: str | None = None, now: float | None = None,
                     ends_at: float | None = None) -> list[Callback]:
    from outbound.providers.telnyx import client_state

    now = time.time() if now is None else now
    times = _times(outcome, duration, now if ends_at is None else ends_at)
    base = {"call_control_id": call["call_sid"], "call_leg_id": str(uuid.uuid4()),
            "call_session_id": str(uuid.uuid4()), "client_state": client_state(call["call_id"]),
            "connection_id": "1494404757140276705", "from": call["from_phone_number"],
            "to": call["to_phone_number"], "direction": "outgoing"}
    events: list[tuple[str, str, float, dict]] = [("queued", "call.initiated", times["queued"], {"state": "bridging"})]
    for step in _steps(outcome)[1:]:
        if step == "ringing":
            continue  # Telnyx Call Control sends no ringing event for a dial
        if step == "in-progress":
            events.append((step, "call.answered", times[step], {"state": "answered"}))
            if answered_by:
                events.append(("answered-by", "call.machine.detection.ended", times[step] + 2,
                               {"result": {"unknown": "not_sure"}.get(answered_by, answered_by)}))
        else:
            events.append((step, "call.hangup", times["final"],
                           {"state": "hangup", "hangup_cause": TELNYX_HANGUP_CAUSE[step],
                            "hangup_source": "callee", "sip_hangup_cause": "200" if step == "completed" else "486",
                            "start_time": _iso(times["queued"])}))
    callbacks = []
    for label, event_type, at, extra in events:
        body = json.dumps({"data": {"event_type": event_type, "id": str(uuid.uuid4()), "occurred_at": _iso(at),
                                    "payload": {**base, **extra}, "record_type": "event"},
                           "meta": {"attempt": 1, "delivered_to": url}}).encode()
        headers = {"Content-Type": "application/json", "User-Agent": "telnyx-webhooks",
                   **telnyx_signature_headers(body, credentials.get("public_key", ""), int(now))}
        callbacks.append(Callback("telnyx", label, url, headers, body))
    return callbacks


# --- Vonage -------------------------------------------------------------------------------------

VONAGE_STATUS = {"queued": "started", "ringing": "ringing", "in-progress": "answered", "completed": "completed",
                 "busy": "busy", "no-answer": "timeout", "failed": "failed", "canceled": "cancelled"}


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def vonage_jwt(body: bytes, signature_secret: str, application_id: str, iat: int) -> str:
    """What Vonage puts in a signed callback's Authorization header: an HS256 JWT with the
    body's sha256 as ``payload_hash``."""
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = _b64url(json.dumps({"iat": iat, "jti": str(uuid.uuid4()), "iss": "Vonage",
                                 "payload_hash": hashlib.sha256(body).hexdigest(),
                                 "application_id": application_id}).encode())
    signature = hmac.new(signature_secret.encode(), f"{header}.{claims}".encode(), hashlib.sha256).digest()
    return f"{header}.{claims}.{_b64url(signature)}"


def vonage_callbacks(call: dict, credentials: dict, url: str, outcome: str, duration: int,
                     answered_by: str | None = None, now: float | None = None,
                     ends_at: float | None = None) -> list[Callback]:
    now = time.time() if now is None else now
    times = _times(outcome, duration, now if ends_at is None else ends_at)
    conversation = f"CON-{uuid.uuid4()}"
    base = {"uuid": call["call_sid"], "conversation_uuid": conversation, "direction": "outbound",
            "from": call["from_phone_number"].lstrip("+"), "to": call["to_phone_number"].lstrip("+")}
    events: list[tuple[str, dict, float]] = []
    for step in _steps(outcome):
        final = step in OUTCOMES
        at = times["final" if final else step]
        extra: dict[str, Any] = {"status": VONAGE_STATUS[step]}
        if step == "completed":
            extra.update({"duration": str(duration), "start_time": _iso(times["in-progress"]),
                          "end_time": _iso(at), "rate": "0.01390000", "price": "0.02900000",
                          "network": "310090"})
        elif final:
            extra["detail"] = {"busy": "busy", "no-answer": "ring_timeout", "failed": "invalid_number",
                               "canceled": "cancelled"}[step]
        events.append((step, extra, at))
        if step == "in-progress" and answered_by:
            events.append(("answered-by", {"status": answered_by, "sub_state": "beep_start"
                           if answered_by == "machine" else None}, at + 2))
    callbacks = []
    for label, extra, at in events:
        body = json.dumps({**base, **{k: v for k, v in extra.items() if v is not None}, "timestamp": _iso(at)}).encode()
        token = vonage_jwt(body, credentials["signature_secret"], credentials.get("application_id", ""), int(now))
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
        callbacks.append(Callback("vonage", label, url, headers, body))
    return callbacks


# --- SIP (our FreeSWITCH bridge's events) ---------------------------------------------------------

SIP_HANGUP_CAUSE = {"completed": "NORMAL_CLEARING", "busy": "USER_BUSY", "no-answer": "NO_ANSWER",
                    "failed": "UNALLOCATED_NUMBER", "canceled": "ORIGINATOR_CANCEL"}


def sip_signature_headers(body: bytes, webhook_secret: str, timestamp: int) -> dict[str, str]:
    stamp = str(timestamp)
    digest = hmac.new(webhook_secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {"X-Outbound-Timestamp": stamp, "X-Outbound-Signature": digest}


def sip_callbacks(call: dict, credentials: dict, url: str, outcome: str, duration: int,
                  answered_by: str | None = None, now: float | None = None,
                  ends_at: float | None = None) -> list[Callback]:
    now = time.time() if now is None else now
    if not credentials.get("webhook_secret"):
        raise ValueError("this organization's sip credentials have no webhook_secret: the bridge cannot sign")
    times = _times(outcome, duration, now if ends_at is None else ends_at)
    callbacks = []
    for step in _steps(outcome)[1:]:  # the bridge reports from the far end's progress on
        final = step in OUTCOMES
        body: dict[str, Any] = {"call_id": call["call_id"], "channel_uuid": call["call_sid"],
                                "timestamp": _iso(times["final" if final else step])}
        if step == "ringing":
            body["event"] = "CHANNEL_PROGRESS"
        elif step == "in-progress":
            body["event"] = "CHANNEL_ANSWER"
        else:
            body.update({"event": "CHANNEL_HANGUP_COMPLETE", "hangup_cause": SIP_HANGUP_CAUSE[step],
                         "duration": duration if step == "completed" else 0})
        raw = json.dumps(body).encode()
        headers = {"Content-Type": "application/json",
                   **sip_signature_headers(raw, credentials["webhook_secret"], int(now))}
        callbacks.append(Callback("sip", step, url, headers, raw))
        if step == "in-progress" and answered_by:  # the bridge reports mod_amd's amd_result
            result = {"human": "HUMAN", "machine": "MACHINE"}.get(answered_by, "NOTSURE")
            raw = json.dumps({"call_id": call["call_id"], "channel_uuid": call["call_sid"], "event": "AMD_RESULT",
                              "answered_by": result, "timestamp": _iso(times[step] + 2)}).encode()
            callbacks.append(Callback("sip", "answered-by", url, {
                "Content-Type": "application/json",
                **sip_signature_headers(raw, credentials["webhook_secret"], int(now))}, raw))
    return callbacks


BUILDERS = {"twilio": twilio_callbacks, "telnyx": telnyx_callbacks, "vonage": vonage_callbacks,
            "sip": sip_callbacks}


def callbacks(call: dict, credentials: dict, url: str, outcome: str, duration: int,
              answered_by: str | None = None, now: float | None = None,
              ends_at: float | None = None) -> list[Callback]:
    """The signed status callbacks of ``call``'s provider for this outcome, in order: signed at
    ``now`` (default: the time), telling of a call that ends at ``ends_at`` (default: ``now``)."""
    if not call.get("call_sid"):
        raise ValueError(f"call {call['call_id']} has no provider call id (call_sid) yet")
    return BUILDERS[call["provider"]](call, credentials, url, outcome, int(duration), answered_by, now, ends_at)


def callback_url(base_url: str, call: dict) -> str:
    """Where the provider sends them: the URL our adapter handed it (the SIP bridge: its
    configured ``<PublicApiUrl>/webhooks/sip``, the call id in the body)."""
    if call["provider"] == "sip":
        return f"{base_url.rstrip('/')}/webhooks/sip"
    return f"{base_url.rstrip('/')}/webhooks/{call['provider']}?call_id={call['call_id']}"


def callback_url_from_requests(entries: list[dict], call: dict) -> str | None:
    """The status URL the provider was given when the call was created (the emulators' request
    log): exactly what Twilio would call, and sign."""
    marker = f"call_id={call['call_id']}"
    for entry in reversed(entries):
        if entry.get("provider") != call["provider"]:
            continue
        body = entry.get("body")
        candidates: list[Any] = []
        if isinstance(body, dict):
            candidates += body.get("StatusCallback") or []  # twilio form (lists)
            candidates += [body.get("webhook_url")]  # telnyx
            candidates += body.get("event_url") or [] if isinstance(body.get("event_url"), list) else []
        for url in candidates:
            if isinstance(url, str) and url.endswith(marker):
                return url
    return None


def send(callback: Callback, timeout: float = 10) -> tuple[int, Any]:
    """POST one callback; returns (HTTP status, parsed JSON body or text)."""
    import urllib.error
    import urllib.request

    request = urllib.request.Request(callback.url, data=callback.body, headers=callback.headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode("utf-8", "replace")
