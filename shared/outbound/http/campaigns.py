"""The Campaigns API (CampaignsApiFunction): campaigns, their contacts and imports, and the
organization's do-not-call list. Thin: each route validates (pydantic), calls one use case and
shapes the answer. Its OpenAPI paths are generated from these routes (``openapi_fragment``)."""
from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from outbound.campaigns import contacts as campaign_contacts
from outbound.campaigns import imports as campaign_imports
from outbound.campaigns import lifecycle as campaigns
from outbound.campaigns.models import CampaignCreate, ContactsAdd, SuppressionIn
from outbound.campaigns.policy import CONTACT_STATUSES
from outbound.compliance import suppressions
from outbound.config import settings
from outbound.errors import BadRequest, Conflict, Unprocessable
from outbound.http import compliance
from outbound.http.resolver import JSON, organization_id, resolver
from outbound.idempotency import check_key

logger = Logger(child=True)
app = resolver(logger)
app.include_router(compliance.router)  # the calling rules, beside the do-not-call list

TAGS = ["campaigns", "suppressions", *compliance.TAGS]


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _ok(description: str, status: int = 200) -> dict[int, Any]:
    return {status: {"description": description, "content": {JSON: {"schema": {"type": "object"}}}}}


COMMON = {400: _error("Invalid body or query (the field is named)."),
          401: _error("No, unknown or revoked API key."), 429: _error("Throttled."),
          503: _error("AWS unavailable beyond retries; retry.")}
FOUND = {**COMMON, 404: _error("No such campaign of your organization.")}
MOVES = {**FOUND, 409: _error("Not allowed in the campaign's current status.")}


# --- campaigns ------------------------------------------------------------------------------------------

@app.post("/campaigns", tags=["campaigns"], summary="Create a campaign (draft)",
          responses={**_ok("The campaign, in draft.", 201), **COMMON,
                     403: _error("The from number or assistant is not your organization's."),
                     404: _error("No assistant resolves for the from number.")})
def create(body: CampaignCreate):
    return _json(campaigns.create_campaign(organization_id(app), body), 201)


@app.get("/campaigns", tags=["campaigns"], summary="List your campaigns, newest first",
         responses={**_ok("A page of campaigns."), **COMMON})
def list_(limit: Annotated[str | None, Query()] = None, next_token: Annotated[str | None, Query()] = None):
    return _json(campaigns.list_campaigns(organization_id(app), limit, next_token))


@app.get("/campaigns/<campaign_id>", tags=["campaigns"], summary="A campaign, with its progress",
         responses={**_ok("The campaign."), **FOUND})
def get(campaign_id: str):
    return _json(campaigns.get_campaign(organization_id(app), campaign_id))


@app.post("/campaigns/<campaign_id>/start", tags=["campaigns"], summary="Start a draft (at start_at, if ahead)",
          responses={**_ok("The campaign, running or scheduled."), **MOVES})
def start(campaign_id: str):
    return _json(campaigns.start_campaign(organization_id(app), campaign_id))


@app.post("/campaigns/<campaign_id>/pause", tags=["campaigns"], summary="Pause: no new dial; calls in flight finish",
          responses={**_ok("The campaign, paused."), **MOVES})
def pause(campaign_id: str):
    return _json(campaigns.pause_campaign(organization_id(app), campaign_id))


@app.post("/campaigns/<campaign_id>/resume", tags=["campaigns"], summary="Resume a paused campaign",
          responses={**_ok("The campaign, running again."), **MOVES})
def resume(campaign_id: str):
    return _json(campaigns.resume_campaign(organization_id(app), campaign_id))


@app.post("/campaigns/<campaign_id>/cancel", tags=["campaigns"],
          summary="Cancel: waiting contacts end canceled; with end_calls=true its calls in flight are hung up",
          responses={**_ok("The campaign, canceled (with end_calls: ended_calls, the calls hung up and those "
                           "that could not be, with why)."), **MOVES})
