"""The two places where the local DynamoDB (moto 5) must behave as AWS documents, and does not.

Both are kept here, applied by the local stack only, and tested by tests/unit/test_local_dynamodb.py.

1. ``ClientRequestToken`` (TransactWriteItems): AWS makes a transaction idempotent for 10 minutes
   after it completed; a repeated token with the same parameters succeeds without writing again,
   with other parameters it is ``IdempotentParameterMismatchException``, and while the first is
   still running ``TransactionInProgressException``. botocore fills the token in and re-sends it
   on every retry, so a retry of a transaction that had committed (its answer lost, or late past
   the client's read timeout) must be answered "done", not re-applied. moto ignores the token:
   the retry failed its own conditions (the record exists already), and a placed call was
   answered 500. :class:`TransactionTokens` keeps AWS's promise in front of moto.

2. Rollback cost: moto's ``transact_write_items`` deep-copies every table the transaction
   touches, once per item, so that it can roll back (70 ms at 5,000 items, 411 ms at 20,000:
   local throughput fell from ~7 to ~3 calls/s within 2,000 calls). :func:`transact_write_items`
   below is moto's own method with one change: it copies only the items it is about to write,
   and rolls those back (and the stream records they made: a canceled transaction is not in
   the table's stream). Same checks, same errors, same order of evaluation.
"""
from __future__ import annotations

import copy
import hashlib
import json
import threading
import time
from collections import OrderedDict
from typing import Any

TOKEN_WINDOW_S = 600.0  # "valid for 10 minutes after the first request that uses it is completed"


class TransactionTokens:
    """What DynamoDB remembers of TransactWriteItems' ``ClientRequestToken``s.

    ``begin`` returns an answer to send instead of running the request (a replay or an error),
    or None to run it; ``end`` records how it ended. Only transactions that succeeded are
    remembered: AWS promises that identical calls have the effect of one, and a canceled
    transaction had none (its retry is evaluated afresh, as a new one would be).
    """

    def __init__(self, window_s: float = TOKEN_WINDOW_S, clock=time.monotonic):
        self.window_s = window_s
        self.clock = clock
        self._lock = threading.Lock()
        self._done: OrderedDict[str, tuple[float, str, bytes]] = OrderedDict()  # token -> (when, params, body)
        self._running: dict[str, str] = {}  # token -> params

    @staticmethod
    def parameters(request: dict[str, Any]) -> str:
        rest = {k: v for k, v in request.items() if k != "ClientRequestToken"}
        return hashlib.sha256(json.dumps(rest, sort_keys=True).encode()).hexdigest()

    def begin(self, token: str, params: str) -> tuple[int, dict[str, Any] | bytes] | None:
        with self._lock:
            self._expire()
            done = self._done.get(token)
            if done is not None:
                if done[1] != params:
                    return 400, _error("IdempotentParameterMismatchException",
                                       "The request uses the same client token as a previous, but non-identical request.")
                return 200, done[2]
            if token in self._running:
                return 400, _error("TransactionInProgressException",
                                   "The transaction with the given request token is already in progress.")
            self._running[token] = params
            return None

    def end(self, token: str, succeeded: bool, body: bytes) -> None:
        with self._lock:
            params = self._running.pop(token, None)
            if succeeded and params is not None:
                self._done[token] = (self.clock(), params, body)

    def _expire(self) -> None:
        horizon = self.clock() - self.window_s
        while self._done:
            token, (when, _, _) = next(iter(self._done.items()))
            if when >= horizon:
                break
            del self._done[token]


