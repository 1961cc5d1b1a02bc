"""AWS failing on every kind of route, over real HTTP (faults injected at the local DynamoDB).

- Retryable failures that outlast the SDK's retries (5xx, throttling, a transaction canceled by a
  conflict) answer 503 with Retry-After on every route: the provider webhooks (providers retry),
  initiate before the provider step, the Powertools routes, the schedules, and the API-key
  authorizer (API Gateway's AUTHORIZER_FAILURE answer). Logged as a warning, not a crash.
- AWS refusing a function's own role (AccessDeniedException) is the operator's configuration
  error: a 500 with a generic sentence, logged as "AWS configuration error" with its code and
  counted (AwsConfigurationErrors), never as "Unhandled error", never a traceback in the body.
"""
from __future__ import annotations

import json
import uuid

import pytest
import requests

from outbound.errors import UNAVAILABLE
from outbound_local.emulators import freeswitch, telnyx, twilio, vonage, webhooks

pytestmark = pytest.mark.integration

ORG = "org_acme"
NUMBERS = {"twilio": "+15551234567", "telnyx": "+15551230007", "vonage": "+15551230008", "sip": "+15551230009"}
CREDENTIALS = {"twilio": twilio.DEFAULT_CREDENTIALS, "telnyx": telnyx.DEFAULT_CREDENTIALS,
               "vonage": vonage.DEFAULT_CREDENTIALS, "sip": freeswitch.DEFAULT_CREDENTIALS}
# The read each provider's webhook starts with: the call by our id (GetItem); the SIP bridge's
# events carry it in the body, the others in the URL.
FIRST_READ = "GetItem"
MISCONFIGURED = "The service is not configured correctly; its operator has been alerted."


def new_lines(server, mark: int) -> list[str]:
    return server.output[mark:]


