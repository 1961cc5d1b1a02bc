"""The local Lambda event source mappings: template.yaml's SQS and DynamoDB-stream ``Events``,
polled from moto and delivered to the functions in this process, as Lambda's pollers would.

- SQS: messages are received (no long polling: moto would hold the local stack's one lock while
  it waits), delivered in batches of up to ``BatchSize`` (10 per receive), and deleted when the
  function succeeds; with ``ReportBatchItemFailures`` only the reported ones stay, and come back
  after their visibility timeout (then to the queue's dead-letter queue, by its redrive policy,
  which moto applies). A function error leaves the whole batch. Records a ``FilterCriteria``
  pattern rejects are deleted undelivered, as Lambda does. ``ScalingConfig.MaximumConcurrency``
  pollers run per queue (2 when not set), all of them only while the queue has work.
- DynamoDB streams: one poller per mapping reads the table's stream in order (from LATEST when
  the stack starts, so seeding delivers nothing) and delivers batches of up to ``BatchSize``; a
  function error retries the batch (``MaximumRetryAttempts``, 10 locally when unbounded), then
  skips it and records it as dead-lettered; with ``ReportBatchItemFailures`` the poller resumes
  at the first failed record. Filtered-out records are skipped.

Both idle with a growing pause (up to 0.5 s) so that polling costs the local DynamoDB little.
``GET /_local/event-sources`` shows what each mapping delivered, failed and dead-lettered.
"""
from __future__ import annotations

import json
import threading
import time
from collections import deque
from typing import Any, Callable

from .template import EventSource

IDLE_PAUSES = (0.02, 0.05, 0.1, 0.2, 0.5)
BUSY_FOR_S = 2.0  # a mapping that received work keeps all its pollers for this long
LOCAL_MAX_STREAM_RETRIES = 10

Invoke = Callable[[str, dict], Any]


def matches(pattern: Any, value: Any) -> bool:
    """Lambda's event filtering (EventBridge pattern syntax): nested objects; a list of allowed
    values, each a literal or ``{"prefix"}``, ``{"exists"}``, ``{"anything-but"}``."""
    if isinstance(pattern, dict):
        if not isinstance(value, dict):
            return False
        for key, sub in pattern.items():
            if isinstance(sub, list) and any(isinstance(c, dict) and "exists" in c for c in sub):
                wanted = next(c["exists"] for c in sub if isinstance(c, dict) and "exists" in c)
                if (key in value) != wanted:
                    return False
                continue
            if key not in value or not matches(sub, value[key]):
                return False
        return True
    if isinstance(pattern, list):
        return any(_leaf(candidate, value) for candidate in pattern)
    return pattern == value


def _leaf(candidate: Any, value: Any) -> bool:
    if isinstance(candidate, dict):
        if "prefix" in candidate:
            return isinstance(value, str) and value.startswith(candidate["prefix"])
        if "anything-but" in candidate:
            excluded = candidate["anything-but"]
            return value not in (excluded if isinstance(excluded, list) else [excluded])
        return False
    return candidate == value


def passes(filters: list, record: dict) -> bool:
    if not filters:
        return True
    if record.get("eventSource") == "aws:sqs":  # SQS patterns see the body as JSON when it is JSON
        try:
            record = {**record, "body": json.loads(record["body"])}
        except (TypeError, ValueError):
            pass
    return any(matches(pattern, record) for pattern in filters)


class _Mapping:
    def __init__(self, source: EventSource, invoke: Invoke):
        self.source = source
        self.invoke = invoke
        self.delivered = 0  # records handed to the function
        self.batches = 0
        self.failed_batches = 0
        self.filtered = 0
        self.dead_lettered: deque = deque(maxlen=50)
        self.busy_until = 0.0  # monotonic time until which every poller of this mapping polls
        self._lock = threading.Lock()

    def status(self) -> dict[str, Any]:
        with self._lock:
            return {"function": self.source.function, "event": self.source.name, "kind": self.source.kind,
                    "source": self.source.source, "delivered": self.delivered, "batches": self.batches,
                    "failed_batches": self.failed_batches, "filtered": self.filtered,
                    "dead_lettered": list(self.dead_lettered)}

    def _count(self, **increments: int) -> None:
        with self._lock:
            for name, value in increments.items():
                setattr(self, name, getattr(self, name) + value)


class SqsMapping(_Mapping):
    def __init__(self, source: EventSource, invoke: Invoke, sqs: Any, queue_url: str, queue_arn: str):
        super().__init__(source, invoke)
        self.sqs, self.queue_url, self.queue_arn = sqs, queue_url, queue_arn

    def poll_once(self) -> int:
        """One receive and delivery; returns how many messages were received."""
        received = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=min(10, self.source.batch_size),
                                            AttributeNames=["All"], MessageAttributeNames=["All"],
                                            WaitTimeSeconds=0).get("Messages", [])
        if not received:
            return 0
        records = [self._record(m) for m in received]
        wanted = [r for r in records if passes(self.source.filters, r)]
        done = [r for r in records if r not in wanted]  # filtered out: deleted undelivered
        self._count(filtered=len(done))
        if wanted:
            try:
                result = self.invoke(self.source.function, {"Records": wanted})
            except Exception as exc:  # the whole batch comes back after its visibility timeout
                self._count(batches=1, failed_batches=1)
                print(f"local event source {self.source.name}: {type(exc).__name__}: {exc}", flush=True)
                wanted = []
                result = None
            else:
                self._count(batches=1, delivered=len(wanted))
            failed = {f.get("itemIdentifier") for f in ((result or {}).get("batchItemFailures") or [])} \
                if self.source.report_failures and isinstance(result, dict) else set()
            if failed:
                self._count(failed_batches=1)
            done += [r for r in wanted if r["messageId"] not in failed]
        if done:
            self.sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=[
                {"Id": str(i), "ReceiptHandle": r["receiptHandle"]} for i, r in enumerate(done)])
        return len(received)

    def _record(self, message: dict) -> dict:
        return {"messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"], "attributes": message.get("Attributes", {}),
                "messageAttributes": {k: {"stringValue": v.get("StringValue"), "dataType": v.get("DataType")}
                                      for k, v in (message.get("MessageAttributes") or {}).items()},
                "md5OfBody": message.get("MD5OfBody"), "eventSource": "aws:sqs",
                "eventSourceARN": self.queue_arn, "awsRegion": "us-east-1"}


