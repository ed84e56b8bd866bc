"""Crawl health: failure rate per site and day, failures by kind, broken profiles, sites by their name."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine
from web_world import as_user as _as


def test_it_names_sites_and_counts_failures_by_kind(setup: tuple[Any, Any, Engine]) -> None:
    text = _as(setup, "bianca").get("/health").text
    sites = text.split('id="sites"')[1].split("</table>")[0]
    assert "<strong>Shop Two</strong> <span class=\"muted\">127.0.0.2:9</span>" in sites  # P2's own domain
    assert "<strong>127.0.0.1:9</strong>" in sites  # no partner or profile claims it: the host itself
    kinds = text.split('id="kinds"')[1].split("</table>")[0]
    assert "profile_broken</td><td class=\"num\">2<" in kinds and "blocked</td><td class=\"num\">1<" in kinds
    broken = text.split('id="broken"')[1].split("</ul>")[0]
    assert "127.0.0.1:9" in broken and "2 pages without a match" in broken


def test_it_gives_the_failure_rate_per_site_and_day(setup: tuple[Any, Any, Engine]) -> None:
    data = _as(setup, "bianca").get("/health/rates.json?days=7").json()
    lines = {line["label"]: dict(zip(data["days"], line["values"], strict=True)) for line in data["lines"]}
    assert set(lines) == {"127.0.0.1:9", "Shop Two"}
    # 4 May: P1's page gave a price, another was undecided (read, not failed), two pages of the broken
    # profile did not; P2's shop was blocked.
    assert lines["127.0.0.1:9"]["2026-05-04"] == pytest.approx(2 / 4, abs=1e-4)
    assert lines["127.0.0.1:9"]["2026-05-01"] == 0.0 and lines["Shop Two"]["2026-05-04"] == 1.0
    assert lines["Shop Two"]["2026-05-01"] is None  # not fetched that day


def test_it_is_for_admins_and_brand_managers_only(setup: tuple[Any, Any, Engine]) -> None:
    assert _as(setup, "admin").get("/health").status_code == 200
    assert _as(setup, "carl").get("/health").status_code == 403
    assert _as(setup, "carl").get("/health/rates.json").status_code == 403
    assert _as(setup, "soundhub").get("/health").status_code == 403
    assert _as(setup, "bianca").post("/health", data={"csrf_token": "token-of-bianca"}).status_code == 405
