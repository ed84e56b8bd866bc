"""Ground truth export: JSON (everything) or CSV (one table: pages or violations)."""

from __future__ import annotations

import csv
import json
from typing import IO, Any

PAGE_COLUMNS = ("day", "url", "family", "page_type", "sku", "partner", "seller_id", "seller", "price", "currency",
                "list_price", "sale_price", "coupon", "price_range", "cart_price", "availability",
                "price_visibility", "failure", "failure_persistent", "offers")
VIOLATION_COLUMNS = ("day", "date", "rule", "kind", "scope", "partner", "seller_id", "sku", "price", "currency",
                     "limit", "policy_version", "url")


def to_bytes(truth: dict[str, Any]) -> bytes:
    """The truth as canonical JSON bytes (sorted keys): equal worlds give equal bytes."""
    return json.dumps(truth, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ";".join(_cell(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return str(value)


def write_csv(truth: dict[str, Any], table: str, out: IO[str]) -> None:
    """Write the ``pages`` or ``violations`` table of ``truth`` as CSV to ``out``."""
    writer = csv.writer(out)
    if table == "violations":
        writer.writerow(VIOLATION_COLUMNS)
        for v in truth["violations"]:
            writer.writerow([_cell(v.get(c)) for c in VIOLATION_COLUMNS])
        return
    writer.writerow(PAGE_COLUMNS)
    for page in truth["pages"]:
        failure = page.get("failure")
        row = dict(page, failure=failure["kind"] if failure else None,
                   failure_persistent=failure["persistent"] if failure else None,
                   offers=len(page["offers"]) if "offers" in page else None)
        writer.writerow([_cell(row.get(c)) for c in PAGE_COLUMNS])
