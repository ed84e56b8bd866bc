"""CPU seconds of this process and all its descendants, live or finished (Linux ``/proc``).

The demo's stages run in several processes (crawl children, Chromium, Prefect's server): on a busy
shared machine their wall time says how long the machine made them wait, their CPU time what they
cost. A finished child's CPU is in its parent's ``cutime``; a live one's is read from its own stat.
"""

from __future__ import annotations

import os
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stats() -> dict[int, tuple[int, float]]:
    """pid -> (parent pid, CPU seconds of it and its finished children) for every readable process."""
    found: dict[int, tuple[int, float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        # after the name: state ppid ... utime(12) stime(13) cutime(14) cstime(15), counted from state = 0
        found[int(entry.name)] = (int(fields[1]), sum(int(v) for v in fields[11:15]) / _TICK)
    return found


def tree_cpu_seconds(root: int | None = None) -> float | None:
    """CPU seconds spent so far by ``root`` (default: this process) and its descendants; None without /proc."""
    if not Path("/proc/self/stat").is_file():
        return None
    stats = _stats()
    root = os.getpid() if root is None else root
    children: dict[int, list[int]] = {}
    for pid, (parent, _) in stats.items():
        children.setdefault(parent, []).append(pid)
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        if pid in stats:
            total += stats[pid][1]
        todo.extend(children.get(pid, ()))
    return round(total, 2)
