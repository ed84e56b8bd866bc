"""Run crawls, each in its own process: Twisted's reactor cannot be restarted inside one process.

Targets are split into shards by site (a site's politeness stays in one process; sites are spread
by cost, a rendered page weighing like many static ones) and each shard runs a
``scrapy.crawler.CrawlerProcess`` in a child process of its own, all shards in parallel (default:
one per core). The caller gets the ``CrawlRun`` ids back. The caller watches every process's heartbeat
and stops one that has finished nothing for ``crawl.stall_timeout`` seconds (:mod:`crawlers.watchdog`).

Children come from a fork server that has Scrapy, SQLAlchemy and the extractors imported already
(on Linux; elsewhere ``spawn``): a crawl process starts in a tenth of a second instead of 1-2 s of
imports, which matters for a monitor that crawls every few minutes. No reactor is ever started in
the server, so each child still gets a fresh one. A child takes the caller's environment and
working directory from its payload (the server's are those of the moment it started), so it
writes to the same database and evidence store as the caller.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from crawlers.failures import FailureKind
from crawlers.watchdog import STALLED, Supervised, stall_limit, supervise
from pricewarden.errors import CrawlError
from store._types import utcnow

logger = logging.getLogger(__name__)


@dataclass
class CrawlResult:
    """What a crawl did: its run ids, when it started and the shards that failed to finish."""

    run_keys: list[str] = field(default_factory=list)
    started_at: datetime = field(default_factory=utcnow)
    finished_at: datetime | None = None
    shards: int = 0
    pages: int = 0
    failed_shards: list[str] = field(default_factory=list)


def default_shards() -> int:
    """Shards when none are asked for: ``crawl.processes``, or one per core."""
    from pricewarden.settings import get_settings

    return get_settings().crawl.processes or os.cpu_count() or 1


def needs_browser(targets: list[Any], profiles: list[Any]) -> bool:
    """True when any target's profile renders, or the render fallback is on."""
    from crawlers.profiles import find_profile
    from pricewarden.settings import get_settings

    if get_settings().crawl.render_fallback:
        return True
    return any(getattr(find_profile(profiles, t.url, name=t.profile), "render", False) for t in targets)


# A page rendered in Chromium with a full-page screenshot costs about as much as this many static pages.
RENDER_COST = 25.0


def _page_cost(profiles: list[Any]) -> Any:
    """Cost of crawling one target: 1 for a static page, ``RENDER_COST`` when its profile renders."""
    from crawlers.profiles import find_profile

    cache: dict[tuple[str, str | None], float] = {}

    def cost(target: Any) -> float:
        key = (target.site, target.profile)
        if key not in cache:
            try:
                renders = bool(getattr(find_profile(profiles, target.url, name=target.profile), "render", False))
            except Exception:  # an unknown profile name: the spider falls back to the domain's
                renders = False
            cache[key] = RENDER_COST if renders else 1.0
        return cache[key]

    return cost


# Imported once in the fork server (none of them starts or installs a Twisted reactor).
PRELOAD = ["scrapy.crawler", "scrapy.core.downloader.handlers.http11", "scrapy_playwright.handler",
           "crawlers.spider", "crawlers.pipeline", "crawlers.persist", "crawlers.extract", "crawlers.preload",
           "crawlers.downloader",
           "store.models", "store.db", "sqlalchemy.dialects.sqlite", "sqlalchemy.dialects.postgresql"]


