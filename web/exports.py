"""Exports of the filtered violations list: CSV (comma, or semicolon for comma-decimal locales) and XLSX.

Formula-safe: a text cell that a spreadsheet would run (``=``, ``+``, ``-``, ``@``, tab, CR) is
written with a leading apostrophe in CSV (OWASP "CSV injection"), and XLSX cells are typed as
strings or numbers explicitly so that nothing is ever stored as a formula. Amounts are numbers;
in the semicolon variant they use a decimal comma, as Excel expects in those locales. CSV files
carry a UTF-8 BOM so that Excel shows Chinese text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from detection.queries import violation_dict
from store import Violation

COLUMNS = ("id", "kind", "rule", "mode", "status", "severity", "sku", "partner", "seller_id", "seller_name", "region",
           "raw_text", "observed", "allowed", "currency", "gap", "gap_pct", "policy_version", "rule_ref",
           "escalation_step", "repeat_number", "occurrences", "first_seen_at", "last_seen_at", "resolved_at", "url",
           "screenshot_sha256", "html_sha256")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value: str) -> str:
    """``value`` as a cell no spreadsheet evaluates: ``=HYPERLINK(...)`` → ``'=HYPERLINK(...)``."""
    return "'" + value if value.startswith(_FORMULA_START) else value


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
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";" if semicolon else ",", lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows_of(violations):
        writer.writerow([_cell(row.get(c), semicolon) for c in COLUMNS])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


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

    cells: list[Any] = []
    for name in columns:
        value = row.get(name)
        if value is None or (isinstance(value, (int, Decimal)) and not isinstance(value, bool)):
            cells.append(value)
            continue
        text = value.isoformat() if isinstance(value, datetime) else str(value)
        cell = WriteOnlyCell(sheet, value=None)
        cell.value = text
        cell.data_type = "s"  # a string, even when it starts with "=": never a formula
        cells.append(cell)
    return cells


__all__ = ["COLUMNS", "safe_text", "to_csv", "to_xlsx"]
