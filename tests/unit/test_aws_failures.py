"""How AWS failures are told apart (outbound.http.router.failure_answer): retryable ones are a 503 with
Retry-After, AWS refusing the function's role a configuration error, the rest a bug. And the two
places that met AWS failing without a botocore error to show: Secrets Manager's answers (over a
real loopback HTTP server) and BatchGetItem's unprocessed keys."""
from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from botocore.exceptions import ClientError, NoCredentialsError, ReadTimeoutError

from outbound import aws, credentials
from outbound.errors import UNAVAILABLE, AwsUnavailable
from outbound.http.router import (
    MISCONFIGURED,
    aws_configuration_error,
    aws_unavailable,
    failure_answer,
)


def client_error(code: str, status: int = 400, reasons: list[str] | None = None) -> ClientError:
    response = {"Error": {"Code": code, "Message": "..."}, "ResponseMetadata": {"HTTPStatusCode": status}}
    if reasons is not None:
        response["CancellationReasons"] = [{"Code": reason} for reason in reasons]
    return ClientError(response, "TransactWriteItems")


@pytest.mark.parametrize("exc", [
    client_error("InternalServerError", 500), client_error("ServiceUnavailable", 503),
    client_error("ProvisionedThroughputExceededException"), client_error("ThrottlingException"),
    client_error("RequestLimitExceeded"), client_error("TransactionInProgressException"),
    client_error("TransactionCanceledException", reasons=["None", "TransactionConflict"]),
    client_error("TransactionCanceledException", reasons=["ThrottlingError", "None", "None"]),
    client_error("TransactionCanceledException", reasons=["ProvisionedThroughputExceeded"]),
    ReadTimeoutError(endpoint_url="http://dynamodb"), AwsUnavailable("unprocessed keys"),
])
def test_retryable_failures_are_503_with_retry_after(exc):
    assert aws_unavailable(exc) and not aws_configuration_error(exc)
    assert failure_answer(exc, logging.getLogger("test")) == (503, {"detail": UNAVAILABLE}, {"Retry-After": "1"})


@pytest.mark.parametrize("exc", [
    client_error("TransactionCanceledException", reasons=["ConditionalCheckFailed", "None"]),
    client_error("TransactionCanceledException", reasons=["TransactionConflict", "ValidationError"]),
    client_error("TransactionCanceledException", reasons=["None"]),
    client_error("ValidationException"), ValueError("a bug"),
])
def test_other_failures_are_bugs(exc, caplog):
    assert not aws_unavailable(exc) and not aws_configuration_error(exc)
    with caplog.at_level(logging.ERROR):
        assert failure_answer(exc, logging.getLogger("test")) == (500, {"detail": "Internal server error"}, {})
    assert "Unhandled error" in caplog.text


@pytest.mark.parametrize("exc", [client_error("AccessDeniedException"), client_error("UnrecognizedClientException"),
                                 client_error("AccessDenied", 403), client_error("DecryptionFailure"),
                                 NoCredentialsError()])
def test_aws_refusing_the_role_is_a_configuration_error(exc, caplog):
    assert aws_configuration_error(exc) and not aws_unavailable(exc)
    with caplog.at_level(logging.ERROR):
        assert failure_answer(exc, logging.getLogger("test")) == (500, {"detail": MISCONFIGURED}, {})
    assert "AWS configuration error" in caplog.text and "Unhandled error" not in caplog.text


# --- Secrets Manager, over HTTP ---------------------------------------------------------------------

@pytest.fixture
def secrets_manager(monkeypatch):
    """A loopback server answering GetSecretValue as told: ``answer(status, body)``."""
    said: dict = {"status": 200, "body": {"SecretString": "{}"}}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            raw = json.dumps(said["body"]).encode()
            self.send_response(said["status"])
            self.send_header("Content-Type", "application/x-amz-json-1.1")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", f"http://127.0.0.1:{server.server_port}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "local")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "local")
    aws.reset()

    def answer(status: int, body: dict) -> None:
        said.update(status=status, body=body)

    yield answer
    server.shutdown()
    aws.reset()


