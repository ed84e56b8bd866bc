"""Products: every seller's current price against the limit, the history of all sellers, unauthorised sellers."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Engine
from web_world import as_user as _as


def _rows(html: str, table: str) -> list[str]:
    body = html.split(f'id="{table}"')[1].split("</table>")[0]
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", "<tr" + row)).strip() for row in body.split("<tr")[2:]]


def test_it_judges_every_sellers_current_price_against_its_limit(setup: tuple[Any, Any, Engine]) -> None:
    rows = _rows(_as(setup, "bianca").get("/products/AC-100").text, "prices")
    by_seller = {row.split(" ")[0]: row for row in rows}
    assert "179.00 USD" in by_seller["P1"] and "199.00 USD" in by_seller["P1"] and "breaks the rule" in by_seller["P1"]
    assert "150.00 USD" in by_seller["P2"] and "breaks the rule" in by_seller["P2"]
    assert "1,599.00 CNY" in by_seller["P3"] and "1,499.00 CNY" in by_seller["P3"]  # above the maximum
    assert "breaks the rule" in by_seller["P3"]
    assert "200.00 EUR" in by_seller["P4"] and "complies" in by_seller["P4"]  # a recommended price is never enforced
    zx = next(row for row in rows if "ZX Deals" in row)
    assert "unauthorised" in zx and "120.00 USD" in zx


def test_it_charts_every_seller_together_with_the_limit(setup: tuple[Any, Any, Engine]) -> None:
    data = _as(setup, "bianca").get("/products/AC-100/history.json").json()
    assert data["currency"] == "USD" and set(data["currencies"]) == {"USD", "CNY", "EUR"}
    series = {s["label"]: s for s in data["series"]}
    assert [p["y"] for p in series["P1"]["points"]] == ["205.00", "189.00", "179.00", "179.00"]
    assert [p["y"] for p in series["P2"]["points"]] == ["199.00", "199.00", "150.00"]
    assert [p["y"] for p in series["ZX Deals"]["points"]] == ["120.00"]
    limit = next(s for s in data["series"] if s["kind"] == "limit")
    assert {p["y"] for p in limit["points"]} == {"199.00"}
    cny = _as(setup, "bianca").get("/products/AC-100/history.json?currency=CNY").json()
    assert [s["label"] for s in cny["series"] if s["kind"] == "seller"] == ["P3"]


def test_it_shows_a_channel_manager_only_their_partners_sellers(setup: tuple[Any, Any, Engine]) -> None:
    carl = _as(setup, "carl")
    rows = _rows(carl.get("/products/AC-100").text, "prices")
    assert [row.split(" ")[0] for row in rows] == ["P1"]
    assert "No unauthorised seller of this product was found in your scope." in carl.get("/products/AC-100").text
    labels = [s["label"] for s in carl.get("/products/AC-100/history.json").json()["series"] if s["kind"] == "seller"]
    assert labels == ["P1"]


def test_it_lists_the_unauthorised_sellers_of_the_sku(setup: tuple[Any, Any, Engine]) -> None:
    _app, world, _db = setup
    rows = _rows(_as(setup, "bianca").get("/products/AC-100").text, "unauthorised")
    assert len(rows) == 1 and rows[0].startswith(str(world.violations["seller"])) and "ZX Deals" in rows[0]


def test_it_lists_the_catalog_and_answers_404_for_an_unknown_sku(setup: tuple[Any, Any, Engine]) -> None:
    bianca = _as(setup, "bianca")
    rows = _rows(bianca.get("/products").text, "products")
    assert [r.split(" ")[0] for r in rows] == ["AC-100", "AC-200"]
    assert bianca.get("/products?q=earbuds").text.count('href="/products/AC-') == 1
    assert bianca.get("/products/NOPE").status_code == 404
    assert bianca.get("/products/NOPE/history.json").status_code == 404
    assert _as(setup, "soundhub").get("/products/AC-100").status_code == 403
    assert bianca.post("/products/AC-100", data={"csrf_token": "token-of-bianca"}).status_code == 405
