"""CallsApiFunction: POST /calls/initiate, GET /calls/{call_ref}, GET /calls (list),
POST /calls/{call_ref}/terminate, POST /calls/{call_ref}/opt-out, a call's timeline, ledger entries
and compliance evidence (GET /calls/{call_ref}/timeline, /ledger and /evidence), GET /organization/balance,
GET /organization/ledger and GET /organization/spend.

Thin: parse the event, call one use case, shape the response. The organization comes from
the API-key authorizer's (cached) context, never from the request body. Routing and error
answers: outbound.http.router (why not Powertools' resolver: measured cold start, see there).
Powertools' Logger (~25 ms) stays: structured JSON logs with the request's correlation id.
"""
from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from outbound import deadline, snapstart
from outbound.calls.get_call import get_call
from outbound.calls.idempotent_initiate import initiate_call_once
from outbound.calls.initiate import initiate_call
from outbound.calls.models import parse_initiate_request
from outbound.compliance.dial_check import DialOrigin
from outbound.config import public_api_url
from outbound.http.router import authorizer_context, body_text, dispatch, header, organization_id, single_valued_query
from outbound.metrics import emits_metrics

logger = Logger(service="outbound-calls")
snapstart.register()  # the restore hooks, for the stack's SnapStart parameter (outbound.snapstart)


def initiate(event: dict) -> Any:
    request = parse_initiate_request(body_text(event))
    callbacks_url = public_api_url(event["requestContext"])
    # Who asked, for the dial's evidence: the API key's prefix (never the key).
    origin = DialOrigin("api", api_key_prefix=authorizer_context(event).get("api_key_prefix"))
    key = header(event, "Idempotency-Key")
    if key is not None:
        body, headers = initiate_call_once(organization_id(event), request, callbacks_url, key, origin)
        return 200, body, headers
    return initiate_call(organization_id(event), request, callbacks_url, origin=origin)


def read_call(event: dict) -> dict:
    return get_call(organization_id(event), event["pathParameters"]["call_ref"])


def list_organization_calls(event: dict) -> dict:
    from outbound.calls.list_calls import list_calls  # imported when used: not on initiate's cold start

    query = single_valued_query(event, ("status", "limit", "next_token", "campaign_id", "schedule_id", "from", "to"))
    return list_calls(organization_id(event), query.get("status"), query.get("limit"), query.get("next_token"),
                      query.get("campaign_id"), query.get("schedule_id"), query.get("from"), query.get("to"))


def terminate(event: dict) -> Any:
    from outbound.calls.terminate import terminate_call  # imported when used: not on initiate's cold start

    return 202, terminate_call(organization_id(event), event["pathParameters"]["call_ref"])


def read_evidence(event: dict) -> dict:
    from outbound.compliance.evidence_api import call_evidence  # imported when used: not on initiate's cold start

    return call_evidence(organization_id(event), event["pathParameters"]["call_ref"])


def opt_out(event: dict) -> dict:
    # Here, beside terminate and the evidence, rather than in the campaigns' resolver: the voice
    # runtime's call-scoped routes, and this function already reads the evidence key that seals
    # the record. Imported when used: not on initiate's cold start.
    from outbound.compliance.opt_out import opt_out as opt_out_of_call

    return opt_out_of_call(organization_id(event), event["pathParameters"]["call_ref"], body_text(event),
                           authorizer_context(event).get("api_key_prefix"))


def read_balance(event: dict) -> dict:
    from outbound.money.ledger import get_balance  # imported when used: not on initiate's cold start

    return get_balance(organization_id(event))


def read_ledger(event: dict) -> dict:
    from outbound.money.ledger import list_ledger  # imported when used: not on initiate's cold start

    query = single_valued_query(event, ("limit", "next_token"))
    return list_ledger(organization_id(event), query.get("limit"), query.get("next_token"))


def read_timeline(event: dict) -> dict:
    from outbound.calls.timeline import call_timeline  # imported when used: not on initiate's cold start

    single_valued_query(event, ())
    return call_timeline(organization_id(event), event["pathParameters"]["call_ref"])


def read_call_ledger(event: dict) -> dict:
    from outbound.money.ledger import call_ledger  # imported when used: not on initiate's cold start

    single_valued_query(event, ())
    return call_ledger(organization_id(event), event["pathParameters"]["call_ref"])


def read_spend(event: dict) -> dict:
    from outbound.money.spend import spend_per_day  # imported when used: not on initiate's cold start

    query = single_valued_query(event, ("days",))
    return spend_per_day(organization_id(event), query.get("days"))


ROUTES = {
    ("POST", "/calls/initiate"): initiate,
    ("GET", "/calls/{call_ref}"): read_call,
    ("GET", "/calls"): list_organization_calls,
    ("POST", "/calls/{call_ref}/terminate"): terminate,
    ("GET", "/calls/{call_ref}/timeline"): read_timeline,
    ("GET", "/calls/{call_ref}/ledger"): read_call_ledger,
    ("GET", "/calls/{call_ref}/evidence"): read_evidence,
    ("POST", "/calls/{call_ref}/opt-out"): opt_out,
    ("GET", "/organization/balance"): read_balance,
    ("GET", "/organization/ledger"): read_ledger,
    ("GET", "/organization/spend"): read_spend,
}


@logger.inject_lambda_context(correlation_id_path="requestContext.requestId")
@emits_metrics  # business metrics as EMF lines (outbound.metrics)
def lambda_handler(event: dict, context: Any) -> dict:
    deadline.start(context, event)
    return dispatch(ROUTES, event, logger)