@pytest.mark.parametrize("status,error", [(500, "InternalServiceError"), (400, "ThrottlingException"),
                                          (503, "ServiceUnavailable")])
def test_secrets_manager_failing_is_unavailable_not_missing_credentials(secrets_manager, status, error):
    secrets_manager(status, {"__type": error, "message": "..."})
    with pytest.raises(ClientError) as caught:
        credentials.get_secret_string("outbound/x/org/twilio", "twilio")
    assert aws_unavailable(caught.value)


def test_secrets_manager_refusing_the_role_is_a_configuration_error(secrets_manager):
    secrets_manager(400, {"__type": "AccessDeniedException", "message": "not authorized"})
    with pytest.raises(ClientError) as caught:
        credentials.get_secret_string("outbound/x/org/twilio", "twilio")
    assert aws_configuration_error(caught.value)


def test_a_secret_that_is_not_there_is_missing_credentials(secrets_manager):
    secrets_manager(400, {"__type": "ResourceNotFoundException", "message": "no such secret"})
    with pytest.raises(credentials.CredentialsMissing, match="No twilio credentials are configured"):
        credentials.get_secret_string("outbound/x/org/twilio", "twilio")


def test_secrets_manager_unreachable_is_unavailable(monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", "http://127.0.0.1:9")  # nothing listens
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "local")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "local")
    monkeypatch.setattr(credentials, "_pool", credentials.urllib3.PoolManager(retries=False))
    aws.reset()
    try:
        with pytest.raises(AwsUnavailable):
            credentials.get_secret_string("outbound/x/org/twilio", "twilio")
    finally:
        aws.reset()


# --- BatchGetItem's unprocessed keys -------------------------------------------------------------------

def test_keys_left_unprocessed_are_asked_again_then_a_503_not_a_loop(monkeypatch):
    """DynamoDB answers a throttled BatchGetItem with UnprocessedKeys rather than an error; the
    local DynamoDB never does, so this one is a stand-in client that always leaves them."""
    from outbound.store import base

    calls = []

    class Throttled:
        def batch_get_item(self, RequestItems):  # noqa: N803 - botocore's parameter name
            calls.append(RequestItems)
            return {"Responses": {}, "UnprocessedKeys": RequestItems}

    monkeypatch.setattr(base, "client", lambda: Throttled())
    monkeypatch.setattr(base, "BATCH_GET_BACKOFF_S", 0)
    with pytest.raises(AwsUnavailable):
        base.get_items([{"pk": "ORG#a", "sk": "ORG"}])
    assert len(calls) == base.BATCH_GET_ATTEMPTS


# --- ids too long to be DynamoDB keys ---------------------------------------------------------------

def test_a_path_id_too_long_to_be_a_key_is_404_before_any_read():
    """DynamoDB refuses a key over 2,048 bytes with a ValidationException (the local DynamoDB does
    not check): such an id is answered 404 before a route runs."""
    from outbound.http.router import MAX_PATH_PARAMETER_CHARS, dispatch

    reached = []
    routes = {("GET", "/calls/{call_ref}"): lambda event: reached.append(event) or {}}

    def event(ref: str) -> dict:
        return {"httpMethod": "GET", "resource": "/calls/{call_ref}", "pathParameters": {"call_ref": ref},
                "requestContext": {"authorizer": {"organization_id": "org"}}}

    answer = dispatch(routes, event("c" * (MAX_PATH_PARAMETER_CHARS + 1)), logging.getLogger("test"))
    assert answer["statusCode"] == 404 and json.loads(answer["body"]) == {"detail": "Not found"}
    assert reached == []
    assert dispatch(routes, event("c" * MAX_PATH_PARAMETER_CHARS), logging.getLogger("test"))["statusCode"] == 200
