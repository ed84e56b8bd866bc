"""Work the portal starts and the request does not wait for: re-crawls and complaint crawls, as a durable queue.

A job is a row of ``portal_jobs`` (:class:`store.PortalJob`) added in the transaction that records the
partner's response or complaint (:func:`enqueue`), so a process that stops before running it loses
nothing. Whoever drains the queue (:func:`drain`) runs it: the web app's worker thread (woken by each new
job and at start-up, :class:`Jobs`), ``pricewarden web jobs --run`` (cron, or after a restart), the demo.

Each job is claimed atomically, so several uvicorn workers and hosts run it once: the oldest claimable row
is selected ``FOR UPDATE SKIP LOCKED`` (PostgreSQL; SQLite serialises writers) and taken by a conditional
``UPDATE ... WHERE status = <seen> AND attempts = <seen>`` (``attempts`` is the row's version). A job left
``running`` longer than :data:`STALE` (its process died mid-crawl) is claimed again; after
:data:`MAX_ATTEMPTS` claims it is ``failed`` and the failure is recorded where people look: on the
response (hence the violation's timeline) or as the complaint's outcome. Each crawl runs in a process of
its own (:func:`crawlers.run.run_crawl`), as every crawl must (Twisted's reactor cannot restart in one
process), so the worker only waits on the child.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, or_, select, update
from sqlalchemy.orm import Session

from store import PortalJob, session_scope, utcnow

logger = logging.getLogger(__name__)

KINDS = ("recrawl", "complaint")
STALE = timedelta(minutes=30)  # a single-page crawl is bounded far below this
MAX_ATTEMPTS = 3


@dataclass(frozen=True)
class Claimed:
    """A job this worker holds: what to run, and which claim (attempt) this is."""

    id: int
    kind: str
    target_id: int
    attempt: int


def enqueue(session: Session, kind: str, target_id: int) -> PortalJob:
    """Queue job ``kind`` for ``target_id`` in ``session``'s transaction (committed with what it crawls for)."""
    if kind not in KINDS:
        raise ValueError(f"unknown portal job {kind!r}")
    job = PortalJob(kind=kind, target_id=target_id, status="queued", attempts=0, created_at=utcnow())
    session.add(job)
    session.flush()
    return job


def check_partner_share(session: Session, partner_id: int, settings: Any = None, *,
                        violation_id: int | None = None) -> None:
    """Raise :class:`~pricewarden.errors.PortalLimit` when partner ``partner_id`` may not queue one more crawl now.

    Refused: a response to ``violation_id`` while that violation's last re-crawl still waits (one more would only
    message its manager again); more than ``web.partner_jobs_waiting`` of the partner's crawls waiting; more than
    ``web.partner_requests_per_day`` responses and complaints in the last 24 hours.
    """
    from sqlalchemy import func

    from pricewarden.errors import PortalLimit
    from store import Complaint, Partner, PartnerResponse

    if settings is None:
        from pricewarden.settings import get_settings

        settings = get_settings()
    code = session.scalar(select(Partner.code).where(Partner.id == partner_id)) or str(partner_id)
    waiting_responses = select(PartnerResponse.id).where(PartnerResponse.partner_id == partner_id,
                                                         PartnerResponse.recrawl_status.in_(("queued", "running")))
    if violation_id is not None and session.scalar(
            waiting_responses.where(PartnerResponse.violation_id == violation_id).limit(1)) is not None:
        raise PortalLimit(code, "violation", f"violation {violation_id} is being checked again after the partner's "
                          "last response: answer again once that check is done")
    waiting = (session.scalar(select(func.count()).select_from(waiting_responses.subquery())) or 0) + (
        session.scalar(select(func.count()).select_from(Complaint).where(
            Complaint.partner_id == partner_id, Complaint.status.in_(("queued", "running")))) or 0)
    most = settings.web.partner_jobs_waiting
    if waiting >= most:
        raise PortalLimit(code, "waiting", f"partner {code} has {waiting} checks waiting (web.partner_jobs_waiting "
                          f"is {most}): send more once they are done")
    since = utcnow() - timedelta(days=1)
    sent = (session.scalar(select(func.count()).select_from(PartnerResponse).where(
        PartnerResponse.partner_id == partner_id, PartnerResponse.created_at >= since)) or 0) + (
        session.scalar(select(func.count()).select_from(Complaint).where(
            Complaint.partner_id == partner_id, Complaint.created_at >= since)) or 0)
    per_day = settings.web.partner_requests_per_day
    if sent >= per_day:
        raise PortalLimit(code, "day", f"partner {code} sent {sent} responses and complaints in 24 hours "
                          f"(web.partner_requests_per_day is {per_day}): send more tomorrow")


def _worker() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


