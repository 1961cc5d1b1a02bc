"""The local EventBridge Scheduler: fires moto's schedules when they are due.

moto keeps schedules (create/get/list/delete) but never fires one (checked with moto 5). This thread,
started by ``outbound serve``, does what the service would, every ``interval`` seconds:
- lists every group's ENABLED schedules (and reads each one once per modification);
- ``at(...)``: due at that local time in ``ScheduleExpressionTimezone`` (UTC by default);
  ``cron(...)``: at each next fire on that time zone's wall clock (outbound.schedules.times: the
  same DST rules as the service); ``rate(N minutes|hours|days)``: every N units from its start;
  never before ``StartDate`` nor after ``EndDate``;
- delivers the target's ``Input`` with the context attributes rendered
  (``<aws.scheduler.schedule-arn>``, ``<aws.scheduler.scheduled-time>``, ``<aws.scheduler.execution-id>``,
  ``<aws.scheduler.attempt-number>``) to the target function, in this process, like a Lambda
  invocation; an error is retried per the target's ``RetryPolicy`` (at once: locally there is no
  reason to wait), then recorded as dead-lettered;
- deletes a completed schedule whose ``ActionAfterCompletion`` is DELETE (a fired ``at()``, a
  recurrence past its ``EndDate``).

Every delivery is listed at ``GET /_local/scheduler/deliveries``; ``POST /_local/scheduler/deliver``
hands one more delivery of any input to ScheduledCallFunction (what a repeated delivery is).

It also runs template.yaml's scheduled EventBridge rules as EventBridge does: a function's
``Type: Schedule`` event (the reserve sweeper's ``Sweep``, the provider reconciliation's
``Reconcile``) and an enabled ``AWS::Events::Rule`` with a ``ScheduleExpression`` and a function
target. ``rate()`` counts from the moment the local stack started (a rule's creation), ``cron()``
in UTC; each fire is a ``Scheduled Event`` (or the target's ``Input`` / ``InputTransformer``)
invoked asynchronously, like Lambda's async invocation, and listed with the deliveries
(``schedule``: ``rule/<name>``). A fire missed while the machine slept happens once, not once
per missed period.
"""
from __future__ import annotations

import json
import re
import secrets
import threading
from datetime import datetime, timedelta, timezone
from typing import Any

from outbound.schedules.times import iso_utc, local_to_instant, parse_cron, zone

from . import functions

