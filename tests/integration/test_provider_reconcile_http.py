"""Charges rest on the providers' own records, not on webhooks the organization could sign itself
(over real HTTP against `outbound serve`, and `outbound admin reconcile-provider` as an operator
runs it).

An organization holds its provider credentials, so it can sign its own status webhooks: a
`completed` with 0 s after `in-progress` is charged 0, and the provider's real event is then a
duplicate. The emulated providers keep their own record of each call they placed (what `outbound
emulate-call` plays: the same outcome and duration as the callbacks it sends), so the
reconciliation can find the difference, correct it with one ledger entry, and never guess.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
import requests

from outbound_local.emulators import telnyx, twilio, vonage, webhooks

pytestmark = pytest.mark.integration

ORG = "org_recon"  # its own organization: `reconcile-provider` sees only this module's calls
KEY = "sk_live_recon_test"
TO = "+15559876543"
SILENT = "+15005550002"
NUMBERS = {"twilio": "+15551238101", "telnyx": "+15551238102", "vonage": "+15551238103", "sip": "+15551238104"}
CREDENTIALS = {"twilio": twilio.DEFAULT_CREDENTIALS, "telnyx": telnyx.DEFAULT_CREDENTIALS,
               "vonage": vonage.DEFAULT_CREDENTIALS}
RATE = 12  # per_minute_rate_cents
RESERVE = 100


@pytest.fixture(scope="module", autouse=True)
def tenant(server, tmp_path_factory):
    """The organization, its numbers (one per provider) and assistant; the emulators' default
    provider credentials, which the organization can sign its own webhooks with."""
    fixture = {
        "organizations": [{"id": ORG, "name": "Reconcile", "balance_cents": 5_000, "api_keys": [KEY],
                           "call_reserve_cents": RESERVE, "per_minute_rate_cents": RATE}],
        "assistants": [{"id": 8101, "organization_id": ORG, "name": "Rex"}],
        "sip_trunks": [{"id": "trunk_recon", "organization_id": ORG, "name": "Carrier",
                        "gateway": "sip.example-carrier.com:5060", "username": "u", "password": "p",
                        "priority": 1, "enabled": True, "register": True}],
        "phone_numbers": [{"number": number, "organization_id": ORG, "provider": provider, "assistant_id": 8101,
                           **({"provider_settings": {"connection_id": "1494404757140276705"}}
                              if provider == "telnyx" else {})}
                          for provider, number in NUMBERS.items()]}
    path = tmp_path_factory.mktemp("recon") / "fixture.json"
    path.write_text(json.dumps(fixture))
    server.outbound("seed", str(path), "--local-server", server.url)


@pytest.fixture
def since():
    """Each test reconciles the calls it made: those created from now on."""
    return (datetime.now(timezone.utc) - timedelta(seconds=1)).isoformat(timespec="milliseconds")


def record(server, call_id) -> dict:
    response = server.request("GET", f"/calls/{call_id}", key=KEY)
    assert response.status_code == 200, response.text
    return response.json()


def balance(server) -> dict:
    return server.request("GET", "/organization/balance", key=KEY).json()


def ledger(server) -> list[dict]:
    return server.request("GET", "/organization/ledger?limit=100", key=KEY).json()["entries"]


def placed(server, provider) -> dict:
    response = server.initiate({"from_phone_number": NUMBERS[provider], "to_phone_number": TO}, key=KEY)
    assert response.status_code == 200, response.text
    return record(server, response.json()["call_id"])


def emulate(server, call_ref, outcome, duration=0) -> list[dict]:
    """`outbound emulate-call`: the provider records the outcome, then sends its signed callbacks."""
    done = server.outbound("emulate-call", call_ref, "--outcome", outcome, "--duration", str(duration),
                           "--server", server.url, check=False)
    return [json.loads(line.split(" -> ", 1)[1].split(" ", 1)[1]) for line in done.stdout.splitlines()]


def self_signed(server, call, outcome, duration):
    """The organization's own final webhook, signed with its own provider credentials."""
    url = webhooks.callback_url(server.url, call)
    return webhooks.callbacks(call, CREDENTIALS[call["provider"]], url, outcome, duration)[-1]


def reconcile_provider(server, since, *extra):
    done = server.outbound("admin", "reconcile-provider", ORG, "--since", since, *extra, "--local-server", server.url,
                           check=False)
    return done


def checks(done) -> dict[str, dict]:
    assert done.returncode in (0, 1), done.stdout + done.stderr
    return {check["call_id"]: check for check in json.loads(done.stdout)["calls"]}


