"""Readers that stream a report's rows: CSV (encoding detected), XLSX (read-only) and JSON payloads.

Every reader yields :class:`RawRow` records: the 1-based row number (header = row 1), the cells by
canonical column, and cells already refused by the reader (a spreadsheet formula). Nothing is
loaded whole except JSON payloads, which are API-sized by nature.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

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

    def close(self) -> None:
        """Release the underlying file or workbook."""
        if self.closer is not None:
            self.closer()


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, read in 1 MB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def map_header(header: Iterable[object], name: str) -> tuple[dict[str, int], list[str]]:
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


def _delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    return max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","


def read_csv(path: Path, name: str) -> Source:
    """Stream a CSV/TSV: encoding from BOM or detection, delimiter from the header line."""
    handle = path.open("rb")
    try:
        sample = handle.read(SAMPLE_BYTES)
        if b"\x00" in sample and not sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            raise ReportImportError("binary data, not a CSV file", file=name)
        encoding = detect_encoding(sample)
        handle.seek(0)
        text = io.TextIOWrapper(handle, encoding=encoding, errors="strict", newline="")
        first = text.readline(CSV_FIELD_LIMIT)
        reader = csv.reader([first], delimiter=_delimiter(first))
        header = next(reader, [])
        columns, ignored = map_header(header, name)
    except UnicodeDecodeError as exc:
        handle.close()
        raise ReportImportError(f"not valid {exc.encoding} text", file=name) from None
    except BaseException:
        handle.close()
        raise

    def rows() -> Iterator[RawRow]:
        reader = csv.reader(text, delimiter=_delimiter(first))
        number = 1
        try:
            for record in reader:
                number += 1
                if not any(cell.strip() for cell in record):
                    continue
                yield RawRow(number, {c: record[i] if i < len(record) else None for c, i in columns.items()})
        except UnicodeDecodeError as exc:
            raise ReportImportError(f"row {number + 1}: not valid {exc.encoding} text", file=name) from None
        except csv.Error as exc:
            raise ReportImportError(f"row {number + 1}: {exc}", file=name) from None

    return Source("csv", encoding, columns, ignored, rows(), handle.close)


def read_xlsx(path: Path, name: str) -> Source:
    """Stream the first data sheet of a workbook in read-only mode; formula cells are refused, never run."""
    import openpyxl

    try:
        # openpyxl raises a zoo of errors for broken archives (BadZipFile, KeyError, XML errors...).
        book = openpyxl.load_workbook(path, read_only=True, data_only=False)
        sheets = [s for s in book.worksheets if s.title.strip().lower() not in {"instructions", "说明"}]
        if not sheets:
            raise ReportImportError("the workbook has no data sheet", file=name)
        sheet = sheets[0]
        sheet.reset_dimensions()  # trust the rows, not a declared (possibly huge) dimension
        iterator = sheet.iter_rows()
        header = next(iterator, ())
        columns, ignored = map_header([c.value for c in header], name)
    except ReportImportError:
        raise
    except Exception as exc:
        raise ReportImportError(f"not a readable XLSX workbook ({type(exc).__name__})", file=name) from None

    def rows() -> Iterator[RawRow]:
        number = 1
        try:
            for record in iterator:
                number += 1
                cells: dict[str, Any] = {}
                refused: dict[str, str] = {}
                blank = True
                for column, index in columns.items():
                    cell = record[index] if index < len(record) else None
                    value = getattr(cell, "value", None)
                    if value is None or (isinstance(value, str) and not value.strip()):
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
        except Exception as exc:
            raise ReportImportError(
                f"row {number}: the workbook is damaged ({type(exc).__name__})", file=name
            ) from None

    return Source("xlsx", None, columns, ignored, rows(), book.close)


def read_payload(records: Iterable[Mapping[str, Any]], name: str) -> Source:
    """Rows from a JSON payload: a list of objects whose keys are column headers (any alias, per object)."""
    items = list(records)
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


def open_report(path: Path) -> Source:
    """Open a report file by its content and extension: XLSX (zip), JSON, else CSV/TSV."""
    name = path.name
    with path.open("rb") as handle:
        head = handle.read(8)
    suffix = path.suffix.lower()
    if head.startswith(b"PK\x03\x04") or suffix in {".xlsx", ".xlsm"}:
        return read_xlsx(path, name)
    if suffix == ".xls" or head.startswith(b"\xd0\xcf\x11\xe0"):
        raise ReportImportError("old .xls workbooks are not read; save as .xlsx or CSV", file=name)
    if suffix == ".json":
        with path.open("rb") as handle:
            return read_payload(load_json(handle, name), name)
    return read_csv(path, name)