def process_context() -> Any:
    """The multiprocessing context crawl processes come from: a preloaded fork server where there is one."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(PRELOAD)
        return context
    return multiprocessing.get_context("spawn")


def warm_up_processes() -> None:
    """Start the fork server now (its imports take 1-2 s), so that the first crawl does not wait for it."""
    if process_context().get_start_method() == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()


def shared_site_slots(site_concurrency: dict[str, int]) -> dict[str, dict[str, Any]]:
    """Scrapy ``DOWNLOAD_SLOTS`` for the sites this process shares with others: their connections.

    Scrapy keeps one download slot per host name (not host:port), so that is the key.
    """
    from urllib.parse import urlsplit

    slots: dict[str, dict[str, Any]] = {}
    for site, connections in site_concurrency.items():
        host = urlsplit(f"//{site}").hostname or site
        slots[host] = {"concurrency": min(connections, slots.get(host, {}).get("concurrency", connections))}
    return slots


# glibc's malloc: blocks this large or larger are mapped on their own, and free memory above this at the
# top of the heap goes back to the system (mallopt's M_MMAP_THRESHOLD and M_TRIM_THRESHOLD).
_MMAP_THRESHOLD = 16 * 1024 * 1024
_TRIM_THRESHOLD = 32 * 1024 * 1024


def keep_page_memory() -> bool:
    """Let this process reuse the memory of one page's tree and body for the next (glibc only).

    By default glibc maps each block over 128 KB (raised up to the largest one freed) on its own and
    hands freed memory at the top of the heap back at once; each 600 KB page's lexbor tree and body
    then come from fresh pages the kernel must fault in and zero: ~250 page faults a page, ~0.5 ms of
    system CPU. Fixed thresholds of 16 and 32 MB keep that memory in the heap (peak RSS unchanged on
    the real-page bench). ``False`` where the C library has no ``mallopt`` (musl, macOS).
    """
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError, TypeError):
        return False
    # (the constants are glibc's: M_TRIM_THRESHOLD -1, M_MMAP_THRESHOLD -3; 1 means accepted)
    return bool(mallopt(-3, _MMAP_THRESHOLD) == 1 and mallopt(-1, _TRIM_THRESHOLD) == 1)


def crawl_shard(payload: dict[str, Any], counters: tuple[Any, Any] | None = None, beat: Any = None) -> None:
    """Run one shard's crawl in this process (the body of a child process).

    ``counters`` (shared ``multiprocessing`` values: pages done, pages failed) are counted up by the
    store pipeline as pages come in, for the caller's progress bar. ``beat`` (a shared value) is this
    process's heartbeat, counted up whenever a piece of work finishes (:mod:`crawlers.liveness`), for the
    caller's stall watchdog.
    """
    # The caller's environment and folder, not the fork server's (they may have changed since).
    os.environ.clear()
    os.environ.update(payload["env"])
    os.chdir(payload["cwd"])
    from scrapy.crawler import CrawlerProcess

    from crawlers import liveness, pipeline

    pipeline.PROGRESS = counters
    liveness.BEAT = beat

    from crawlers.politeness import prepare_crawl_process
    from crawlers.settings import scrapy_settings
    from crawlers.spider import StorefrontSpider
    from pricewarden.settings import get_settings

    get_settings.cache_clear()
    prepare_crawl_process()
    # Modules, classes and settings imported by now live as long as this process: frozen, they are
    # no longer walked by each full pass of the cyclic collector (~180,000 objects, ~0.1 s a pass).
    gc.freeze()
    # What pages leave alive for a while (requests, items, extractions waiting for their batch) fills
    # the young generation: at the default threshold (700) the collector made ~100 passes per 200 real
    # pages (~0.25 ms of CPU a page), at 10,000 about 3; the garbage is freed by reference counting.
    gc.set_threshold(10_000, *gc.get_threshold()[1:])
    keep_page_memory()
    settings = scrapy_settings(browser=payload["browser"])
    settings["LOG_LEVEL"] = payload.get("log_level", settings["LOG_LEVEL"])
    if logging.getLevelName(settings["LOG_LEVEL"]) > logging.INFO:
        # Scrapy reads ten packages' metadata for its "Versions" line, logged at INFO (~8 ms a process).
        settings["LOG_VERSIONS"] = []
    settings["DOWNLOAD_SLOTS"] = shared_site_slots(payload.get("site_concurrency") or {})
    process = CrawlerProcess(settings=settings)
    # Scrapy leaves the root logger at NOTSET and filters in its handler: every page's DEBUG lines
    # would still be built as records and thrown away. The level on the loggers themselves stops
    # that at the first check (~1% of a crawl's CPU).
    for name in ("scrapy", "scrapy_playwright", "twisted", "crawlers", "protego"):
        logging.getLogger(name).setLevel(settings["LOG_LEVEL"])
    if logging.getLevelName(settings["LOG_LEVEL"]) >= logging.WARNING:
        # Each of these is recorded as a crawl failure with its kind; Scrapy's own lines would
        # print every planted 500 and cut-off body a second time.
        logging.getLogger("scrapy.downloadermiddlewares.retry").setLevel(logging.CRITICAL)
        logging.getLogger("scrapy.core.downloader.handlers.http11").setLevel(logging.ERROR)
    process.crawl(
        StorefrontSpider,
        targets=payload["targets"],
        run_key=payload["run_key"],
        shard=payload["shard"],
        run_at=payload["run_at"],
        render_fallback=payload["render_fallback"],
        browser=payload["browser"],
    )
    process.start()


def _check_runs(result: CrawlResult, payloads: list[dict[str, Any]]) -> None:
    """Mark shards whose crawl run never closed (the process died inside Scrapy) as failed."""
    from sqlalchemy import select

    from store.db import session_scope
    from store.models import CrawlRun

    with session_scope() as session:
        closed = set(session.scalars(select(CrawlRun.run_key).where(
            CrawlRun.run_key.in_(result.run_keys), CrawlRun.finished_at.is_not(None))))
    for payload in payloads:
        if payload["run_key"] not in closed and payload["shard"] not in result.failed_shards:
            result.failed_shards.append(payload["shard"])
            logger.error("crawl shard %s did not finish its run", payload["shard"])


def _record_unread(payload: dict[str, Any], shard: Supervised, *, stall: float | None,
                   timeout: float | None) -> None:
    """Record each page of a stopped shard that it neither stored nor recorded as failed: a ``stalled``
    failure (or ``timeout``, for the crawl's time limit) naming the shard and the limit."""
    from crawlers.persist import record_unread
    from store.db import get_engine

    if shard.stopped == STALLED:
        kind = FailureKind.STALLED
        detail = (f"not read: crawl shard {payload['shard']} finished nothing for {shard.quiet_for:.0f} s "
                  f"(crawl.stall_timeout {stall:g} s) and was stopped")
    else:
        kind = FailureKind.TIMEOUT
        detail = f"not read: crawl shard {payload['shard']} was still running at the crawl's time limit ({timeout:g} s)"
    with get_engine().begin() as conn:
        count = record_unread(conn, run_key=payload["run_key"], shard=payload["shard"], targets=payload["targets"],
                              run_at=payload["run_at"], kind=kind.value, detail=detail, now=utcnow())
    if count:
        logger.error("crawl shard %s: %d page(s) not read, recorded as %s failures", payload["shard"], count,
                     kind.value)


def run_crawl(
    targets: list[Any],
    *,
    shards: int | None = None,
    at: datetime | None = None,
    browser: bool | None = None,
    log_level: str = "WARNING",
    part: str | None = None,
    site_limits: dict[str, int] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    timeout: float | None = None,
) -> CrawlResult:
    """Crawl ``targets`` in ``shards`` parallel processes and store what they find; returns the run keys.

    ``at`` names the run's slot (e.g. the scheduled instant of a monitor run): observations and
    failures are keyed on it, so running the same slot again stores nothing twice. ``part`` names
    the share of the listings this call crawls when a run is split across machines (e.g. ``"1of4"``):
    each part of a slot gets crawl runs of its own. ``site_limits`` caps the connections of sites that
    other parts crawl too (their share of the site's ``per_domain_concurrency``). ``on_progress`` is
    called with (pages done, pages failed) about four times a second while the processes run.
    ``timeout``: seconds the processes may take in all, from their start; one still running then is stopped
    and counted as a failed shard (a re-crawl a partner asked for must not hold its queue forever on a page
    that hangs). Whatever the caller asks, a process that finishes nothing for ``crawl.stall_timeout``
    seconds is stopped and counted as a failed shard too (:mod:`crawlers.watchdog`). Each page of a stopped
    process that it neither stored nor recorded as failed gets a failure of its own (``stalled``, or
    ``timeout`` at the time limit); the other processes' results are kept.
    """
    from crawlers.targets import plan_shards
    from pricewarden.settings import get_settings

    if at is not None and at.tzinfo is None:
        raise CrawlError("the crawl instant must be timezone-aware")
    result = CrawlResult()
    if not targets:
        result.finished_at = utcnow()
        return result
    from crawlers.profiles import load_profiles

    # A bad profile file is one clear error here, not a crawl process dying in every shard.
    profiles = load_profiles()
    count = shards or default_shards()
    use_browser = needs_browser(targets, profiles) if browser is None else browser
    # A site holding most of the listings is shared by several processes when its limit allows.
    plans = plan_shards(targets, count, cost=_page_cost(profiles) if use_browser else None,
                        site_limit=get_settings().crawl.per_domain_concurrency, site_limits=site_limits)
    groups = [plan.targets for plan in plans]
    stamp = at.isoformat() if at is not None else f"{utcnow().isoformat()}-{uuid.uuid4().hex[:8]}"
    payloads: list[dict[str, Any]] = [
        {
            "targets": [t.as_dict() for t in group],
            "site_concurrency": plans[i].site_concurrency,
            "run_key": f"{stamp}{f'@{part}' if part else ''}#{i}/{len(groups)}",
            "shard": f"{part + ':' if part else ''}{i}/{len(groups)}",
            "run_at": at,
            "render_fallback": get_settings().crawl.render_fallback,
            "browser": use_browser,
            "log_level": log_level,
            "env": dict(os.environ),
            "cwd": os.getcwd(),
        }
        for i, group in enumerate(groups)
    ]
    result.shards = len(payloads)
    result.pages = len(targets)
    context = process_context()
    counters = (context.Value("q", 0), context.Value("q", 0)) if on_progress is not None else None
    running: list[Supervised] = []
    for payload in payloads:
        # No lock: only the process's reactor thread writes it, and a process killed while holding a lock
        # would leave it held, and the watchdog stuck on its next read.
        beat = context.Value("q", 0, lock=False)
        proc = context.Process(target=crawl_shard, args=(payload, counters, beat), name=f"crawl-{payload['shard']}")
        proc.start()
        running.append(Supervised(payload["shard"], proc, beat))
        result.run_keys.append(payload["run_key"])

    def tick() -> None:
        if on_progress is not None and counters is not None:
            # Read past their locks (a process killed while holding one must not stop this loop).
            on_progress(counters[0].get_obj().value, counters[1].get_obj().value)

    # One loop for every case: the bar, the time limit (from the start) and the stall watchdog.
    stall = stall_limit(get_settings().crawl)
    supervise(running, stall=stall, timeout=timeout, on_tick=tick)
    tick()
    for payload, shard in zip(payloads, running, strict=True):
        if shard.stopped is not None:
            result.failed_shards.append(payload["shard"])
            _record_unread(payload, shard, stall=stall, timeout=timeout)
        elif shard.process.exitcode != 0:
            result.failed_shards.append(payload["shard"])
            logger.error("crawl shard %s exited with code %s", payload["shard"], shard.process.exitcode)
    _check_runs(result, payloads)
    result.finished_at = utcnow()
    if len(result.failed_shards) == len(running):
        stopped = [f"{shard.name} ({shard.stopped})" for shard in running if shard.stopped is not None]
        raise CrawlError(f"every crawl process failed (exit codes {[shard.process.exitcode for shard in running]})"
                         + (f"; stopped: {', '.join(stopped)}" if stopped else ""))
    return result
