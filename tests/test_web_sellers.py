"""Sellers: unknown sellers with their listings (admins and brand managers), unauthorised sales, discovery."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine
from web_world import as_user as _as


def test_it_shows_unknown_sellers_with_their_listings_and_prices(setup: tuple[Any, Any, Engine]) -> None:
    _app, world, _db = setup
    text = _as(setup, "bianca").get("/sellers").text
    unknown = text.split('id="h-unknown"')[1].split('id="h-unauthorised"')[0]
    assert "ZX Deals" in unknown and "zx-deals" in unknown
    assert "http://127.0.0.1:9/market/ac-100" in unknown and "120.00 USD" in unknown
    assert "?seller=zx-deals&amp;rule=unauthorised_seller" in unknown and "1 open violation" in unknown
    assert f'href="/violations/{world.violations["seller"]}"' in text.split('id="unauthorised"')[1]
    discovered = text.split('id="discovered"')[1]
    assert "http://127.0.0.1:9/market/ac-100-refurb" in discovered and "gtin (90 %)" in discovered


def test_it_shows_a_channel_manager_only_what_concerns_their_partners(setup: tuple[Any, Any, Engine]) -> None:
    text = _as(setup, "carl").get("/sellers").text
    assert 'id="scope-note"' in text
    assert "ZX Deals" not in text and "zx-deals" not in text and "ac-100-refurb" not in text


def test_it_refuses_a_partner_account_and_a_wrong_method(setup: tuple[Any, Any, Engine]) -> None:
    assert _as(setup, "soundhub").get("/sellers").status_code == 403
    assert _as(setup, "bianca").post("/sellers", data={"csrf_token": "token-of-bianca"}).status_code == 405
