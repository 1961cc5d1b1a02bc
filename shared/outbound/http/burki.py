"""Burki's API under ``/burki`` (BurkiApiFunction): the paths, query parameters and bodies Burki's
Python SDK sends, answered by outbound.burki in the shapes its models validate. Off the call's cold
path, so Powertools' resolver and pydantic do the routing and validation; errors keep the SDK's
mapping (``{"detail": ...}``: 400 for bad input, 401, 404, 409...). Its OpenAPI paths are generated
from these routes (``openapi_fragment``)."""
from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import ValidationError

from outbound.burki import calls, campaigns
from outbound.burki.models import BurkiCampaignCreate, BurkiCampaignUpdate, BurkiContactsAdd, BurkiMetadata
from outbound.config import public_api_url
from outbound.http.resolver import JSON, detail, organization_id, resolver, validation_sentence
from outbound.http.router import body_text

logger = Logger(child=True)
app = resolver(logger)

PREFIX = "/burki"
CALLS, CAMPAIGNS = f"{PREFIX}/api/v1/calls", f"{PREFIX}/api/v1/campaigns"
TAGS = ["burki"]


@app.exception_handler(ValidationError)
def _invalid(exc: ValidationError) -> Response:  # a Burki body mapped onto a native model
    return detail(400, validation_sentence(exc.errors()))


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _ok(description: str, kind: str = "object", status: int = 200) -> dict[int, Any]:
    return {status: {"description": description, "content": {JSON: {"schema": {"type": kind}}}}}


COMMON = {400: _error("Invalid body or query (the field is named)."),
          401: _error("No, unknown or revoked API key."), 429: _error("Throttled."),
          503: _error("AWS unavailable beyond retries; retry.")}
CALL = {**COMMON, 404: _error("No such call of your organization.")}
CAMPAIGN = {**COMMON, 404: _error("No such campaign of your organization.")}
MOVES = {**CAMPAIGN, 409: _error("Not allowed in the campaign's current status.")}
Skip = Annotated[int, Query(ge=0, le=calls.MAX_SKIP)]


def _json(body: Any, status: int = 200) -> Response:
    return Response(status_code=status, content_type=JSON, body=json.dumps(body))


# --- calls -------------------------------------------------------------------------------------------

@app.post(f"{PREFIX}/calls/initiate", tags=TAGS, summary="calls.initiate: POST /calls/initiate, Burki's answer",
          description="The native initiate (same body, same checks, same call); answered as Burki does "
                      "(`success`, the call's integer `call_id`).",
          responses={**_ok("The provider accepted the call."), **COMMON,
                     402: _error("Available balance below the per-call reserve."),
                     403: _error("The from number or assistant_id is not your organization's."),
                     404: _error("No assistant resolves for the from number."),
                     502: _error("The provider refused or failed the call; nothing was charged."),
                     504: _error("The provider did not answer in time; the call may still be placed.")})
def initiate():
    event = app.current_event.raw_event
    return _json(calls.initiate(organization_id(app), body_text(event), public_api_url(event["requestContext"])))


@app.get(CALLS, tags=TAGS, summary="calls.list: the organization's calls, newest first",
         responses={**_ok("The calls (a list).", "array"), **COMMON})
def list_calls(skip: Skip = 0, limit: Annotated[int, Query(ge=1, le=1000)] = 100,
               status: Annotated[str | None, Query(max_length=20)] = None,
               assistant_id: Annotated[int | None, Query()] = None,
               customer_phone: Annotated[str | None, Query(max_length=32)] = None,
               date_from: Annotated[datetime | None, Query()] = None,
               date_to: Annotated[datetime | None, Query()] = None,
               min_duration: Annotated[int | None, Query(ge=0)] = None,
               max_duration: Annotated[int | None, Query(ge=0)] = None):
    found = calls.call_filter(status, assistant_id, customer_phone, date_from, date_to, min_duration, max_duration)
    return _json(calls.search(organization_id(app), found, skip, limit))


@app.get(f"{CALLS}/count", tags=TAGS, summary="calls.get_count: how many calls match",
         responses={**_ok("`{\"count\": n}`."), **COMMON})
def count_calls(status: Annotated[str | None, Query(max_length=20)] = None,
                assistant_id: Annotated[int | None, Query()] = None,
                date_from: Annotated[datetime | None, Query()] = None,
                date_to: Annotated[datetime | None, Query()] = None):
    return _json(calls.count(organization_id(app), calls.call_filter(status, assistant_id, None, date_from, date_to)))


@app.get(f"{CALLS}/sid/<call_sid>", tags=TAGS, summary="calls.get_by_sid: a call by its provider's id",
         responses={**_ok("The call."), **CALL})
def get_call_by_sid(call_sid: str):
    return _json(calls.get_by_sid(organization_id(app), call_sid))


@app.get(f"{CALLS}/<call_ref>", tags=TAGS, summary="calls.get: a call by its integer id (or call_id, call_sid)",
         responses={**_ok("The call."), **CALL})
def get_call(call_ref: str):
    return _json(calls.get(organization_id(app), call_ref))


@app.patch(f"{CALLS}/<call_ref>/metadata", tags=TAGS, summary="calls.update_metadata: merge into its metadata",
           responses={**_ok("The call."), **CALL, 409: _error("The metadata kept changing meanwhile.")})
