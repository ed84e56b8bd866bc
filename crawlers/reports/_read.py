"""Readers that stream a report's rows: CSV (encoding detected), XLSX (read-only) and JSON payloads.

Every reader yields :class:`RawRow` records: the 1-based row number (header = row 1), the cells by
canonical column, and cells already refused by the reader (a spreadsheet formula). Nothing is
loaded whole except JSON payloads, which are API-sized by nature.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import hashlib
import io
import itertools
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from crawlers.reports._limits import Counter, Limits, check_workbook, refuse
from crawlers.reports._values import COLUMNS, REQUIRED, column_for
from pricewarden.errors import ReportImportError

SAMPLE_BYTES = 256 * 1024
# Encodings charset-normalizer may choose between once BOM sniffing and strict UTF-8 have failed.
# Restricting the candidates is what keeps short GBK files from being read as Korean (cp949).
LEGACY_ENCODINGS = ["gb18030", "cp1252"]
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
CSV_FIELD_LIMIT = 4 * 1024 * 1024
csv.field_size_limit(CSV_FIELD_LIMIT)


@dataclass(slots=True)
class RawRow:
    """One data row as read: its row number, cells by canonical column, and reader-level refusals."""

    number: int
    cells: dict[str, Any]
    refused: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class Source:
    """A readable report: how it was read (format, encoding), its columns and a stream of rows."""

    format: str
    encoding: str | None
    columns: dict[str, int]
    ignored: list[str]
    rows: Iterator[RawRow]
    closer: Any = None
    # A CSV's records as read (lists of cell texts), ``records(n)`` -> (number of the first, up to n records);
    # no records at the end. Either this or ``rows`` is read, never both.
    records: Callable[[int], tuple[int, list[list[str]]]] | None = None

    def close(self) -> None:
        """Release the underlying file or workbook."""
        if self.closer is not None:
            self.closer()


def cells_of(record: list[str], columns: dict[str, int]) -> dict[str, Any]:
    """A CSV record's cells by canonical column (``None`` past the end of a short row)."""
    width = len(record)
    return {c: record[i] if i < width else None for c, i in columns.items()}


def is_blank_row(cells: dict[str, Any]) -> bool:
    """Whether every cell of a row (ignored columns aside) is blank: such rows are skipped silently."""
    for value in cells.values():
        # an ASCII cell with a character other than a space is not blank (is_blank's
        # invisible characters are not ASCII)
        if value and not value.isspace() and (value.isascii() or not is_blank(value)):
            return False
    return True


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, read in 1 MB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def map_header(header: Iterable[object], name: str, searched: int = 0) -> tuple[dict[str, int], list[str]]:
    """Canonical column -> position; refuses a file without the required columns or with a column twice."""
    columns: dict[str, int] = {}
    ignored: list[str] = []
    for index, cell in enumerate(header):
        column = column_for(cell)
        if column is None:
            text = str(cell if cell is not None else "").strip()
            if text:
                ignored.append(text[:60])
            continue
        if column in columns:
            raise ReportImportError(f"two columns mean {column!r}: keep one", file=name)
        columns[column] = index
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise ReportImportError(
            "missing column(s) " + ", ".join(missing) + "; expected " + ", ".join(COLUMNS)
            + (f"; no header found in the first {searched} rows" if searched > 1 else "")
            + " (see `pricewarden report template`)",
            file=name,
        )
    return columns, ignored


def detect_encoding(sample: bytes) -> str:
    """The encoding of a CSV: its BOM, else strict UTF-8, else charset-normalizer among legacy encodings."""
    for bom, encoding in _BOMS:
        if sample.startswith(bom):
            return encoding
    try:
        codecs.getincrementaldecoder("utf-8")("strict").decode(sample, final=False)
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8"
    from charset_normalizer import from_bytes

    best = from_bytes(sample, cp_isolation=LEGACY_ENCODINGS).best()
    if best is None:
        raise ReportImportError("cannot tell the text encoding; save the file as UTF-8 CSV")
    return str(best.encoding).replace("_", "-")


_INVISIBLE = str.maketrans("", "", "\u200b\u200c\u200d\u2060\ufeff")


