"""BurkiApiFunction: Burki's API under /burki, for Burki's own SDK (routes: outbound.http.burki;
what each answers: outbound.burki). Off the call's cold path (CallsApiFunction keeps its own), so
Powertools' event handler and pydantic do the routing and validation here."""
from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from outbound import deadline
from outbound.http.burki import app

logger = Logger(service="outbound-burki")


@logger.inject_lambda_context(correlation_id_path="requestContext.requestId")
def lambda_handler(event: dict, context: Any) -> dict:
    deadline.start(context, event)  # calls.initiate places calls: the same deadline rules
    return app.resolve(event, context)
