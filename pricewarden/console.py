"""Terminal output shared by every command: Rich tables for people, JSON for scripts."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table


class _LiveConsole(Console):
    """A Rich console whose size follows ``COLUMNS``/``LINES`` (or the terminal) at every print.

    Rich reads ``COLUMNS`` once, when the console is made (at import); a command run later with another
    width (a test's environment, a resized terminal) would print at the width of whoever imported first.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._width = self._height = None


console = _LiveConsole()
err_console = _LiveConsole(stderr=True)


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def to_json(data: Any) -> str:
    """``data`` as JSON: Decimals as dot-decimal strings, instants as ISO 8601."""
    return json.dumps(data, default=_default, ensure_ascii=False, indent=2)


def emit_json(data: Any) -> None:
    """Print ``data`` as JSON on standard output (no Rich markup, safe for pipes)."""
    sys.stdout.write(to_json(data) + "\n")
    sys.stdout.flush()


def table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Table:
    """A Rich table with the given columns and rows (values printed with ``str``)."""
    result = Table(title=title, header_style="bold")
    for column in columns:
        numeric = column.lower() in {"price", "count", "rows", "observed", "allowed", "gap", "gap %"}
        justify = "right" if numeric else "left"
        result.add_column(column, justify=justify)  # type: ignore[arg-type]
    for row in rows:
        result.add_row(*("" if v is None else str(v) for v in row))
    return result


def show(data: Sequence[Mapping[str, Any]], columns: Sequence[str], *, as_json: bool, title: str | None = None) -> None:
    """Print records as a table, or as a JSON list with ``as_json``."""
    if as_json:
        emit_json([dict(r) for r in data])
        return
    console.print(table(title, columns, ([r.get(c) for c in columns] for r in data)))
