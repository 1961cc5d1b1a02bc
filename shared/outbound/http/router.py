"""What every API function shares about API Gateway's REST (proxy) events: reading the
authorizer's organization, headers, body and query, and answering ``{"detail": ...}`` errors.

A dict of routes on the event's ``resource`` instead of Powertools' event-handler resolver:
importing the resolver measured ~110 ms of a ~330 ms cold-start floor (``outbound bench
cold-start``), for routes API Gateway has already matched.
"""
from __future__ import annotations

import json
from typing import Any, Callable

from outbound.errors import (
    INVALID_API_KEY,
    JSON_ONLY,
    UNAVAILABLE,
    ApiError,
    AwsUnavailable,
    BadRequest,
    NotFound,
    Unauthenticated,
    UnsupportedMediaType,
)
from outbound.safe_json import MAX_BODY_BYTES

MISCONFIGURED = "The service is not configured correctly; its operator has been alerted."
# Every query parameter of this API is short (the longest, a next_token, is at most 1,024
# characters): a longer one is refused before any route parses it (int() of a 5,000-digit limit
# would raise).
MAX_QUERY_VALUE_CHARS = 1024
# Every id in a path (calls, schedules, campaigns, endpoints, phone numbers) is far shorter; a
# longer one names nothing, and DynamoDB refuses a key over 2,048 bytes with a ValidationException
# (a 500) rather than "not found". Same bound as store.calls.MAX_CALL_REF_CHARS.
MAX_PATH_PARAMETER_CHARS = 256

# A route answers a body (200), or (status, body) / (status, body, headers).
Route = Callable[[dict], Any]


def authorizer_context(event: dict) -> dict[str, Any]:
    """What the API-key authorizer said about the caller (organization_id, api_key_prefix)."""
    return ((event.get("requestContext") or {}).get("authorizer") or {})


def organization_id(event: dict) -> str:
    org = authorizer_context(event).get("organization_id")
    if not org:  # only if a route were deployed without the authorizer
        raise Unauthenticated(INVALID_API_KEY)
    return org


def header(event: dict, name: str) -> str | None:
    """A request header, whatever its case (REST API events keep the client's casing)."""
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == name.lower():
            return value
    return None


def is_json_media_type(content_type: str) -> bool:
    """``application/json`` or ``application/<anything>+json``, whatever its parameters."""
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def check_json_body(event: dict) -> None:
    """The cheap checks on a JSON route's body, before anything decodes or parses it: a body
    must say it is JSON (no Content-Type at all is taken as JSON, as curl users expect) or it
    is a 415, and must fit MAX_BODY_BYTES (400). A route without a body is not concerned."""
    body = event.get("body")
    if not body:
        return
    content_type = (header(event, "Content-Type") or "").strip()
    if content_type and not is_json_media_type(content_type):
        raise UnsupportedMediaType(f"{JSON_ONLY} (this request's body is {json.dumps(content_type[:60])})")
    size = len(body) * 3 // 4 if event.get("isBase64Encoded") else len(body)  # a lower bound, in bytes
    if size > MAX_BODY_BYTES or (len(body) * 4 > MAX_BODY_BYTES and not event.get("isBase64Encoded")
                                 and len(body.encode("utf-8", "surrogatepass")) > MAX_BODY_BYTES):
        raise BadRequest(f"Request body must be at most {MAX_BODY_BYTES} bytes")


def check_query(event: dict) -> None:
    """The cheap check on the query string: no parameter name or value over MAX_QUERY_VALUE_CHARS."""
    for name, values in (event.get("multiValueQueryStringParameters") or {}).items():
        for value in [name, *(values or [])]:
            if value is not None and len(value) > MAX_QUERY_VALUE_CHARS:
                raise BadRequest(f"Query parameters must be at most {MAX_QUERY_VALUE_CHARS} characters "
                                 f"({json.dumps(name[:40])} is longer)")


def check_path(event: dict) -> None:
    """An id in the path longer than MAX_PATH_PARAMETER_CHARS names nothing: 404."""
    for value in (event.get("pathParameters") or {}).values():
        if value is not None and len(value) > MAX_PATH_PARAMETER_CHARS:
            raise NotFound("Not found")


def check_request(event: dict) -> None:
    """Every cheap check, before a route reads or parses anything (both API styles)."""
    check_path(event)
    check_query(event)
    check_json_body(event)


def body_text(event: dict) -> str | None:
    """A JSON route's body as text, after :func:`check_json_body` (parse it with
    outbound.safe_json, as ``models.parse_json_object`` does)."""
    check_json_body(event)
    body = event.get("body")
    if body and event.get("isBase64Encoded"):
        import base64
        import binascii

        try:
            body = base64.b64decode(body).decode("utf-8")
        except (binascii.Error, ValueError):  # UnicodeDecodeError is a ValueError
            raise BadRequest("Request body must be UTF-8 text") from None
        if len(body.encode()) > MAX_BODY_BYTES:
            raise BadRequest(f"Request body must be at most {MAX_BODY_BYTES} bytes")
    return body


