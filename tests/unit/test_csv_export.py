"""The one CSV writer (outbound.csv_export): RFC 4180 rows and OWASP's formula neutralisation."""
from __future__ import annotations

import csv
import io

import pytest

from outbound.csv_export import safe_cell, to_csv


@pytest.mark.parametrize("value", ["=1+1", "+1+1", "-1+1", "@SUM(A1)", "\t=1", "\r=1", "=", "+", "-", "@",
                                   "+1 555 123 4567", "-1e5", "+15551234567\n"])
def test_a_cell_a_spreadsheet_would_evaluate_gets_a_leading_quote(value):
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["+15551234567", "-42", "+7", "-0.5", "12", "plain", "a=b", " =1", "'=1", ""])
def test_plain_numbers_and_ordinary_text_are_written_as_they_are(value):
    """A canonical E.164 number or a negative amount holds no operator or function: it is left
    machine-readable (a leading ' would corrupt it for every program that reads the file)."""
    assert safe_cell(value) == value


def test_none_is_an_empty_cell_and_numbers_are_text():
    assert (safe_cell(None), safe_cell(-250), safe_cell(3)) == ("", "-250", "3")


def test_rows_end_in_crlf_and_a_bare_cr_or_lf_never_splits_a_row():
    cells = ["a\rb", "c\nd", 'say "hi", ok', "=cmd|' /C calc'!A0", "\r"]
    text = to_csv(["one", "two", "three", "four", "five"], [cells, ["x"] * 5])
    assert text.endswith("\r\n") and text.count("\r\n") == 3
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows == [["one", "two", "three", "four", "five"],
                    ["a\rb", "c\nd", 'say "hi", ok', "'=cmd|' /C calc'!A0", "'\r"], ["x"] * 5]
