"""The monitor cycle drains the portal's job queue: the re-crawl after a partner's response and a complaint's
crawl run in the scheduled run (its own bounded stage, after detection), not only in the web app's worker.

Real components: the portal world (tests/portal_world.py) on SQLite or PostgreSQL, a shop on 127.0.0.1 (allowed
through network.allow, as every test server is), each crawl in a process of its own; the monitor's wiring
run through its task functions (``run_monitor``), no Prefect server.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from portal_world import Shop, make_portal_app, product_page, serve_shop
from sqlalchemy import Engine, select, update

from pricewarden.settings import get_settings
from store import AuditLog, Complaint, PartnerResponse, PortalJob, User, session_scope, utcnow


@pytest.fixture
def world(db: Engine) -> Iterator[tuple[Any, Engine, Shop]]:
    shop_gen = serve_shop()
    shop = next(shop_gen)
    app, portal = make_portal_app(db, shop)
    shop.pages["/deals/left"] = product_page("Acme AC-100 headphones", "AC-100", "150.00")
    yield portal, db, shop
    if getattr(app.state, "jobs", None) is not None:
        app.state.jobs.shutdown()
    shop_gen.close()


def _queue_a_response_and_a_complaint(portal: Any, db: Engine, shop: Shop) -> tuple[int, int]:
    """What the portal's pages do; then the app stops before its worker ran anything."""
    from web.portal.complaints import file_complaint
    from web.portal.responses import respond

    with session_scope(db) as s:
        user = s.scalars(select(User).where(User.username == "soundhub")).one()
        response = respond(s, user, portal.web.violations["P1"], "corrected", "199 again")
        complaint = file_complaint(s, user, shop.url("/deals/left"), "far below MAP")
        return response.id, complaint.id


def test_it_runs_the_queued_recrawl_and_complaint_in_the_monitor_cycle(world: tuple[Any, Engine, Shop]) -> None:
    from flows.monitor import run_monitor, summary_markdown

    portal, db, shop = world
    response_id, complaint_id = _queue_a_response_and_a_complaint(portal, db, shop)
    result = run_monitor(capture=False)
    assert result["portal_jobs"] == {"ran": {"done": 2}, "waiting": 0, "failed_total": 0, "error": None}
    assert "portal_jobs" in result["seconds"]
    assert list(result["seconds"])[:3] == ["crawl", "detect", "portal_jobs"]
    markdown = summary_markdown(result)
    assert "| portal jobs run (done / retrying / failed) | 2 / 0 / 0 |" in markdown
    assert "| portal jobs still waiting | 0 |" in markdown
    with session_scope(db) as s:
        response, complaint = s.get(PartnerResponse, response_id), s.get(Complaint, complaint_id)
        assert response is not None and complaint is not None
        assert (response.recrawl_status, complaint.status, complaint.outcome) == ("done", "done", "violation")
        assert {(j.status, j.attempts) for j in s.scalars(select(PortalJob))} == {("done", 1)}
        recrawled = s.scalars(select(AuditLog).where(AuditLog.action == "violation.recrawled")).one()
        assert recrawled.after["response"] == response_id and recrawled.after["status"] == "done"


def test_it_bounds_the_drain_and_records_a_job_given_up(world: tuple[Any, Engine, Shop],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from flows.monitor import portal_jobs_task
    from web.portal.jobs import MAX_ATTEMPTS, STALE

    portal, db, shop = world
    response_id, complaint_id = _queue_a_response_and_a_complaint(portal, db, shop)
    # The response's re-crawl: its process died during each attempt (left running, stale, attempts used up).
    with session_scope(db) as s:
        s.execute(update(PortalJob).where(PortalJob.kind == "recrawl").values(
            status="running", attempts=MAX_ATTEMPTS, claimed_at=utcnow() - STALE - timedelta(minutes=1)))
    monkeypatch.setenv("PRICEWARDEN_WEB__MONITOR_JOBS", "0")
    get_settings.cache_clear()
    assert portal_jobs_task.fn() == {"ran": {}, "waiting": 0, "failed_total": 0, "error": None}  # off: untouched
    with session_scope(db) as s:
        assert sorted(j.status for j in s.scalars(select(PortalJob))) == ["queued", "running"]
    monkeypatch.setenv("PRICEWARDEN_WEB__MONITOR_JOBS", "1")
    get_settings.cache_clear()
    first = portal_jobs_task.fn()
    # The given-up job is failed on the way to the one job this run may run (the complaint's crawl).
    assert first == {"ran": {"done": 1}, "waiting": 0, "failed_total": 1, "error": None}
    with session_scope(db) as s:
        response, complaint = s.get(PartnerResponse, response_id), s.get(Complaint, complaint_id)
        assert response is not None and complaint is not None
        assert response.recrawl_status == "failed" and "given up after" in response.recrawl_detail
        assert (complaint.status, complaint.outcome) == ("done", "violation")
    # A second complaint and a third: one per run, the rest waits for the next.
    from web.portal.complaints import file_complaint

    with session_scope(db) as s:
        user = s.scalars(select(User).where(User.username == "soundhub")).one()
        for _ in range(2):
            file_complaint(s, user, shop.url("/deals/left"), "still below MAP")
    assert portal_jobs_task.fn() == {"ran": {"done": 1}, "waiting": 1, "failed_total": 1, "error": None}
    assert portal_jobs_task.fn() == {"ran": {"done": 1}, "waiting": 0, "failed_total": 1, "error": None}
