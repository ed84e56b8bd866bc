"""Flows under one session-scoped Prefect test harness: real flow runs against a temporary Prefect database."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="module")
def prefect_harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """One Prefect test harness for these tests (its own SQLite database, never PriceWarden's)."""
    import os

    os.environ.setdefault("PREFECT_HOME", str(tmp_path_factory.mktemp("prefect-home")))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


def _sandbox_catalog(tmp_path: Path) -> Any:
    from demo import World, write_workspace
    from policies import publish_policy
    from store.catalog import import_catalog
    from store.db import session_scope

    world = World(seed=7, products=20)
    write_workspace(tmp_path / "ws", world)
    import_catalog(tmp_path / "ws" / "catalog", actor="test")
    with session_scope() as session:  # the policy gives each partner's currency, which reports are checked against
        for path in sorted((tmp_path / "ws" / "policies").glob("*.yaml")):
            publish_policy(session, path, published_by="test")
    return world


def test_import_flow_imports_dropped_reports_and_moves_them_to_done(
    prefect_harness: None, db: Any, tmp_path: Path,
) -> None:
    from sqlalchemy import func, select

    from flows.ops import import_partner_reports
    from pricewarden.settings import get_settings
    from store.db import session_scope
    from store.models import ReportBatch

    world = _sandbox_catalog(tmp_path)
    inbox = get_settings().inbox_dir
    truth = world.partner_reports(2, tmp_path / "drop")
    for item in truth["files"]:
        (inbox / item["partner"]).mkdir(parents=True, exist_ok=True)
        shutil.move(str(tmp_path / "drop" / item["file"]), inbox / item["partner"] / item["file"])
    now = datetime(2026, 3, 2, 16, tzinfo=UTC)
    result = import_partner_reports(now=now, cross_check=False)
    files = {item["file"] for item in truth["files"]}
    assert {i["file_name"] for i in result["imported"]} == files
    assert result["failed"] == {}
    assert {p.name for p in (inbox / "done").rglob("*") if p.is_file()} == files
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(ReportBatch)) == len(files)
    planted = sum(len(item["bad_rows"]) for item in truth["files"])
    assert sum(i["rows_rejected"] for i in result["imported"]) == planted
    again = import_partner_reports(now=now, cross_check=False)  # nothing left in the inbox
    assert again["imported"] == [] and again["failed"] == {}


def test_weekly_report_flow_writes_html_to_the_workspace_reports(prefect_harness: None, db: Any) -> None:
    from flows.ops import weekly_report
    from pricewarden.settings import get_settings

    path = Path(weekly_report(until=datetime(2026, 3, 9, 7, tzinfo=UTC)))
    assert path.parent == get_settings().reports_dir
    assert path.name == "weekly-2026-03-09.html"
    html = path.read_text(encoding="utf-8")
    assert "Weekly price compliance report" in html and "No crawl in this window." in html


def test_deployments_carry_the_cron_and_time_zone(prefect_harness: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from flows.schedule import deployments
    from pricewarden.settings import get_settings

    monkeypatch.setenv("PRICEWARDEN_TIMEZONE", "Asia/Shanghai")
    get_settings.cache_clear()
    by_name = {d.name: d for d in deployments()}
    assert set(by_name) == {"monitor", "import-partner-reports", "digest", "weekly-report"}
    [schedule] = by_name["digest"].schedules
    assert (schedule.schedule.cron, schedule.schedule.timezone) == ("0 8 * * *", "Asia/Shanghai")
