"""Supervise running crawl processes: the progress bar, the crawl's time limit and the stall watchdog.

One loop watches every crawl process of a crawl (:func:`supervise`), whatever the caller asked for. Each
process counts up a heartbeat of its own whenever a piece of work finishes (:mod:`crawlers.liveness`); one
whose heartbeat stands still for ``crawl.stall_timeout`` seconds (:func:`stall_limit`) is stopped, and so is
every process still running at the crawl's ``timeout``, counted from the start. A hung process must not hold
a scheduled monitor run (its detection and its alerts) forever: last seen, a crawl process whose rendered
pages kept failing sat idle on its event loop for more than four minutes and ignored SIGTERM.

Stopping a process: SIGTERM (Scrapy then closes the spider and writes what it holds), :data:`STOP_GRACE`
seconds, then SIGKILL for it and for every process it started (Playwright's driver and Chromium, which
Playwright puts in a process group of its own, so they are found through ``/proc``, not by group). The family
is frozen with SIGSTOP first, so that none of it can start another process between the look and the kill.
Outside Linux (no ``/proc``) only the crawl process itself is stopped.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import signal
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from typing import Any

from pricewarden import procs

logger = logging.getLogger(__name__)

STOP_GRACE = 5.0  # seconds a stopped process has between SIGTERM and SIGKILL
POLL = 0.25  # seconds between two looks at the heartbeats (and two updates of a progress bar)
# Starting Chromium (Playwright's launch gives up after 30 s) and a page's batch write.
SLACK = 60.0

STALLED = "stalled"
TIMED_OUT = "timeout"


def quiet_bound(crawl: Any) -> float:
    """The longest a healthy crawl process can go without finishing anything, in seconds, from ``crawl`` settings.

    Between two heartbeats a healthy process waits at most once before an attempt: a ``Retry-After`` (up to
    ``max_retry_after``) or a retry's backoff (up to ``BACKOFF_CAP``), and AutoThrottle's delay (up to
    ``AUTOTHROTTLE_MAX_DELAY``). Then one attempt (``download_timeout``; a render takes up to ``render_budget``
    from its tab opening, both counted) and :data:`SLACK` for starting Chromium and writing a batch. Retries do
    not add up: every attempt's end is a heartbeat. 458 s with the default settings.
    """
    from crawlers.politeness import BACKOFF_CAP  # (Scrapy's modules, imported only by those who crawl)
    from crawlers.settings import AUTOTHROTTLE_MAX_DELAY

    return float(max(crawl.max_retry_after, BACKOFF_CAP) + AUTOTHROTTLE_MAX_DELAY + crawl.download_timeout
                 + crawl.render_budget + SLACK)


def stall_limit(crawl: Any) -> float | None:
    """Seconds a crawl process may go without finishing anything before it is stopped; ``None``: never stopped."""
    if crawl.stall_timeout is None:
        return quiet_bound(crawl)
    if crawl.stall_timeout and crawl.stall_timeout < quiet_bound(crawl):
        logger.warning("crawl.stall_timeout %g s is shorter than a healthy crawl process may go without finishing "
                       "anything (%g s with these settings): a slow site's process may be stopped",
                       crawl.stall_timeout, quiet_bound(crawl))
    return float(crawl.stall_timeout) or None


@dataclass(eq=False)
class Supervised:
    """A running crawl process, its heartbeat, and why it was stopped (``None`` while it was not)."""

    name: str
    process: Any
    beat: Any
    seen: int = 0
    moved_at: float = 0.0
    stopped: str | None = None
    quiet_for: float = 0.0  # seconds without a heartbeat when it was stopped
    signalled_at: float = 0.0
    family: dict[int, int] = field(default_factory=dict)  # pid -> start time of the processes it started


def supervise(processes: list[Supervised], *, stall: float | None, timeout: float | None,
              on_tick: Callable[[], None] | None = None, grace: float = STOP_GRACE) -> None:
    """Wait for every process in ``processes`` to end, stopping those that stall or outlive ``timeout``.

    ``stall``: seconds without a heartbeat after which a process is stopped (``None``: never); ``timeout``:
    seconds from now after which every process still running is stopped. ``on_tick`` is called about four
    times a second. Each stopped process says why in ``stopped`` (:data:`STALLED` or :data:`TIMED_OUT`). If
    this call is interrupted (Ctrl-C), every process still running is stopped before the exception goes on.
    """
    started = time.monotonic()
    for shard in processes:
        shard.moved_at = started
    live = list(processes)
    try:
        while live:
            wait([shard.process.sentinel for shard in live], POLL)
            now = time.monotonic()
            for shard in live:
                _look(shard, now, started=started, stall=stall, timeout=timeout, grace=grace)
            live = [shard for shard in live if shard.process.is_alive()]
            if on_tick is not None:
                on_tick()
    except BaseException:
        for shard in live:
            if shard.process.is_alive():
                _stop(shard, shard.stopped or "interrupted", time.monotonic())
                shard.process.join(grace)
                _kill(shard)
        raise
    finally:
        for shard in processes:
            if shard.stopped is not None:
                _kill(shard)  # what a process that ended within its grace left running


def _look(shard: Supervised, now: float, *, started: float, stall: float | None, timeout: float | None,
          grace: float) -> None:
    if shard.stopped is not None:
        if shard.process.is_alive() and now - shard.signalled_at >= grace:
            _kill(shard)
        return
    value = shard.beat.value
    if value != shard.seen:
        shard.seen, shard.moved_at = value, now
    elif stall is not None and now - shard.moved_at >= stall:
        shard.quiet_for = now - shard.moved_at
        logger.error("crawl shard %s finished nothing for %.0f s (crawl.stall_timeout %g s) and was stopped",
                     shard.name, shard.quiet_for, stall)
        _stop(shard, STALLED, now)
        return
    if timeout is not None and now - started >= timeout:
        logger.error("crawl shard %s took longer than %g s and was stopped", shard.name, timeout)
        _stop(shard, TIMED_OUT, now)


def _stop(shard: Supervised, why: str, now: float) -> None:
    """SIGTERM: Scrapy closes the spider and writes what it holds, if its event loop still turns."""
    shard.stopped, shard.signalled_at = why, now
    shard.family.update(_descendants([shard.process.pid]))
    with contextlib.suppress(ProcessLookupError):
        shard.process.terminate()


def _kill(shard: Supervised) -> None:
    """SIGKILL the process and every process it started (those it left behind too), frozen first, and wait
    until they are gone."""
    alive = shard.process.is_alive()
    roots = {pid: start for pid, start in shard.family.items() if _start_time(pid) == start}
    if alive:
        roots[shard.process.pid] = _start_time(shard.process.pid) or 0
    handles: dict[int, int | None] = {}  # pid -> its pidfd (None where there are none)
    tried: set[int] = set()
    while roots:
        for pid, start in roots.items():
            tried.add(pid)
            same, handle = _open(pid, start)
            if same:
                handles[pid] = handle
                _signal(pid, handle, signal.SIGSTOP)  # a stopped process cannot start another one
        roots = {pid: start for pid, start in _descendants(handles).items() if pid not in tried}
    for pid, handle in handles.items():
        _signal(pid, handle, signal.SIGKILL)
    _wait_gone([handle for handle in handles.values() if handle is not None])
    shard.process.join()
    shard.family.clear()


def _open(pid: int, start: int) -> tuple[bool, int | None]:
    """Whether ``pid`` is still the process that started at ``start``, and then a pidfd of it (``None`` where
    the system has none)."""
    handle = None
    with contextlib.suppress(OSError, AttributeError):
        handle = os.pidfd_open(pid)
    if _start_time(pid) != start:  # (checked after opening: the pidfd then holds that very process)
        if handle is not None:
            os.close(handle)
        return False, None
    return True, handle


def _signal(pid: int, handle: int | None, sig: int) -> None:
    with contextlib.suppress(OSError):
        if handle is not None:
            signal.pidfd_send_signal(handle, sig)
        else:
            os.kill(pid, sig)


def _wait_gone(handles: list[int]) -> None:
    """Wait (up to :data:`STOP_GRACE`) until the processes of these pidfds have ended, and close them."""
    deadline = time.monotonic() + STOP_GRACE
    pending = list(handles)
    while pending and (left := deadline - time.monotonic()) > 0:
        ended, _, _ = select.select(pending, [], [], left)
        pending = [handle for handle in pending if handle not in ended]
    for handle in handles:
        os.close(handle)


def _start_time(pid: int) -> int | None:
    """When ``pid`` started (clock ticks since boot): tells the same process from a later one with its pid."""
    fields = procs.stat(pid)
    return int(fields[19]) if fields and len(fields) > 19 else None


def _descendants(roots: Iterable[int]) -> dict[int, int]:
    """Every living process below ``roots`` (pid -> start time), found by their parents in ``/proc``."""
    living = {pid: fields for pid, fields in procs.stats().items() if len(fields) > 19 and fields[0] != "Z"}
    children: dict[int, list[int]] = {}
    for pid, fields in living.items():
        children.setdefault(int(fields[1]), []).append(pid)
    return {pid: int(living[pid][19]) for pid in procs.descendants(roots, children)}
