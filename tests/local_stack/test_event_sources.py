"""The local event source mappings (outbound_local.event_sources) against moto over HTTP: SQS
batches with partial failures and filters, and a table's stream delivered in order, retried,
resumed at the first failed record."""
from __future__ import annotations

import json

import pytest

from outbound_local.aws import LocalAws
from outbound_local.event_sources import SqsMapping, StreamMapping, matches
from outbound_local.template import EventSource


def source(kind, **overrides):
    values = dict(function="F", name="E", kind=kind, source="X", batch_size=10, report_failures=True, filters=[],
                  max_concurrency=1, max_retries=-1, starting_position="TRIM_HORIZON")
    return EventSource(**{**values, **overrides})


@pytest.fixture(scope="module")
def local():
    aws = LocalAws().start()
    yield aws
    aws.stop()


def client(local, service):
    import boto3

    return boto3.client(service, endpoint_url=local.endpoint_url, region_name="us-east-1",
                        aws_access_key_id="local", aws_secret_access_key="local")


def test_sqs_partial_failures_stay_and_the_rest_are_deleted(local):
    sqs = client(local, "sqs")
    url = sqs.create_queue(QueueName="partial", Attributes={"VisibilityTimeout": "0"})["QueueUrl"]
    for i in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"n": i}))
    seen = []

    def invoke(function, event):
        seen.extend(json.loads(r["body"])["n"] for r in event["Records"])
        return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in event["Records"]
                                      if json.loads(r["body"])["n"] == 1]}

    mapping = SqsMapping(source("SQS"), invoke, sqs, url, "arn:aws:sqs:us-east-1:123456789012:partial")
    assert mapping.poll_once() == 3 and sorted(seen) == [0, 1, 2]
    seen.clear()
    assert mapping.poll_once() == 1 and seen == [1]  # only the failed one came back


def test_sqs_filter_drops_records_undelivered(local):
    sqs = client(local, "sqs")
    url = sqs.create_queue(QueueName="filtered")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"type": "keep"}))
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"type": "drop"}))
    delivered = []
    mapping = SqsMapping(source("SQS", filters=[{"body": {"type": ["keep"]}}]),
                         lambda f, e: delivered.extend(e["Records"]), sqs, url, "arn")
    while mapping.poll_once():
        pass
    assert [json.loads(r["body"])["type"] for r in delivered] == ["keep"]
    assert mapping.status()["filtered"] == 1


def test_stream_is_delivered_in_order_and_resumed_at_the_first_failure(local):
    dynamodb = client(local, "dynamodb")
    dynamodb.create_table(TableName="streamed", BillingMode="PAY_PER_REQUEST",
                          AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                          KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                          StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    arn = dynamodb.describe_table(TableName="streamed")["Table"]["LatestStreamArn"]
    for n in range(4):
        dynamodb.put_item(TableName="streamed", Item={"pk": {"S": "a"}, "n": {"N": str(n)}})
    received, fail_once = [], {"2"}

    def invoke(function, event):
        failures = []
        for record in event["Records"]:
            n = record["dynamodb"]["NewImage"]["n"]["N"]
            if n in fail_once:
                fail_once.discard(n)
                failures.append({"itemIdentifier": record["dynamodb"]["SequenceNumber"]})
                break
            received.append(n)
        return {"batchItemFailures": failures}

    mapping = StreamMapping(source("DynamoDB"), invoke, client(local, "dynamodbstreams"), arn)
    while mapping.poll_once():
        pass
    assert received == ["0", "1", "2", "3"]  # in order, the failed one retried before the rest


def test_a_stream_batch_that_keeps_failing_is_dead_lettered_after_its_retries(local):
    dynamodb = client(local, "dynamodb")
    dynamodb.create_table(TableName="poison", BillingMode="PAY_PER_REQUEST",
                          AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                          KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                          StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})
    arn = dynamodb.describe_table(TableName="poison")["Table"]["LatestStreamArn"]
    dynamodb.put_item(TableName="poison", Item={"pk": {"S": "x"}})
    calls = []

    def invoke(function, event):
        calls.append(1)
        raise RuntimeError("poison")

    mapping = StreamMapping(source("DynamoDB", max_retries=2), invoke, client(local, "dynamodbstreams"), arn)
    for _ in range(5):
        mapping.poll_once()
    assert len(calls) == 3  # the first try and 2 retries
    assert len(mapping.status()["dead_lettered"]) == 1


def test_filter_patterns():
    record = {"eventName": "MODIFY", "dynamodb": {"NewImage": {"sk": {"S": "CALL"}, "status": {"S": "completed"}}}}
    assert matches({"dynamodb": {"NewImage": {"sk": {"S": ["CALL"]}}}}, record)
    assert not matches({"dynamodb": {"NewImage": {"sk": {"S": ["ORG"]}}}}, record)
    assert matches({"eventName": [{"anything-but": ["REMOVE"]}]}, record)
    assert matches({"dynamodb": {"NewImage": {"campaign_id": [{"exists": False}]}}}, record)
    assert matches({"dynamodb": {"NewImage": {"status": {"S": [{"prefix": "comp"}]}}}}, record)
