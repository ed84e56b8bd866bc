"""Terminal output shared by every command: Rich tables for people, JSON for scripts."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text


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


_NUMBER = re.compile(r"^[-+]?[\d.,\u00a0 ']*\d[\d.,%]*$")
TEXT_MIN_WIDTH = 8
NUMERIC_COLUMNS = {"price", "count", "rows", "observed", "allowed", "gap", "gap %", "gap_pct", "reported_price",
                   "observed_price", "diff_pct", "pages", "ok", "failed", "judged", "open", "new", "extended",
                   "resolved", "attempts", "accepted", "rejected", "id"}


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Table:
    """A Rich table with the given columns and rows (values printed with ``str``).

    A number is never cut or broken: a column holding numbers is at least as wide as its widest
    number; other text folds onto more lines. A table too wide even so is for :func:`print_table`,
    which switches to one block per row.
    """
    cells = [[_text(v) for v in row] for row in rows]
    result = Table(title=title, header_style="bold")
    for index, column in enumerate(columns):
        values = [row[index] for row in cells if index < len(row)]
        numbers = [len(v) for v in values if _NUMBER.match(v)]
        numeric = column.lower() in NUMERIC_COLUMNS or (bool(values) and len(numbers) == len(values))
        # Text is readable down to a few characters a line; below that the row layout reads better.
        text_min = min(max([len(column), *(len(v) for v in values)]), TEXT_MIN_WIDTH)
        result.add_column(column, justify="right" if numeric else "left", overflow="fold",
                          min_width=max(numbers, default=None) if numeric else text_min)
    for row in cells:
        result.add_row(*row)
    return result


def fits(renderable: Table, out: Console | None = None) -> bool:
    """Whether ``renderable`` fits the terminal with every column at its minimum width or wider.

    Asks Rich for the widths it would lay the columns out at (a column Rich would squeeze below its
    minimum is where a number would be cut).
    """
    out = out or console
    # Rich's own layout of the columns in the width its borders leave; each width holds the column's
    # padding (a space either side) besides its text.
    space = out.width - renderable._extra_width
    widths = renderable._calculate_column_widths(out, out.options.update_width(space))
    if sum(widths) > space:
        return False
    return all(width - 2 >= (column.min_width or 1) for width, column in zip(widths, renderable.columns, strict=True))


def records(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Group:
    """The narrow layout of a table: one block of ``column  value`` lines per row, values folded, never cut."""
    blocks: list[Any] = []
    if title:
        blocks.append(Text(title, style="italic"))
    width = max((len(c) for c in columns), default=0)
    for row in rows:
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold", no_wrap=True, min_width=width)
        grid.add_column(overflow="fold")
        for column, value in zip(columns, row, strict=False):
            grid.add_row(column, _text(value))
        blocks.extend([grid, Text("")])
    return Group(*blocks)


def print_table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]],
                out: Console | None = None) -> None:
    """Print a table; on a terminal too narrow for it, one block per row instead (numbers are never cut)."""
    out = out or console
    rows = [list(r) for r in rows]
    wide = table(title, columns, rows)
    out.print(wide if fits(wide, out) else records(title, columns, rows))


def show(data: Sequence[Mapping[str, Any]], columns: Sequence[str], *, as_json: bool, title: str | None = None) -> None:
    """Print records as a table (one block per record when the terminal is too narrow), or JSON with ``as_json``."""
    if as_json:
        emit_json([dict(r) for r in data])
        return
    print_table(title, columns, ([r.get(c) for c in columns] for r in data))
