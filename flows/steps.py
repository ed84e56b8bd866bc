"""The monitor's stages as plain functions: crawl → detect → portal jobs → capture evidence → queue alerts →
deliver.

Each stage only wires package functions and reports what it did as plain data (so that Prefect can
keep it as a task result and a test can call it directly). Every stage is safe to run again:

- crawl: observations and failures carry natural keys built from the run slot ``at`` (a re-run of the
  same slot stores nothing twice);
- detect: judges what is not yet judged; one episode of a breach is open at a time;
- portal jobs: each queued job is claimed once (a re-run finds what is left) and records its own outcome;
- evidence: captures screenshots only for open violations that have none;
- alerts: the outbox's idempotency keys make queueing twice impossible, and the stage looks at every
  open violation (not only this run's), so a run that died after detection still alerts on re-run;
- delivery: a message is marked ``sending`` before it is sent; one a crash left there is sent again,
  with the same key, after the lease (at-least-once, de-duplicated by key at the receiver).

``PRICEWARDEN_TEST_CRASH_AT=<stage>`` (tests only) kills the process with ``os._exit(137)`` right after
``crawl``, ``detect``, ``evidence`` or ``enqueue``; ``delivery`` kills it after the first message is
handed to Apprise and before it is recorded as sent.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

log = logging.getLogger(__name__)

CRASH_ENV = "PRICEWARDEN_TEST_CRASH_AT"
CRASH_ONCE_ENV = "PRICEWARDEN_TEST_CRASH_ONCE"
STAGES = ("crawl", "detect", "evidence", "enqueue", "delivery")
OPEN = ("open", "acknowledged")


def crash_point(stage: str) -> None:
    """Die here, like a killed worker, when the crash hook names ``stage`` (tests only).

    With ``PRICEWARDEN_TEST_CRASH_ONCE=<file>`` too, only the first run that gets here dies (it
    creates the file): a retried run then goes through.
    """
    if os.environ.get(CRASH_ENV) == stage:
        once = os.environ.get(CRASH_ONCE_ENV)
        if once:
            try:
                with open(once, "x", encoding="utf-8") as marker:
                    marker.write(stage)
            except FileExistsError:
                return
        log.warning("%s=%s: exiting with 137", CRASH_ENV, stage)
        os._exit(137)


def _now() -> datetime:
    from store._types import utcnow

    return utcnow()


# Results -----------------------------------------------------------------------------------------


@dataclass
class CrawlSummary:
    """What a crawl stored."""

    at: str
    listings: int = 0
    shards: int = 0
    failed_shards: list[str] = field(default_factory=list)
    observations: int = 0
    failures: int = 0
    failures_by_kind: dict[str, int] = field(default_factory=dict)
    shard_runs: dict[str, Any] = field(default_factory=dict)  # fan-out: each shard's flow run and attempts

    def as_dict(self) -> dict[str, Any]:
        """Plain data."""
        return asdict(self)


@dataclass
class DetectSummary:
    """What detection found: findings opened by this slot, and the open total."""

    judged: Any = None
    new_violations: list[int] = field(default_factory=list)
    new_deviations: list[int] = field(default_factory=list)
    new_anomalies: list[int] = field(default_factory=list)
    open_total: int = 0

    def as_dict(self) -> dict[str, Any]:
        """Plain data."""
        return asdict(self)


@dataclass
class AlertSummary:
    """Alerts queued and delivered."""

    queued: int = 0
    already_queued: int = 0
    to_digest: int = 0
    refused: list[str] = field(default_factory=list)
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    recovered: int = 0
    errors: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Plain data."""
        return asdict(self)


# Stages ------------------------------------------------------------------------------------------


def select_targets(shard: int | None = None, shards: int | None = None, site: str | None = None,
                   split: dict[str, int] | None = None, placement: dict[str, int] | None = None) -> list[Any]:
    """The active listings to crawl; with ``shard``/``shards`` only that shard's: the sites placed in it
    (``placement``, else the sites that hash to it), and its share (by listing) of the sites ``split``
    over several shards."""
    from crawlers.targets import active_listings, shard_for
    from store.db import session_scope

    with session_scope() as session:
        targets = active_listings(session, site=site)
    if shard is not None and shards:
        targets = [t for t in targets if shard_for(t, shards, split, placement) == shard]
    return targets


