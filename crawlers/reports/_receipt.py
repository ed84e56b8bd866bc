"""The receipt a partner gets back: every row, accepted or rejected, with the reason, streamed to CSV.

The file is UTF-8 with a BOM so that Excel shows Chinese text correctly, and no cell can become a
formula (OWASP "CSV injection") in a comma locale or a semicolon one. A semicolon-locale spreadsheet
splits our comma-separated lines at every ``;`` and reads each piece as a cell, so: every cell that
holds a ``,`` or a ``;`` (or a quote, tab or line break) is quoted, and a formula character is
neutralised (``'`` before it) at the start of the cell AND after every ``,`` ``;`` tab or line break
inside it, wherever a spreadsheet might start a cell.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import IO, Any

from crawlers.reports._values import COLUMNS, cell_text

RECEIPT_HEADER = ("row", "status", "column", "reason", *COLUMNS)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# A formula character where a spreadsheet may start a cell: the start, or after a separator (spaces
# and quotes between them are skipped by some spreadsheets, so they do not protect).
_FORMULA = re.compile(r"""(^|[,;\t\r\n])([ "']*)(?=[=+\-@\t\r])""")
_NEEDS_QUOTES = re.compile(r'[,;"\t\r\n]')
_UNSAFE = re.compile(r"""[,;\t\r\n][ "']*[=+\-@\t\r]""")


def safe_cell(value: object) -> str:
    """A cell as text that no spreadsheet will evaluate: ``=1+2`` -> ``'=1+2``, ``a;=1+2`` -> ``a;'=1+2``."""
    text = value if isinstance(value, str) else cell_text(value)
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    if text.startswith(_FORMULA_START) or _UNSAFE.search(text):
        return _FORMULA.sub(r"\1\2'", text)
    return text


def csv_line(values: list[str]) -> str:
    """One CSV line: a cell holding a comma, semicolon, quote, tab or line break is quoted."""
    needs = _NEEDS_QUOTES.search
    return ",".join('"' + text.replace('"', '""') + '"' if needs(text) else text for text in values) + "\r\n"


class ReceiptWriter:
    """Write receipt rows one at a time to a CSV file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        # errors="replace": a cell with half a surrogate pair (from a JSON payload) must not stop the receipt
        self._handle: IO[str] = path.open("w", encoding="utf-8-sig", errors="replace", newline="")
        self._handle.write(csv_line(list(RECEIPT_HEADER)))

    def row(self, number: int, status: str, column: str | None, reason: str, cells: dict[str, Any]) -> None:
        """One report row and what became of it."""
        values: list[str] = [str(number), status, column or "", safe_cell(reason) if reason else ""]
        unsafe = _UNSAFE.search
        for name in COLUMNS:
            value = cells.get(name)
            # plain text is the common case: test it inline, convert everything else via safe_cell
            if type(value) is str and not value.startswith(_FORMULA_START) and len(value) <= 1000 \
                    and "\x00" not in value and not unsafe(value):
                values.append(value)
            else:
                values.append(safe_cell(value)[:1000])
        self._handle.write(csv_line(values))

    def close(self) -> None:
        """Flush and close the file."""
        self._handle.close()
