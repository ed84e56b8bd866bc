"""Progress bars for long commands (crawl, discovery, report import, detect): Rich, on a terminal only.

A command asks :func:`progress` for a :class:`Tracker` and reports to it; the bar shows what is done
(of how many, when known), failures and the rate. When standard output is not a terminal (a pipe, a
file, a test, ``--json``) the tracker does nothing, so scripts see only the command's result.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class Tracker:
    """What a command reports while it works; draws nothing unless a bar is showing."""

    def __init__(self, bar: Any = None, task: Any = None) -> None:
        self._bar = bar
        self._task = task

    @property
    def showing(self) -> bool:
        """Whether a bar is on screen (a terminal, and not ``--json``)."""
        return self._bar is not None

    def update(self, done: int, failed: int = 0, *, total: int | None = None, step: str | None = None) -> None:
        """Set the count done so far (and failures, the total once known, the step under way)."""
        if self._bar is None:
            return
        fields: dict[str, Any] = {"completed": done, "failed": failed}
        if total is not None:
            fields["total"] = total
        if step is not None:
            fields["description"] = step
        self._bar.update(self._task, **fields)


@contextmanager
def progress(label: str, total: int | None, *, unit: str = "pages", enabled: bool = True,
             out: Any = None) -> Iterator[Tracker]:
    """A progress bar for ``label`` over ``total`` items (``None``: not known yet), shown on a terminal only."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from pricewarden.console import console

    out = out or console
    if not enabled or not out.is_terminal:
        yield Tracker()
        return
    bar = Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn(unit + ", [red]{task.fields[failed]} failed[/]"),
        TextColumn("{task.fields[rate]}"), TimeElapsedColumn(),
        console=out, transient=False,
    )
    with bar:
        task = bar.add_task(label, total=total, failed=0, rate="")
        tracker = _RateTracker(bar, task, unit)
        yield tracker
        tracker.finish()


class _RateTracker(Tracker):
    def __init__(self, bar: Any, task: Any, unit: str) -> None:
        super().__init__(bar, task)
        self._unit = unit

    def update(self, done: int, failed: int = 0, *, total: int | None = None, step: str | None = None) -> None:
        super().update(done, failed, total=total, step=step)
        speed = self._bar.tasks[self._task].speed if self._bar is not None else None
        if speed:
            self._bar.update(self._task, rate=f"{speed:,.1f} {self._unit}/s")

    def finish(self) -> None:
        task = self._bar.tasks[self._task]
        elapsed = task.finished_time or task.elapsed or 0.0
        if elapsed and task.completed:
            self._bar.update(self._task, rate=f"{task.completed / elapsed:,.1f} {self._unit}/s")
