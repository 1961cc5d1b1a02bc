"""Every CSV the service writes goes through here: RFC 4180 and safe to open in a spreadsheet.

- RFC 4180: rows end with CRLF; a cell holding a comma, a double quote, CR or LF is quoted (its
  quotes doubled), so a bare CR or LF in a contact's text can never split a row.
- CSV injection (OWASP): a spreadsheet evaluates a cell that starts with ``=``, ``+``, ``-``, ``@``,
  a tab or a carriage return as a formula (``=HYPERLINK(...)`` leaks data, DDE runs commands).
  Such a cell is written with a leading ``'``, which spreadsheets show as text. One exception: a
  cell that is exactly a number (an optional sign, digits, an optional decimal part), such as
  the E.164 number ``+15551234567`` or ``-42``, is written as it is: it holds no operator or
  function, so nothing in it can run, and a canonical phone number stays machine-readable.
"""
from __future__ import annotations

import csv
import io
import re
from typing import Any, Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")


def safe_cell(value: Any) -> str:
    """The text a cell is written with (None is an empty cell)."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTS) and not PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def to_csv(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow([safe_cell(name) for name in header])
    writer.writerows([safe_cell(value) for value in row] for row in rows)
    return out.getvalue()