def cancel(campaign_id: str, end_calls: Annotated[bool, Query(
        description="Also end the campaign's calls in flight (each provider's own hang-up); "
                    "by default they finish normally.")] = False):
    return _json(campaigns.cancel_campaign(organization_id(app), campaign_id, end_calls))


@app.get("/campaigns/<campaign_id>/stats", tags=["campaigns"],
         summary="Live figures: in flight against the cap, dials per minute against the limit, outcomes over time, "
                 "answer rate by the recipient's local hour",
         responses={**_ok("The campaign's statistics (from its newest 5,000 attempts at most: see complete)."),
                    **FOUND})
def stats(campaign_id: str):
    from outbound.campaigns.stats import campaign_stats

    return _json(campaign_stats(organization_id(app), campaign_id))


@app.post("/campaigns/<campaign_id>/preview", tags=["campaigns"],
          summary="Dry run of a draft or paused campaign: when each contact would first be dialed, or why not; "
                  "counts, attempts, finish time and cost (nothing dialed, reserved or written)",
          responses={**_ok("A page of per-contact forecasts; on the first page (no next_token) the summary over "
                           "every contact."), **FOUND,
                     409: _error("The campaign is neither a draft nor paused.")})
def preview(campaign_id: str, limit: Annotated[str | None, Query()] = None,
            next_token: Annotated[str | None, Query()] = None):
    from outbound.campaigns.preview import preview_campaign

    return _json(preview_campaign(organization_id(app), campaign_id, limit, next_token))


# --- contacts ---------------------------------------------------------------------------------------------

@app.post("/campaigns/<campaign_id>/contacts", tags=["campaigns"],
          summary="Add up to 1,000 contacts (per-row errors; honours Idempotency-Key)",
          responses={**_ok("What was added, and the rows refused with why."), **MOVES,
                     422: _error("Idempotency-Key reused with another body.")})
def add_contacts(campaign_id: str, body: ContactsAdd):
    org = organization_id(app)
    key = app.current_event.get_header_value("Idempotency-Key", case_sensitive=False)
    if key is None:
        return _json(campaign_contacts.add_contacts(org, campaign_id, body.contacts))
    return _json(*_add_once(org, campaign_id, body, key))


@app.get("/campaigns/<campaign_id>/contacts", tags=["campaigns"],
         summary="A campaign's contacts (optionally of one status), each with its attempts' call ids",
         responses={**_ok("A page of contacts."), **FOUND})
def list_contacts(campaign_id: str, status: Annotated[str | None, Query()] = None,
                  limit: Annotated[str | None, Query()] = None,
                  next_token: Annotated[str | None, Query()] = None):
    if status and status not in CONTACT_STATUSES:
        raise BadRequest(f"status must be one of: {', '.join(CONTACT_STATUSES)}")
    return _json(campaign_contacts.list_contacts(organization_id(app), campaign_id, status or None, limit, next_token))


@app.get("/campaigns/<campaign_id>/results.csv", tags=["campaigns"],
         summary="The contacts' outcomes as CSV (10,000 rows per part; X-Next-Token for the next part)",
         responses={200: {"description": "CSV.", "content": {"text/csv": {"schema": {"type": "string"}}}}, **FOUND})
def results(campaign_id: str, next_token: Annotated[str | None, Query()] = None):
    text, more = campaign_contacts.results_csv(organization_id(app), campaign_id, next_token)
    headers = {"Content-Disposition": f'attachment; filename="{campaign_id}-results.csv"'}
    if more:
        headers["X-Next-Token"] = more
    return Response(status_code=200, content_type="text/csv", body=text, headers=headers)


@app.post("/campaigns/<campaign_id>/imports", tags=["campaigns"],
          summary="Import contacts from a CSV: answers an upload URL; processed when uploaded",
          responses={**_ok("The import, waiting for its upload (PUT the CSV to upload_url).", 201), **MOVES})
def create_import(campaign_id: str):
    return _json(campaign_imports.create_import(organization_id(app), campaign_id), 201)