def claim(engine: Engine, now: datetime | None = None, worker: str | None = None) -> Claimed | None:
    """Take the oldest job that is queued, or running but stale and still within its attempts; ``None`` if none.

    A stale job that used its last attempt is failed on the way (:func:`give_up`).
    """
    while True:
        at = now or utcnow()
        claimable = or_(PortalJob.status == "queued",
                        and_(PortalJob.status == "running", PortalJob.claimed_at < at - STALE))
        with session_scope(engine) as session:
            seen = session.execute(select(PortalJob.id, PortalJob.kind, PortalJob.target_id, PortalJob.status,
                                          PortalJob.attempts).where(claimable).order_by(PortalJob.id).limit(1)
                                   .with_for_update(skip_locked=True)).first()
            if seen is None:
                return None
            exhausted = seen.status == "running" and seen.attempts >= MAX_ATTEMPTS
            values: dict[str, Any] = (
                {"status": "failed", "finished_at": at,
                 "last_error": f"its process stopped during each of {seen.attempts} attempts"} if exhausted else
                {"status": "running", "attempts": seen.attempts + 1, "claimed_at": at,
                 "claimed_by": worker or _worker()})
            taken = session.execute(update(PortalJob).where(
                PortalJob.id == seen.id, PortalJob.status == seen.status, PortalJob.attempts == seen.attempts)
                .values(**values)).rowcount  # type: ignore[attr-defined]
        if not taken:
            continue  # another worker took it first: look again
        if exhausted:
            give_up(engine, seen.kind, seen.target_id, str(values["last_error"]))
            continue
        return Claimed(seen.id, seen.kind, seen.target_id, seen.attempts + 1)


def give_up(engine: Engine, kind: str, target_id: int, why: str) -> None:
    """Record on the response or complaint that its crawl failed for good (``why``), where people see it."""
    from web.portal.complaints import fail_complaint
    from web.portal.responses import fail_recrawl

    detail = f"the check was given up after {MAX_ATTEMPTS} attempts: {why}"[:500]
    if kind == "recrawl":
        fail_recrawl(engine, target_id, detail)
    else:
        fail_complaint(engine, target_id, detail)


def _runner(kind: str) -> Callable[[Engine, int], Any]:
    from web.portal.complaints import run_complaint
    from web.portal.responses import recrawl_response

    return recrawl_response if kind == "recrawl" else run_complaint


def run(engine: Engine, job: Claimed) -> str:
    """Run claimed ``job``; its final status (``done``, ``failed``, or ``queued`` again to be retried)."""
    try:
        _runner(job.kind)(engine, job.target_id)
    except Exception as exc:  # the crawl records its own failures; this is the database or a bug
        logger.exception("portal job %s (%s %s) failed", job.id, job.kind, job.target_id)
        error = f"{type(exc).__name__}: {exc}"[:1000]
        final = "failed" if job.attempt >= MAX_ATTEMPTS else "queued"
        with session_scope(engine) as session:
            session.execute(update(PortalJob).where(PortalJob.id == job.id, PortalJob.attempts == job.attempt)
                            .values(status=final, last_error=error,
                                    finished_at=utcnow() if final == "failed" else None))
        if final == "failed":
            give_up(engine, job.kind, job.target_id, error)
        return final
    with session_scope(engine) as session:
        session.execute(update(PortalJob).where(PortalJob.id == job.id, PortalJob.attempts == job.attempt)
                        .values(status="done", finished_at=utcnow()))
    return "done"


def drain(engine: Engine, *, limit: int | None = None, worker: str | None = None,
          stop: Callable[[], bool] | None = None) -> dict[str, int]:
    """Run the claimable jobs one after another until none is left, ``limit`` ran or ``stop()`` says so; the
    count per final status."""
    counts: dict[str, int] = {}
    while (limit is None or sum(counts.values()) < limit) and not (stop is not None and stop()):
        job = claim(engine, worker=worker)
        if job is None:
            break
        final = run(engine, job)
        counts[final] = counts.get(final, 0) + 1
    return counts


def pending(session: Session, limit: int = 200) -> list[PortalJob]:
    """The jobs not done: queued, running and failed, newest first."""
    return list(session.scalars(select(PortalJob).where(PortalJob.status != "done")
                                .order_by(PortalJob.id.desc()).limit(limit)))


class Jobs:
    """The web process's one worker thread: :meth:`wake` it to drain the queue; tests and shutdown :meth:`join`."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="portal-job")
        self._lock = threading.Lock()
        self._pending: list[Future[Any]] = []
        self._stopping = threading.Event()

    def wake(self, engine: Engine) -> Future[Any]:
        """Drain the queue after the drains already asked for (a drain that finds nothing costs one query)."""

        def work() -> Any:
            try:
                return drain(engine, stop=self._stopping.is_set)
            except Exception:  # a database outage: the jobs stay queued for the next drain
                logger.exception("draining the portal's jobs failed")
                raise

        future = self._pool.submit(work)
        with self._lock:
            self._pending = [f for f in self._pending if not f.done()] + [future]
        return future

    def join(self, timeout: float | None = None) -> None:
        """Wait until every drain asked for so far has finished (their errors are logged, not raised)."""
        with self._lock:
            waiting = list(self._pending)
        for future in waiting:
            with contextlib.suppress(Exception):  # already logged
                future.result(timeout=timeout)

    def shutdown(self) -> None:
        """Finish the running job and stop the thread (what is still queued waits for the next drain)."""
        self._stopping.set()
        self._pool.shutdown(wait=True, cancel_futures=True)


def jobs_of(app_state: Any) -> Jobs:
    """The app's worker thread (made on first use)."""
    jobs: Jobs | None = getattr(app_state, "jobs", None)
    if jobs is None:
        jobs = app_state.jobs = Jobs()
    return jobs


__all__ = ["KINDS", "MAX_ATTEMPTS", "STALE", "Claimed", "Jobs", "check_partner_share", "claim", "drain", "enqueue",
           "give_up", "jobs_of", "pending", "run"]
