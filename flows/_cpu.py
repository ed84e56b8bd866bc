"""CPU seconds of this process and all its descendants, live or finished (Linux ``/proc``).

The demo's stages run in several processes (crawl children, Chromium, Prefect's server): on a busy
shared machine their wall time says how long the machine made them wait, their CPU time what they
cost. A finished child's CPU is in its parent's ``cutime``; a live one's is read from its own stat.
"""

from __future__ import annotations

import os
from pathlib import Path

from pricewarden import procs

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stats() -> dict[int, tuple[int, float, float]]:
    """pid -> (parent pid, its own CPU seconds, with its finished children's) for every readable process."""
    found: dict[int, tuple[int, float, float]] = {}
    for pid, fields in procs.stats().items():
        if len(fields) < 15:
            continue
        # after the name: state ppid ... utime(12) stime(13) cutime(14) cstime(15), counted from state = 0
        own = (int(fields[11]) + int(fields[12])) / _TICK
        found[pid] = (int(fields[1]), own, own + (int(fields[13]) + int(fields[14])) / _TICK)
    return found


def tree(root: int, *, own: bool = False) -> dict[int, float]:
    """pid -> CPU seconds of ``root`` and its live descendants: with their finished children's, or ``own`` only."""
    stats = _stats()
    children: dict[int, list[int]] = {}
    for pid, (parent, _, _) in stats.items():
        children.setdefault(parent, []).append(pid)
    return {pid: stats[pid][1 if own else 2] for pid in (root, *procs.descendants([root], children)) if pid in stats}


def kind_of(pid: int) -> str:
    """What a process of the demo is, from its command line: Chromium, its driver, Prefect's server, Python."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return "gone"
    if "chrom" in command or "headless_shell" in command:
        return "chromium"
    if "multiprocessing" in command:  # before the driver: the fork server preloads scrapy_playwright
        return "crawl processes"
    if "run-driver" in command or "/node " in command or command.startswith("node "):
        return "playwright driver"
    if "flows._watchdog" in command or "uvicorn" in command or "prefect" in command:
        return "prefect server"
    return "python" if "python" in command else command.split(" ", 1)[0][-40:] or "other"


def adopt_orphans() -> None:
    """Make this process the reaper of its orphaned descendants (Linux ``PR_SET_CHILD_SUBREAPER``).

    Chromium's renderers outlive their browser by a moment and are then nobody's child: their CPU left
    this process's tree, and a stage whose browser closed inside it was charged none of it. Adopted,
    they stay as zombies until this process ends (a demo, a benchmark: short-lived), and their CPU is
    counted in the stage that spent it.
    """
    import contextlib
    import ctypes

    with contextlib.suppress(OSError, AttributeError):  # not Linux: the figures then miss what orphans spent
        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)


def tree_cpu_seconds(root: int | None = None) -> float | None:
    """CPU seconds spent so far by ``root`` (default: this process) and its descendants; None without /proc."""
    if not Path("/proc/self/stat").is_file():
        return None
    return round(sum(tree(os.getpid() if root is None else root).values()), 2)
