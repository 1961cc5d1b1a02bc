"""OpenApiFunction: GET /openapi.json, the API's OpenAPI 3.1 document (no API key).

A function of its own so the document (and the modules it reads its limits from) adds nothing
to the cold start of the functions that serve calls. The document is built once per container.
"""
from __future__ import annotations

import json
from typing import Any

from outbound.http.openapi import openapi_document


def lambda_handler(event: dict, context: Any) -> dict:
    if event.get("httpMethod") not in (None, "GET"):
        return {"statusCode": 404, "headers": {"Content-Type": "application/json"},
                "body": json.dumps({"detail": "Not found"})}
    return {"statusCode": 200,
            "headers": {"Content-Type": "application/json", "Cache-Control": "public, max-age=300"},
            "body": json.dumps(openapi_document())}
