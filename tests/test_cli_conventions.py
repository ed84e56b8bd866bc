"""CLI conventions: one store check before any command, nothing created by accident, settings typos."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from pricewarden.cli import app
from pricewarden.errors import ConfigError, StoreError
from pricewarden.settings import get_settings

ROOT = Path(__file__).resolve().parents[1]

# Commands that read or write the store, as a person would type them.
STORE_COMMANDS = [
    ["catalog", "list", "products"],
    ["report", "receipts"],
    ["report", "import", "missing.csv", "--partner", "P1"],
    ["violations", "list"],
    ["detect"],
    ["alerts", "list"],
    ["flow", "run", "monitor"],
    ["policy", "publish", "missing.yaml"],
    ["scorecard"],
    ["schedule"],
]


def _in_empty_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "not-a-workspace"
    folder.mkdir()
    monkeypatch.chdir(folder)
    monkeypatch.delenv("PRICEWARDEN_WORKSPACE")
    get_settings.cache_clear()
    return folder


@pytest.mark.parametrize("args", STORE_COMMANDS, ids=" ".join)
def test_it_refuses_outside_a_workspace_and_creates_nothing(args: list[str], tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    folder = _in_empty_folder(tmp_path, monkeypatch)
    result = CliRunner().invoke(app, args)
    assert isinstance(result.exception, StoreError), result.output
    assert "no workspace at" in str(result.exception) and "run `pricewarden init`" in str(result.exception)
    assert list(folder.iterdir()) == [], "a command outside a workspace created files"


def test_it_prints_one_line_and_exits_nonzero_through_python_m(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRICEWARDEN_")}
    run = subprocess.run([sys.executable, "-m", "pricewarden", "report", "receipts"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 1
    assert run.stderr.strip().count("\n") == 0, run.stderr
    assert run.stderr.startswith("error: no workspace at") and "Traceback" not in run.stderr
    assert list(tmp_path.iterdir()) == []


def test_it_names_db_upgrade_for_a_workspace_without_a_schema(tmp_path: Path) -> None:
    workspace = Path(os.environ["PRICEWARDEN_WORKSPACE"])
    workspace.mkdir()
    result = CliRunner().invoke(app, ["catalog", "list", "products"])
    assert isinstance(result.exception, StoreError)
    assert "no database at" in str(result.exception) and "pricewarden db upgrade" in str(result.exception)
    # `db current` asks without creating the database file either.
    result = CliRunner().invoke(app, ["db", "current"])
    assert result.exit_code == 0 and "empty" in result.output
    assert not (workspace / "pricewarden.db").exists()
    # The fix it names works, and then the command does.
    assert CliRunner().invoke(app, ["db", "upgrade"]).exit_code == 0
    assert CliRunner().invoke(app, ["catalog", "list", "products", "--json"]).output.strip() == "[]"


def test_it_names_db_upgrade_for_an_old_schema(db: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    from store import db as store_db
    from store.db import head_revision

    current = head_revision()
    # A newer code base (one more migration) in front of this database: the schema is old.
    monkeypatch.setattr(store_db, "head_revision", lambda: "9999_newer")
    result = CliRunner().invoke(app, ["violations", "list"])
    assert isinstance(result.exception, StoreError)
    assert str(result.exception) == (f"the database schema is at revision {current}, this PriceWarden needs "
                                     "9999_newer: run `pricewarden db upgrade`")


def test_it_refuses_a_schema_it_does_not_know(db: Engine) -> None:
    with db.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'zz_future'"))
    try:
        result = CliRunner().invoke(app, ["violations", "list"])
        assert isinstance(result.exception, StoreError)
        assert "zz_future, which this PriceWarden does not know" in str(result.exception)
    finally:
        from store.db import head_revision

        with db.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": head_revision()})


def test_it_rejects_an_unknown_key_in_the_workspace_file_with_a_suggestion() -> None:
    workspace = Path(os.environ["PRICEWARDEN_WORKSPACE"])
    workspace.mkdir()
    (workspace / "pricewarden.toml").write_text("timezone = 'UTC'\n[crawl]\nconcurency = 3\n[region_modes]\n"
                                                "JP = 'map'\n", encoding="utf-8")
    get_settings.cache_clear()
    with pytest.raises(ConfigError, match=r"unknown setting crawl\.concurency \(did you mean crawl\.concurrency\?\)"):
        get_settings()
    result = CliRunner().invoke(app, ["config", "show"])
    assert isinstance(result.exception, ConfigError)
    (workspace / "pricewarden.toml").write_text("[crawl]\nconcurrency = 3\n[region_modes]\nJP = 'map'\n",
                                                encoding="utf-8")
    get_settings.cache_clear()
    assert get_settings().crawl.concurrency == 3 and get_settings().region_modes["JP"] == "map"


def test_it_rejects_an_unknown_environment_variable_with_a_suggestion(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRICEWARDEN_CRAWL__CONCURENCY", "3")
    get_settings.cache_clear()
    with pytest.raises(ConfigError, match=r"PRICEWARDEN_CRAWL__CONCURENCY in the environment \(did you mean "
                                          r"PRICEWARDEN_CRAWL__CONCURRENCY\?\)"):
        get_settings()
    monkeypatch.delenv("PRICEWARDEN_CRAWL__CONCURENCY")
    monkeypatch.setenv("PRICEWARDEN_CLOCK_OFFSET", "0")  # not a setting, but PriceWarden's own variable
    get_settings.cache_clear()
    assert get_settings().crawl.concurrency == 16


def test_it_deactivates_and_activates_a_listing_with_an_audit_entry(db: Engine) -> None:
    from sqlalchemy import select

    from crawlers.targets import active_listings
    from store import AuditLog, Listing, Product, session_scope

    url = "https://shop.test/p/1"
    with session_scope(db) as s:
        product = Product(sku="AC-1", title="Aria")
        s.add(product)
        s.flush()
        s.add(Listing(url=url, site="shop.test", product_id=product.id, active=True))
    runner = CliRunner()
    result = runner.invoke(app, ["catalog", "listing", "deactivate", url, "--by", "bianca", "--reason", "delisted"])
    assert result.exit_code == 0, result.output
    assert "inactive: no longer crawled" in result.output
    with session_scope(db) as s:
        assert [t.url for t in active_listings(s, None)] == []
        entry = s.scalars(select(AuditLog).where(AuditLog.entity_type == "listing")).one()
        assert (entry.actor, entry.action, entry.reason) == ("bianca", "listing.deactivate", "delisted")
    again = runner.invoke(app, ["catalog", "listing", "deactivate", url, "--json"])
    assert json.loads(again.output)["changed"] is False
    result = runner.invoke(app, ["catalog", "listing", "activate", url, "--json"])
    assert json.loads(result.output) == {"url": url, "sku": "AC-1", "partner": None, "active": True, "changed": True}
    with session_scope(db) as s:
        assert [t.url for t in active_listings(s, None)] == [url]
        assert s.scalars(select(Listing.active)).one() is True
        assert len(s.scalars(select(AuditLog).where(AuditLog.entity_type == "listing")).all()) == 2
    missing = runner.invoke(app, ["catalog", "listing", "activate", "https://shop.test/none"])
    assert "no listing with URL https://shop.test/none" in str(missing.exception)


def test_it_types_flow_parameters_by_the_flow_signature_and_names_a_wrong_one(db: Engine) -> None:
    from datetime import UTC, datetime

    from flows.cli import parse_params
    from flows.monitor import monitor
    from flows.ops import weekly_report

    assert parse_params("monitor", monitor.fn, ["at=2026-03-05T15:00", "processes=2", "crawl-only=false"]) == {
        "at": datetime(2026, 3, 5, 15, tzinfo=UTC), "processes": 2, "crawl_only": False}
    # Refused before Prefect starts: one line naming the parameter and the one meant.
    result = CliRunner().invoke(app, ["flow", "run", "weekly-report", "--param", "dayz=14"])
    assert isinstance(result.exception, ConfigError)
    assert str(result.exception) == ("flow weekly-report has no parameter 'dayz' (did you mean days?); "
                                     "its parameters: until, days")
    result = CliRunner().invoke(app, ["flow", "run", "weekly-report", "--param", "days=two"])
    assert "--param days='two'" in str(result.exception)
    assert parse_params("weekly-report", weekly_report.fn, ["days=14"]) == {"days": 14}


def test_it_prints_a_flow_result_as_rows_for_people(capsys: pytest.CaptureFixture[str]) -> None:
    from flows.cli import _print_result

    _print_result("digest", {"sent": ["carl", "dana"], "retrying": [], "failed": []})
    out = capsys.readouterr().out
    assert "flow digest" in out and '["carl", "dana"]' in out and "{" not in out


def test_it_checks_a_policy_with_json_output(tmp_path: Path) -> None:
    sample = ROOT / "pricewarden" / "sample" / "policies" / "policy.yaml"
    result = CliRunner().invoke(app, ["policy", "check", str(sample), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["ok"] is True and data["rules"] > 0 and data["scopes"]
    bad = tmp_path / "bad.yaml"
    bad.write_text("policy: x\ncurrency: USD\nscopes: 7\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["policy", "check", str(bad), "--json"])
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["ok"] is False and data["problems"] and all(str(bad) in p for p in data["problems"])