def is_blank(value: object) -> bool:
    """An empty cell: nothing, or only spaces and invisible characters (zero-width space, BOM)."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip() or not value.translate(_INVISIBLE).strip()
    return False


def is_header(cells: Iterable[object]) -> bool:
    """Whether a row names every required column (a title row above the header does not)."""
    found = {column_for(cell) for cell in cells}
    return all(column in found for column in REQUIRED)


def find_header(rows: list[list[Any]], name: str, limits: Limits) -> tuple[int, dict[str, int], list[str]]:
    """(index of the header among ``rows``, columns, ignored): the first row naming the required columns.

    Partners put title rows (often merged cells) above the header; the first ``limits.header_rows``
    rows are searched. Without one, the refusal names the columns missing from the first non-blank row.
    """
    for index, row in enumerate(rows):
        if is_header(row):
            columns, ignored = map_header(row, name)
            return index, columns, ignored
    first = next((row for row in rows if not all(is_blank(c) for c in row)), [])
    map_header(first, name, searched=len(rows))
    raise ReportImportError("no header row", file=name)  # map_header raised already; for the type checker


def _split(line: str) -> list[list[str]]:
    """A line parsed with each delimiter, the most frequent first."""
    counts = {d: line.count(d) for d in (",", ";", "\t")}
    order = sorted(counts, key=lambda d: -counts[d])
    return [next(csv.reader([line], delimiter=d), []) for d in order if counts[d]] or [[line.strip()]]


def read_csv(path: Path, name: str, limits: Limits | None = None) -> Source:
    """Stream a CSV/TSV: encoding from BOM or detection; header (and its delimiter) among the first lines."""
    limits = limits or Limits.from_settings()
    handle = path.open("rb")
    try:
        sample = handle.read(SAMPLE_BYTES)
        utf16 = sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
        # A NUL byte in a cell rejects that row; many of them (UTF-16 without a BOM, a binary file) are no CSV.
        if not utf16 and sample.count(b"\x00") > max(8, len(sample) // 100):
            raise ReportImportError("binary data, not a CSV file", file=name)
        try:
            encoding = detect_encoding(sample)
        except ReportImportError as exc:
            raise ReportImportError(str(exc), file=name) from None
        handle.seek(0)
        text = io.TextIOWrapper(handle, encoding=encoding, errors="strict", newline="")
        lines: list[str] = []
        header_at = -1
        delimiter: str | None = None
        while len(lines) < limits.header_rows and (line := text.readline(CSV_FIELD_LIMIT)):
            lines.append(line)
            delimiter = _header_delimiter(line)
            if delimiter is not None:
                header_at = len(lines) - 1
                break
        if delimiter is None:
            find_header([_split(line)[0] for line in lines], name, limits)
            raise ReportImportError("no header row", file=name)
        separator: str = delimiter
        columns, ignored = map_header(next(csv.reader([lines[header_at]], delimiter=separator), []), name)
    except UnicodeDecodeError as exc:
        handle.close()
        raise ReportImportError(f"not valid {exc.encoding} text", file=name) from None
    except BaseException:
        handle.close()
        raise

    def rows() -> Iterator[RawRow]:
        reader = csv.reader(text, delimiter=separator)
        counter = Counter(limits, name)
        number = header_at + 1
        for _ in range(number):
            counter.row(1, 0)
        row_limit, width_limit = limits.rows, limits.columns
        try:
            for record in reader:
                number += 1
                width = len(record)
                if number > row_limit or width > width_limit or counter.cells + width > limits.cells:
                    counter.rows = number - 1
                    counter.row(width, number)  # raises with the limit passed
                counter.cells += width
                cells = {c: record[i] if i < width else None for c, i in columns.items()}
                if is_blank_row(cells):
                    continue  # blank rows (ignored columns aside) are skipped silently
                yield RawRow(number, cells)
        except UnicodeDecodeError as exc:
            raise ReportImportError(f"row {number + 1}: not valid {exc.encoding} text", file=name) from None
        except csv.Error as exc:
            raise ReportImportError(f"row {number + 1}: {exc}", file=name) from None

    reader = csv.reader(text, delimiter=separator)
    counter = Counter(limits, name)
    read = -1  # rows read so far (the header and the lines above it included), once the first chunk is asked for

    def records(size: int) -> tuple[int, list[list[str]]]:
        # The records as they are, blank rows included, checked against the limits a chunk at a time: the
        # same refusals, naming the same row, as ``rows`` gives (a limit passed before a bad line first).
        nonlocal read
        if read < 0:
            read = header_at + 1
            for _ in range(read):
                counter.row(1, 0)
        chunk: list[list[str]] = []
        append = chunk.append
        try:
            for record in reader:
                append(record)
                if len(chunk) >= size:
                    break
        except UnicodeDecodeError as exc:
            _count(counter, read, chunk)
            raise ReportImportError(f"row {read + len(chunk) + 1}: not valid {exc.encoding} text",
                                    file=name) from None
        except csv.Error as exc:
            _count(counter, read, chunk)
            raise ReportImportError(f"row {read + len(chunk) + 1}: {exc}", file=name) from None
        _count(counter, read, chunk)
        first = read + 1
        read += len(chunk)
        return first, chunk

    return Source("csv", encoding, columns, ignored, rows(), handle.close, records)


def _count(counter: Counter, read: int, chunk: list[list[str]]) -> None:
    """Count a chunk of records read after ``read`` rows; refuses the file at the first row past a limit."""
    if not chunk:
        return
    limits = counter.limits
    widths = list(map(len, chunk))
    if read + len(chunk) > limits.rows or max(widths) > limits.columns or counter.cells + sum(widths) > limits.cells:
        number, cells = read, counter.cells
        for width in widths:
            number += 1
            cells += width
            if number > limits.rows or width > limits.columns or cells > limits.cells:
                counter.rows, counter.cells = number - 1, cells - width
                counter.row(width, number)  # raises with the limit passed
    counter.cells += sum(widths)


def _header_delimiter(line: str) -> str | None:
    """The delimiter with which ``line`` reads as the header row, if it is one."""
    for delimiter in sorted((",", ";", "\t"), key=lambda d: -line.count(d)):
        if line.count(delimiter) and is_header(next(csv.reader([line], delimiter=delimiter), [])):
            return delimiter
    return None


DATA_SHEET_SKIP = frozenset({"instructions", "说明"})
_DIMENSION = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?dimension\s[^>]*?ref=\"([A-Z]+\d+(?::[A-Z]+\d+)?)\"")
_HEAD_BYTES = 64 * 1024


def _head_dimensions(self: Any) -> None:
    """``ReadOnlyWorksheet._get_size`` that reads only the head of the sheet.

    openpyxl's own parses the WHOLE sheet when it has no ``<dimension>`` (it waits for the end of
    ``<sheetData>``), on opening the workbook: 38 s for a 100 KB file of a million rows. The
    dimension, when there is one, comes before the data; the readers here reset it anyway.
    """
    from openpyxl.utils.cell import range_boundaries

    with self._get_source() as source:
        head = source.read(_HEAD_BYTES)
    found = _DIMENSION.search(head.split(b"sheetData", 1)[0])
    if found:
        with contextlib.suppress(ValueError, TypeError):
            self._min_column, self._min_row, self._max_column, self._max_row = range_boundaries(
                found.group(1).decode("ascii"))


def _patch_openpyxl() -> None:
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    if ReadOnlyWorksheet._get_size is not _head_dimensions:
        ReadOnlyWorksheet._get_size = _head_dimensions


def read_xlsx(path: Path, name: str, limits: Limits | None = None) -> Source:
    """Stream the data sheet of a workbook in read-only mode; formula cells are refused, never run.

    The workbook's parts are checked against the unpacked-size limits first. The data sheet is the
    first (instructions aside) with a header row among its first rows, title rows above it allowed.
    """
    import openpyxl

    limits = limits or Limits.from_settings()
    check_workbook(path, name, limits)
    _patch_openpyxl()
    try:
        # openpyxl raises a zoo of errors for broken archives (BadZipFile, KeyError, XML errors...).
        book = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except Exception as exc:
        raise ReportImportError(f"not a readable XLSX workbook ({type(exc).__name__})", file=name) from None
    try:
        found = _data_sheet(book, name, limits)
    except ReportImportError:
        book.close()
        raise
    except Exception as exc:
        book.close()
        raise ReportImportError(f"not a readable XLSX workbook ({type(exc).__name__})", file=name) from None
    iterator, head, header_at, columns, ignored = found

    def rows() -> Iterator[RawRow]:
        counter = Counter(limits, name)
        number = 0
        try:
            for record in itertools.chain(head, iterator):
                number += 1
                counter.row(len(record), number)
                if number <= header_at + 1:
                    continue
                cells: dict[str, Any] = {}
                refused: dict[str, str] = {}
                blank = True
                for column, index in columns.items():
                    cell = record[index] if index < len(record) else None
                    value = getattr(cell, "value", None)
                    if is_blank(value):
                        cells[column] = None
                        continue
                    blank = False
                    if getattr(cell, "data_type", None) == "f":
                        refused[column] = "formula cells are not accepted; paste the value instead"
                        cells[column] = str(value)[:200]
                        continue
                    cells[column] = value
                if blank:
                    continue
                yield RawRow(number, cells, refused)
        except ReportImportError:
            raise
        except Exception as exc:
            raise ReportImportError(
                f"row {number}: the workbook is damaged ({type(exc).__name__})", file=name
            ) from None

    return Source("xlsx", None, columns, ignored, rows(), book.close)


_Found = tuple[Iterator[Any], list[Any], int, dict[str, int], list[str]]


def _data_sheet(book: Any, name: str, limits: Limits) -> _Found:
    """(rows iterator, rows already read, header index, columns, ignored) of the first sheet with a header."""
    sheets = [s for s in book.worksheets if s.title.strip().lower() not in DATA_SHEET_SKIP]
    if not sheets:
        raise ReportImportError("the workbook has no data sheet", file=name)
    first: tuple[list[Any], list[list[Any]]] | None = None
    for sheet in sheets:
        sheet.reset_dimensions()  # trust the rows, not a declared (possibly huge) dimension
        iterator = sheet.iter_rows()
        head: list[Any] = []
        values: list[list[Any]] = []
        for record in itertools.islice(iterator, limits.header_rows):
            if len(record) > limits.columns:
                raise refuse(name, f"row {len(head) + 1} has more than {limits.columns:,} columns", "max_columns")
            head.append(record)
            values.append([getattr(c, "value", None) for c in record])
            if is_header(values[-1]):
                columns, ignored = map_header(values[-1], name)
                return iterator, head, len(head) - 1, columns, ignored
        if first is None:
            first = (head, values)
    assert first is not None
    find_header(first[1], name, limits)
    raise ReportImportError("no header row", file=name)


def read_payload(records: Iterable[Mapping[str, Any]], name: str, limits: Limits | None = None) -> Source:
    """Rows from a JSON payload: a list of objects whose keys are column headers (any alias, per object)."""
    limits = limits or Limits.from_settings()
    items = list(records)
    counter = Counter(limits, name)
    for number, item in enumerate(items, start=2):
        counter.row(len(item) if isinstance(item, Mapping) else 1, number)
    seen: dict[str, None] = {}
    for item in items:
        if not isinstance(item, Mapping):
            raise ReportImportError("the payload must be a list of row objects", file=name)
        seen.update(dict.fromkeys(str(key) for key in item))
    canonical = {column_for(key) for key in seen} - {None}
    columns, ignored = map_header([c for c in COLUMNS if c in canonical], name)
    ignored = [key[:60] for key in seen if column_for(key) is None]

    def rows() -> Iterator[RawRow]:
        for number, item in enumerate(items, start=2):
            cells: dict[str, Any] = dict.fromkeys(columns)
            refused: dict[str, str] = {}
            for key, value in item.items():
                column = column_for(key)
                if column is None:
                    continue
                if isinstance(value, dict | list):
                    refused.setdefault(column, f"{column} must be a single value, not a list or object")
                    value = json.dumps(value, default=str)[:200]
                cells[column] = value
            yield RawRow(number, cells, refused)

    return Source("json", "utf-8", columns, ignored, rows())


def load_json(handle: IO[bytes], name: str) -> list[Any]:
    """A JSON payload file (numbers kept exact as Decimal)."""
    try:
        data = json.load(handle, parse_float=Decimal)
    except (ValueError, RecursionError):
        raise ReportImportError("not valid JSON", file=name) from None
    if isinstance(data, dict) and isinstance(data.get("rows"), list):
        data = data["rows"]
    if not isinstance(data, list):
        raise ReportImportError("the JSON payload must be a list of row objects", file=name)
    return data


def open_report(path: Path, limits: Limits | None = None) -> Source:
    """Open a report file by its content and extension: XLSX (zip), JSON, else CSV/TSV."""
    name = path.name
    limits = limits or Limits.from_settings()
    with path.open("rb") as handle:
        head = handle.read(8)
    suffix = path.suffix.lower()
    if head.startswith(b"PK\x03\x04") or suffix in {".xlsx", ".xlsm"}:
        return read_xlsx(path, name, limits)
    if suffix == ".xls" or head.startswith(b"\xd0\xcf\x11\xe0"):
        raise ReportImportError("old .xls workbooks are not read; save as .xlsx or CSV", file=name)
    if suffix == ".json":
        if path.stat().st_size > limits.part_bytes:  # a JSON file is read whole
            raise refuse(name, f"a JSON report larger than {limits.part_bytes >> 20:,} MB", "max_part_mb")
        with path.open("rb") as handle:
            return read_payload(load_json(handle, name), name)
    return read_csv(path, name, limits)
