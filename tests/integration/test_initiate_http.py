"""POST /calls/initiate and GET /calls/{call_ref} over real HTTP against `outbound serve`."""
import pytest

pytestmark = pytest.mark.integration

FROM, TO = "+15551234567", "+15559876543"


def twilio_requests(server):
    return [r for r in server.provider_requests() if r["provider"] == "twilio"]


def test_minimal_call_is_placed_through_twilio(server):
    before = len(twilio_requests(server))
    response = server.initiate({"from_phone_number": FROM, "to_phone_number": TO})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["message"] == "Call initiated successfully"
    assert body["call_sid"].startswith("CA") and len(body["call_sid"]) == 34
    sent = twilio_requests(server)[before:]
    assert len(sent) == 1
    wire = sent[0]
    assert wire["method"] == "POST" and wire["path"].endswith("/Calls.json")
    assert wire["headers"]["Authorization"] == "Basic ***"  # checked by the emulator, redacted in the log
    form = wire["body"]
    assert form["To"] == [TO] and form["From"] == [FROM]
    assert f'<Parameter name="call_id" value="{body["call_id"]}" />' in form["Twiml"][0]
    assert '<Connect><Stream url="wss://voice-runtime.localhost/stream">' in form["Twiml"][0]
    assert form["StatusCallback"] == [f"{server.url}/webhooks/twilio?call_id={body['call_id']}"]
    assert form["StatusCallbackEvent"] == ["initiated", "ringing", "answered", "completed"]


def test_call_record_by_call_sid_and_by_call_id(server):
    body = server.initiate({
        "from_phone_number": FROM, "to_phone_number": TO,
        "welcome_message": "Hi {{customer_name}}, this is {{ company }}.",
        "agenda": "Confirm {{when}}; literal {{customer_name}} stays rendered once",
        "variables": {"customer_name": "{{when}}", "company": "Acme", "when": "Tuesday"},
    }).json()
    for ref in (body["call_sid"], body["call_id"]):
        record = server.request("GET", f"/calls/{ref}")
        assert record.status_code == 200
        data = record.json()
        assert data["call_id"] == body["call_id"] and data["call_sid"] == body["call_sid"]
        assert data["organization_id"] == "org_acme" and data["assistant_id"] == 123
        assert data["status"] == "queued" and data["provider"] == "twilio"
        assert data["from_phone_number"] == FROM and data["to_phone_number"] == TO
        assert data["welcome_message"] == "Hi {{when}}, this is Acme."  # single pass
        assert data["agenda"] == "Confirm Tuesday; literal {{when}} stays rendered once"
        assert data["variables"]["company"] == "Acme"
        assert data["created_at"] and data["updated_at"]


def test_defaults_come_from_the_assistant_and_override_wins(server):
    default = server.initiate({"from_phone_number": FROM, "to_phone_number": TO}).json()
    record = server.request("GET", f"/calls/{default['call_sid']}").json()
    assert record["welcome_message"] == "Hi, this is Sarah from Acme Health."
    override = server.initiate({"from_phone_number": FROM, "to_phone_number": TO, "assistant_id": 124}).json()
    assert override["assistant_id"] == 124
    record = server.request("GET", f"/calls/{override['call_sid']}").json()
    assert record["welcome_message"] == "Hello from the Acme flow."


def test_another_organizations_call_is_not_found(server):
    call = server.initiate({"from_phone_number": FROM, "to_phone_number": TO}).json()
    response = server.request("GET", f"/calls/{call['call_sid']}", key="sk_live_globex_demo")
    assert response.status_code == 404 and response.json() == {"detail": f"Call {call['call_sid']} not found"}
    response = server.request("GET", f"/calls/{call['call_id']}", key="sk_live_globex_demo")
    assert response.status_code == 404


@pytest.mark.parametrize("key", [None, "sk_live_unknown", ""])
def test_missing_or_unknown_key_is_401(server, key):
    response = server.initiate({"from_phone_number": FROM, "to_phone_number": TO}, key=key) if key is not None \
        else server.request("POST", "/calls/initiate", {"from_phone_number": FROM}, key=None)
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid or missing API key"}


