"""Exports of the filtered violations list: CSV (comma, or semicolon for comma-decimal locales) and XLSX.

Formula-safe in a comma locale and a semicolon one (OWASP "CSV injection"): CSV text cells go through
the guard the partner receipts use (:mod:`pricewarden.cells`): a ``'`` before a formula character
(``=``, ``+``, ``-``, ``@``, tab, CR) at the start of a cell and after every ``,`` ``;`` tab or line
break inside it, and every cell holding a ``,`` ``;`` quote, tab or line break is quoted, whichever
the delimiter, so that a spreadsheet in the other locale cannot split a cell into a formula. XLSX
cells are typed as strings or numbers explicitly so that nothing is ever stored as a formula (and
characters XML cannot hold become U+FFFD instead of failing the export). Amounts are numbers;
in the semicolon variant they use a decimal comma, as Excel expects in those locales. CSV files
carry a UTF-8 BOM so that Excel shows Chinese text.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from detection.queries import violation_dict
from pricewarden.cells import csv_line, safe_text
from store import Violation

COLUMNS = ("id", "kind", "rule", "mode", "status", "severity", "sku", "partner", "seller_id", "seller_name", "region",
           "raw_text", "observed", "allowed", "currency", "gap", "gap_pct", "policy_version", "rule_ref",
           "escalation_step", "repeat_number", "occurrences", "first_seen_at", "last_seen_at", "resolved_at", "url",
           "screenshot_sha256", "html_sha256")


def _cell(value: Any, decimal_comma: bool) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        text = format(value, "f")
        return text.replace(".", ",") if decimal_comma else text
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return safe_text(str(value))


def rows_of(violations: Iterable[Violation]) -> Iterable[dict[str, Any]]:
    """The export rows (the same data the CLI's ``--json`` prints)."""
    for v in violations:
        data = violation_dict(v)
        data["id"] = v.id
        yield data


def to_csv(violations: Iterable[Violation], *, semicolon: bool = False) -> bytes:
    """The violations as CSV bytes (UTF-8 with BOM)."""
    delimiter = ";" if semicolon else ","
    out = io.StringIO()
    out.write("\ufeff" + csv_line(COLUMNS, delimiter))
    for row in rows_of(violations):
        out.write(csv_line((_cell(row.get(c), semicolon) for c in COLUMNS), delimiter))
    return out.getvalue().encode("utf-8")


def to_xlsx(violations: Iterable[Violation], title: str = "violations") -> bytes:
    """The violations as an XLSX workbook: text cells typed as text, amounts as numbers, instants as UTC text."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31])
    sheet.append(list(COLUMNS))
    for row in rows_of(violations):
        sheet.append(_xlsx_row(sheet, row, COLUMNS))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _xlsx_row(sheet: Any, row: dict[str, Any], columns: Sequence[str]) -> list[Any]:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    cells: list[Any] = []
    for name in columns:
        value = row.get(name)
        if value is None or (isinstance(value, (int, Decimal)) and not isinstance(value, bool)):
            cells.append(value)
            continue
        text = value.isoformat() if isinstance(value, datetime) else str(value)
        cell = WriteOnlyCell(sheet, value=None)
        cell.value = ILLEGAL_CHARACTERS_RE.sub("\ufffd", text)  # a control character would fail the whole export
        cell.data_type = "s"  # a string, even when it starts with "=": never a formula
        cells.append(cell)
    return cells


__all__ = ["COLUMNS", "to_csv", "to_xlsx"]
