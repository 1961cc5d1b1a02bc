"""The webhook-endpoint API: Powertools' REST resolver with pydantic validation.

Off the call path (its own function, WebhookEndpointsFunction), so it uses the well-kept tools
the hot path cannot afford: the resolver validates bodies against the models below and the
OpenAPI fragment is generated from them (outbound.http.openapi.webhook_endpoints). Every error is
``{"detail": "<sentence>"}``; a body that fails validation is a 400 naming the field.
"""
from __future__ import annotations

from typing import Annotated, Any, Literal

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BaseModel, ConfigDict, Field

from outbound.http.resolver import resolver
from outbound.http.router import organization_id
from outbound.outcome_events import endpoints as usecase
from outbound.outcome_events.catalog import EVENT_TYPES
from outbound.outcome_events.guard import MAX_URL_CHARS

logger = Logger(child=True)
app = resolver(logger)

EventType = Literal[EVENT_TYPES]  # type: ignore[valid-type]


class Error(BaseModel):
    detail: str


class WebhookEndpointCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: Annotated[str, Field(min_length=1, max_length=MAX_URL_CHARS, examples=["https://example.com/hooks/calls"],
                              description="https:// only; must not resolve to a private, loopback, link-local "
                                          "or metadata address (checked now and at every delivery).")]
    events: Annotated[list[EventType], Field(min_length=1, max_length=len(EVENT_TYPES),
                                             examples=[["call.answered", "call.completed"]],
                                             description="The events to receive (campaign.* once campaigns exist).")]
    description: Annotated[str | None, Field(max_length=500)] = None


class WebhookEndpoint(BaseModel):
    id: str
    url: str
    events: list[str]
    description: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    secret_rotated_at: str | None = None


class WebhookEndpointCreated(WebhookEndpoint):
    secret: Annotated[str, Field(description="The signing secret (whsec_...), shown only now.")]


class WebhookEndpointList(BaseModel):
    webhook_endpoints: list[WebhookEndpoint]


class WebhookEndpointDeleted(BaseModel):
    message: str
    id: str


class WebhookSecretRotated(BaseModel):
    id: str
    secret: Annotated[str, Field(description="The new signing secret, shown only now.")]
    previous_secret_expires_at: Annotated[str, Field(
        description="Until then every delivery is signed with both the new and the previous secret.")]


class WebhookDeliveryAttempt(BaseModel):
    attempt: int
    at: str
    status_code: int | None = None
    latency_ms: int
    error: str | None = None


class WebhookDelivery(BaseModel):
    id: str
    endpoint_id: str
    subject: Annotated[str | None, Field(description="What the event is about: a call id (or a campaign id).")] = None
    event_id: str
    event_type: str
    sequence: int
    status: Literal["pending", "succeeded", "failed"]
    attempt_count: int
    attempts: list[WebhookDeliveryAttempt]
    created_at: str | None = None
    succeeded_at: str | None = None
    next_attempt_at: str | None = None


class WebhookDeliveryList(BaseModel):
    call_id: str
    deliveries: list[WebhookDelivery]


class WebhookEndpointDeliveryLog(BaseModel):
    endpoint_id: str
    deliveries: list[WebhookDelivery]
    next_token: Annotated[str | None, Field(description="Pass it as `next_token` for the next page.")] = None


def _json(model: type[BaseModel], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"model": model}}}


def _error(description: str) -> dict[str, Any]:
    return _json(Error, description)


NOT_FOUND = _error("No such webhook endpoint in the organization (another organization's too).")


@app.post("/webhook-endpoints", tags=["webhooks"], summary="Create a webhook endpoint", responses={
    201: _json(WebhookEndpointCreated, "Created; `secret` is shown only in this answer."),
    400: _error("Invalid body, or a URL the rules refuse (the detail names the rule)."),
    409: _error("The organization already has the maximum number of endpoints."),
    503: _error("Other requests kept changing the organization's endpoints at the same moment; retry.")})
def create(body: WebhookEndpointCreate):
    created = usecase.create_endpoint(organization_id(app.current_event.raw_event), body.url,
                                      list(body.events), body.description)
    return created, 201


@app.get("/webhook-endpoints", tags=["webhooks"], summary="List the organization's webhook endpoints",
         responses={200: _json(WebhookEndpointList, "The endpoints, oldest first (secrets are never shown).")})
def index():
    return usecase.list_endpoints(organization_id(app.current_event.raw_event))


@app.get("/webhook-endpoints/<endpoint_id>", tags=["webhooks"], summary="Read a webhook endpoint",
         responses={200: _json(WebhookEndpoint, "The endpoint (its secret is never shown)."), 404: NOT_FOUND})
def read(endpoint_id: str):
    return usecase.get_endpoint(organization_id(app.current_event.raw_event), endpoint_id)


@app.delete("/webhook-endpoints/<endpoint_id>", tags=["webhooks"], summary="Delete a webhook endpoint",
            responses={200: _json(WebhookEndpointDeleted, "Deleted, with its secret; pending deliveries stop."),
                       404: NOT_FOUND,
                       503: _error("Other requests kept changing the organization's endpoints at the same moment; retry.")})
def delete(endpoint_id: str):
    return usecase.delete_endpoint(organization_id(app.current_event.raw_event), endpoint_id)


@app.post("/webhook-endpoints/<endpoint_id>/rotate-secret", tags=["webhooks"], summary="Rotate the signing secret",
          responses={200: _json(WebhookSecretRotated, "The new secret; the previous one signs too for 24 hours."),
                     404: NOT_FOUND})
def rotate(endpoint_id: str):
    return usecase.rotate_secret(organization_id(app.current_event.raw_event), endpoint_id)


@app.get("/webhook-endpoints/<endpoint_id>/deliveries", tags=["webhooks"],
         summary="An endpoint's delivery log, newest first",
         responses={200: _json(WebhookEndpointDeliveryLog, "A page of the endpoint's deliveries, each with its attempts."),
                    400: _error("A bad limit or next_token."), 404: NOT_FOUND})
def endpoint_log(endpoint_id: str, limit: Annotated[str | None, Query()] = None,
                 next_token: Annotated[str | None, Query()] = None):
    return usecase.endpoint_deliveries(organization_id(app.current_event.raw_event), endpoint_id, limit, next_token)


@app.get("/calls/<call_ref>/webhook-deliveries", tags=["webhooks"], summary="A call's webhook deliveries",
         responses={200: _json(WebhookDeliveryList, "Every delivery of the call's events, with each attempt."),
                    404: _error("No such call in the organization.")})
def call_deliveries(call_ref: str):
    return usecase.call_deliveries(organization_id(app.current_event.raw_event), call_ref)


@app.post("/webhook-deliveries/<delivery_id>/retry", tags=["webhooks"], summary="Deliver again",
          responses={202: _json(WebhookDelivery, "Queued for delivery now (also a delivery that succeeded: a replay)."),
                     404: _error("No such delivery in the organization."),
                     409: _error("The delivery's endpoint was deleted.")})
def retry(delivery_id: str):
    return usecase.retry_delivery(organization_id(app.current_event.raw_event), delivery_id), 202