def update_metadata(call_ref: str, body: BurkiMetadata):
    return _json(calls.update_metadata(organization_id(app), call_ref, body.metadata))


@app.post(f"{CALLS}/<call_ref>/terminate", tags=TAGS,
          summary="calls.terminate: the provider hangs up (as POST /calls/{call_ref}/terminate)",
          responses={**_ok("The hang-up was asked; the call ends with its provider's final webhook."), **CALL,
                     409: _error("The call has already ended, or its provider's id is not known yet."),
                     502: _error("The provider refused the hang-up."),
                     504: _error("The provider did not answer the hang-up in time: ask again.")})
def terminate(call_ref: str):
    return _json(calls.terminate(organization_id(app), call_ref))


@app.get(f"{CALLS}/<call_ref>/webhook-logs", tags=TAGS,
         summary="calls.get_webhook_logs: its outcome events sent to your webhook endpoints, per attempt",
         responses={**_ok("The logs (a list).", "array"), **CALL})
def webhook_logs(call_ref: str, webhook_type: Annotated[str | None, Query(max_length=64)] = None):
    return _json(calls.webhook_logs(organization_id(app), call_ref, webhook_type))


# --- campaigns ---------------------------------------------------------------------------------------

@app.post(CAMPAIGNS, tags=TAGS, summary="campaigns.create: a draft, with its contacts",
          responses={**_ok("The campaign."), **COMMON,
                     403: _error("The from number or assistant is not your organization's."),
                     404: _error("No assistant resolves for the from number.")})
def create_campaign(body: BurkiCampaignCreate):
    return _json(campaigns.create(organization_id(app), body))


@app.get(CAMPAIGNS, tags=TAGS, summary="campaigns.list: newest first",
         responses={**_ok("The campaigns (a list).", "array"), **COMMON})
def list_campaigns(status: Annotated[str | None, Query(max_length=20)] = None, skip: Skip = 0,
                   limit: Annotated[int, Query(ge=1, le=1000)] = 50):
    return _json(campaigns.list_(organization_id(app), status, skip, limit))


@app.get(f"{CAMPAIGNS}/<campaign_ref>", tags=TAGS, summary="campaigns.get", responses={**_ok("The campaign."),
                                                                                      **CAMPAIGN})
def get_campaign(campaign_ref: str):
    return _json(campaigns.get(organization_id(app), campaign_ref))


@app.patch(f"{CAMPAIGNS}/<campaign_ref>", tags=TAGS,
           summary="campaigns.update: name and description; a draft's schedule and settings",
           responses={**_ok("The campaign."), **MOVES})
def update_campaign(campaign_ref: str, body: BurkiCampaignUpdate):
    return _json(campaigns.update(organization_id(app), campaign_ref, body))


@app.delete(f"{CAMPAIGNS}/<campaign_ref>", tags=TAGS,
            summary="campaigns.delete: a draft, or an ended campaign with no call in flight",
            responses={**_ok("Deleted."), **MOVES})
def delete_campaign(campaign_ref: str):
    campaigns.delete(organization_id(app), campaign_ref)
    return _json({"success": True, "message": "Campaign deleted"})


def _move(how: str):
    def moved(campaign_ref: str):
        return _json(campaigns.move(organization_id(app), campaign_ref, how))
    moved.__name__ = f"{how}_campaign"
    return moved


for _how in campaigns.MOVES:
    app.post(f"{CAMPAIGNS}/<campaign_ref>/{_how}", tags=TAGS, summary=f"campaigns.{_how}",
             responses={**_ok("The campaign."), **MOVES})(_move(_how))


@app.get(f"{CAMPAIGNS}/<campaign_ref>/progress", tags=TAGS, summary="campaigns.get_progress",
         responses={**_ok("The progress."), **CAMPAIGN})
def campaign_progress(campaign_ref: str):
    return _json(campaigns.progress(organization_id(app), campaign_ref))


@app.get(f"{CAMPAIGNS}/<campaign_ref>/contacts", tags=TAGS, summary="campaigns.get_contacts",
         responses={**_ok("The contacts (a list).", "array"), **CAMPAIGN})
def campaign_contacts(campaign_ref: str, status: Annotated[str | None, Query(max_length=20)] = None, skip: Skip = 0,
                      limit: Annotated[int, Query(ge=1, le=1000)] = 100):
    return _json(campaigns.list_contacts(organization_id(app), campaign_ref, status, skip, limit))


@app.post(f"{CAMPAIGNS}/<campaign_ref>/contacts", tags=TAGS,
          summary="campaigns.add_contacts: the valid rows added, the others answered with why",
          responses={**_ok("What was added, and the rows refused."), **MOVES})
def add_campaign_contacts(campaign_ref: str, body: BurkiContactsAdd):
    return _json(campaigns.add_contacts(organization_id(app), campaign_ref, body.contacts))


def openapi_fragment() -> dict[str, Any]:
    """This API's paths for the service's OpenAPI document (routes as API Gateway writes them)."""
    document = json.loads(app.get_openapi_json_schema())
    paths = {path.replace("<", "{").replace(">", "}"): ops for path, ops in document.get("paths", {}).items()}
    schemas = {name: schema for name, schema in (document.get("components") or {}).get("schemas", {}).items()
               if name not in ("HTTPValidationError", "ValidationError")}
    return {"tags": TAGS, "paths": paths, "schemas": schemas}
