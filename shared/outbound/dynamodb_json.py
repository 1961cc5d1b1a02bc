"""DynamoDB's attribute-value JSON <-> plain Python values.

boto3.dynamodb.types does this too, but importing it imports boto3 (see ``aws``); these 30
lines cover every type this service stores: strings, numbers (cents, ids: ints), booleans,
null, maps and lists, and reads string sets (a campaign's variable names) as sorted lists.
"""
from __future__ import annotations

from typing import Any


def serialize(value: Any) -> dict[str, Any]:
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, (int, float)):
        return {"N": repr(value)}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, dict):
        return {"M": {str(k): serialize(v) for k, v in value.items()}}
    if isinstance(value, (list, tuple)):
        return {"L": [serialize(v) for v in value]}
    raise TypeError(f"cannot store {type(value).__name__} in DynamoDB")


def deserialize(attribute: dict[str, Any]) -> Any:
    (kind, value), = attribute.items()
    if kind == "S":
        return value
    if kind == "N":
        return int(value) if value.lstrip("-").isdigit() else float(value)
    if kind == "BOOL":
        return value
    if kind == "NULL":
        return None
    if kind == "M":
        return {k: deserialize(v) for k, v in value.items()}
    if kind == "L":
        return [deserialize(v) for v in value]
    if kind == "SS":  # a string set (written by ADD): sorted, so it reads as plain JSON
        return sorted(value)
    raise TypeError(f"unsupported DynamoDB type {kind}")


def to_item(data: dict[str, Any]) -> dict[str, Any]:
    """A DynamoDB item; None values are left out rather than stored as NULL."""
    return {k: serialize(v) for k, v in data.items() if v is not None}


def from_item(item: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if item is None else {k: deserialize(v) for k, v in item.items()}