@app.get("/campaigns/<campaign_id>/imports/<import_id>", tags=["campaigns"], summary="An import's progress and row errors",
         responses={**_ok("The import."), **FOUND})
def get_import(campaign_id: str, import_id: str):
    return _json(campaign_imports.get_import(organization_id(app), campaign_id, import_id))


# --- do-not-call --------------------------------------------------------------------------------------------

@app.post("/suppressions", tags=["suppressions"], summary="Add a number to your do-not-call list",
          responses={**_ok("The entry (adding it again keeps the first).", 201), **COMMON})
def suppress(body: SuppressionIn):
    return _json(suppressions.add(organization_id(app), body.phone_number, body.reason), 201)


@app.get("/suppressions", tags=["suppressions"], summary="Your do-not-call list, by number (searchable by its beginning)",
         responses={**_ok("A page of entries."), **COMMON})
def list_suppressions(limit: Annotated[str | None, Query()] = None,
                      next_token: Annotated[str | None, Query()] = None,
                      starting_with: Annotated[str | None, Query(description="Only the numbers that begin so "
                                                                             "(e.g. +1555).")] = None):
    return _json(suppressions.list_all(organization_id(app), limit, next_token, starting_with))


@app.delete("/suppressions/<phone_number>", tags=["suppressions"], summary="Remove a number from the list",
            responses={**_ok("Removed."), **COMMON, 404: _error("Not on the list.")})
def unsuppress(phone_number: str):
    return _json(suppressions.remove(organization_id(app), phone_number))


# --- plumbing ------------------------------------------------------------------------------------------------

def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(status_code=status, content_type=JSON, body=json.dumps(body), headers=headers)


def _add_once(org: str, campaign_id: str, body: ContactsAdd, key: str) -> tuple[dict[str, Any], int, dict[str, str]]:
    """POST .../contacts with an Idempotency-Key (Powertools idempotency, in the table): the same
    key and body answer the first result again; another body is a 422; one in flight a 409."""
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyValidationError,
    )

    check_key(key)
    persistence = DynamoDBPersistenceLayer(
        table_name=settings().table_name, key_attr="pk", sort_key_attr="sk",
        static_pk_value="IDEMPOTENCY#campaign-contacts", expiry_attr="expires_at",
        status_attr="idempotency_status", data_attr="idempotency_data", validation_key_attr="idempotency_body")
    replayed: list[bool] = []

    def mark_replayed(response: Any, record: Any) -> Any:  # called only for a stored answer
        replayed.append(True)
        return response

    config = IdempotencyConfig(event_key_jmespath="key", payload_validation_jmespath="body",
                               expires_after_seconds=24 * 3600, response_hook=mark_replayed)

    @idempotent_function(data_keyword_argument="request", persistence_store=persistence, config=config)
    def add(request: dict[str, Any]) -> dict[str, Any]:
        return campaign_contacts.add_contacts(org, campaign_id, body.contacts)

    fingerprint = hashlib.sha256(body.model_dump_json().encode()).hexdigest()
    try:
        result = add(request={"key": f"{org}|{campaign_id}|{key}", "body": fingerprint})
    except IdempotencyValidationError:
        raise Unprocessable("Idempotency-Key was already used with a different request") from None
    except IdempotencyAlreadyInProgressError:
        raise Conflict("A request with this Idempotency-Key is still in progress") from None
    return result, 200, ({"Idempotent-Replayed": "true"} if replayed else {})


def openapi_fragment() -> dict[str, Any]:
    """This API's paths for the service's OpenAPI document (routes as API Gateway writes them)."""
    document = json.loads(app.get_openapi_json_schema())
    paths = {path.replace("<", "{").replace(">", "}"): ops for path, ops in document.get("paths", {}).items()}
    schemas = {name: schema for name, schema in (document.get("components") or {}).get("schemas", {}).items()
               if name not in ("HTTPValidationError", "ValidationError")}
    return {"tags": TAGS, "paths": paths, "schemas": schemas}
