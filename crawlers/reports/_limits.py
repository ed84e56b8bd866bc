"""Limits by what a report unpacks to, checked before and while it is read.

A report's packed size says little: a 335 KB XLSX can hold 8 million shared strings (openpyxl reads
them all into memory), and a 68 KB one a million rows. So a workbook's parts are checked from the
zip's own directory before openpyxl opens it (their total and each part read whole, unpacked; the
shared strings counted as they are unpacked, stopping at the limit), and every reader counts rows,
columns and cells as it goes. Each refusal is one line naming the file and the setting::

    prices.xlsx: sharedStrings holds more than 1,000,000 entries (reports.max_shared_strings)
"""

from __future__ import annotations

import re
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from pricewarden.errors import ReportImportError

SHARED_STRINGS_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
WORKSHEET_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"
OFFICE_DOCUMENT_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
_ENTRY = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?si[\s/>]")
_BLOCK = 1 << 20
_EOCD = b"PK\x05\x06"


@dataclass(frozen=True, slots=True)
class Limits:
    """The reader limits of ``reports.*`` settings, in the units the readers count."""

    rows: int = 1_048_576
    columns: int = 1024
    cells: int = 30_000_000
    unpacked_bytes: int = 1024 << 20
    part_bytes: int = 256 << 20
    shared_strings: int = 1_000_000
    parts: int = 10_000
    header_rows: int = 20

    @classmethod
    def from_settings(cls, settings: Any = None) -> Limits:
        """The limits configured in ``settings`` (the current settings when ``None``)."""
        if settings is None:
            from pricewarden.settings import get_settings

            settings = get_settings()
        r = settings.reports
        return cls(r.max_rows, r.max_columns, r.max_cells, r.max_unpacked_mb << 20, r.max_part_mb << 20,
                   r.max_shared_strings, r.max_parts, r.header_rows)


def refuse(name: str, what: str, setting: str) -> ReportImportError:
    """The one-line refusal: ``<file>: <what> (reports.<setting>)``."""
    return ReportImportError(f"{what} (reports.{setting})", file=name)


class Counter:
    """Rows, columns and cells read so far from one file; refuses the file at the first limit passed."""

    def __init__(self, limits: Limits, name: str) -> None:
        self.limits = limits
        self.name = name
        self.rows = 0
        self.cells = 0

    def row(self, width: int, number: int) -> None:
        """Count one row of ``width`` cells (blank rows too: they cost as much to read)."""
        limits = self.limits
        self.rows += 1
        if self.rows > limits.rows:
            raise refuse(self.name, f"more than {limits.rows:,} rows", "max_rows")
        if width > limits.columns:
            raise refuse(self.name, f"row {number} has more than {limits.columns:,} columns", "max_columns")
        self.cells += width
        if self.cells > limits.cells:
            raise refuse(self.name, f"more than {limits.cells:,} cells", "max_cells")


def _entry_count(path: Path) -> int | None:
    """How many entries the zip's end record declares, read before ``zipfile`` builds its directory."""
    with path.open("rb") as handle:
        handle.seek(0, 2)
        size = handle.tell()
        handle.seek(max(0, size - (1 << 16) - 22))
        tail = handle.read()
    at = tail.rfind(_EOCD)
    if at < 0 or len(tail) < at + 22:
        return None
    (entries,) = struct.unpack_from("<H", tail, at + 10)
    return int(entries)


def _xml(archive: zipfile.ZipFile, name: str, limits: Limits) -> Any:
    from lxml import etree

    info = archive.getinfo(name)
    if info.file_size > limits.part_bytes:
        return None
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        return etree.fromstring(archive.read(info), parser)
    except (etree.XMLSyntaxError, zipfile.BadZipFile, ValueError, OSError):
        return None


def _resolve(base: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    parts: list[str] = []
    for part in (PurePosixPath(base).parent / target).parts:
        if part == "..":
            if parts:
                parts.pop()
        elif part != ".":
            parts.append(part)
    return "/".join(parts)


def _package(archive: zipfile.ZipFile, names: set[str], limits: Limits) -> tuple[set[str], set[str]]:
    """(worksheet parts, shared-strings parts) as openpyxl will find them: by relation and content type."""
    shared: set[str] = set()
    sheets: set[str] = set()
    types = _xml(archive, "[Content_Types].xml", limits) if "[Content_Types].xml" in names else None
    if types is None:
        return sheets, shared
    for node in types:
        if str(node.tag).endswith("Override") and node.get("ContentType") == SHARED_STRINGS_TYPE:
            shared.add((node.get("PartName") or "").lstrip("/"))
    root_rels = _xml(archive, "_rels/.rels", limits) if "_rels/.rels" in names else None
    books = [_resolve("", n.get("Target") or "") for n in (root_rels if root_rels is not None else ())
             if n.get("Type") == OFFICE_DOCUMENT_REL]
    for book in books:
        rels_name = str(PurePosixPath(book).parent / "_rels" / (PurePosixPath(book).name + ".rels"))
        rels = _xml(archive, rels_name, limits) if rels_name in names else None
        for node in rels if rels is not None else ():
            if node.get("Type") == WORKSHEET_REL:
                sheets.add(_resolve(book, node.get("Target") or ""))
    return sheets - shared, shared


def check_workbook(path: Path, name: str, limits: Limits) -> None:
    """Refuse a workbook whose parts unpack past the limits, before anything reads it whole."""
    entries = _entry_count(path)
    if entries is not None and entries > limits.parts:
        raise refuse(name, f"the workbook has more than {limits.parts:,} parts", "max_parts")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise ReportImportError(f"not a readable XLSX workbook ({type(exc).__name__})", file=name) from None
    with archive:
        infos = archive.infolist()
        if len(infos) > limits.parts:
            raise refuse(name, f"the workbook has more than {limits.parts:,} parts", "max_parts")
        total = sum(info.file_size for info in infos)
        if total > limits.unpacked_bytes:
            raise refuse(name, f"the workbook unpacks to more than {_mb(limits.unpacked_bytes)}", "max_unpacked_mb")
        names = {info.filename for info in infos}
        sheets, shared = _package(archive, names, limits)
        for info in infos:
            if info.filename not in sheets and info.file_size > limits.part_bytes:
                raise refuse(name, f"{info.filename} unpacks to more than {_mb(limits.part_bytes)}", "max_part_mb")
        for part in shared & names:
            _count_entries(archive, part, name, limits)


def _count_entries(archive: zipfile.ZipFile, part: str, name: str, limits: Limits) -> None:
    """Count ``<si>`` entries as the part unpacks, block by block; stop at the limit."""
    count = 0
    carry = b""
    try:
        with archive.open(part) as stream:
            while block := stream.read(_BLOCK):
                data = carry + block
                # An opening tag holds no "<" after its first byte: one cut in two starts at the last "<".
                cut = data.rfind(b"<")
                if cut < 0:
                    carry = b""
                    continue
                count += len(_ENTRY.findall(data, 0, cut))
                carry = data[cut:]
                if count > limits.shared_strings:
                    raise refuse(name, f"sharedStrings holds more than {limits.shared_strings:,} entries",
                                 "max_shared_strings")
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise ReportImportError(f"not a readable XLSX workbook ({type(exc).__name__})", file=name) from None
    count += len(_ENTRY.findall(carry))
    if count > limits.shared_strings:
        raise refuse(name, f"sharedStrings holds more than {limits.shared_strings:,} entries", "max_shared_strings")


def _mb(n: int) -> str:
    return f"{n >> 20:,} MB"
