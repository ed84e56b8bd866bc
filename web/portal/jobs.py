"""Work the portal starts and the request does not wait for: re-crawls and complaint crawls.

One worker thread per app runs the jobs in order; each job starts its crawl in a process of its own
(:func:`crawlers.run.run_crawl`, :func:`crawlers.discovery.crawl_pages`), as every crawl must (Twisted's
reactor cannot restart in one process), so the web process only waits on the child. A job records its
progress in the database (``queued`` → ``running`` → ``done``/``failed``), so any worker process of the
app shows it, and a job that raises still leaves a row that says why.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine

logger = logging.getLogger(__name__)


class Jobs:
    """A one-thread queue of background jobs (``submit``), and a way for tests and shutdown to wait (``join``)."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="portal-job")
        self._lock = threading.Lock()
        self._pending: list[Future[Any]] = []

    def submit(self, job: Callable[..., Any], *args: Any) -> Future[Any]:
        """Run ``job(*args)`` after the jobs queued before it."""

        def run() -> Any:
            try:
                return job(*args)
            except Exception:  # the job records its own failure; this is the last resort
                logger.exception("portal job %s failed", getattr(job, "__name__", job))
                raise

        future = self._pool.submit(run)
        with self._lock:
            self._pending = [f for f in self._pending if not f.done()] + [future]
        return future

    def join(self, timeout: float | None = None) -> None:
        """Wait until every job submitted so far has finished (their errors are logged, not raised)."""
        with self._lock:
            pending = list(self._pending)
        for future in pending:
            with contextlib.suppress(Exception):  # already logged by the job wrapper
                future.result(timeout=timeout)

    def shutdown(self) -> None:
        """Finish the queued jobs and stop the thread."""
        self._pool.shutdown(wait=True)


STALE = timedelta(minutes=30)  # a single-page crawl is bounded far below this


def resume_pending(engine: Engine, jobs: Jobs, now: datetime | None = None) -> int:
    """Submit the re-crawls and complaint crawls a stopped process left behind; the number submitted.

    ``queued`` ones are submitted again; ``running`` ones claimed more than :data:`STALE` ago (their
    process died mid-crawl) are set back to ``queued`` first. Each job claims its row (``queued`` →
    ``running``) before it crawls, so several workers resuming at once still crawl each page once.
    """
    from sqlalchemy import or_, select, update

    from store import Complaint, PartnerResponse, session_scope, utcnow
    from web.portal.complaints import run_complaint
    from web.portal.responses import recrawl_response

    cutoff = (now or utcnow()) - STALE
    with session_scope(engine) as session:
        # Conditional updates: a row another worker claims meanwhile (a fresh claimed_at) is left alone.
        session.execute(update(PartnerResponse).where(
            PartnerResponse.recrawl_status == "running",
            or_(PartnerResponse.claimed_at.is_(None), PartnerResponse.claimed_at < cutoff))
            .values(recrawl_status="queued"))
        session.execute(update(Complaint).where(
            Complaint.status == "running", or_(Complaint.claimed_at.is_(None), Complaint.claimed_at < cutoff))
            .values(status="queued"))
        session.flush()
        responses = list(session.scalars(select(PartnerResponse.id).where(PartnerResponse.recrawl_status == "queued")))
        complaints = list(session.scalars(select(Complaint.id).where(Complaint.status == "queued")))
    for response_id in responses:
        jobs.submit(recrawl_response, engine, response_id)
    for complaint_id in complaints:
        jobs.submit(run_complaint, engine, complaint_id)
    return len(responses) + len(complaints)


def jobs_of(app_state: Any) -> Jobs:
    """The app's job queue (made on first use)."""
    jobs: Jobs | None = getattr(app_state, "jobs", None)
    if jobs is None:
        jobs = app_state.jobs = Jobs()
    return jobs


__all__ = ["STALE", "Jobs", "jobs_of", "resume_pending"]