@pytest.mark.parametrize("body,status,detail", [
    ({"to_phone_number": TO}, 400, "from_phone_number is required"),
    ({"from_phone_number": FROM}, 400, "to_phone_number is required"),
    ({"from_phone_number": FROM, "to_phone_number": "5559876543"}, 400,
     "Invalid phone number format. Use E.164 format (e.g., +1234567890)"),
    ({"from_phone_number": FROM, "to_phone_number": TO, "welcome_message": "Hi {{name}} at {{time}}"}, 400,
     "Missing template variables: name, time"),
    ({"from_phone_number": "+15557654321", "to_phone_number": TO}, 403,
     "Unauthorized: phone number +15557654321 does not belong to your organization"),
    ({"from_phone_number": "+15550001111", "to_phone_number": TO}, 403,
     "Unauthorized: phone number +15550001111 does not belong to your organization"),
    ({"from_phone_number": FROM, "to_phone_number": TO, "assistant_id": 456}, 403,
     "Unauthorized: assistant 456 does not belong to your organization"),
    ({"from_phone_number": FROM, "to_phone_number": TO, "assistant_id": 99999}, 403,
     "Unauthorized: assistant 99999 does not belong to your organization"),
    ({"from_phone_number": "+15551230404", "to_phone_number": TO}, 404,
     "No assistant found for phone number +15551230404"),
])
def test_contract_errors(server, body, status, detail):
    before = len(server.provider_requests())
    response = server.initiate(body)
    assert response.status_code == status
    assert response.json() == {"detail": detail}
    assert len(server.provider_requests()) == before  # nothing reached a provider


def test_malformed_json_is_400(server):
    response = server.request("POST", "/calls/initiate", raw='{"from_phone_number": ')
    assert response.status_code == 400 and response.json() == {"detail": "Request body must be a JSON object"}


def test_insufficient_balance_is_402_and_nothing_is_written(server):
    before = server.organization("org_broke")
    response = server.initiate({"from_phone_number": "+15550000050", "to_phone_number": TO}, key="sk_live_broke_demo")
    assert response.status_code == 402
    assert response.json() == {"detail": "Insufficient balance. Please add funds to continue making calls."}
    assert server.organization("org_broke") == before


def test_provider_refusal_is_502_with_the_reserve_released_and_the_record_failed(server):
    before = server.organization("org_acme")
    response = server.initiate({"from_phone_number": FROM, "to_phone_number": "+15005550001"})
    assert response.status_code == 502
    assert response.json() == {
        "detail": "Telephony provider error: The 'To' number +15005550001 is not a valid phone number."}
    after = server.organization("org_acme")
    assert after["available_cents"] == before["available_cents"]
    assert after["reserved_cents"] == before["reserved_cents"]
    table = server.aws()["table_name"]
    records = [i for i in server.dynamodb().scan(TableName=table)["Items"]
               if i.get("to_phone_number", {}).get("S") == "+15005550001"]
    newest = max(records, key=lambda i: i["created_at"]["S"])  # this test's (other tests call it too)
    assert newest["status"]["S"] == "failed" and newest["reserve_cents"]["N"] == "0"
    assert newest["failure_reason"]["S"].startswith("The 'To' number")


def test_each_call_holds_the_reserve(server):
    before = server.organization("org_acme")
    assert server.initiate({"from_phone_number": FROM, "to_phone_number": TO}).status_code == 200
    after = server.organization("org_acme")
    assert after["reserved_cents"] == before["reserved_cents"] + 100
    assert after["available_cents"] == before["available_cents"] - 100
    assert after["balance_cents"] == before["balance_cents"]


def test_unknown_route_is_404(server):
    response = server.request("GET", "/nope")
    assert response.status_code == 404 and response.json() == {"detail": "Not found"}


def test_at_most_four_dynamodb_round_trips_per_call(server):
    """API-key lookup excluded: the authorizer's result is cached per token (as API Gateway does)."""
    server.initiate({"from_phone_number": FROM, "to_phone_number": TO})  # warm the authorizer cache
    for body in ({"from_phone_number": FROM, "to_phone_number": TO},  # the number's assistant
                 {"from_phone_number": FROM, "to_phone_number": TO, "assistant_id": 124}):  # override
        before = server.dynamodb_operations()
        assert server.initiate(body).status_code == 200
        after = server.dynamodb_operations()
        used = {op: after[op] - before.get(op, 0) for op in after if after[op] != before.get(op, 0)}
        assert sum(used.values()) <= 4, used
        assert used.get("TransactWriteItems") == 1  # reserve + record together
        assert "Scan" not in used


def test_authorizer_result_is_cached_per_key(server):
    server.initiate({"from_phone_number": FROM, "to_phone_number": TO}, key="sk_live_globex_demo")
    before = server.dynamodb_operations()
    server.initiate({"from_phone_number": "+15557654321", "to_phone_number": TO}, key="sk_live_globex_demo")
    after = server.dynamodb_operations()
    assert after.get("GetItem", 0) - before.get("GetItem", 0) == 1  # the assistant, not the key