def diff(before, after):
    return {k: after[k] - before[k] for k in before}


def test_a_self_signed_zero_second_completed_is_corrected_to_the_providers_125_seconds(server, since):
    call = placed(server, "twilio")
    assert emulate(server, call["call_sid"], "in-progress")[-1] == {"call_id": call["call_id"], "status": "in-progress",
                                                                    "applied": True}
    # The organization signs its own `completed` with 0 s: charged 0, the reserve released.
    forged = self_signed(server, call, "completed", 0)
    assert webhooks.send(forged)[1]["applied"] is True
    assert record(server, call["call_id"])["charged_cents"] == 0
    # The call really ends after 125 s: Twilio records it, and its real `completed` is a duplicate.
    assert not any(answer["applied"] for answer in emulate(server, call["call_sid"], "completed", 125))
    assert record(server, call["call_id"])["charged_cents"] == 0
    money, entries = balance(server), ledger(server)

    done = reconcile_provider(server, since, "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    check = checks(done)[call["call_id"]]
    assert check["outcome"] == "adjusted" and check["charged_cents"] == 0 and check["provider_cents"] == 3 * RATE
    assert check["adjustment_cents"] == 36 and check["provider_duration_seconds"] == 125
    final = record(server, call["call_id"])
    assert final["charged_cents"] == 36 and final["duration_seconds"] == 125 and final["status"] == "completed"
    assert final["provider_adjusted_cents"] == 36 and final["provider_flag"] is None and final["provider_checked_at"]
    assert diff(money, balance(server)) == {"balance_cents": -36, "reserved_cents": 0, "available_cents": -36}
    [entry] = [e for e in ledger(server) if e not in entries]
    assert (entry["kind"], entry["amount_cents"], entry["balance_delta_cents"], entry["call_id"]) == \
        ("extra_charge", 36, -36, call["call_id"])
    assert "125 s" in entry["cause"]

    # Run again: nothing more is written, charged or ledgered.
    again = reconcile_provider(server, since, "--json")
    assert again.returncode == 0 and checks(again)[call["call_id"]]["outcome"] == "matched"
    assert json.loads(again.stdout)["adjustment_cents"] == 0
    assert diff(money, balance(server))["balance_cents"] == -36 and len(ledger(server)) == len(entries) + 1
    proof = server.reconcile(ORG)
    assert proof.returncode == 0, proof.stdout + proof.stderr


def test_an_inflated_completed_is_refunded_down_to_the_providers_record(server, since):
    call = placed(server, "telnyx")
    emulate(server, call["call_sid"], "completed", 61)  # Telnyx: 61 s, 2 minutes, and so are we
    assert record(server, call["call_id"])["charged_cents"] == 2 * RATE
    text = reconcile_provider(server, since)
    assert text.returncode == 0 and "Charges match the providers' records." in text.stdout, text.stdout
    inflated = placed(server, "vonage")
    emulate(server, inflated["call_sid"], "in-progress")
    requests.post(server.url + "/_local/provider-calls/play", timeout=10,
                  json={"call_sid": inflated["call_sid"], "outcome": "completed", "duration": 61})
    assert webhooks.send(self_signed(server, inflated, "completed", 600))[1]["applied"] is True  # 10 minutes
    assert record(server, inflated["call_id"])["charged_cents"] == 10 * RATE
    money = balance(server)
    text = reconcile_provider(server, since)
    assert text.returncode == 0, text.stdout + text.stderr
    assert f"{inflated['call_id']}  vonage  ADJUSTED" in text.stdout and "(-96 cents)" in text.stdout
    final = record(server, inflated["call_id"])
    assert final["charged_cents"] == 2 * RATE and final["provider_adjusted_cents"] == -96
    assert diff(money, balance(server)) == {"balance_cents": 96, "reserved_cents": 0, "available_cents": 96}
    [refund] = [e for e in ledger(server) if e["call_id"] == inflated["call_id"] and e["kind"] == "refund"]
    assert refund["amount_cents"] == 96 and refund["balance_delta_cents"] == 96


def test_a_call_the_provider_reports_still_in_progress_is_flagged_not_charged(server, since):
    call = placed(server, "vonage")
    emulate(server, call["call_sid"], "in-progress")
    assert webhooks.send(self_signed(server, call, "completed", 0))[1]["applied"] is True
    money, entries = balance(server), ledger(server)

    done = reconcile_provider(server, since, "--json")
    assert done.returncode == 1, done.stdout + done.stderr  # needs attention
    check = checks(done)[call["call_id"]]
    assert check["outcome"] == "flagged" and check["provider_status"] == "answered"
    assert "not finished" in check["detail"] and check["adjustment_cents"] == 0
    flagged = record(server, call["call_id"])
    assert "not finished" in flagged["provider_flag"] and flagged["charged_cents"] == 0
    assert balance(server) == money and ledger(server) == entries  # never charged on a guess
    text = reconcile_provider(server, since)
    assert text.returncode == 1 and "FLAGGED" in text.stdout and "Needs attention" in text.stdout

    # It ends after 125 s: the next run charges what Vonage recorded, and the flag goes.
    emulate(server, call["call_sid"], "completed", 125)
    done = reconcile_provider(server, since, "--json")
    assert done.returncode == 0 and checks(done)[call["call_id"]]["outcome"] == "adjusted"
    final = record(server, call["call_id"])
    assert final["provider_flag"] is None and final["charged_cents"] == 36


def test_a_call_whose_final_webhook_was_lost_is_settled_from_the_providers_record(server, since):
    call = placed(server, "twilio")
    held = balance(server)
    # Twilio records the call as completed after 61 s; none of its webhooks reached us.
    requests.post(server.url + "/_local/provider-calls/play", timeout=10,
                  json={"call_sid": call["call_sid"], "outcome": "completed", "duration": 61})
    done = reconcile_provider(server, since, "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    check = checks(done)[call["call_id"]]
    assert check["outcome"] == "settled" and check["adjustment_cents"] == 2 * RATE
    final = record(server, call["call_id"])
    assert (final["status"], final["duration_seconds"], final["charged_cents"], final["reserve_cents"]) == \
        ("completed", 61, 24, 0)
    assert diff(held, balance(server)) == {"balance_cents": -24, "reserved_cents": -RESERVE,
                                           "available_cents": RESERVE - 24}
    assert checks(reconcile_provider(server, since, "--json"))[call["call_id"]]["outcome"] == "matched"


def test_an_unconfirmed_vonage_call_is_resolved_from_vonages_own_records(server, since):
    """Its events can never prove they are its own (recorded, not applied); Vonage's records,
    asked for the call placed between the same numbers at the same time, can."""
    response = server.initiate({"from_phone_number": NUMBERS["vonage"], "to_phone_number": SILENT}, key=KEY)
    assert response.status_code == 504
    call_id = response.json()["call_id"]
    held = balance(server)
    answers = emulate(server, call_id, "completed", 61)
    assert answers and not any(answer["applied"] for answer in answers)
    assert record(server, call_id)["status"] == "unconfirmed"
    uuid = server.request("GET", "/_local/provider-calls").json()[call_id]["call_sid"]

    done = reconcile_provider(server, since, "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    assert checks(done)[call_id]["outcome"] == "settled"
    assert json.loads(done.stdout)["unproven_events"] >= len(answers)
    final = record(server, call_id)
    assert (final["status"], final["call_sid"], final["charged_cents"], final["reserve_cents"]) == \
        ("completed", uuid, 24, 0)
    assert diff(held, balance(server)) == {"balance_cents": -24, "reserved_cents": -RESERVE,
                                           "available_cents": RESERVE - 24}


def test_sip_calls_are_trusted_and_a_bad_since_or_organization_is_refused(server, since):
    call = placed(server, "sip")
    done = reconcile_provider(server, since, "--json")
    check = checks(done)[call["call_id"]]
    assert check["outcome"] == "trusted" and "organization's own" in check["detail"]
    bad = server.outbound("admin", "reconcile-provider", ORG, "--since", "last tuesday", "--local-server",
                          server.url, check=False)
    assert bad.returncode == 2 and "ISO 8601" in bad.stderr
    unknown = server.outbound("admin", "reconcile-provider", "org_nobody", "--local-server", server.url, check=False)
    assert unknown.returncode == 2 and "no organization org_nobody" in unknown.stderr


def test_spend_per_day_counts_the_corrections_as_the_ledger_does(server):
    """Every charge, extra_charge and refund of this module's calls moved the day's spend total in
    its own transaction: the total equals the ledger's charges net of refunds."""
    entries = server.request("GET", "/organization/ledger?limit=100", key=KEY).json()["entries"]
    assert {"extra_charge", "refund"} <= {e["kind"] for e in entries}
    charged = -sum(e["balance_delta_cents"] for e in entries if e["kind"] in ("charge", "extra_charge", "refund"))
    days = server.request("GET", "/organization/spend?days=2", key=KEY).json()
    assert days["total_cents"] == charged > 0
