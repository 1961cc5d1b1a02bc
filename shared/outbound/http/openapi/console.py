"""The web console's part of the OpenAPI document: GET /console (a redirect to its index) and GET
/console/{proxy+} (its static files). No API key: the files hold no data. Nothing on a request
path imports this module."""
from __future__ import annotations

from typing import Any

from outbound.http.console import TYPES


def fragment() -> dict[str, Any]:
    from outbound.http.openapi.parts import error

    headers = {"Content-Security-Policy": {"description": "The console's strict policy: its own scripts, styles and "
                                                          "images only, no inline code, no eval, no framing.",
                                           "schema": {"type": "string"}},
               "ETag": {"schema": {"type": "string"}}}
    text = {"schema": {"type": "string"}}
    return {"tags": ["console"], "paths": {
        "/console": {"get": {
            "operationId": "openConsole", "tags": ["console"], "summary": "The web console (redirects to its index)",
            "security": [],
            "responses": {"302": {"description": "To console/index.html.",
                                  "headers": {"Location": {"schema": {"type": "string"}, "example": "console/index.html"}}}},
        }},
        "/console/{proxy+}": {"get": {
            "operationId": "getConsoleFile", "tags": ["console"], "summary": "A file of the web console",
            "description": "HTML, CSS, JavaScript modules and SVG, served from the API's origin with a strict "
                           "Content-Security-Policy. Revalidate with If-None-Match.",
            "security": [],
            "parameters": [{"name": "proxy+", "in": "path", "required": True, "schema": {"type": "string"},
                            "example": "index.html"},
                           {"name": "If-None-Match", "in": "header", "required": False, "schema": {"type": "string"}}],
            "responses": {
                "200": {"description": "The file.", "headers": headers,
                        "content": {kind.split(";")[0]: text for kind in dict.fromkeys(TYPES.values())}},
                "302": {"description": "The folder itself: to its index.html.",
                        "headers": {"Location": {"schema": {"type": "string"}}}},
                "304": {"description": "Unchanged since the ETag given.", "headers": headers},
                "404": error("No such file of the console.", "Not found"),
            },
        }},
    }}
