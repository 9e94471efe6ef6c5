"""Reading CSV and XLSX files: size and zip-bomb limits, encoding and delimiter detection, rows with line numbers.

A row is ``Row(line, cells, problem)``: ``line`` is the file's line (CSV: the physical line the record starts
on; XLSX: the sheet's row number; the header is line 1), ``problem`` a reason the row cannot be read at all
(not valid text in the file's encoding, a wrong number of cells), or "".
"""

import codecs
import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

from guanxi.imports.errors import ImportFileInvalid

DELIMITERS = (",", ";", "\t", "|")
XLSX_MAGIC = b"PK\x03\x04"
# Windows line ends are normalised by the csv module; a lone NUL byte would stop it, so they become nothing.
_NUL = "\x00"


@dataclass(frozen=True)
class Row:
    line: int
    cells: list[str]
    problem: str = ""


@dataclass
class FileInfo:
    format: str  # "csv" or "xlsx"
    encoding: str = ""
    delimiter: str = ""
    headers: list[str] = field(default_factory=list)


def max_bytes() -> int:
    return int(getattr(settings, "GUANXI_IMPORT_MAX_BYTES", 50 * 1024 * 1024))


def check_size(size: int) -> None:
    limit = max_bytes()
    if size > limit:
        raise ImportFileInvalid(
            _("The file is %(size)s MB; the limit is %(limit)s MB.")
            % {"size": round(size / 1024 / 1024, 1), "limit": round(limit / 1024 / 1024, 1)}
        )


def inspect(path: Path) -> FileInfo:
    """Check the file against the limits and find its format, encoding, delimiter and header."""
    size = path.stat().st_size
    check_size(size)
    if size == 0:
        raise ImportFileInvalid(_("The file is empty."))
    with path.open("rb") as handle:
        magic = handle.read(4)
    if magic == XLSX_MAGIC:
        info = FileInfo(format="xlsx")
        _check_zip(path)
        info.headers = _xlsx_headers(path)
    else:
        data = path.read_bytes()
        info = FileInfo(format="csv", encoding=detect_encoding(data))
        text = data.decode(info.encoding, errors="replace")
        first_line = text.lstrip("\ufeff").split("\n", 1)[0]
        info.delimiter = detect_delimiter(first_line)
        header = next(csv.reader([first_line.rstrip("\r")], delimiter=info.delimiter), [])
        info.headers = [h.strip() for h in header]
    if not any(info.headers):
        raise ImportFileInvalid(_("The first row must name the columns; it is empty."))
    seen = set()
    for name in info.headers:
        if name and name in seen:
            raise ImportFileInvalid(_("The column “%(name)s” appears twice in the header.") % {"name": name})
        seen.add(name)
    return info


def detect_encoding(data: bytes) -> str:
    """UTF-8 (with or without BOM) if most non-ASCII lines are UTF-8, else GB18030 (a superset of GBK, what
    Chinese Excel writes), else charset-normalizer's best guess. A mostly UTF-8 file keeps UTF-8: its few
    undecodable lines are rejected one by one rather than the whole file read as something else."""
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    good = bad = 0
    for line in data.splitlines():
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
            good += 1
        except UnicodeDecodeError:
            bad += 1
    if good > bad:
        return "utf-8"
    try:
        data.decode("gb18030")
        return "gb18030"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data[: 1024 * 1024]).best()
    if best is None:
        raise ImportFileInvalid(_("The file is not text in an encoding Guanxi recognises; save it as UTF-8 CSV."))
    return best.encoding


