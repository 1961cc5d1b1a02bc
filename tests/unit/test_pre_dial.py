"""The pre-dial check's pure parts: reading the customer's answer (fail closed), and the SSRF rules
on a deployed configuration (no loopback: the resolver is swapped for a table, nothing is sent)."""
from __future__ import annotations

import pytest

from outbound.compliance import pre_dial
from outbound.errors import BadRequest
from outbound.outcome_events import guard

NAMES = {"scrub.example.com": ["10.20.30.40"], "local.example.com": ["127.0.0.1"]}


@pytest.fixture(autouse=True)
def deployed(monkeypatch):
    monkeypatch.delenv("OUTBOUND_WEBHOOKS_ALLOW_LOOPBACK", raising=False)  # as in AWS
    guard.set_resolver(lambda host, port: list(NAMES.get(host, [])))
    yield
    guard.set_resolver(None)


@pytest.mark.parametrize("body, result, reason", [
    (b'{"allow": true}', "allowed", None),
    (b'{"allow": true, "reason": "ignored"}', "allowed", None),
    (b'{"allow": false, "reason": "On the DNC registry"}', "denied", "On the DNC registry"),
    (b'{"allow": false}', "denied", "no reason given"),
    (b'{"allow": false, "reason": 7}', "denied", "no reason given"),
    (b'{"allow": "yes"}', "failed", 'the answer is not a JSON object with a boolean "allow"'),
    (b'{"allow": 1}', "failed", 'the answer is not a JSON object with a boolean "allow"'),
    (b'[true]', "failed", 'the answer is not a JSON object with a boolean "allow"'),
    (b'', "failed", 'the answer is not a JSON object with a boolean "allow"'),
    (b'\xff\xfe', "failed", 'the answer is not a JSON object with a boolean "allow"'),
])
def test_only_a_boolean_allow_is_an_answer(body, result, reason):
    assert pre_dial.verdict_of(body) == {"result": result, "reason": reason}


def test_a_long_reason_is_cut_to_300_characters():
    assert len(pre_dial.verdict_of(b'{"allow": false, "reason": "' + b"x" * 1000 + b'"}')["reason"]) == 300


@pytest.mark.parametrize("url, says", [
    ("https://scrub.example.com/check", "scrub.example.com resolves to 10.20.30.40, a private address"),
    ("https://local.example.com/check", "a loopback address"),
    ("http://127.0.0.1:8080/check", "url must be an absolute https:// URL"),
    ("https://169.254.169.254/", "a cloud metadata address"),
])
def test_registration_refuses_a_private_address_on_a_deployed_stack(url, says):
    with pytest.raises(BadRequest) as refused:
        pre_dial.put_check("org_any", url, None)  # refused before any read or secret
    assert says in refused.value.detail


def test_a_url_that_now_resolves_to_a_private_address_is_not_asked_and_fails_closed():
    """DNS can change after registration: checked again before every request, nothing sent."""
    answer = pre_dial.ask({"id": "pdc_x", "url": "https://scrub.example.com/check", "timeout_ms": 2000},
                          {"type": "pre_dial.check"})
    assert answer["result"] == "failed" and "a private address" in answer["reason"]
    assert answer["status_code"] is None