def assert_unavailable(response: requests.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers.get("Retry-After") == "1"
    assert response.json() == {"detail": UNAVAILABLE}


def assert_logged_as_unavailable_not_a_crash(server, mark: int) -> None:
    lines = new_lines(server, mark)
    assert any("AWS unavailable beyond retries" in line for line in lines), "".join(lines[-5:])
    assert not any('"Unhandled error"' in line for line in lines)


@pytest.fixture(scope="module", autouse=True)
def funds(server):
    server.add_funds(ORG, 5000)  # every call placed here holds a reserve


def placed_call(server, provider: str) -> dict:
    to = f"+1555987{uuid.uuid4().int % 10_000:04d}"
    answer = server.initiate({"from_phone_number": NUMBERS[provider], "to_phone_number": to})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    return {"call_id": body["call_id"], "call_sid": body["call_sid"], "provider": provider,
            "from_phone_number": NUMBERS[provider], "to_phone_number": to}


def status_callbacks(server, call: dict) -> list[webhooks.Callback]:
    return webhooks.callbacks(call, CREDENTIALS[call["provider"]], webhooks.callback_url(server.url, call),
                              "completed", 61)


def post(callback: webhooks.Callback) -> requests.Response:
    return requests.post(callback.url, data=callback.body, headers=callback.headers, timeout=30)


@pytest.mark.parametrize("provider", list(NUMBERS))
def test_a_webhook_meeting_dynamodb_down_is_503_and_the_providers_retry_applies_it(server, faults, provider):
    call = placed_call(server, provider)
    first = next(c for c in status_callbacks(server, call) if c.label != "queued")  # the call is queued already
    mark = len(server.output)
    faults(FIRST_READ, "InternalServerError", 100)
    response = post(first)
    faults.clear()
    assert_unavailable(response)
    assert_logged_as_unavailable_not_a_crash(server, mark)
    again = post(first)  # the provider's retry
    assert again.status_code == 200, again.text
    assert again.json()["applied"] is True


def test_a_settling_webhook_meeting_throttling_is_503_and_settles_once_on_the_retry(server, faults):
    call = placed_call(server, "twilio")
    *steps, final = status_callbacks(server, call)
    for step in steps:
        assert post(step).status_code == 200
    before = server.organization(ORG)
    faults("TransactWriteItems", "ProvisionedThroughputExceededException", 100)
    response = post(final)
    faults.clear()
    assert_unavailable(response)
    assert server.organization(ORG) == before  # nothing settled
    assert post(final).json()["applied"] is True
    assert post(final).json()["applied"] is False  # and only once
    assert server.organization(ORG)["balance_cents"] == before["balance_cents"] - 24  # 2 minutes at 12


def test_initiate_meeting_a_transaction_conflict_beyond_the_retries_is_503_with_nothing_written(server, faults):
    before = server.organization(ORG)
    to = "+15559871234"
    faults("TransactWriteItems", "TransactionConflict", 100)
    response = server.initiate({"from_phone_number": NUMBERS["twilio"], "to_phone_number": to})
    faults.clear()
    assert_unavailable(response)
    assert server.organization(ORG) == before
    assert not [r for r in server.provider_requests() if to in json.dumps(r["body"])]


@pytest.mark.parametrize("method,path,operation,error", [
    ("GET", "/calls/schedules", "Query", "ThrottlingException"),  # SchedulesApiFunction (hand-written routes)
    ("GET", "/campaigns", "Query", "ServiceUnavailable"),  # CampaignsApiFunction (Powertools)
    ("GET", "/webhook-endpoints", "Query", "InternalServerError"),  # WebhookEndpointsFunction (Powertools)
    ("POST", "/suppressions", "PutItem", "InternalServerError"),
])
def test_every_api_style_answers_503_for_throttling_or_5xx_beyond_the_retries(server, faults, method, path,
                                                                              operation, error):
    mark = len(server.output)
    faults(operation, error, 100)
    response = server.request(method, path, {"phone_number": "+15559871235"} if method == "POST" else None)
    faults.clear()
    assert_unavailable(response)
    assert_logged_as_unavailable_not_a_crash(server, mark)


@pytest.mark.parametrize("method,path,operation", [
    ("POST", "/calls/initiate", "BatchGetItem"),  # CallsApiFunction, before the provider step
    ("GET", "/campaigns", "Query"),  # Powertools
    ("POST", "/webhooks/twilio", "GetItem"),  # an unauthenticated webhook
])
def test_access_denied_is_logged_and_counted_as_a_configuration_error(server, faults, method, path, operation):
    if path == "/webhooks/twilio":
        callback = status_callbacks(server, placed_call(server, "twilio"))[0]
        send = lambda: post(callback)  # noqa: E731
    else:
        body = {"from_phone_number": NUMBERS["twilio"], "to_phone_number": "+15559871236"} if method == "POST" else None
        send = lambda: server.request(method, path, body)  # noqa: E731
    mark = len(server.output)
    faults(operation, "AccessDeniedException", 100)
    response = send()
    faults.clear()
    assert response.status_code == 500
    assert response.json() == {"detail": MISCONFIGURED}
    lines = new_lines(server, mark)
    logged = [json.loads(line) for line in lines if "AWS configuration error" in line]
    assert logged and logged[0]["level"] == "ERROR" and logged[0]["aws_error"] == "AccessDeniedException"
    assert not any('"Unhandled error"' in line for line in lines)
    emf = [json.loads(line) for line in lines if '"AwsConfigurationErrors"' in line]
    assert emf and emf[0]["AwsConfigurationErrors"] in (1, 1.0, [1], [1.0]), emf


@pytest.mark.parametrize("error", ["InternalServerError", "AccessDeniedException"])
def test_the_authorizer_failing_is_api_gatewayss_503_with_retry_after(server, faults, error):
    key = f"sk_live_never_seen_{uuid.uuid4().hex}"  # not in the authorizer's cache: it reads
    faults("GetItem", error, 100)
    response = server.request("GET", "/organization/balance", key=key)
    faults.clear()
    assert_unavailable(response)
    assert server.request("GET", "/organization/balance", key=key).status_code == 401  # then: an unknown key
