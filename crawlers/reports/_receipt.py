"""The receipt a partner gets back: every row, accepted or rejected, with the reason, streamed to CSV.

The file is UTF-8 with a BOM so that Excel shows Chinese text correctly, and no cell can become a
formula (OWASP "CSV injection") in a comma locale or a semicolon one. A semicolon-locale spreadsheet
splits our comma-separated lines at every ``;`` and reads each piece as a cell, so: every cell that
holds a ``,`` or a ``;`` (or a quote, tab or line break) is quoted, and a formula character is
neutralised (``'`` before it) at the start of the cell AND after every ``,`` ``;`` tab or line break
inside it, wherever a spreadsheet might start a cell. The guard is shared with the review app's
exports: :mod:`pricewarden.cells`.
"""

from __future__ import annotations

import csv
import io
import os
import re
from pathlib import Path
from typing import IO, Any

from crawlers.reports._values import COLUMNS, cell_text
from pricewarden.cells import UNSAFE_ROW, csv_line, safe_text
from pricewarden.files import FILE_MODE, make_private_dir

RECEIPT_HEADER = ("row", "status", "column", "reason", *COLUMNS)
_SEMICOLON = re.compile(r"[;\t]")
_ATTENTION = re.compile(f"{UNSAFE_ROW.pattern}|{_SEMICOLON.pattern}")  # either of the two, in one search


def safe_cell(value: object) -> str:
    """A cell as text that no spreadsheet will evaluate: ``=1+2`` -> ``'=1+2``, ``a;=1+2`` -> ``a;'=1+2``."""
    return safe_text(value if isinstance(value, str) else cell_text(value))


_PLAIN = re.compile(f"{_ATTENTION.pattern}|[,\"\r\n]")  # what neither needs guarding nor quoting lacks all of these


def receipt_line(number: int, status: str, column: str | None, reason: str, cells: dict[str, Any]) -> str:
    """One report row and what became of it, as its line of the receipt (CRLF-terminated)."""
    values: list[str] = [str(number), status, column or "", safe_cell(reason) if reason else ""]
    for name in COLUMNS:
        value = cells.get(name)
        values.append(value if type(value) is str and len(value) <= 1000 else safe_cell(value)[:1000])
    # One search over the whole row finds the rare cell that needs neutralising, quoting or semicolon quoting.
    joined = "\x1f".join(values)
    if not _PLAIN.search(joined):
        return ",".join(values) + "\r\n"  # the common row: what csv.writer would write
    if UNSAFE_ROW.search(joined):
        values = [*values[:4], *(safe_cell(v) for v in values[4:])]  # the reason is safe already
    if _SEMICOLON.search(joined):
        return csv_line(values)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(values)  # quotes what holds a comma, quote or line break
    return buffer.getvalue()


class ReceiptWriter:
    """Write receipt rows to a CSV file, one at a time or as lines rendered by :func:`receipt_line`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        # Owner-only whatever the process's umask (the web app's import runs outside the CLI): a partner's prices.
        make_private_dir(path.parent)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
        os.fchmod(fd, FILE_MODE)
        # errors="replace": a cell with half a surrogate pair (from a JSON payload) must not stop the receipt
        self._handle: IO[str] = open(fd, "w", encoding="utf-8-sig", errors="replace", newline="")  # noqa: SIM115
        self._handle.write(csv_line(list(RECEIPT_HEADER)))

    def row(self, number: int, status: str, column: str | None, reason: str, cells: dict[str, Any]) -> None:
        """One report row and what became of it."""
        self._handle.write(receipt_line(number, status, column, reason, cells))

    def write(self, lines: str) -> None:
        """Lines rendered by :func:`receipt_line`, in row order."""
        self._handle.write(lines)

    def close(self) -> None:
        """Flush and close the file."""
        self._handle.close()