class StreamMapping(_Mapping):
    def __init__(self, source: EventSource, invoke: Invoke, streams: Any, stream_arn: str):
        super().__init__(source, invoke)
        self.streams, self.stream_arn = streams, stream_arn
        shard = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][0]["ShardId"]
        self.shard = shard
        position = "TRIM_HORIZON" if source.starting_position == "TRIM_HORIZON" else "LATEST"
        self.iterator = streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard,
                                                   ShardIteratorType=position)["ShardIterator"]
        self.pending: list[dict] = []  # records read and not yet delivered (a retried batch)
        self.attempts = 0

    def poll_once(self) -> int:
        if not self.pending:
            page = self.streams.get_records(ShardIterator=self.iterator, Limit=self.source.batch_size)
            self.iterator = page["NextShardIterator"]
            records = [{**r, "eventSourceARN": self.stream_arn} for r in page.get("Records", [])]
            self.pending = [r for r in records if passes(self.source.filters, r)]
            self._count(filtered=len(records) - len(self.pending))
            if not records:
                return 0
        if not self.pending:
            return 1
        batch = self.pending[:self.source.batch_size]
        try:
            result = self.invoke(self.source.function, {"Records": batch})
        except Exception as exc:
            print(f"local event source {self.source.name}: {type(exc).__name__}: {exc}", flush=True)
            return self._retry_or_drop(batch, 0)
        failed = [f.get("itemIdentifier") for f in ((result or {}).get("batchItemFailures") or [])] \
            if self.source.report_failures and isinstance(result, dict) else []
        if failed:  # resume at the first failed record
            sequence = [r["dynamodb"]["SequenceNumber"] for r in batch]
            first = min((sequence.index(f) for f in failed if f in sequence), default=0)
            self._count(batches=1, delivered=first)
            return self._retry_or_drop(batch, first)
        self._count(batches=1, delivered=len(batch))
        self.pending = self.pending[len(batch):]
        self.attempts = 0
        return len(batch)

    def _retry_or_drop(self, batch: list[dict], first_failed: int) -> int:
        self._count(failed_batches=1)
        self.pending = self.pending[first_failed:]
        self.attempts += 1
        limit = self.source.max_retries if self.source.max_retries >= 0 else LOCAL_MAX_STREAM_RETRIES
        if self.attempts > limit:  # Lambda's OnFailure destination gets the batch's description
            dropped = self.pending[:len(batch) - first_failed]
            self.dead_lettered.append({"records": [r["dynamodb"]["SequenceNumber"] for r in dropped]})
            self.pending = self.pending[len(dropped):]
            self.attempts = 0
        return len(batch)


class LocalEventSources:
    """Every SQS and DynamoDB-stream mapping of the template, each polled by its own thread(s)."""

    def __init__(self, stack: Any, invoke: Invoke | None = None):
        from . import functions

        self.stack = stack
        self.invoke = invoke or functions.invoke
        self.mappings: list[_Mapping] = []
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> "LocalEventSources":
        sqs, dynamodb, streams = self.stack.boto("sqs"), self.stack.boto("dynamodb"), self.stack.boto("dynamodbstreams")
        for source in self.stack.template.event_sources():
            if source.kind == "SQS":
                url = self.stack.queue_url(source.source)
                mapping: _Mapping = SqsMapping(source, self.invoke, sqs, url, self.stack.queue_arn(source.source))
                workers = max(1, source.max_concurrency)
            else:
                arn = dynamodb.describe_table(TableName=self.stack.table_name(source.source))["Table"]["LatestStreamArn"]
                mapping, workers = StreamMapping(source, self.invoke, streams, arn), 1  # one shard: in order
            self.mappings.append(mapping)
            for n in range(workers):
                thread = threading.Thread(target=self._run, args=(mapping, n), daemon=True,
                                          name=f"local-{source.function}-{source.name}-{n}")
                thread.start()
                self._threads.append(thread)
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)

    def status(self) -> list[dict[str, Any]]:
        return [m.status() for m in self.mappings]

    def _run(self, mapping: _Mapping, worker: int) -> None:
        """One poller. Worker 0 always polls; the others (a queue's concurrency) only while there
        is work: an idle stack then costs one poll per mapping per half second, not dozens."""
        idle = 0
        while not self._stop.is_set():
            if worker and time.monotonic() > mapping.busy_until:
                self._stop.wait(IDLE_PAUSES[-1])
                continue
            try:
                got = mapping.poll_once()
            except Exception as exc:  # moto restarting, a malformed record: keep polling
                print(f"local event source {mapping.source.name}: {type(exc).__name__}: {exc}", flush=True)
                got = 0
            if got:
                mapping.busy_until = time.monotonic() + BUSY_FOR_S
            idle = 0 if got else min(idle + 1, len(IDLE_PAUSES) - 1)
            if not got:
                self._stop.wait(IDLE_PAUSES[idle])
