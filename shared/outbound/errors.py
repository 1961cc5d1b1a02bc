"""Errors the API answers with: an HTTP status and the contract's ``detail`` sentence."""
from __future__ import annotations

from typing import Any


class ApiError(Exception):
    status = 400

    def __init__(self, detail: str, headers: dict[str, str] | None = None, **extra: Any):
        super().__init__(detail)
        self.detail = detail
        self.extra = extra  # fields added beside "detail" (e.g. the call_id of a 504)
        self.headers = headers or {}  # e.g. Idempotent-Replayed on a replayed error

    def body(self) -> dict[str, Any]:
        return {"detail": self.detail, **self.extra}


class BadRequest(ApiError):
    status = 400


class Unauthenticated(ApiError):
    status = 401


class PaymentRequired(ApiError):
    status = 402


class Forbidden(ApiError):
    status = 403


class NotFound(ApiError):
    status = 404


class UnsupportedMediaType(ApiError):
    status = 415


class Unprocessable(ApiError):
    status = 422


class ProviderFailed(ApiError):
    status = 502


class ProviderTimedOut(ApiError):
    status = 504


INVALID_API_KEY = "Invalid or missing API key"
INSUFFICIENT_BALANCE = "Insufficient balance. Please add funds to continue making calls."
JSON_ONLY = "Content-Type must be application/json"
INVALID_E164 = "Invalid phone number format. Use E.164 format (e.g., +1234567890)"
UNAVAILABLE = ("The service is temporarily unavailable. Retry the request (with the same Idempotency-Key "
               "to be sure no second call is placed).")


def number_not_yours(number: str) -> Forbidden:
    return Forbidden(f"Unauthorized: phone number {number} does not belong to your organization")


def assistant_not_yours(assistant_id: int) -> Forbidden:
    return Forbidden(f"Unauthorized: assistant {assistant_id} does not belong to your organization")


def no_assistant_for(number: str) -> NotFound:
    return NotFound(f"No assistant found for phone number {number}")


class Conflict(ApiError):
    status = 409


class ServiceUnavailable(ApiError):
    status = 503


class AwsUnavailable(Exception):
    """An AWS dependency still failing after its retries (throttled, 5xx, unreachable) without a
    botocore error to show for it, e.g. BatchGetItem keys left unprocessed: answered 503."""


class Suppressed(Forbidden):
    """The destination is on the organization's do-not-call list."""


def suppressed(number: str) -> Suppressed:
    return Suppressed(f"Destination {number} is on your organization's do-not-call list")
