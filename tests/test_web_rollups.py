"""The per-day rollups: the pages read them and show what judging live shows, within each user's scope, and
stop reading them the moment the store holds something they do not."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, select, update
from web_world import as_user as _as

from pricewarden.keys import digest_key
from store import RollupState, session_scope

PAGES = [("bianca", "/overview"), ("carl", "/overview"), ("bianca", "/overview/trends.json?days=7"),
         ("carl", "/overview/trends.json?days=90"), ("bianca", "/partners"), ("carl", "/partners"),
         ("carl", "/partners/P1"), ("bianca", "/partners/P2/trend.json"), ("bianca", "/health"),
         ("bianca", "/health?days=7"), ("bianca", "/health/rates.json?days=7")]
ZONE = "America/New_York"  # the test app's time zone (web_world.make_app)


def _pages(setup: tuple[Any, Any, Engine]) -> dict[tuple[str, str], str]:
    out = {}
    for name, path in PAGES:
        response = _as(setup, name).get(path)
        assert response.status_code == 200, (name, path)
        out[(name, path)] = response.text
    return out


def _fresh(db: Engine) -> bool:
    from store.rollups import rollups_fresh

    with session_scope(db) as s:
        return rollups_fresh(s, ZONE)


@pytest.fixture
def in_zone(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Detection builds the rollups in the app's time zone, as one workspace's settings give both."""
    from pricewarden.settings import get_settings

    monkeypatch.setenv("PRICEWARDEN_TIMEZONE", ZONE)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_it_shows_from_the_rollups_what_judging_live_shows(setup: tuple[Any, Any, Engine]) -> None:
    from detection.rollups import refresh
    from store import ComplianceDay, CrawlDay

    _app, _world, db = setup
    assert not _fresh(db)  # built by detection in UTC: not the app's days
    live = _pages(setup)
    with session_scope(db) as s:
        refresh(s, full=True, zone=__import__("zoneinfo").ZoneInfo(ZONE))
        assert s.scalars(select(ComplianceDay)).first() is not None and s.scalars(select(CrawlDay)).first()
    assert _fresh(db)
    assert _pages(setup) == live
    data = _as(setup, "carl").get("/overview/trends.json?days=7").json()
    assert set(data["compliance"]["partners"]) == {"P1"}  # the rollup is read within carl's scope


def test_it_judges_live_what_the_rollups_do_not_hold_yet(setup: tuple[Any, Any, Engine], in_zone: Any) -> None:
    from detection.run import detect
    from store import Listing, Observation, Partner

    _app, _world, db = setup
    with session_scope(db) as s:
        detect(s, anomalies=False)
    assert _fresh(db)
    before = _as(setup, "bianca").get("/partners/P1/trend.json").json()
    with session_scope(db) as s:
        listing = s.scalars(select(Listing).where(Listing.url == "http://127.0.0.1:9/p1/ac-100")).one()
        s.add(Observation(obs_key=digest_key("late"), source="crawl", listing_id=listing.id,
                          product_id=listing.product_id, partner_id=listing.partner_id, url=listing.url,
                          observed_at=datetime(2026, 5, 4, 20, tzinfo=UTC), price=Decimal("120.00"),
                          currency="USD", raw_text="$120.00"))
    assert not _fresh(db)
    after = _as(setup, "bianca").get("/partners/P1/trend.json").json()
    assert after["total_judged"] == before["total_judged"] + 1
    with session_scope(db) as s:
        detect(s, anomalies=False)  # an incremental run brings the rollups up to date from that day
    assert _fresh(db)
    rolled = _pages(setup)
    with session_scope(db) as s:
        s.execute(update(RollupState).values(stale=True))
    assert not _fresh(db) and _pages(setup) == rolled
    with session_scope(db) as s:
        detect(s, anomalies=False)
    assert _fresh(db)
    with session_scope(db) as s:  # a catalog change is no new row: it marks them stale
        s.scalars(select(Partner).where(Partner.code == "P2")).one().tier = "A"
    assert not _fresh(db)


def test_a_detection_runs_read_counts_the_crawl_days_as_reading_them_again(setup: tuple[Any, Any, Engine]) -> None:
    """The crawled rows a detection run reads with its frame (``observations_frame(pages=...)``) give the crawl
    days that reading them again gives, from any day they cover; the frame is the same with or without."""
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    import pandas as pd

    from crawlers.health import crawl_day_rows
    from detection.frames import observations_frame

    _app, _world, db = setup
    zone = ZoneInfo(ZONE)
    with session_scope(db) as s:
        pages: dict[str, Any] = {}
        frame = observations_frame(s, evidence=False, pages=pages)
        pd.testing.assert_frame_equal(frame, observations_frame(s, evidence=False))
        assert len(pages["observed_ns"]) >= len(frame) and pages["from"] is None
        first = pd.Timestamp(int(pages["observed_ns"].min()), tz=UTC).to_pydatetime()
        whole = crawl_day_rows(s, None, None, zone)
        assert whole and crawl_day_rows(s, None, None, zone, read_pages=pages) == whole
        since = first + timedelta(days=1)
        later: dict[str, Any] = {}
        observations_frame(s, since=since, evidence=False, pages=later)
        for start in (since, since + timedelta(hours=7)):
            expected = crawl_day_rows(s, start, None, zone)
            assert crawl_day_rows(s, start, None, zone, read_pages=pages) == expected
            assert crawl_day_rows(s, start, None, zone, read_pages=later) == expected
        with pytest.raises(ValueError, match="later instant"):
            crawl_day_rows(s, None, None, zone, read_pages=later)
