"""Whole numbers written as text (query strings, paths, headers, cron fields, CLI arguments):
ASCII digits only.

Python's ``int()`` reads the digits of every script (``int("٣") == 3``), and ``str.isdigit()`` is
true for ``"²"``, which ``int()`` then refuses (a 500 where a 400 was due); a value written one
way would also be kept as written beside its ASCII twin. So neither judges input alone: this does.
"""
from __future__ import annotations

MAX_DIGITS = 18  # any count, size or epoch second we read; and far below int()'s own 4,300-digit limit


def ascii_int(text: object) -> int | None:
    """The value of ``text`` if it is 1 to 18 ASCII digits (no sign, space or ``_``), else None."""
    if isinstance(text, str) and 0 < len(text) <= MAX_DIGITS and text.isascii() and text.isdigit():
        return int(text)
    return None
