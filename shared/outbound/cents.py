"""Money: whole cents, as Python ints, bounded, and printed without ever going through a float.

DynamoDB numbers hold 38 significant digits; a float holds 15-17, so ``cents / 100`` misprints
any amount above 2**53 cents. The bounds below keep every balance more than 20 digits inside
DynamoDB's and give an operator's typo (a 40-digit credit) a clear refusal instead:

- one credit: at most MAX_CREDIT_CENTS ($1,000,000.00; credit again for more);
- a balance: at most MAX_BALANCE_CENTS ($10,000,000,000,000.00), enforced by the credit's own
  conditional write;
- a price (a per-call reserve, a per-minute rate): at most MAX_PRICE_CENTS ($10,000.00).
"""
from __future__ import annotations

import re

MAX_CREDIT_CENTS = 100_000_000
MAX_BALANCE_CENTS = 10**15
MAX_PRICE_CENTS = 1_000_000

_DIGITS = re.compile(r"[0-9]{1,20}")  # ASCII only: int() also reads "+5", " 5", "5_000" and "٥"


def is_cents(value: object, low: int = 0, high: int = MAX_BALANCE_CENTS) -> bool:
    """An int (not a bool, not a float however whole) from ``low`` to ``high``."""
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def parse_cents(text: str, name: str, low: int, high: int) -> int:
    """Cents written as ASCII digits only, from ``low`` to ``high``; ValueError naming ``name``
    and the range otherwise (``1e3``, ``10.50``, ``+5`` and ``-5`` are not cents)."""
    if not isinstance(text, str) or not _DIGITS.fullmatch(text) or not low <= int(text) <= high:
        raise ValueError(f"{name} must be a whole number of cents from {low} to {high} "
                         f"(e.g. 5000 for {format_cents(5000)})")
    return int(text)


def format_cents(cents: int) -> str:
    """``-$1,234.56``: integer arithmetic only."""
    sign = "-" if cents < 0 else ""
    dollars, rest = divmod(abs(cents), 100)
    return f"{sign}${dollars:,}.{rest:02d}"
