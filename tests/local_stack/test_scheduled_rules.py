"""The template's scheduled rules (a function's ``Type: Schedule`` event, an ``AWS::Events::Rule``
with a ScheduleExpression) run on their schedule in the local stack as EventBridge runs them in
AWS: the reserve sweeper every 5 minutes, the provider reconciliation every hour, a disabled rule
never. On a clock the test moves (no waiting)."""
import threading
from datetime import timedelta, timezone

import pytest

from outbound_local import scheduler as local_scheduler
from outbound_local.scheduler import LocalScheduler
from outbound_local.template import load
from tests.conftest import wait_for

UTC = timezone.utc


class _Client:
    """Scheduler and SQS as the local scheduler uses them, with no schedules at all."""

    def get_paginator(self, name):
        return type("Paginator", (), {"paginate": lambda self, **kw: iter([{"ScheduleGroups": [], "Schedules": []}])})()


class TemplateStack:
    def __init__(self):
        self.template = load()
        self.aws = type("LocalAws", (), {"endpoint_url": "http://127.0.0.1:1"})()

    def boto(self, service):
        return _Client()


@pytest.fixture
def invoked(monkeypatch):
    calls, lock = [], threading.Lock()

    def invoke(function, event):
        with lock:
            calls.append((function, event))
        return {"ok": True}

    monkeypatch.setattr(local_scheduler.functions, "invoke", invoke)
    return calls


def test_the_sweep_rule_fires_every_five_minutes_and_the_reconciliation_hourly(invoked):
    sched = LocalScheduler(TemplateStack())
    began = sched.started_at
    sched.tick(began + timedelta(minutes=4, seconds=59))
    assert invoked == []
    sched.tick(began + timedelta(minutes=5, seconds=1))
    wait_for(lambda: [f for f, _ in invoked] == ["ReserveSweeperFunction"], timeout=5, what="the first sweep")
    event = invoked[0][1]
    assert event["source"] == "aws.events" and event["detail-type"] == "Scheduled Event"
    assert event["resources"][0].endswith(":rule/local-ReserveSweeperFunctionSweep")
    sched.tick(began + timedelta(minutes=60, seconds=1))  # late: one fire, not eleven
    wait_for(lambda: sorted(f for f, _ in invoked).count("ReserveSweeperFunction") == 2, timeout=5,
             what="the sweep an hour on")
    wait_for(lambda: [f for f, _ in invoked].count("ProviderReconcileFunction") == 1, timeout=5,
             what="the hourly reconciliation")
    assert "ScheduledCallFunction" not in [f for f, _ in invoked]  # ExampleRecurringCallRule is disabled
    fires = [d for d in sched.deliveries() if d["schedule"] and d["schedule"].startswith("rule/")]
    assert {d["schedule"] for d in fires} == {"rule/local-ReserveSweeperFunctionSweep",
                                              "rule/local-ProviderReconcileFunctionReconcile"}
