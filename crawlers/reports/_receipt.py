"""The receipt a partner gets back: every row, accepted or rejected, with the reason, streamed to CSV.

The file is UTF-8 with a BOM so that Excel shows Chinese text correctly, and every cell that a
spreadsheet would run as a formula is neutralised (OWASP "CSV injection").
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import IO, Any

from crawlers.reports._values import COLUMNS, cell_text

RECEIPT_HEADER = ("row", "status", "column", "reason", *COLUMNS)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """A cell as text that no spreadsheet will evaluate: ``=1+2`` -> ``'=1+2``."""
    text = value if isinstance(value, str) else cell_text(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


class ReceiptWriter:
    """Write receipt rows one at a time to a CSV file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._handle: IO[str] = path.open("w", encoding="utf-8-sig", newline="")
        self._writer = csv.writer(self._handle)
        self._writer.writerow(RECEIPT_HEADER)

    def row(self, number: int, status: str, column: str | None, reason: str, cells: dict[str, Any]) -> None:
        """One report row and what became of it."""
        values: list[object] = [number, status, column or "", safe_cell(reason) if reason else ""]
        for name in COLUMNS:
            value = cells.get(name)
            # plain text is the common case: test it inline, convert everything else via safe_cell
            if type(value) is str and not value.startswith(_FORMULA_START) and len(value) <= 1000:
                values.append(value)
            else:
                values.append(safe_cell(value)[:1000])
        self._writer.writerow(values)

    def close(self) -> None:
        """Flush and close the file."""
        self._handle.close()
