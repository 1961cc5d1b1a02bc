"""One JSON parser for everything that arrives from outside: request bodies (both API styles),
provider webhook bodies, the JWTs and client states inside them, and pagination tokens.

Python's json module is not safe on hostile input as it stands: it recurses once per nested
array or object (a 5,000-deep ``[[[...`` raises RecursionError, a 500), ``int()`` of more than
4,300 digits raises ValueError from inside the parser, ``1e999`` becomes ``inf``, ``NaN`` and
``Infinity`` are accepted, a duplicated key silently keeps its last value, and ``"\\ud800"``
decodes to a lone surrogate that no store or provider accepts. Here every one of those is a
:class:`JsonRefused` with a sentence naming the problem, and the cheap checks come first:

1. length, in characters (the callers bound bytes before they decode);
2. nesting depth, by a pre-scan that skips strings; only run when the text has more brackets
   than the limit (``str.count``, so the usual small body costs next to nothing);
3. then ``json.loads`` with hooks bounding each number literal's length and refusing
   non-finite floats, NaN/Infinity and duplicate keys; lone surrogate escapes are looked for
   only when the raw text has one.

Only the standard library: this module is on the call path (POST /calls/initiate).
"""
from __future__ import annotations

import json
import math
import re
from itertools import accumulate
from typing import Any

# What any body of this API may be: the contract's fields at their limits (2 x 4,000 characters,
# 50 variables of up to 1,000 characters, even in 4-byte UTF-8) fit below this.
MAX_BODY_BYTES = 256 * 1024
# Arrays and objects inside each other: our deepest body (a campaign with its settings) needs 4.
MAX_DEPTH = 32
# A number literal's characters: a DynamoDB number (38 significant digits, magnitude below
# 1e126) written out in full fits; int() and float() of this length cost nothing.
MAX_NUMBER_CHARS = 130

_STRING = re.compile(r'"[^"\\]*+(?:\\.[^"\\]*+)*+(?:"|\\?\Z)', re.S)  # a string, or an unterminated one
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_DEPTH = {"[": 1, "{": 1, "]": -1, "}": -1}
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


class JsonRefused(ValueError):
    """Not JSON we accept; the message is a sentence for a 400 ``{"detail": ...}``."""


def loads(text: str | bytes | bytearray | None, what: str = "Request body",
          max_chars: int = MAX_BODY_BYTES) -> Any:
    """``text`` parsed, or :class:`JsonRefused` saying why not (``what`` names the input)."""
    if isinstance(text, (bytes, bytearray)):
        if len(text) > max_chars:
            raise JsonRefused(f"{what} must be at most {max_chars} bytes")
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError:
            raise JsonRefused(f"{what} must be UTF-8 text") from None
    if not text:
        raise JsonRefused(f"{what} must be a JSON object")
    if len(text) > max_chars:
        raise JsonRefused(f"{what} must be at most {max_chars} bytes")
    if nesting_depth(text) > MAX_DEPTH:
        raise JsonRefused(f"{what} is nested too deeply (at most {MAX_DEPTH} levels of arrays and objects)")
    try:
        data = json.loads(text, parse_int=_int, parse_float=_float, parse_constant=_constant,
                          object_pairs_hook=_object)
    except JsonRefused as exc:
        raise JsonRefused(f"{what} {exc}") from None
    except RecursionError:  # the pre-scan makes this unreachable; kept as a guard
        raise JsonRefused(f"{what} is nested too deeply") from None
    except ValueError:
        raise JsonRefused(f"{what} must be a JSON object") from None
    if _SURROGATE_ESCAPE.search(text) and not _encodable(data):
        raise JsonRefused(f"{what} must be valid Unicode text (it has an unpaired surrogate escape)")
    return data


def loads_object(text: str | bytes | bytearray | None, what: str = "Request body",
                 max_chars: int = MAX_BODY_BYTES) -> dict[str, Any]:
    data = loads(text, what, max_chars)
    if not isinstance(data, dict):
        raise JsonRefused(f"{what} must be a JSON object")
    return data


def nesting_depth(text: str) -> int:
    """How deep arrays and objects nest in ``text`` (strings skipped); 0 when it cannot exceed
    the limit (no more opening brackets than MAX_DEPTH in all)."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return 0
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    return max(accumulate(map(_DEPTH.__getitem__, brackets)), default=0)


def _int(literal: str) -> int:
    if len(literal) > MAX_NUMBER_CHARS:
        raise JsonRefused(f"has a number of more than {MAX_NUMBER_CHARS} digits")
    return int(literal)


def _float(literal: str) -> float:
    value = float(literal) if len(literal) <= MAX_NUMBER_CHARS else math.inf
    if not math.isfinite(value):
        raise JsonRefused(f"has a number out of range ({literal[:20]}{'...' if len(literal) > 20 else ''})")
    return value


def _constant(name: str) -> Any:
    raise JsonRefused(f"has {name}, which is not JSON")


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    data = dict(pairs)
    if len(data) != len(pairs):
        seen: set[str] = set()
        duplicate = next(key for key, _ in pairs if key in seen or seen.add(key))  # type: ignore[func-returns-value]
        raise JsonRefused(f"has the key {json.dumps(duplicate[:40])} twice")
    return data


def _encodable(data: Any) -> bool:
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