def detect_delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _check_zip(path: Path) -> None:
    """Refuse an XLSX whose uncompressed size or compression ratio exceeds the limits, before parsing it."""
    max_total = int(getattr(settings, "GUANXI_IMPORT_MAX_XLSX_UNCOMPRESSED", 200 * 1024 * 1024))
    max_ratio = int(getattr(settings, "GUANXI_IMPORT_MAX_XLSX_RATIO", 100))
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise ImportFileInvalid(_("The file is not a valid Excel (.xlsx) workbook.")) from exc
    if len(entries) > 10_000:
        raise ImportFileInvalid(_("The workbook has too many parts to be a spreadsheet."))
    total = sum(e.file_size for e in entries)
    compressed = sum(e.compress_size for e in entries) or 1
    if total > max_total:
        raise ImportFileInvalid(
            _("The workbook unpacks to %(size)s MB; the limit is %(limit)s MB.")
            % {"size": total // (1024 * 1024), "limit": max_total // (1024 * 1024)}
        )
    # Ordinary sheets compress 5-20x; a ratio far beyond that is a zip bomb. Small files are let through.
    if total > 10 * 1024 * 1024 and total / compressed > max_ratio:
        raise ImportFileInvalid(
            _("The workbook is compressed %(ratio)s times, which only a zip bomb does; refused.")
            % {"ratio": int(total / compressed)}
        )


def _open_sheet(path: Path):
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds (KeyError, InvalidFileException, XML errors ...)
        raise ImportFileInvalid(_("The file is not a valid Excel (.xlsx) workbook.")) from exc
    return workbook, workbook.worksheets[0]


def _xlsx_headers(path: Path) -> list[str]:
    workbook, sheet = _open_sheet(path)
    try:
        first = next(sheet.iter_rows(min_row=1, max_row=1, values_only=True), ())
    finally:
        workbook.close()
    headers = [cell_text(v).strip() for v in first]
    while headers and not headers[-1]:
        headers.pop()
    return headers


def cell_text(value) -> str:
    """An XLSX cell as text; dates as ISO strings (which the date parser reads), whole floats without ``.0``."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    return str(value)


def _fit(line: int, cells: list[str], width: int) -> Row:
    if len(cells) > width and any(c.strip() for c in cells[width:]):
        return Row(
            line,
            cells,
            _("The row has %(n)s cells but the header names %(m)s columns (extra columns).")
            % {"n": len(cells), "m": width},
        )
    if len(cells) < width:
        return Row(
            line,
            cells,
            _("The row has %(n)s cells but the header names %(m)s columns (missing columns).")
            % {"n": len(cells), "m": width},
        )
    return Row(line, cells[:width])


def iter_rows(path: Path, info: FileInfo) -> Iterator[Row]:
    """The data rows (after the header), skipping rows whose cells are all empty."""
    width = len(info.headers)
    if info.format == "xlsx":
        workbook, sheet = _open_sheet(path)
        try:
            for number, values in enumerate(sheet.iter_rows(min_row=2, values_only=True), start=2):
                cells = [cell_text(v) for v in values]
                if not any(c.strip() for c in cells):
                    continue
                while len(cells) > width and not cells[-1].strip():
                    cells.pop()
                yield _fit(number, cells, width)
        finally:
            workbook.close()
        return
    yield from _iter_csv(path, info, width)


def _iter_csv(path: Path, info: FileInfo, width: int) -> Iterator[Row]:
    encoding = "utf-8" if info.encoding == "utf-8-sig" else info.encoding
    bad_lines: set[int] = set()

    def lines() -> Iterator[str]:
        with path.open("rb") as handle:
            for number, raw in enumerate(handle, start=1):
                if number == 1 and raw.startswith(codecs.BOM_UTF8):
                    raw = raw[3:]
                try:
                    text = raw.decode(encoding)
                except UnicodeDecodeError:
                    bad_lines.add(number)
                    text = raw.decode(encoding, errors="replace")
                yield text.replace(_NUL, "")

    reader = csv.reader(lines(), delimiter=info.delimiter)
    try:
        next(reader)
        start = reader.line_num + 1
        for cells in reader:
            end = reader.line_num
            line = start
            start = end + 1
            if any(n in bad_lines for n in range(line, end + 1)):
                yield Row(
                    line,
                    cells,
                    _("The line is not valid %(encoding)s text (a different encoding?).") % {"encoding": encoding},
                )
                continue
            if not any(c.strip() for c in cells):
                continue
            yield _fit(line, cells, width)
    except csv.Error as exc:
        raise ImportFileInvalid(
            _("The CSV file cannot be read after line %(line)s: %(reason)s") % {"line": reader.line_num, "reason": exc}
        ) from exc


def count_rows(path: Path, info: FileInfo) -> int:
    """How many data rows the file has (for the progress bar); cheap for CSV, a sheet scan for XLSX."""
    if info.format == "xlsx":
        return sum(1 for _ in iter_rows(path, info))
    count = 0
    with path.open("rb") as handle:
        text = io.TextIOWrapper(handle, encoding=info.encoding, errors="replace", newline="")
        reader = csv.reader((line.replace(_NUL, "") for line in text), delimiter=info.delimiter)
        try:
            next(reader)
            for cells in reader:
                if any(c.strip() for c in cells):
                    count += 1
        except (csv.Error, StopIteration):
            pass
    return count
