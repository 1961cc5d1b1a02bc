"""The local DynamoDB keeps the promises AWS documents where moto alone does not
(outbound_local.moto_dynamodb): TransactWriteItems' ClientRequestToken, and a rollback that
copies items, not tables. Real HTTP to the local moto server, through boto3."""
from __future__ import annotations

import copy

import pytest

from outbound_local.aws import LocalAws
from outbound_local.moto_dynamodb import TransactionTokens

TABLE = "tokens-test"


@pytest.fixture(scope="module")
def dynamodb():
    import boto3

    local = LocalAws().start()
    client = boto3.client("dynamodb", endpoint_url=local.endpoint_url, region_name="us-east-1",
                          aws_access_key_id="local", aws_secret_access_key="local")
    client.create_table(TableName=TABLE, BillingMode="PAY_PER_REQUEST",
                        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
    yield client
    local.stop()


def counter(client, name):
    item = client.get_item(TableName=TABLE, Key={"pk": {"S": name}}, ConsistentRead=True).get("Item")
    return int(item["n"]["N"]) if item else None


def increment(name, by=1, condition=None):
    update = {"TableName": TABLE, "Key": {"pk": {"S": name}}, "UpdateExpression": "ADD n :by",
              "ExpressionAttributeValues": {":by": {"N": str(by)}}}
    if condition:
        update["ConditionExpression"] = condition
    return {"Update": update}


def test_a_repeated_token_is_answered_done_without_writing_again(dynamodb):
    items = [increment("a"), increment("b")]
    dynamodb.transact_write_items(TransactItems=items, ClientRequestToken="token-1")
    dynamodb.transact_write_items(TransactItems=items, ClientRequestToken="token-1")  # a retry: succeeds
    assert counter(dynamodb, "a") == 1 and counter(dynamodb, "b") == 1  # applied once
    dynamodb.transact_write_items(TransactItems=items, ClientRequestToken="token-2")  # a new request
    assert counter(dynamodb, "a") == 2


def test_a_repeated_token_with_other_parameters_is_a_mismatch(dynamodb):
    dynamodb.transact_write_items(TransactItems=[increment("c")], ClientRequestToken="token-3")
    with pytest.raises(dynamodb.exceptions.IdempotentParameterMismatchException):
        dynamodb.transact_write_items(TransactItems=[increment("c", by=5)], ClientRequestToken="token-3")
    assert counter(dynamodb, "c") == 1


def test_a_canceled_transaction_is_not_remembered(dynamodb):
    """Identical calls have the effect of one; a canceled one had none, so its retry is evaluated
    afresh (here: the condition now holds)."""
    items = [increment("d", condition="attribute_exists(pk)")]
    with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
        dynamodb.transact_write_items(TransactItems=items, ClientRequestToken="token-4")
    dynamodb.transact_write_items(TransactItems=[increment("d")])
    dynamodb.transact_write_items(TransactItems=items, ClientRequestToken="token-4")
    assert counter(dynamodb, "d") == 2


def test_tokens_in_progress_and_after_ten_minutes():
    clock = [0.0]
    tokens = TransactionTokens(clock=lambda: clock[0])
    assert tokens.begin("t", "p") is None  # runs
    status, body = tokens.begin("t", "p")  # the same token while the first still runs
    assert status == 400 and body["__type"].endswith("#TransactionInProgressException")
    tokens.end("t", True, b"{}")
    assert tokens.begin("t", "p") == (200, b"{}")  # replayed
    clock[0] = 601.0  # valid 10 minutes after completion, then a new request
    assert tokens.begin("t", "p") is None


def test_a_canceled_transaction_rolls_back_every_item(dynamodb):
    dynamodb.transact_write_items(TransactItems=[increment("e")])
    with pytest.raises(dynamodb.exceptions.TransactionCanceledException) as failure:
        dynamodb.transact_write_items(TransactItems=[
            increment("e"),  # applied first ...
            {"Put": {"TableName": TABLE, "Item": {"pk": {"S": "f"}}}},  # ... a new item ...
            increment("g", condition="attribute_exists(pk)"),  # ... then this condition fails
        ])
    codes = [r["Code"] for r in failure.value.response["CancellationReasons"]]
    assert codes == ["None", "None", "ConditionalCheckFailed"]
    assert counter(dynamodb, "e") == 1  # the update was undone
    assert dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": "f"}}).get("Item") is None  # the put too


def test_an_invalid_item_rolls_back_the_items_before_it(dynamodb):
    dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": "h"}, "n": {"N": "1"}, "s": {"S": "text"}})
    with pytest.raises(dynamodb.exceptions.ClientError):
        dynamodb.transact_write_items(TransactItems=[
            increment("h"),
            {"Update": {"TableName": TABLE, "Key": {"pk": {"S": "h2"}}, "UpdateExpression": "SET s = s + :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}}}},  # arithmetic on a missing attribute
        ])
    assert counter(dynamodb, "h") == 1


def test_a_transaction_copies_the_items_it_writes_not_the_table(dynamodb, monkeypatch):
    """moto copied every touched table once per item (hundreds of ms at 20,000 items): the
    rollback now keeps only the items it is about to write."""
    from moto.dynamodb.models.table import Table

    for i in range(200):
        dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": f"bulk{i}"}, "n": {"N": "0"}})
    copied = []
    real_deepcopy = copy.deepcopy

    def counting_deepcopy(value, memo=None, *args):
        if memo is None:  # a copy asked for, not deepcopy's own recursion
            copied.append(type(value).__name__)
        return real_deepcopy(value, memo, *args)

    monkeypatch.setattr(copy, "deepcopy", counting_deepcopy)
    dynamodb.transact_write_items(TransactItems=[increment("bulk1"), increment("bulk2")])
    assert copied and Table.__name__ not in copied
    assert len(copied) <= 4  # per written item: our snapshot, and moto's own copy in update_item
