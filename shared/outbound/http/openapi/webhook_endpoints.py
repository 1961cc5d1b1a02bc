"""The webhook-endpoint API's part of the OpenAPI document, generated from its Powertools resolver
and pydantic models (outbound.http.webhook_endpoints), then made to say what the API answers:
every error is the shared ``Error`` schema (``{"detail"}``; a failed validation is a 400, not
Powertools' default 422), every operation needs the API key, and operations get stable ids.
"""
from __future__ import annotations

import copy
from typing import Any

from outbound.http.openapi.parts import common_errors

OPERATION_IDS = {
    ("post", "/webhook-endpoints"): "createWebhookEndpoint",
    ("get", "/webhook-endpoints"): "listWebhookEndpoints",
    ("get", "/webhook-endpoints/{endpoint_id}"): "getWebhookEndpoint",
    ("delete", "/webhook-endpoints/{endpoint_id}"): "deleteWebhookEndpoint",
    ("post", "/webhook-endpoints/{endpoint_id}/rotate-secret"): "rotateWebhookSecret",
    ("get", "/webhook-endpoints/{endpoint_id}/deliveries"): "listWebhookEndpointDeliveries",
    ("get", "/calls/{call_ref}/webhook-deliveries"): "listCallWebhookDeliveries",
    ("post", "/webhook-deliveries/{delivery_id}/retry"): "retryWebhookDelivery",
}
DROPPED_SCHEMAS = ("HTTPValidationError", "ValidationError", "ResponseValidationError", "Error")  # Error: the calls fragment's


def fragment() -> dict[str, Any]:
    from outbound.http.webhook_endpoints import app

    generated = app.get_openapi_schema().model_dump(by_alias=True, exclude_none=True, mode="json")
    paths: dict[str, Any] = {}
    for path, item in generated["paths"].items():
        for method, operation in item.items():
            paths.setdefault(path, {})[method] = _operation(method, path, copy.deepcopy(operation))
    schemas = {name: body for name, body in generated["components"]["schemas"].items()
               if name not in DROPPED_SCHEMAS}
    return {"tags": ["webhooks"], "paths": paths, "schemas": schemas}


def _operation(method: str, path: str, operation: dict[str, Any]) -> dict[str, Any]:
    operation["operationId"] = OPERATION_IDS[(method, path)]
    operation["security"] = [{"bearerAuth": []}]
    responses = operation["responses"]
    responses.pop("422", None)
    if "requestBody" in operation:
        responses.setdefault("400", {"description": "A body that is not valid (the detail names the field).",
                                     "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}})
    responses.update(common_errors())
    operation["responses"] = dict(sorted(responses.items()))
    return operation
