"""A local API Gateway (REST API, proxy integration) for the routes template.yaml declares.

It builds the events API Gateway would send, runs the TOKEN authorizer with a result cache
keyed by the token (as AuthorizerResultTtlInSeconds does), and answers with the template's
gateway responses when the authorizer refuses or no route matches.
"""
from __future__ import annotations

import base64
import dataclasses
import json
import os
import threading
import time
import uuid
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qs

from . import functions
from .template import Authorizer, Template, load

ACCOUNT_ID = "123456789012"
API_ID = "local"


class LocalApiGateway:
    def __init__(self, template: Template | None = None, stage: str | None = None):
        self.template = template or load()
        self.stage = stage or self.template.parameter_default("StageName") or "v1"
        # API Gateway matches a literal path segment before a {parameter} (/calls/schedules
        # before /calls/{call_ref}): try the routes with fewer parameters first.
        self.routes = sorted(self.template.routes(), key=lambda route: route.path.count("{"))
        self.authorizer = authorizer_with_local_ttl(self.template.authorizer())
        self._cache: dict[str, tuple[float, dict]] = {}
        self._cache_lock = threading.Lock()

    def handle(self, method: str, path: str, query: str, headers: dict[str, str], body: bytes,
               host: str, source_ip: str = "127.0.0.1") -> tuple[int, dict[str, str], bytes]:
        for route in self.routes:
            params = route.match(method, path)
            if params is not None:
                break
        else:
            return self._gateway_response("MISSING_AUTHENTICATION_TOKEN")
        context = None
        if route.authorizer is not None:  # `Auth: {Authorizer: NONE}` routes skip it, as on AWS
            token = _header(headers, self.authorizer.header)
            if not token:
                return self._gateway_response("UNAUTHORIZED")
            try:
                authorized = self._authorize(token, method, route.path)
            except Exception:  # the authorizer failed (e.g. DynamoDB unavailable): API Gateway's answer
                return self._gateway_response("AUTHORIZER_FAILURE")
            if authorized is None:
                return self._gateway_response("UNAUTHORIZED")
            if authorized.get("effect") != "Allow":
                return self._gateway_response("ACCESS_DENIED")
            context = authorized["context"]
        event = self.proxy_event(method, path, query, headers, body, host, source_ip, route.path, params,
                                 context)
        try:
            result = functions.invoke(route.function, event)
        except Exception:  # what API Gateway answers when the integration fails
            return self._gateway_response("DEFAULT_5XX", 502, "Internal server error")
        return _http_response(result)

    def _authorize(self, token: str, method: str, resource: str) -> dict | None:
        now = time.monotonic()
        with self._cache_lock:
            cached = self._cache.get(token)
            if cached and cached[0] > now:
                return cached[1]
        arn = f"arn:aws:execute-api:us-east-1:{ACCOUNT_ID}:{API_ID}/{self.stage}/{method}{resource}"
        event = {"type": "TOKEN", "authorizationToken": token, "methodArn": arn}
        try:
            policy = functions.invoke(self.authorizer.function, event)
        except Exception as exc:
            if str(exc) != "Unauthorized":
                raise
            return None  # API Gateway does not cache a 401
        statement = policy["policyDocument"]["Statement"][0]
        authorized = {"effect": statement["Effect"],
                      "context": {"principalId": policy.get("principalId"), **(policy.get("context") or {})}}
        if self.authorizer.ttl_seconds > 0:
            with self._cache_lock:
                self._cache[token] = (now + self.authorizer.ttl_seconds, authorized)
        return authorized

    def proxy_event(self, method: str, path: str, query: str, headers: dict[str, str], body: bytes,
                    host: str, source_ip: str, resource: str, params: dict[str, str],
                    authorizer: dict[str, Any] | None) -> dict[str, Any]:
        """The REST API (payload v1) proxy event, as API Gateway builds it."""
        multi_query = parse_qs(query, keep_blank_values=True) if query else None
        try:
            text, is_base64 = body.decode("utf-8"), False
        except UnicodeDecodeError:
            text, is_base64 = base64.b64encode(body).decode(), True
        now = datetime.now(timezone.utc)
        return {
            "resource": resource,
            "path": path,
            "httpMethod": method,
            "headers": dict(headers) or None,
            "multiValueHeaders": {k: [v] for k, v in headers.items()} or None,
            "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} if multi_query else None,
            "multiValueQueryStringParameters": multi_query,
            "pathParameters": params or None,
            "stageVariables": None,
            "requestContext": {
                "resourceId": "local", "resourcePath": resource, "httpMethod": method,
                "extendedRequestId": str(uuid.uuid4()), "requestId": str(uuid.uuid4()),
                "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
                "requestTimeEpoch": int(now.timestamp() * 1000),
                "path": f"/{self.stage}{path}", "accountId": ACCOUNT_ID, "protocol": "HTTP/1.1",
                "stage": self.stage, "domainPrefix": host.split(".")[0], "domainName": host,
                "apiId": API_ID,
                "identity": {"sourceIp": source_ip, "userAgent": _header(headers, "User-Agent")},
                **({"authorizer": authorizer} if authorizer is not None else {}),
            },
            "body": text if body else None,
            "isBase64Encoded": is_base64,
        }

    def _gateway_response(self, kind: str, status: int = 500, message: str = "") -> tuple[int, dict, bytes]:
        configured = self.template.gateway_response(kind)
        headers = {"Content-Type": "application/json", **self.template.gateway_response_headers(kind)}
        if configured is None:
            configured = self.template.gateway_response("DEFAULT_5XX")
        if configured:
            code = configured[0] or status
            body = configured[1].replace("$context.error.messageString", message)
            return code, headers, body.encode()
        return status, {"Content-Type": "application/json"}, json.dumps({"message": message}).encode()


AUTHORIZER_CACHE_ENV = "OUTBOUND_LOCAL_AUTHORIZER_CACHE_S"


def authorizer_with_local_ttl(authorizer: Authorizer) -> Authorizer:
    """The template's ReauthorizeEvery (AuthorizerCacheSeconds' default), or
    $OUTBOUND_LOCAL_AUTHORIZER_CACHE_S: a deployment with another AuthorizerCacheSeconds, locally
    (the key-revocation test uses 2 s instead of waiting 300)."""
    override = os.environ.get(AUTHORIZER_CACHE_ENV)
    if not override:
        return authorizer
    if not override.isdigit():
        raise ValueError(f"{AUTHORIZER_CACHE_ENV} must be a whole number of seconds, not {override!r}")
    return dataclasses.replace(authorizer, ttl_seconds=int(override))


def _header(headers: dict[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name.lower():
            return value
    return None


def _http_response(result: dict) -> tuple[int, dict[str, str], bytes]:
    headers = dict(result.get("headers") or {})
    for key, values in (result.get("multiValueHeaders") or {}).items():
        headers[key] = ", ".join(values)
    body = result.get("body") or ""
    raw = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode()
    return int(result.get("statusCode", 200)), headers, raw