def crawl(at: datetime, *, shard: int | None = None, shards: int | None = None, site: str | None = None,
          processes: int | None = None, split: dict[str, int] | None = None,
          placement: dict[str, int] | None = None) -> CrawlSummary:
    """Crawl the active listings (of one shard) for the run slot ``at``; counts what that slot stored."""
    from crawlers.run import run_crawl
    from pricewarden.settings import get_settings

    targets = select_targets(shard, shards, site, split, placement)
    part = f"{shard}of{shards}" if shard is not None and shards else None
    # A site several shards share gets its connection limit divided among them.
    limit = get_settings().crawl.per_domain_concurrency
    site_limits = {s: max(1, limit // parts) for s, parts in (split or {}).items()} if part else None
    result = run_crawl(targets, at=at, shards=processes, part=part, site_limits=site_limits)
    summary = CrawlSummary(at=at.isoformat(), listings=len(targets), shards=result.shards,
                           failed_shards=list(result.failed_shards))
    _count_crawl(summary, result.run_keys)
    return summary


def count_slot(summary: CrawlSummary, at: datetime, shards: int) -> None:
    """Count what every shard of slot ``at`` split ``shards`` ways stored (all their crawl runs)."""
    from store.db import session_scope
    from store.models import CrawlRun

    with session_scope() as session:
        keys = list(session.scalars(select(CrawlRun.run_key).where(
            CrawlRun.run_key.like(f"{at.isoformat()}@%of{shards}#%"))))
    _count_crawl(summary, keys)


def _count_crawl(summary: CrawlSummary, run_keys: list[str]) -> None:
    from store.db import session_scope
    from store.models import CrawlFailure, CrawlRun, Observation

    if not run_keys:
        return
    with session_scope() as session:
        ids = list(session.scalars(select(CrawlRun.id).where(CrawlRun.run_key.in_(run_keys))))
        if not ids:
            return
        summary.observations = session.scalar(
            select(func.count()).select_from(Observation).where(Observation.crawl_run_id.in_(ids))) or 0
        rows = session.execute(select(CrawlFailure.kind, func.count()).where(CrawlFailure.crawl_run_id.in_(ids))
                               .group_by(CrawlFailure.kind)).all()
        summary.failures_by_kind = dict(rows)
        summary.failures = sum(summary.failures_by_kind.values())


def detect(at: datetime) -> DetectSummary:
    """Judge every observation not yet judged; lists the findings first seen at or after ``at``."""
    import detection
    from store.db import session_scope
    from store.models import Violation

    runner = getattr(detection, "detect", None) or getattr(detection, "run_detection", None)
    if runner is None:
        raise RuntimeError("detection has no store adapter yet (detection.detect)")
    with session_scope() as session:
        judged = runner(session, now=_now())
    summary = DetectSummary(judged=_plain(judged))
    with session_scope() as session:
        rows = session.execute(select(Violation.id, Violation.kind).where(Violation.first_seen_at >= at)
                               .order_by(Violation.id)).all()
        for vid, kind in rows:
            {"violation": summary.new_violations, "deviation": summary.new_deviations}.get(
                kind, summary.new_anomalies).append(vid)
        summary.open_total = session.scalar(
            select(func.count()).select_from(Violation).where(Violation.status.in_(OPEN))) or 0
    return summary


def _plain(value: Any) -> Any:
    """A JSON-able view of a report object (dataclass, dict or anything with ``as_dict``)."""
    if value is None or isinstance(value, (int, float, str, bool)):
        return value
    for name in ("as_dict", "to_dict"):
        method = getattr(value, name, None)
        if callable(method):
            return _plain(method())
    if hasattr(value, "__dataclass_fields__"):
        return _plain(asdict(value))
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_plain(v) for v in value]
    return str(value)


def portal_jobs(limit: int | None = None) -> dict[str, Any]:
    """Run the portal's queued jobs (re-crawls after a partner's response, complaint crawls), at most ``limit``
    (default ``web.monitor_jobs``) and for no longer than a job may hold its claim.

    Each job is claimed atomically (:mod:`web.portal.jobs`), so this runs beside the web app's worker safely;
    a job that fails is retried by a later drain and, after its last attempt, recorded as failed on the
    response (the violation's timeline) or as the complaint's outcome. A drain that cannot run at all (the
    database gone) is reported here, not raised: the monitor's alerts go on, the jobs stay queued.
    """
    import time

    from pricewarden.settings import get_settings
    from store.db import get_engine, session_scope
    from store.models import PortalJob
    from web.portal.jobs import STALE, drain

    limit = get_settings().web.monitor_jobs if limit is None else limit
    result: dict[str, Any] = {"ran": {}, "waiting": 0, "failed_total": 0, "error": None}
    if limit <= 0:
        return result
    deadline = time.monotonic() + STALE.total_seconds()
    try:
        result["ran"] = drain(get_engine(), limit=limit, stop=lambda: time.monotonic() > deadline)
    except Exception as exc:  # reported in the run's summary; the jobs stay queued
        log.exception("draining the portal's jobs failed")
        result["error"] = f"{type(exc).__name__}: {exc}"[:500]
    try:
        with session_scope() as session:
            counted: dict[str, int] = dict(session.execute(
                select(PortalJob.status, func.count()).where(PortalJob.status.in_(("queued", "running", "failed")))
                .group_by(PortalJob.status)).all())
    except Exception as exc:  # the same outage
        result["error"] = result["error"] or f"{type(exc).__name__}: {exc}"[:500]
        return result
    result["waiting"] = counted.get("queued", 0) + counted.get("running", 0)
    result["failed_total"] = counted.get("failed", 0)
    return result


def confirm_prices(photograph: Collection[str] = (), pictures: dict[str, bytes] | None = None) -> dict[str, int]:
    """The second reading (the page rendered in Chromium) of every violation whose price waits for one.

    ``photograph``: pages (URLs) the evidence step is about to photograph (:func:`evidence_pages`). A second
    reading of one of them photographs it in the same render, into ``pictures`` (by URL), for
    :func:`capture_evidence` to file without rendering the page again.
    """
    from detection.confirm import confirm_pending
    from store.db import session_scope

    read = None
    if photograph and pictures is not None:
        from crawlers.buybox import read_buy_boxes

        def read(urls: dict[int, str], **kwargs: Any) -> dict[int, Any]:
            taken: dict[Any, bytes] = {}
            readings = read_buy_boxes(urls, photograph={k for k, url in urls.items() if url in photograph},
                                      pictures=taken, **kwargs)
            pictures.update({urls[key]: png for key, png in taken.items()})
            return readings

    with session_scope() as session:
        return confirm_pending(session, read=read)


def _evidence_rows(limit: int) -> list[Any]:
    """(violation id, its last observation's id, that observation's screenshot, its URL) of the open
    violations without a screenshot, oldest first."""
    from store.db import session_scope
    from store.models import Observation, Source, Violation

    with session_scope() as session:
        return list(session.execute(
            select(Violation.id, Violation.last_observation_id, Observation.screenshot_sha256, Observation.url)
            .join(Observation, Observation.id == Violation.last_observation_id)
            # A page can be photographed; a partner's report row cannot (its file is its evidence).
            .where(Violation.status.in_(OPEN), Violation.kind == "violation", Observation.url.is_not(None),
                   Observation.source == Source.CRAWL.value, Violation.screenshot_sha256.is_(None))
            .order_by(Violation.id).limit(limit)).all())


def evidence_pages(limit: int = 200) -> set[str]:
    """The pages (URLs) :func:`capture_evidence` would photograph in a browser now."""
    return {url for _v, obs, sha, url in _evidence_rows(limit) if not sha and obs is not None}


def capture_evidence(limit: int = 200, taken: Mapping[str, bytes] | None = None) -> dict[str, Any]:
    """Screenshot the page of each open violation that has no screenshot yet, and file it as its evidence.

    The picture is taken of the violating observation's URL (``crawlers.capture_screenshots``); the
    observation keeps it too. An observation that was rendered has its picture already: it is filed
    without opening a browser; so is a page in ``taken`` (by URL), photographed moments ago by the second
    reading of its price (:func:`confirm_prices`). Runs again harmlessly: a violation with a screenshot is
    skipped.
    """
    from crawlers import capture_screenshots
    from store.db import session_scope
    from store.models import Violation

    rows = _evidence_rows(limit)
    if not rows:
        return {"wanted": 0, "captured": 0}
    shots: dict[Any, str] = {obs: sha for _v, obs, sha, _url in rows if sha}
    missing = sorted({obs for _v, obs, sha, _url in rows if not sha and obs is not None})
    if missing:
        shots.update(capture_screenshots(missing, taken=taken))
    captured = 0
    with session_scope() as session:
        for vid, obs, _sha, _url in rows:
            sha = shots.get(obs)
            if sha is None:
                continue
            violation = session.get(Violation, vid)
            if violation is not None and violation.screenshot_sha256 is None:
                violation.screenshot_sha256 = sha
                captured += 1
    result = {"wanted": len(rows), "captured": captured, "missed": len(rows) - captured, "browser": len(missing)}
    if taken:  # of those, photographed by the render of the price's second reading
        result["with_reading"] = len({url for _v, obs, sha, url in rows if not sha and url in taken})
    return result


def enqueue(now: datetime | None = None) -> AlertSummary:
    """Queue the alerts every open finding calls for (idempotent: already-queued messages are skipped)."""
    from alerts import enqueue_for_violations
    from store.db import session_scope
    from store.models import Violation

    now = now or _now()
    with session_scope() as session:
        violations = list(session.scalars(select(Violation).where(Violation.status.in_(OPEN))
                                          .order_by(Violation.id)))
        report = enqueue_for_violations(session, violations, now=now)
    return AlertSummary(queued=report.queued, already_queued=report.already_queued, to_digest=report.to_digest,
                        refused=list(report.refused))


def deliver(now: datetime | None = None, summary: AlertSummary | None = None) -> AlertSummary:
    """Send every due message of the outbox."""
    from alerts import deliver_due
    from alerts.delivery import CRASH_HOOK
    from store.db import session_scope

    summary = summary or AlertSummary()
    if os.environ.get(CRASH_ENV) == "delivery":
        os.environ[CRASH_HOOK] = "1"  # die between the first send and its record
    with session_scope() as session:
        report = deliver_due(session, now=now or _now())
    summary.sent, summary.retrying = len(report.sent), len(report.retrying)
    summary.failed, summary.recovered = len(report.failed), len(report.recovered)
    summary.errors = {str(k): v for k, v in report.errors.items()}
    return summary


def slot(at: datetime | None = None, minutes: int = 1) -> datetime:
    """The run slot: ``at`` or now, floored to ``minutes`` (a retry of the same run keeps its slot)."""
    when = at or _now()
    if when.tzinfo is None:
        raise ValueError("the run slot must be timezone-aware")
    floored = when.replace(second=0, microsecond=0)
    return floored - timedelta(minutes=floored.minute % minutes)
