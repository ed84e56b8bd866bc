"""Processes as Linux's ``/proc`` shows them: each one's status fields, and who started whom.

Used by the crawl's stall watchdog (:mod:`crawlers.watchdog`: a stopped crawl process's Chromium and driver) and by
the demo's CPU accounting (:mod:`flows._cpu`). Outside Linux there is no ``/proc``: no process is found.
"""

from __future__ import annotations

import os
from collections.abc import Iterable


def stat(pid: int | str) -> list[str] | None:
    """The fields of ``/proc/<pid>/stat`` after the command name (state, ppid, ...: field n of proc(5) is at n - 3),
    or ``None`` when the process is gone or unreadable."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            text = handle.read().decode("ascii", "replace")
    except OSError:
        return None
    return text.rpartition(")")[2].split()


def stats() -> dict[int, list[str]]:
    """pid -> :func:`stat` of every process readable now."""
    try:
        entries = os.listdir("/proc")
    except OSError:
        return {}
    found: dict[int, list[str]] = {}
    for entry in entries:
        if entry.isdigit() and (fields := stat(entry)) is not None:
            found[int(entry)] = fields
    return found


def descendants(roots: Iterable[int], children: dict[int, list[int]]) -> list[int]:
    """Every process below ``roots`` (not the roots), by ``children`` (pid -> the pids whose parent it is)."""
    found: list[int] = []
    seen: set[int] = set()
    todo = list(roots)
    while todo:
        for pid in children.get(todo.pop(), ()):
            if pid not in seen:
                seen.add(pid)
                found.append(pid)
                todo.append(pid)
    return found
