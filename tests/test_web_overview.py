"""The overview: open violations by dimension within the scope, compliance per day, new against closed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine
from web_world import as_user as _as


def test_it_counts_open_violations_by_dimension_within_the_scope(setup: tuple[Any, Any, Engine]) -> None:
    brand = _as(setup, "bianca").get("/overview").text
    assert '?partner=P1&amp;status=open' in brand and '?partner=P2&amp;status=open' in brand
    assert "unauthorised seller" in brand and "Crawl health" in brand
    carl = _as(setup, "carl").get("/overview").text
    assert '?partner=P1&amp;status=open' in carl and "P2" not in carl and "unauthorised seller" not in carl
    assert "Crawl health" not in carl  # operator data: brand managers and admins


def test_it_gives_the_compliance_rate_per_day_and_per_partner(setup: tuple[Any, Any, Engine]) -> None:
    data = _as(setup, "bianca").get("/overview/trends.json?days=7").json()
    days = data["compliance"]["days"]
    assert days[-4:] == ["2026-05-01", "2026-05-02", "2026-05-03", "2026-05-04"] and len(days) == 8
    p1 = dict(zip(days, data["compliance"]["partners"]["P1"], strict=True))
    assert [p1[d] for d in days[-4:]] == [1.0, 0.0, 0.0, 0.0]  # 205, then 189, 179, 179 against a 199 MAP
    p2 = dict(zip(days, data["compliance"]["partners"]["P2"], strict=True))
    assert [p2[d] for d in days[-4:-1]] == [1.0, 1.0, 0.0]
    flow = data["flow"]
    assert sum(flow["opened"]) == 4 and sum(flow["closed"]) == 0  # P1, P2, P3, the unauthorised seller
    carl = _as(setup, "carl").get("/overview/trends.json?days=7").json()
    assert set(carl["compliance"]["partners"]) == {"P1"} and sum(carl["flow"]["opened"]) == 1


def test_it_starts_managers_on_the_overview(setup: tuple[Any, Any, Engine]) -> None:
    assert _as(setup, "carl").get("/").headers["location"] == "/overview"
