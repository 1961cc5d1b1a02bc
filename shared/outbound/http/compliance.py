"""The organization's calling rules over HTTP (``GET`` and ``PUT /organization/calling-rules``) and
its own pre-dial check (``PUT``, ``GET``, ``DELETE /organization/pre-dial-check``),
served by CampaignsApiFunction beside the do-not-call list: a Powertools router its resolver
includes (pydantic validation, off the call's cold path)."""
from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from outbound.compliance import calling_rules, pre_dial
from outbound.compliance.models import CallingRulesIn, PreDialCheckIn
from outbound.http.resolver import JSON, organization_id

router = Router()
TAGS = ["compliance"]


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _ok(description: str) -> dict[int, Any]:
    return {200: {"description": description, "content": {JSON: {"schema": {"type": "object"}}}}}


COMMON = {401: _error("No, unknown or revoked API key."), 429: _error("Throttled."),
          503: _error("AWS unavailable beyond retries; retry.")}


@router.get("/organization/calling-rules", tags=TAGS, summary="Your calling rules (window, days, dates with no "
                                                               "calls, frequency caps, consent)",
            responses={**_ok("The rules, their version and the legal floor."), **COMMON})
def get_rules():
    return _json(calling_rules.get_rules(organization_id(router)))


@router.put("/organization/calling-rules", tags=TAGS,
            summary="Replace your calling rules (fields left out take their defaults)",
            responses={**_ok("The rules as stored, with their new version."), **COMMON,
                       400: _error("Invalid rules (the field is named), e.g. a window outside 08:00-21:00."),
                       409: _error("Changed by another update meanwhile: read and try again.")})
def put_rules(body: CallingRulesIn):
    return _json(calling_rules.put_rules(organization_id(router), body))


@router.put("/organization/pre-dial-check", tags=TAGS,
            summary="Register your pre-dial check (asked before each campaign or scheduled dial), or change its "
                    "url and timeout",
            responses={**_ok("The check; at registration also its signing secret, shown this once."), **COMMON,
                       400: _error("Invalid: a URL that is not https or reaches a private address, a timeout "
                                   "outside 100-5000 ms."),
                       409: _error("Changed by another request meanwhile: read and try again.")})
def put_pre_dial_check(body: PreDialCheckIn):
    return _json(pre_dial.put_check(organization_id(router), body.url, body.timeout_ms))


@router.get("/organization/pre-dial-check", tags=TAGS, summary="Your pre-dial check (never its secret)",
            responses={**_ok("The check's id, url and timeout."), **COMMON,
                       404: _error("No pre-dial check is registered.")})
def get_pre_dial_check():
    return _json(pre_dial.get_check(organization_id(router)))


@router.delete("/organization/pre-dial-check", tags=TAGS,
               summary="Remove your pre-dial check (dials no longer ask it; its secret is deleted)",
               responses={**_ok("Removed."), **COMMON, 404: _error("No pre-dial check is registered.")})
def delete_pre_dial_check():
    return _json(pre_dial.delete_check(organization_id(router)))


def _json(body: Any, status: int = 200) -> Response:
    return Response(status_code=status, content_type=JSON, body=json.dumps(body))