UTC = timezone.utc
SCHEDULED_CALL_FUNCTION = "ScheduledCallFunction"
_RATE = re.compile(r"^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$", re.ASCII)  # \d: 0-9 only
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def _aware(value: Any) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class LocalScheduler:
    def __init__(self, stack: Any, interval: float = 0.25):
        self.client = stack.boto("scheduler")
        self.sqs = stack.boto("sqs")
        self.endpoint = stack.aws.endpoint_url
        self.interval = interval
        self._definitions: dict[tuple[str, str], tuple[Any, dict]] = {}  # (group, name) -> (modified, schedule)
        self._cursors: dict[tuple[str, str], datetime] = {}  # recurring: the last fire handled
        self._done: set[tuple[str, str, Any]] = set()  # one-time schedules fired (kept when not deleted)
        self._deliveries: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.started_at = datetime.now(UTC)  # the rules' creation: rate() counts from here
        self.rules = template_rules(stack) if hasattr(stack, "template") else []
        self._rule_cursors: dict[str, datetime] = {}

    # --- lifecycle ----------------------------------------------------------------------------
    def start(self) -> "LocalScheduler":
        self._thread = threading.Thread(target=self._run, name="local-scheduler", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.tick(datetime.now(UTC))
            except Exception as exc:  # keep firing the others; say what went wrong
                print(f"local scheduler: {type(exc).__name__}: {exc}", flush=True)

    # --- firing -------------------------------------------------------------------------------
    def tick(self, now: datetime) -> None:
        self._fire_rules(now)
        seen = set()
        for group in self._groups():
            for page in self.client.get_paginator("list_schedules").paginate(GroupName=group):
                for summary in page["Schedules"]:
                    key = (group, summary["Name"])
                    seen.add(key)
                    if summary.get("State", "ENABLED") != "ENABLED":
                        continue
                    schedule = self._definition(key, summary.get("LastModificationDate"))
                    if schedule is not None:
                        self._fire_due(key, schedule, now)
        for key in set(self._definitions) - seen:  # deleted: forget it
            self._definitions.pop(key, None)
            self._cursors.pop(key, None)

    def _groups(self) -> list[str]:
        names = []
        for page in self.client.get_paginator("list_schedule_groups").paginate():
            names.extend(group["Name"] for group in page["ScheduleGroups"])
        return names

    def _definition(self, key: tuple[str, str], modified: Any) -> dict | None:
        cached = self._definitions.get(key)
        if cached and cached[0] == modified:
            return cached[1]
        try:
            schedule = self.client.get_schedule(GroupName=key[0], Name=key[1])
        except self.client.exceptions.ResourceNotFoundException:
            return None
        self._definitions[key] = (modified, schedule)
        return schedule

    def _fire_due(self, key: tuple[str, str], schedule: dict, now: datetime) -> None:
        expression = schedule["ScheduleExpression"].strip()
        tz_name = schedule.get("ScheduleExpressionTimezone") or "UTC"
        start, end = _aware(schedule.get("StartDate")), _aware(schedule.get("EndDate"))
        if start is not None and now < start:
            return
        if expression.startswith("at("):
            local = datetime.fromisoformat(expression[3:-1])
            instant = local_to_instant(local, zone(tz_name))
            marker = (key[0], key[1], expression)
            if instant is None or instant > now or marker in self._done:
                return
            self._done.add(marker)
            self.deliver_schedule(schedule, instant)
            self._complete(key, schedule)
            return
        created = _aware(schedule.get("CreationDate")) or now
        cursor = self._cursors.setdefault(key, max(created, start or created))
        while True:
            following = self._next(expression, tz_name, cursor, start or created)
            if following is None or (end is not None and following > end):
                if end is not None and now >= end:
                    self._complete(key, schedule)
                return
            if following > now:
                return
            self._cursors[key] = cursor = following
            self.deliver_schedule(schedule, following)

    @staticmethod
    def _next(expression: str, tz_name: str, after: datetime, origin: datetime) -> datetime | None:
        if expression.startswith("cron("):
            return parse_cron(expression).next_after(after, zone(tz_name))
        found = _RATE.match(expression)
        if found is None:
            return None
        period = int(found.group(1)) * _UNIT_SECONDS[found.group(2).rstrip("s")]
        elapsed = (after - origin).total_seconds()
        return origin + timedelta(seconds=(int(elapsed // period) + 1) * period)

    def _complete(self, key: tuple[str, str], schedule: dict) -> None:
        if schedule.get("ActionAfterCompletion") == "DELETE":
            try:
                self.client.delete_schedule(GroupName=key[0], Name=key[1])
            except self.client.exceptions.ResourceNotFoundException:
                pass

    def deliver_schedule(self, schedule: dict, scheduled_time: datetime) -> dict[str, Any]:
        """One fire: the target's input, rendered, to the target function (with its retry policy)
        or SQS queue."""
        target = schedule["Target"]
        if target["Arn"].startswith("arn:aws:sqs:"):
            return self._send_to_queue(schedule, target, scheduled_time)
        retries = int((target.get("RetryPolicy") or {}).get("MaximumRetryAttempts", 185))
        function = target["Arn"].rsplit(":function:", 1)[-1].split(":")[0]
        attempt, error = 0, None
        while attempt <= min(retries, 3):  # locally at most 4 attempts: enough to see a retry
            attempt += 1
            event = json.loads(self._render(target.get("Input") or "{}", schedule, scheduled_time, attempt))
            try:
                result = functions.invoke(function, event)
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"
                continue
            return self._record(schedule["Name"], scheduled_time, attempt, event, result, None)
        return self._record(schedule["Name"], scheduled_time, attempt, event, None, error)

    def _send_to_queue(self, schedule: dict, target: dict, scheduled_time: datetime) -> dict[str, Any]:
        """An SQS target: the rendered input as the message body (the queue's consumer runs through
        the local event sources, as on AWS)."""
        text = self._render(target.get("Input") or "{}", schedule, scheduled_time, 1)
        queue_name = target["Arn"].rsplit(":", 1)[1]
        args: dict[str, Any] = {"QueueUrl": f"{self.endpoint}/{target['Arn'].split(':')[4]}/{queue_name}",
                                "MessageBody": text}
        group = (target.get("SqsParameters") or {}).get("MessageGroupId")
        if group:
            args["MessageGroupId"] = group
        try:
            self.sqs.send_message(**args)
            error = None
        except Exception as exc:  # recorded like a dead-lettered fire
            error = f"{type(exc).__name__}: {exc}"
        return self._record(schedule["Name"], scheduled_time, 1, json.loads(text), {"sent_to": queue_name}, error)

    @staticmethod
    def _render(text: str, schedule: dict, scheduled_time: datetime, attempt: int) -> str:
        for name, value in {"schedule-arn": schedule["Arn"], "scheduled-time": iso_utc(scheduled_time),
                            "execution-id": secrets.token_hex(8), "attempt-number": str(attempt)}.items():
            text = text.replace(f"<aws.scheduler.{name}>", value)
        return text

    # --- EventBridge rules -----------------------------------------------------------------------
    def _fire_rules(self, now: datetime) -> None:
        for rule in self.rules:
            cursor = self._rule_cursors.get(rule.name, self.started_at)
            due, following = None, self._next(rule.expression, "UTC", cursor, self.started_at)
            while following is not None and following <= now:  # the latest occurrence due: fired once
                due, following = following, self._next(rule.expression, "UTC", following, self.started_at)
            if due is None:
                continue
            self._rule_cursors[rule.name] = due
            threading.Thread(target=self._fire_rule, args=(rule, due), daemon=True,
                             name=f"local-rule-{rule.name}").start()

    def _fire_rule(self, rule: "Rule", at: datetime) -> None:
        event = {"version": "0", "id": secrets.token_hex(16), "detail-type": "Scheduled Event",
                 "source": "aws.events", "account": ACCOUNT_ID, "time": iso_utc(at), "region": REGION,
                 "resources": [f"arn:aws:events:{REGION}:{ACCOUNT_ID}:rule/{rule.name}"], "detail": {}}
        payload = rule.payload(event)
        try:
            result, error = functions.invoke(rule.function, payload), None
        except Exception as exc:  # an async invocation's error: in the function's log, retried by Lambda
            result, error = None, f"{type(exc).__name__}: {exc}"
        self._record(f"rule/{rule.name}", at, 1, payload, result, error)

    def deliver(self, event: Any) -> Any:
        """One more delivery of an input (a repeated delivery, or an event by hand)."""
        try:
            result = functions.invoke(SCHEDULED_CALL_FUNCTION, event)
        except Exception as exc:  # what the Lambda service reports for a function error
            result = {"errorMessage": str(exc), "errorType": type(exc).__name__}
        self._record(None, None, 1, event, result, None)
        return result

    def _record(self, name: str | None, scheduled_time: datetime | None, attempts: int, event: Any,
                result: Any, error: str | None) -> dict[str, Any]:
        entry = {"schedule": name, "scheduled_time": iso_utc(scheduled_time) if scheduled_time else None,
                 "delivered_at": iso_utc(datetime.now(UTC)), "attempts": attempts, "input": event,
                 "result": result, "dead_lettered": error is not None, "error": error}
        with self._lock:
            self._deliveries.append(entry)
        if error is not None:
            print(f"local scheduler: {name} dead-lettered after {attempts} attempts: {error}", flush=True)
        return entry

    def deliveries(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._deliveries)



# --- template.yaml's scheduled rules ------------------------------------------------------------------

ACCOUNT_ID, REGION = "123456789012", "us-east-1"
_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.-]+)>")


class Rule:
    """A scheduled rule with one function target: what it sends is a Scheduled Event, the
    target's constant ``Input``, or its ``InputTransformer`` applied to that event."""

    def __init__(self, name: str, function: str, expression: str, constant: str | None = None,
                 paths: dict[str, str] | None = None, template: str | None = None):
        self.name, self.function, self.expression = name, function, expression
        self.constant, self.paths, self.template = constant, paths or {}, template

    def payload(self, event: dict[str, Any]) -> Any:
        if self.constant is not None:
            return json.loads(self.constant)
        if self.template is None:
            return event
        values = {name: _json_path(event, path) for name, path in self.paths.items()}

        def inside(text: str) -> str:  # in a string: the value's text
            return _PLACEHOLDER.sub(lambda m: json.dumps(_text(values[m.group(1)]))[1:-1]
                                    if m.group(1) in values else m.group(0), text)

        def fill(found: re.Match) -> str:  # elsewhere: the value as JSON
            token = found.group(0)
            if token.startswith('"'):
                return inside(token)
            return json.dumps(values[found.group(1)]) if found.group(1) in values else token
        return json.loads(re.sub(r'"(?:[^"\\]|\\.)*"|<([A-Za-z0-9_.-]+)>', fill, self.template))


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _json_path(event: Any, path: str) -> Any:
    """EventBridge's input paths as the template uses them: ``$.a.b`` and ``$.list[0]``."""
    value = event
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path.removeprefix("$")):
        value = value[int(part[1:-1])] if part.startswith("[") else (value or {}).get(part)
    return value


def template_rules(stack: Any) -> list[Rule]:
    """The template's enabled scheduled rules that target a function."""
    resolve = getattr(stack, "_resolve", lambda value: value if isinstance(value, str) else None)
    rules = []
    for logical_id, resource in stack.template.resources.items():
        props = resource.get("Properties") or {}
        if resource["Type"] == "AWS::Serverless::Function":
            for event_name, event in (props.get("Events") or {}).items():
                spec = event.get("Properties") or {}
                if event.get("Type") in ("Schedule", "ScheduleV2") and spec.get("Enabled", True) is not False \
                        and spec.get("State", "ENABLED") == "ENABLED":
                    rules.append(Rule(f"local-{logical_id}{event_name}", logical_id, resolve(spec["Schedule"]
                                      if "Schedule" in spec else spec["ScheduleExpression"]), spec.get("Input")))
        elif resource["Type"] == "AWS::Events::Rule" and props.get("ScheduleExpression") \
                and props.get("State", "ENABLED") == "ENABLED":
            for target in props.get("Targets") or []:
                arn = target.get("Arn")
                if not (isinstance(arn, dict) and "Fn::GetAtt" in arn):
                    continue
                transformer = target.get("InputTransformer") or {}
                rules.append(Rule(f"local-{logical_id}", arn["Fn::GetAtt"][0], resolve(props["ScheduleExpression"]),
                                  target.get("Input"), transformer.get("InputPathsMap"),
                                  resolve(transformer["InputTemplate"]) if "InputTemplate" in transformer else None))
    return [rule for rule in rules if rule.expression]
