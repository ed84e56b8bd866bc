"""Partners: the list within the scope, one partner's scorecard, trend, violations, listings and notices."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine
from web_world import as_user as _as


def test_it_shows_a_partners_scorecard_violations_listings_and_notices(setup: tuple[Any, Any, Engine]) -> None:
    _app, world, _db = setup
    carl = _as(setup, "carl")
    vid = world.violations["P1"]
    assert carl.post(f"/violations/{vid}/notice", data={"csrf_token": "token-of-carl"}).status_code == 303
    page = carl.get("/partners/P1")
    assert page.status_code == 200
    text = page.text
    # 205 complies with the 199.00 MAP; 189, 179 and 179 do not: 1 of 4.
    assert 'id="compliance">25.0 %<' in text and "1 of 4 comply" in text
    assert f'href="/violations/{vid}"' in text and "warning" in text  # open, at the first escalation step
    assert "http://127.0.0.1:9/p1/ac-100" in text and "179.00 USD" in text  # the listing's latest price
    assert 'href="/products/AC-100"' in text
    notices = text.split('id="notices"')[1]
    assert f'href="/violations/{vid}"' in notices and "queued" in notices


def test_it_draws_the_compliance_trend_per_day(setup: tuple[Any, Any, Engine]) -> None:
    data = _as(setup, "carl").get("/partners/P1/trend.json").json()
    assert data["partner"] == "P1" and data["timezone"] == "America/New_York"
    assert data["days"][-4:] == ["2026-05-01", "2026-05-02", "2026-05-03", "2026-05-04"]
    assert data["rate"][-4:] == [1.0, 0.0, 0.0, 0.0] and data["total_judged"] == 4
    assert all(r is None for r in data["rate"][:-4])  # days without an observation are gaps, not 0 %


def test_it_lists_only_the_partners_in_the_users_scope(setup: tuple[Any, Any, Engine]) -> None:
    carl = _as(setup, "carl").get("/partners").text
    assert 'href="/partners/P1"' in carl and 'href="/partners/P2"' not in carl
    brand = _as(setup, "bianca").get("/partners").text
    assert all(f'href="/partners/{code}"' in brand for code in ("P1", "P2", "P3", "P4"))


def test_it_answers_404_for_another_managers_partner_as_for_none(setup: tuple[Any, Any, Engine]) -> None:
    dana = _as(setup, "dana")
    other, missing = dana.get("/partners/P1"), dana.get("/partners/NOPE")
    assert other.status_code == missing.status_code == 404
    assert other.text.replace("P1", "") == missing.text.replace("NOPE", "")
    assert dana.get("/partners/P1/trend.json").status_code == 404


def test_it_refuses_a_partner_account_and_a_wrong_method(setup: tuple[Any, Any, Engine]) -> None:
    assert _as(setup, "soundhub").get("/partners/P1").status_code == 403
    assert _as(setup, "bianca").post("/partners/P1", data={"csrf_token": "token-of-bianca"}).status_code == 405


def test_it_counts_what_a_partner_sells_under_its_name_on_a_marketplace(setup: tuple[Any, Any, Engine]) -> None:
    from datetime import UTC, datetime
    from decimal import Decimal

    from sqlalchemy import select

    from pricewarden.keys import digest_key
    from store import Listing, Observation, session_scope

    _app, _world, db = setup
    before = _as(setup, "dana").get("/partners/P2/trend.json").json()["total_judged"]
    with session_scope(db) as s:
        market = s.scalars(select(Listing).where(Listing.url == "http://127.0.0.1:9/market/ac-100")).one()
        s.add(Observation(obs_key=digest_key("by-name"), source="crawl", listing_id=market.id,
                          product_id=market.product_id,
                          url=market.url, observed_at=datetime(2026, 5, 3, 13, tzinfo=UTC), price=Decimal("140.00"),
                          currency="USD", raw_text="$140.00", seller_name="shop two"))  # no seller id: by name
    data = _as(setup, "dana").get("/partners/P2/trend.json").json()
    assert data["total_judged"] == before + 1 and data["rate"][-1] == 0.0  # 150 and 140 against 199
