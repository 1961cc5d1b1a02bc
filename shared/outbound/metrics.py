"""Business metrics in CloudWatch's embedded metric format (EMF), written with Powertools Metrics.

One JSON line per invocation (and per provider) on stdout; CloudWatch Logs turns it into metrics,
no PutMetricData call and no extra latency. Namespace: $POWERTOOLS_METRICS_NAMESPACE
(``OutboundCalls/<stack>``); dimensions: ``service`` (always ``outbound``, so that the API's and
the scheduled function's calls add up) with ``provider``, plus a second set with ``service``
alone: the totals over providers, which the provider failure-rate alarm uses.

Cost on the cold path, measured in fresh processes on the 2-core dev machine:
``from aws_lambda_powertools import Logger`` (on every function's path already) imports
Powertools' metrics package with it, so importing this module costs 1-3 ms; creating a provider,
adding a metric and writing its line 0.3-0.4 ms on first use. An A/B of the whole cold start
(handler import + first placed call, 30 alternating runs against the same local stack) put the
ledger and metrics together within the noise (median +25 ms of ~600 ms, p25 equal);
``outbound bench cold-start --check`` passes with them (figures in the README).

Why a provider per invocation rather than Powertools' ``Metrics`` object: ``Metrics`` keeps its
metric set at class level, shared by every instance in the process. On Lambda one invocation
runs at a time, but `outbound serve` runs every function in threads, where requests would mix
their metrics and dimensions; and one invocation may place calls through several providers.
A fresh ``AmazonCloudWatchEMFProvider`` (the provider ``Metrics`` itself uses) per invocation
and provider is isolated; ``emits_metrics`` writes them when the handler returns.

Metrics never fail a request: an error here is logged and dropped.
"""
from __future__ import annotations

import contextvars
import functools
import logging
from typing import Any, Callable

from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider

SERVICE = "outbound"
# The names the template's alarms and dashboard use (tests/contract checks they match).
CALLS_PLACED = "CallsPlaced"  # the provider accepted the call
CALLS_REFUSED = "CallsRefused"  # the provider refused it (or our credentials): 502
CALLS_TIMED_OUT = "CallsTimedOut"  # the provider did not answer in time: 504
CALLS_SETTLED = "CallsSettled"  # a final status settled the call's balance
CHARGED_CENTS = "ChargedCents"  # what the settlements charged
WEBHOOK_REJECTIONS = "WebhookRejections"  # a status webhook refused (bad or missing signature)
STUCK_CALLS_RELEASED = "StuckCallsReleased"  # the reserve sweeper released a call nobody heard of
UNPROVEN_EVENTS = "UnprovenProviderEvents"  # a signed status event not proven to be the call's: recorded
PROVIDER_ADJUSTMENTS = "ProviderAdjustments"  # a call's money corrected (or settled) from the provider's record
PROVIDER_CALLS_FLAGGED = "ProviderCallsFlagged"  # the provider does not report the call as finished
AWS_CONFIGURATION_ERRORS = "AwsConfigurationErrors"  # AWS refused a function's role or credentials
DIALS_REFUSED = "DialsRefusedByRules"  # a dial the calling rules refused (a direct one is answered 409/422)
PRE_DIAL_ALLOWED = "PreDialChecksAllowed"  # the organization's own pre-dial check allowed a dial
PRE_DIAL_DENIED = "PreDialChecksDenied"  # ... denied it (no call)
PRE_DIAL_FAILED = "PreDialChecksFailed"  # ... could not be asked or gave no readable answer (no call: fail closed)

_invocation: contextvars.ContextVar[dict[str | None, AmazonCloudWatchEMFProvider] | None] = \
    contextvars.ContextVar("outbound_metrics", default=None)
_log = logging.getLogger(__name__)


def count(name: str, provider: str | None = None, value: float = 1) -> None:
    """Add to a metric of the running invocation (outside a handler, e.g. the CLI: nothing)."""
    metrics = _invocation.get()
    if metrics is None:
        return
    try:
        if provider not in metrics:
            metrics[provider] = _provider_metrics(provider)
        metrics[provider].add_metric(name=name, unit="Count", value=value)
    except Exception:  # noqa: BLE001 - a metric must never fail the request
        _log.warning("metric %s dropped", name, exc_info=True)


def _provider_metrics(provider: str | None) -> AmazonCloudWatchEMFProvider:
    metrics = AmazonCloudWatchEMFProvider(service=SERVICE, metric_set={}, dimension_set={})
    if provider:
        metrics.add_dimension(name="provider", value=provider)
        metrics.add_dimensions(service=SERVICE)  # the same metric again, summed over providers
    return metrics


def emits_metrics(handler: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """Decorate a Lambda handler: collect its metrics, write them (one EMF line per provider)
    when it returns or raises."""

    @functools.wraps(handler)
    def wrapper(event: Any, context: Any) -> Any:
        token = _invocation.set({})
        try:
            return handler(event, context)
        finally:
            collected = _invocation.get() or {}
            _invocation.reset(token)
            for metrics in collected.values():
                try:
                    metrics.flush_metrics()  # honours POWERTOOLS_METRICS_DISABLED
                except Exception:  # noqa: BLE001
                    _log.warning("metrics dropped", exc_info=True)

    return wrapper
