"""The local EventBridge Scheduler's firing rules, on a clock the test moves (no waiting):
at() in its time zone, cron() on its wall clock (DST included), rate(), end dates, completion,
retries and the dead letter."""
from datetime import datetime, timedelta, timezone

import pytest

from outbound_local import scheduler as local_scheduler
from outbound_local.scheduler import LocalScheduler

UTC = timezone.utc


class _NotFound(Exception):
    pass


class FakeSchedulerClient:
    class exceptions:
        ResourceNotFoundException = _NotFound

    def __init__(self):
        self.deleted = []

    def delete_schedule(self, GroupName, Name):
        self.deleted.append(Name)


class FakeStack:
    def __init__(self):
        self.client = FakeSchedulerClient()
        self.aws = type("LocalAws", (), {"endpoint_url": "http://127.0.0.1:1"})()

    def boto(self, service):
        return self.client


@pytest.fixture
def fired(monkeypatch):
    events = []

    def invoke(function, event):
        events.append((function, event))
        if event.get("fail"):
            raise RuntimeError("boom")
        return {"outcome": "placed"}

    monkeypatch.setattr(local_scheduler.functions, "invoke", invoke)
    return events


def definition(expression, tz="UTC", **extra):
    return {"Name": "s1", "Arn": "arn:aws:scheduler:us-east-1:123456789012:schedule/g/s1",
            "ScheduleExpression": expression, "ScheduleExpressionTimezone": tz,
            "CreationDate": datetime(2026, 3, 7, 0, 0, tzinfo=UTC), "ActionAfterCompletion": "DELETE",
            "Target": {"Arn": "arn:aws:lambda:us-east-1:123456789012:function:ScheduledCallFunction",
                       "Input": '{"scheduled_time": "<aws.scheduler.scheduled-time>", '
                                '"attempt": "<aws.scheduler.attempt-number>"}',
                       "RetryPolicy": {"MaximumRetryAttempts": 2}}, **extra}


def run(sched, schedule, start, minutes, step=timedelta(minutes=1)):
    now = start
    while now <= start + timedelta(minutes=minutes):
        sched._fire_due(("g", "s1"), schedule, now)
        now += step


def test_at_fires_once_at_its_local_time_then_deletes_itself(fired):
    sched = LocalScheduler(FakeStack())
    schedule = definition("at(2026-03-10T09:00:00)", "Europe/Paris")  # 08:00 UTC
    sched._fire_due(("g", "s1"), schedule, datetime(2026, 3, 10, 7, 59, 59, tzinfo=UTC))
    assert fired == []
    for second in range(3):
        sched._fire_due(("g", "s1"), schedule, datetime(2026, 3, 10, 8, 0, second, tzinfo=UTC))
    assert [e["scheduled_time"] for _, e in fired] == ["2026-03-10T08:00:00Z"]
    assert fired[0][0] == "ScheduledCallFunction"
    assert sched.client.deleted == ["s1"]


def test_cron_fires_each_occurrence_on_the_wall_clock_across_spring_forward(fired):
    sched = LocalScheduler(FakeStack())
    schedule = definition("cron(30 2 * * ? *)", "America/New_York")
    run(sched, schedule, datetime(2026, 3, 7, 0, 0, tzinfo=UTC), minutes=3 * 24 * 60, step=timedelta(minutes=10))
    times = [e["scheduled_time"] for _, e in fired]
    # 2026-03-07 02:30 EST, 03-08 skipped (does not exist), 03-09 02:30 EDT
    assert times == ["2026-03-07T07:30:00Z", "2026-03-09T06:30:00Z"]
    assert sched.client.deleted == []  # a recurrence without an end never completes


def test_a_missed_tick_still_fires_every_due_occurrence_once(fired):
    sched = LocalScheduler(FakeStack())
    schedule = definition("cron(0/15 * * * ? *)")
    sched._fire_due(("g", "s1"), schedule, datetime(2026, 3, 7, 1, 0, tzinfo=UTC))
    sched._fire_due(("g", "s1"), schedule, datetime(2026, 3, 7, 1, 0, tzinfo=UTC))
    assert len(fired) == 4  # 00:15, 00:30, 00:45, 01:00, each once


def test_rate_and_end_date(fired):
    sched = LocalScheduler(FakeStack())
    schedule = definition("rate(2 hours)", EndDate=datetime(2026, 3, 7, 5, 0, tzinfo=UTC))
    run(sched, schedule, datetime(2026, 3, 7, 0, 0, tzinfo=UTC), minutes=8 * 60, step=timedelta(minutes=30))
    assert [e["scheduled_time"] for _, e in fired] == ["2026-03-07T02:00:00Z", "2026-03-07T04:00:00Z"]
    assert sched.client.deleted  # completed at its end date: ActionAfterCompletion DELETE


def test_a_failing_target_is_retried_per_its_policy_then_dead_lettered(fired):
    sched = LocalScheduler(FakeStack())
    schedule = definition("at(2026-03-10T09:00:00)")
    schedule["Target"]["Input"] = '{"fail": true, "attempt": "<aws.scheduler.attempt-number>"}'
    sched._fire_due(("g", "s1"), schedule, datetime(2026, 3, 10, 9, 0, tzinfo=UTC))
    assert [e["attempt"] for _, e in fired] == ["1", "2", "3"]  # 1 + MaximumRetryAttempts (2)
    [delivery] = sched.deliveries()
    assert delivery["dead_lettered"] is True and "boom" in delivery["error"]
