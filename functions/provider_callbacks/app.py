"""ProviderCallbacksFunction: POST /webhooks/{provider}, the providers' call status callbacks.

No API key (the providers cannot send one): each request is verified with its provider's own
signature scheme and the credentials of the organization that owns the call (see
outbound.provider_callbacks), then moves the call forward and settles it once
(outbound.provider_callbacks.apply). 403 for a bad or missing signature, with nothing written.

Same lightweight style as CallsApiFunction (botocore, no pydantic, no Powertools resolver, no
provider SDK but twilio's request validator).

The URL a provider signed (Twilio signs the exact URL it called) is rebuilt the way the adapters
built it: ``<public base URL>/webhooks/<provider>`` plus the query string, the public base URL
being PUBLIC_API_URL (custom domain) or ``https://{domainName}/{stage}``. Replay windows are
measured against API Gateway's receipt time (``requestContext.requestTimeEpoch``), which callers
cannot set.
"""
from __future__ import annotations

import base64
import time
from typing import Any
from urllib.parse import urlencode

from aws_lambda_powertools import Logger

from outbound.config import public_api_url
from outbound.errors import ApiError, BadRequest, NotFound
from outbound.http.router import failure_answer, response
from outbound.metrics import emits_metrics
from outbound.provider_callbacks import PROVIDERS, WebhookRequest
from outbound.provider_callbacks.apply import handle_status_webhook
from outbound.safe_json import MAX_BODY_BYTES

logger = Logger(service="outbound-webhooks")


def webhook_request(event: dict, provider: str) -> WebhookRequest:
    query: dict[str, list[str]] = {}
    multi = event.get("multiValueQueryStringParameters")
    if multi:
        query = {k: list(v) for k, v in multi.items()}
    elif event.get("queryStringParameters"):
        query = {k: [v] for k, v in event["queryStringParameters"].items()}
    url = f"{public_api_url(event.get('requestContext') or {})}/webhooks/{provider}"
    if query:
        url += "?" + urlencode([(k, v) for k, values in query.items() for v in values])
    body = event.get("body") or ""
    if len(body) * 3 // 4 > MAX_BODY_BYTES:  # cheap, before decoding anything
        raise BadRequest(f"Request body must be at most {MAX_BODY_BYTES} bytes")
    raw = base64.b64decode(body) if event.get("isBase64Encoded") else body.encode("utf-8", "surrogatepass")
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items() if v is not None}
    epoch_ms = (event.get("requestContext") or {}).get("requestTimeEpoch")
    received_at = epoch_ms / 1000 if isinstance(epoch_ms, (int, float)) else time.time()
    return WebhookRequest(provider, url, headers, raw, query, received_at)


@logger.inject_lambda_context(correlation_id_path="requestContext.requestId")
@emits_metrics  # business metrics as EMF lines (outbound.metrics)
def lambda_handler(event: dict, context: Any) -> dict:
    provider = (event.get("pathParameters") or {}).get("provider")
    if event.get("httpMethod") != "POST" or provider not in PROVIDERS:
        return response(404, NotFound("Not found").body())
    try:
        return response(200, handle_status_webhook(webhook_request(event, provider)))
    except ApiError as exc:
        return response(exc.status, exc.body(), exc.headers)
    except Exception as exc:  # AWS unavailable: 503 with Retry-After, and the provider retries
        return response(*failure_answer(exc, logger))