def single_valued_query(event: dict, allowed: tuple[str, ...]) -> dict[str, str]:
    """The query string, refusing an unknown parameter (like an unknown body field: a typo such
    as ``?stauts=`` would silently list everything) and a repeated one (``?status=a&status=b``:
    API Gateway would keep the last value, so the answer would depend on parameter order)."""
    for name, values in (event.get("multiValueQueryStringParameters") or {}).items():
        if name not in allowed:
            raise BadRequest(f"Unknown query parameter: {name}")
        if len(values) > 1:
            raise BadRequest(f"{name} must be given at most once")
    return event.get("queryStringParameters") or {}


def response(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"Content-Type": "application/json", **(headers or {})},
            "body": json.dumps(body)}


def error_answer(exc: ApiError) -> tuple[int, dict[str, Any], dict[str, str]]:
    """(status, body, headers) of an error the API answers on purpose: every API style's one mapping
    (``dispatch``, the webhooks, the Powertools resolver); ``failure_answer`` is the other kind."""
    return exc.status, exc.body(), exc.headers or {}


def dispatch(routes: dict[tuple[str, str], Route], event: dict, logger: Any) -> dict[str, Any]:
    """Run the event's route; every failure becomes a ``{"detail": ...}`` answer."""
    route = routes.get((event.get("httpMethod", ""), event.get("resource", "")))
    if route is None:
        return response(404, NotFound("Not found").body())
    try:
        check_request(event)
        result = route(event)
        return response(*result) if isinstance(result, tuple) else response(200, result)
    except ApiError as exc:
        return response(*error_answer(exc))
    except Exception as exc:
        return response(*failure_answer(exc, logger))


def failure_answer(exc: Exception, logger: Any) -> tuple[int, dict[str, Any], dict[str, str]]:
    """(status, body, headers) for an exception no route turned into an answer, by every API
    style (``dispatch``, the webhooks, the Powertools resolver). Never a traceback in the body:
    - AWS failing beyond the SDK's retries (throttled, 5xx, unreachable): 503 with Retry-After,
      so clients and providers retry; a warning, not an error (DynamoDbThrottlingAlarm watches);
    - AWS refusing the function's own role or credentials (AccessDenied...): the operator's
      configuration error, logged and counted as one (AwsConfigurationErrors), answered 500;
    - anything else is a bug: 500, logged with its traceback as "Unhandled error"."""
    code = aws_error_code(exc)
    if aws_unavailable(exc):
        logger.warning("AWS unavailable beyond retries: answered 503", extra={"aws_error": code or type(exc).__name__})
        return 503, {"detail": UNAVAILABLE}, {"Retry-After": "1"}
    if aws_configuration_error(exc):
        from outbound import metrics

        logger.error("AWS configuration error: the function's role or credentials were refused",
                     extra={"aws_error": code or type(exc).__name__,
                            "aws_operation": getattr(exc, "operation_name", None)})
        metrics.count(metrics.AWS_CONFIGURATION_ERRORS)
        return 500, {"detail": MISCONFIGURED}, {}
    logger.exception("Unhandled error")
    return 500, {"detail": "Internal server error"}, {}


# DynamoDB's reasons for canceling a transaction that another attempt may not meet.
RETRYABLE_CANCELLATIONS = frozenset({"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"})
RETRYABLE_CODES = frozenset({"ProvisionedThroughputExceededException", "ThrottlingException", "Throttling",
                             "RequestLimitExceeded", "TransactionInProgressException", "TooManyRequestsException"})
# AWS refusing who we are or what we may do: no retry helps, the operator must fix the stack.
CONFIGURATION_CODES = frozenset({
    "AccessDeniedException", "AccessDenied", "UnrecognizedClientException", "InvalidClientTokenId",
    "MissingAuthenticationTokenException", "IncompleteSignatureException", "InvalidSignatureException",
    "ExpiredTokenException", "NotAuthorized", "DecryptionFailure", "KMSAccessDeniedException", "KMSDisabledException",
    "KMSInvalidStateException", "KMSNotFoundException"})


def aws_error_code(exc: Exception) -> str | None:
    error = getattr(exc, "response", None)
    if not isinstance(error, dict):
        return None
    return (error.get("Error") or {}).get("Code") or None


def aws_unavailable(exc: Exception) -> bool:
    """An AWS error that outlasted the SDK's retries (throttling, 5xx, timeouts, connections, a
    transaction canceled by a conflict or throttling): botocore's ClientError recognised by its
    response, its transport errors by their base class (botocore is loaded on the request path
    already), and our own AwsUnavailable."""
    from botocore.exceptions import ConnectionError, HTTPClientError

    if isinstance(exc, (AwsUnavailable, HTTPClientError, ConnectionError)):  # timeouts, lost connections
        return True
    error = getattr(exc, "response", None)
    if not isinstance(error, dict):
        return False
    status = (error.get("ResponseMetadata") or {}).get("HTTPStatusCode") or 0
    code = aws_error_code(exc)
    if code == "TransactionCanceledException":
        reasons = {(reason or {}).get("Code") for reason in error.get("CancellationReasons") or []} - {"None", None}
        return bool(reasons) and reasons <= RETRYABLE_CANCELLATIONS
    return status >= 500 or code in RETRYABLE_CODES


def aws_configuration_error(exc: Exception) -> bool:
    """AWS refusing the function's credentials or permissions (a policy or key changed)."""
    from botocore.exceptions import NoCredentialsError, PartialCredentialsError

    return isinstance(exc, (NoCredentialsError, PartialCredentialsError)) or aws_error_code(exc) in CONFIGURATION_CODES