def _error(code: str, message: str) -> dict[str, Any]:
    return {"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message}


def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
    """moto's DynamoDBBackend.transact_write_items (moto 5.2), rolling back items, not tables."""
    from moto.dynamodb.comparisons import get_filter_expression
    from moto.dynamodb.exceptions import (ConditionalCheckFailed, MockValidationException,
                                          MultipleTransactionsException, TooManyTransactionsException,
                                          TransactionCanceledException, TransactWriteSingleOpException)
    from moto.dynamodb.models.dynamo_type import DynamoType

    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    before: list[tuple[Any, Any, Any, Any]] = []  # (table, hash, range, the item as it was or None)
    streams: dict[int, tuple[Any, int]] = {}  # id(table) -> (its stream shard, records it had)

    def remember(table: Any, key: dict[str, Any]) -> None:
        if table.stream_shard is not None and id(table) not in streams:
            streams[id(table)] = (table.stream_shard, len(table.stream_shard.items))
        hash_value = DynamoType(key[table.hash_key_attr])
        range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
        current = table.get_item(hash_value, range_value)
        before.append((table, hash_value, range_value, copy.deepcopy(current)))

    def rollback() -> None:
        for shard, length in streams.values():  # a canceled transaction is not in the stream
            del shard.items[length:]
        for table, hash_value, range_value, item in reversed(before):
            if range_value is None:
                if item is None:
                    table.items.pop(hash_value, None)
                else:
                    table.items[hash_value] = item
            elif item is None:
                table.items.get(hash_value, {}).pop(range_value, None)
            else:
                table.items[hash_value][range_value] = item

    target_items: set[tuple[str, str]] = set()

    def check_unicity(table_name: str, key: dict[str, Any]) -> None:
        item = (str(table_name), str(dict(sorted(key.items()))))
        if item in target_items:
            raise MultipleTransactionsException()
        target_items.add(item)

    errors: list[tuple[Any, Any, Any]] = []
    for item in transact_items:
        original_item = None
        if len(list(item.keys())) > 1:
            raise TransactWriteSingleOpException
        try:
            op_type, op = next(iter(item.items()))
            if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
                raise ValueError("Unsupported transaction operation")
            table_name = op["TableName"]
            condition_expression = op.get("ConditionExpression")
            names = op.get("ExpressionAttributeNames")
            values = op.get("ExpressionAttributeValues")
            table = self.get_table(table_name)
            if op_type == "Put":
                attrs = op["Item"]
                key = {table.hash_key_attr: attrs[table.hash_key_attr]}
                if table.range_key_attr is not None:
                    key[table.range_key_attr] = attrs[table.range_key_attr]
            else:
                key = op["Key"]
            check_unicity(table_name, key)
            current = self.get_item(table_name, key)
            if condition_expression is not None:
                condition_op = get_filter_expression(condition_expression, names, values)
                if not condition_op.expr(current):
                    if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                        original_item = current.to_json()["Attributes"]
                    raise ConditionalCheckFailed(item=original_item)
            if op_type != "ConditionCheck":
                remember(table, key)
            if op_type == "Put":
                self.put_item(table_name, op["Item"], condition_expression=condition_expression,
                              expression_attribute_names=names, expression_attribute_values=values)
            elif op_type == "Delete":
                self.delete_item(table_name, key, condition_expression=condition_expression,
                                 expression_attribute_names=names, expression_attribute_values=values)
            elif op_type == "Update":
                self.update_item(table_name, key, update_expression=op["UpdateExpression"],
                                 condition_expression=condition_expression,
                                 expression_attribute_names=names, expression_attribute_values=values)
            errors.append((None, None, None))
        except (MultipleTransactionsException, MockValidationException):
            rollback()
            raise
        except ConditionalCheckFailed as e:
            errors.append(("ConditionalCheckFailed", str(e.message), original_item))
        except Exception as e:  # noqa: BLE001 - moto records any other failure per item
            errors.append((type(e).__name__, str(e), original_item))
    if any(code is not None for code, _, _ in errors):
        rollback()
        raise TransactionCanceledException(errors)


_applied = False


def apply() -> None:
    """Install the item-level rollback in moto's DynamoDB backend (idempotent)."""
    global _applied
    if _applied:
        return
    from moto.dynamodb.models import DynamoDBBackend

    DynamoDBBackend.transact_write_items = transact_write_items
    _applied = True
