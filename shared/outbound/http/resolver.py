"""HTTP APIs off the call's cold path, built with Powertools' event handler and pydantic (the
request path of POST /calls/initiate keeps its measured hand-written routing: outbound.http.router).

``resolver()`` gives every such API (campaigns, webhook endpoints) the same behaviour as the
calls API: the organization from the API-key authorizer's context, every error as
``{"detail": "<sentence>"}`` (validation errors and bodies that are not UTF-8 are 400s naming the
problem, not Powertools' default 422 or a 500), an unknown route a 404, AWS failing beyond its
retries a 503 with Retry-After (outbound.http.router.failure_answer, shared with the call path).

The cheap checks run before Powertools looks at the request (a body that is not JSON is a 415, an
oversized body or query parameter a 400: outbound.http.router.check_request), and a body's JSON is read by
outbound.safe_json (bounded depth and numbers, no NaN, no key twice), never by ``json.loads``.
"""
from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)

from outbound.errors import INVALID_API_KEY, JSON_ONLY, ApiError, BadRequest, Unauthenticated
from outbound.http.router import check_request, failure_answer, response
from outbound.safe_json import JsonRefused, loads

JSON = "application/json"


def detail(status: int, sentence: str, headers: dict[str, str] | None = None) -> Response:
    return Response(status_code=status, content_type=JSON, body=json.dumps({"detail": sentence}), headers=headers)


def validation_sentence(errors: list[dict[str, Any]]) -> str:
    """The first problem as a sentence naming the field (``url is required``,
    ``Unknown field: x``, ``pacing.max_concurrent_calls: Input should be ...``)."""
    if not errors:
        return "Request body is not valid"
    error = errors[0]
    location = [str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path", "header")]
    name = ".".join(location) or "body"
    kind = error.get("type", "")
    if kind == "json_invalid" or (kind in ("model_attributes_type", "dict_type") and name == "body"):
        return "Request body must be a JSON object"
    if kind == "missing":
        return f"{name} is required"
    if kind == "extra_forbidden":
        return f"Unknown field: {name}"
    if kind == "literal_error":  # ctx: "'a', 'b' or 'c'"
        choices = str((error.get("ctx") or {}).get("expected", "")).replace(" or ", ", ").replace("'", "")
        return f"{name} must be one of: {choices}"
    message = str(error.get("msg", "is not valid")).removeprefix("Value error, ")
    return f"{name}: {message}" if location else message


def json_body(text: str) -> Any:
    """Powertools' JSON deserializer for request bodies: outbound.safe_json, refusals as 400s."""
    try:
        return loads(text)
    except JsonRefused as exc:
        raise BadRequest(str(exc)) from None


class JsonApiResolver(APIGatewayRestResolver):
    """Powertools' REST resolver, with the body's cheap checks before any of its own parsing."""

    def resolve(self, event: Any, context: Any) -> dict[str, Any]:
        try:
            check_request(event)
        except ApiError as exc:
            return response(exc.status, exc.body(), exc.headers)
        return super().resolve(event, context)


def resolver(logger: Logger) -> APIGatewayRestResolver:
    app = JsonApiResolver(enable_validation=True, json_body_deserializer=json_body)

    @app.exception_handler(ApiError)
    def _api_error(exc: ApiError) -> Response:
        return Response(status_code=exc.status, content_type=JSON, body=json.dumps(exc.body()), headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    def _invalid(exc: RequestValidationError) -> Response:
        return detail(400, validation_sentence(exc.errors()))

    @app.exception_handler(UnicodeDecodeError)
    def _undecodable(exc: UnicodeDecodeError) -> Response:  # a body that is not UTF-8 text
        return detail(400, "Request body must be a JSON object (UTF-8 text)")

    @app.exception_handler(RequestUnsupportedContentType)
    def _unsupported(exc: RequestUnsupportedContentType) -> Response:  # check_json_body answers first
        return detail(415, JSON_ONLY)

    @app.not_found
    def _not_found(exc: Exception) -> Response:
        return detail(404, "Not found")

    @app.exception_handler(Exception)
    def _unexpected(exc: Exception) -> Response:
        status, body, headers = failure_answer(exc, logger)
        return detail(status, body["detail"], headers or None)

    return app


def organization_id(app: APIGatewayRestResolver) -> str:
    """The caller's organization, from the API-key authorizer (never from the request)."""
    authorizer: Any = (app.current_event.raw_event.get("requestContext") or {}).get("authorizer") or {}
    org = authorizer.get("organization_id")
    if not org:
        raise Unauthenticated(INVALID_API_KEY)
    return org
