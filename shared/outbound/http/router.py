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
    UNAVAILABLE,
    ApiError,
    BadRequest,
    NotFound,
    Unauthenticated,
)

# The whole body: the contract's fields at their limits (2 x 4,000 characters, 50 variables of
# up to 1,000 characters, even in 4-byte UTF-8) fit below this.
MAX_BODY_BYTES = 256 * 1024


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


def body_text(event: dict) -> str | None:
    body = event.get("body")
    if body and event.get("isBase64Encoded"):
        import base64

        body = base64.b64decode(body).decode("utf-8", "replace")
    if body and len(body.encode()) > MAX_BODY_BYTES:
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


def dispatch(routes: dict[tuple[str, str], Route], event: dict, logger: Any) -> dict[str, Any]:
    """Run the event's route; every failure becomes a ``{"detail": ...}`` answer."""
    route = routes.get((event.get("httpMethod", ""), event.get("resource", "")))
    if route is None:
        return response(404, NotFound("Not found").body())
    try:
        result = route(event)
        return response(*result) if isinstance(result, tuple) else response(200, result)
    except ApiError as exc:
        return response(exc.status, exc.body(), exc.headers)
    except Exception as exc:
        logger.exception("Unhandled error")
        if aws_unavailable(exc):
            return response(503, {"detail": UNAVAILABLE}, {"Retry-After": "1"})
        return response(500, {"detail": "Internal server error"})


def aws_unavailable(exc: Exception) -> bool:
    """An AWS error that outlasted the SDK's retries (throttling, 5xx, timeouts, connections):
    botocore's ClientError recognised by its response, its transport errors by their base class
    (botocore is loaded on the request path already)."""
    from botocore.exceptions import ConnectionError, HTTPClientError

    if isinstance(exc, (HTTPClientError, ConnectionError)):  # read/connect timeouts, lost connections
        return True
    error = getattr(exc, "response", None)
    if not isinstance(error, dict):
        return False
    status = (error.get("ResponseMetadata") or {}).get("HTTPStatusCode") or 0
    code = (error.get("Error") or {}).get("Code", "")
    return status >= 500 or code in ("ProvisionedThroughputExceededException", "ThrottlingException",
                                     "RequestLimitExceeded", "TransactionInProgressException")
