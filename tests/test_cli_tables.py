"""Tables at 80 and 120 columns: every price appears whole (a narrow layout instead of cut numbers)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from pricewarden.cli import app


@pytest.fixture
def violations(db: Engine, tmp_path: Path) -> list[dict[str, object]]:
    import web_world

    web_world.build(db, str(tmp_path / "evidence"))
    os.environ["PRICEWARDEN_EVIDENCE_URL"] = str(tmp_path / "evidence")
    result = CliRunner().invoke(app, ["violations", "list", "--json"])
    assert result.exit_code == 0, result.output
    rows: list[dict[str, object]] = json.loads(result.output)
    assert rows and all(r["observed"] for r in rows if r["kind"] == "violation")
    return rows


@pytest.mark.parametrize("width", [80, 120])
def test_it_shows_every_price_whole_in_violations_list(width: int, violations: list[dict[str, object]],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", str(width))
    result = CliRunner().invoke(app, ["violations", "list"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert max(len(line) for line in lines) <= width
    assert "…" not in result.output
    for row in violations:
        for key in ("observed", "allowed", "gap_pct"):
            if row[key] is not None:
                assert any(str(row[key]) in line for line in lines), f"{key} {row[key]} cut at {width} columns"
        assert f"{row['id']}" in result.output


def test_it_switches_to_one_block_per_row_when_the_table_does_not_fit(violations: list[dict[str, object]],
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    narrow = CliRunner().invoke(app, ["violations", "list"]).output
    monkeypatch.setenv("COLUMNS", "400")
    wide = CliRunner().invoke(app, ["violations", "list"]).output
    assert "┃ id" in wide and "┃ id" not in narrow
    # The narrow layout: one "column  value" line per field of each row.
    assert sum(1 for line in narrow.splitlines() if line.startswith("observed ")) == len(violations)


@pytest.mark.parametrize("width", [80, 120])
def test_it_keeps_the_demo_day_table_readable(width: int, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from flows.demo_run import DemoResult, print_summary

    monkeypatch.setenv("COLUMNS", str(width))
    result = DemoResult(workspace=tmp_path, days=[4, 5])
    for day, observations in ((4, 123456), (5, 1234567)):
        result.monitor_runs.append({
            "day": day, "slot": f"2026-03-0{day}T15:00:00+00:00",
            "crawl": {"listings": 98765, "observations": observations, "failures": 4321},
            "detect": {"new_violations": list(range(17)), "new_deviations": list(range(3))},
            "alerts": {"sent": 2048}})
        result.imports.append({"day": day, "imported": [{"rows_accepted": 1000000, "rows_rejected": 25}]})
    print_summary(result)
    out = capsys.readouterr().out
    # (the workspace's path is printed whole, to be copied: pytest's own can pass 80 columns)
    assert max(len(line) for line in out.splitlines() if not line.startswith("Workspace: ")) <= width
    for number in ("123456", "1234567", "98765", "4321", "2048", "1000000", "2026-03-05"):
        assert number in out, f"{number} cut at {width} columns"
