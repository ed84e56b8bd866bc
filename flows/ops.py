"""The other scheduled flows: partner-report import, daily digests and the weekly report."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flows import inbox
from flows._prefect import NO_CACHE, create_markdown_artifact, create_table_artifact, flow, in_flow_run, task

log = logging.getLogger(__name__)


def _now() -> datetime:
    from store._types import utcnow

    return utcnow()


# Partner reports ----------------------------------------------------------------------------------


@task(name="import-report-file", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=10)
def import_file_task(partner: str, file: Path, folder: Path, now: datetime | None = None) -> dict[str, Any]:
    """Import one dropped file and move it out of the inbox."""
    return inbox.import_one(partner, file, folder, now=now)


@task(name="import-feed", cache_policy=NO_CACHE, retries=3, retry_delay_seconds=30)
def import_feed_task(partner: str, url: str) -> dict[str, Any]:
    """Pull one partner feed."""
    return inbox.import_feed(partner, url)


@task(name="cross-check", cache_policy=NO_CACHE, retries=1, retry_delay_seconds=5)
def cross_check_task() -> Any:
    """Compare reported prices with what the web showed (misreports)."""
    from crawlers import reports

    check = getattr(reports, "cross_check", None)
    if check is None:
        return {"skipped": "crawlers.reports.cross_check is not available"}
    from flows.steps import _plain
    from store.db import session_scope

    with session_scope() as session:
        return _plain(check(session))


def run_import(now: datetime | None = None, *, call: Any = None) -> inbox.InboxSummary:
    """Import every file waiting in the inbox and every configured feed (wiring shared with the flow)."""
    from pricewarden.settings import get_settings

    call = call or (lambda t, *a, **k: t.fn(*a, **k))
    settings = get_settings()
    summary = inbox.InboxSummary()
    for where, refusal in inbox.refused_links(settings.inbox_dir).items():
        log.warning("%s", refusal)
        summary.failed[where] = refusal
    for partner, file in inbox.pending_files(settings.inbox_dir):
        result = call(import_file_task, partner, file, settings.inbox_dir, now)
        if "error" in result:
            summary.failed[f"{partner}/{file.name}"] = result["error"]
        elif result.get("duplicate"):
            summary.duplicates.append(f"{partner}/{file.name}")
        else:
            summary.imported.append(result)
    for feed in inbox.read_feeds(settings.workspace / "feeds.yaml"):
        try:
            summary.feeds.append(call(import_feed_task, feed["partner"], feed["url"]))
        except Exception as exc:
            summary.failed[f"feed {feed['partner']}"] = str(exc)
    return summary


@flow(name="import-partner-reports")
def import_partner_reports(now: datetime | None = None, cross_check: bool = True) -> dict[str, Any]:
    """Import partner report files from ``<workspace>/inbox/<partner>/`` and configured feeds."""
    summary = run_import(now, call=lambda t, *a, **k: t(*a, **k))
    checked = cross_check_task() if cross_check and (summary.imported or summary.feeds) else None
    if in_flow_run():
        create_markdown_artifact(key="import-summary", markdown=(
            "# Partner report import\n\n| what | count |\n|---|---|\n"
            f"| files imported | {len(summary.imported)} |\n| already imported | {len(summary.duplicates)} |\n"
            f"| files that could not be read | {len(summary.failed)} |\n| feeds | {len(summary.feeds)} |\n"
            f"| rows accepted | {summary.rows_accepted} |\n| rows rejected | {summary.rows_rejected} |\n"
            + "".join(f"\n- failed: {k}: {v}" for k, v in summary.failed.items())))
        if summary.imported:
            create_table_artifact(key="import-batches", table=[
                {k: i.get(k) for k in ("partner", "file_name", "batch_id", "rows_total", "rows_accepted",
                                       "rows_rejected", "receipt_path")} for i in summary.imported])
    return {**summary.as_dict(), "cross_check": checked}


# Digests -----------------------------------------------------------------------------------------


@task(name="send-digests", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=30)
def send_digests_task(now: datetime | None = None) -> dict[str, Any]:
    """Queue today's digests and deliver everything due."""
    from alerts import send_digests
    from store.db import session_scope

    with session_scope() as session:
        report = send_digests(session, now=now or _now())
    return report.as_dict()


@flow(name="digest")
def digest(now: datetime | None = None) -> dict[str, Any]:
    """Send each manager the daily digest of findings not alerted at once."""
    result = send_digests_task(now)
    if in_flow_run():
        create_markdown_artifact(key="digest-summary", markdown=(
            f"# Daily digests\n\nsent {len(result['sent'])}, retrying {len(result['retrying'])}, "
            f"failed {len(result['failed'])}\n"))
    return result


# Weekly report -----------------------------------------------------------------------------------


def build_report(since: datetime, until: datetime, name: str, *, title: str = "Weekly price compliance report",
                 now: datetime | None = None) -> Path:
    """Gather the window from the store and write the HTML report (with evidence) to ``reports/``."""
    from flows.report import gather, write_report
    from pricewarden.settings import get_settings
    from store.db import session_scope
    from store.evidence import EvidenceStore

    with session_scope() as session:
        data = gather(session, since, until, title=title, now=now)
    return write_report(data, get_settings().reports_dir, name, evidence=EvidenceStore.from_settings())


@task(name="write-weekly-report", cache_policy=NO_CACHE, retries=1, retry_delay_seconds=10)
def weekly_report_task(until: datetime, days: int) -> str:
    """Write the report for the ``days`` before ``until``; returns its path."""
    since = until - timedelta(days=days)
    return str(build_report(since, until, f"weekly-{until:%Y-%m-%d}"))


@flow(name="weekly-report")
def weekly_report(until: datetime | None = None, days: int = 7) -> str:
    """Write the weekly HTML report (violations by partner, rule and tier; crawl health) to ``reports/``."""
    path = weekly_report_task(until or _now(), days)
    if in_flow_run():
        create_markdown_artifact(key="weekly-report", markdown=f"# Weekly report\n\nWritten to `{path}`\n")
    return path
