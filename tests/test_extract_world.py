"""Extraction accuracy on the sandbox world: every page's price and currency against the ground truth.

A small world (20 products, day 1) is served on free ports; every product and offer page is fetched
over HTTP and extracted with its family's profile and with none (``bench/bench_world_accuracy.py``
does the same on the full world and prints the table).
"""

from __future__ import annotations

import importlib.util
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from crawlers.extract import extract
from crawlers.profiles import load_profiles, parse_profile
from demo import World, serve, write_workspace

_BENCH = Path(__file__).resolve().parents[1] / "bench" / "bench_world_accuracy.py"


def _bench() -> Any:
    spec = importlib.util.spec_from_file_location("bench_world_accuracy", _BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


bench = _bench()


@pytest.fixture(scope="module")
def world_rows(tmp_path_factory: pytest.TempPathFactory) -> Any:
    world = World(seed=7, products=20)
    with serve(world, base_port=0) as running:
        root = write_workspace(tmp_path_factory.mktemp("ws"), world, running.origins)
        profiles = load_profiles(Path(root) / "profiles")
        rows = bench.evaluate(world, running, [1], profiles)
    for line in bench.table(rows, set()):
        print(line)
    return rows


def test_every_family_with_its_profile_reads_every_page(world_rows: dict[str, Any]) -> None:
    assert set(world_rows) == {"jsonld", "microdata", "opengraph", "rdfa", "plain", "jsshop", "marketplace",
                               "cnmall", "cngbk", "eushop", "cartshop", "deals"}
    for family, row in world_rows.items():
        priced = row.pages - row.failures - row.needs_browser
        assert row.with_profile == priced, (family, row.misses[:5])
        assert row.pages > 0


def test_no_price_is_ever_taken_from_a_failure_page(world_rows: dict[str, Any]) -> None:
    for family, row in world_rows.items():
        assert row.failure_prices == 0, (family, row.misses[:5])
        assert row.failures_recognised == row.failures, family
    assert sum(r.failures for r in world_rows.values()) > 0  # the day does plant persistent failures


def test_js_family_without_browser_gives_no_price(world_rows: dict[str, Any]) -> None:
    row = world_rows["jsshop"]
    assert row.needs_browser == row.pages - row.failures > 0
    assert row.failure_prices == 0


def test_families_without_profile(world_rows: dict[str, Any]) -> None:
    """Every family but the JS one reads right with no profile at all (the plain family: 100% on this world)."""
    for family in ("jsonld", "microdata", "opengraph", "rdfa", "plain", "cnmall", "cngbk", "eushop", "deals",
                   "cartshop"):
        row = world_rows[family]
        priced = row.pages - row.failures - row.needs_browser + row.layout_pages
        share = row.without_profile / priced
        print(f"{family}: {row.without_profile}/{priced} without a profile")
        assert share == 1.0, (family, row.misses[:5])
    market = world_rows["marketplace"]
    # The buy box's price among five sellers' offers (reading every offer needs the profile).
    print(f"marketplace: {market.without_profile}/{market.pages - market.failures} without a profile")
    assert market.without_profile == market.pages - market.failures, market.misses[:5]


@pytest.mark.browser
def test_js_family_rendered_in_chromium(tmp_path: Path) -> None:
    world = World(seed=7, products=20)
    with serve(world, base_port=0) as running:
        root = write_workspace(tmp_path, world, running.origins)
        profiles = load_profiles(Path(root) / "profiles")
        browser = bench.Browser()
        try:
            rows = bench.evaluate(world, running, [1], profiles, render=browser, families={"jsshop"})
        finally:
            browser.close()
    row = rows["jsshop"]
    assert row.rendered == row.needs_browser > 0
    assert row.rendered_correct == row.rendered, row.misses[:5]


# ---- the rules behind the figures, on small pages -------------------------------------------------------

_RDFA = """<html><body><div vocab="https://schema.org/" typeof="Product"><h1 property="name">Aria 100</h1>
<div property="offers" typeof="Offer"><meta property="priceCurrency" content="{cur}">
<span property="{prop}" content="{amount}">{shown}</span></div></div></body></html>"""

_RELATED = ('<aside class="related"><h2>Customers also viewed</h2><ul>'
            '<li class="rel"><a href="/x">Bolt 110</a> <span class="rel-price">$846.99</span></li></ul></aside>')


@pytest.mark.parametrize(("cur", "prop", "amount", "shown", "price", "currency"), [
    ("USD", "price", "316.99", "$316.99", "316.99", "USD"),
    ("EUR", "schema:price", "1299.00", "1.299,00 €", "1299.00", "EUR"),
    ("GBP", "https://schema.org/price", "49.50", "£49.50", "49.50", "GBP"),
    ("CAD", "price", "20.00", "20.00", "20.00", "CAD"),  # the bare number: the currency only from RDFa
])
def test_rdfa_lite_price_and_currency(cur: str, prop: str, amount: str, shown: str, price: str,
                                      currency: str) -> None:
    result = extract(_RDFA.format(cur=cur, prop=prop, amount=amount, shown=shown), "https://shop.example/p/1")
    assert (result.price, result.currency) == (Decimal(price), currency)
    assert result.looks_like_product and result.title == "Aria 100"


@pytest.mark.parametrize("slot", [
    '<div id="price-slot" class="price"><span class="loading">Loading price…</span></div>',
    '<div class="product-price"><span class="skeleton"></span></div>',
    '<span class="price-now">--</span>',
    '<span class="price" data-price=""></span>',
    '<div class="preis">Preis wird geladen…</div>',
])
def test_placeholder_price_slot_never_falls_back_to_related_prices(slot: str) -> None:
    html = (f"<html><body><main><h1>Aria 100 Headphones</h1>{slot}<button class='add-to-cart'>Add to cart</button>"
            f"<div class='financing'>or $26.41/mo</div>{_RELATED}</main></body></html>")
    result = extract(html, "https://shop.example/p/aria-100")
    assert result.price is None
    assert "price_placeholder" in result.flags


def test_filled_price_slot_is_read() -> None:
    html = ("<html><body><main><h1>Aria 100 Headphones</h1><div class='price'><span>$316.99</span></div>"
            f"<button class='add-to-cart'>Add to cart</button>{_RELATED}</main></body></html>")
    result = extract(html, "https://shop.example/p/aria-100")
    assert result.price == Decimal("316.99") and "price_placeholder" not in result.flags


@pytest.mark.parametrize(("coupon", "price", "effective"), [
    ('<div class="coupon">Clip coupon: extra <span class="coupon-amount">$20.00</span> off at checkout</div>',
     "319.00", "299.00"),
    ("", "319.00", "319.00"),
])
def test_deals_price_is_the_sale_price_and_effective_price_applies_the_coupon(coupon: str, price: str,
                                                                              effective: str) -> None:
    html = ('<html><body><h1>Aria 100</h1><div class="deal"><span class="price-list">List: <s>$399.00</s></span>'
            f'<span class="price-sale">$319.00</span>{coupon}</div></body></html>')
    profile = parse_profile({"name": "deals", "currency": "USD", "selectors": {"price": ".deal .price-sale"}})
    for prof in (profile, None):
        result = extract(html, "https://deals.example/p/1", profile=prof)
        assert result.price == Decimal(price)
        assert result.effective_price == Decimal(effective)  # what a MAP check judges
        assert result.regular_price == Decimal("399.00")


def test_buy_box_price_beats_repeated_offer_prices() -> None:
    """On a marketplace page the buy box names the winning offer, even when other sellers' prices repeat."""
    offers = "".join(f'<div class="offer"><span class="offer-price">${p}</span><span class="seller">S{i}</span></div>'
                     for i, p in enumerate(["383.99", "349.00", "383.99", "278.99"]))
    html = (f'<html><body><main><h1 id="title">Echo 140 Turntable</h1><div id="buybox"><span class="bb-price">'
            f'$278.99</span> Ships from and sold by ZX</div><div id="offers"><h2>Other sellers</h2>{offers}</div>'
            "</main></body></html>")
    assert extract(html, "https://market.example/dp/B0FD91D81E").price == Decimal("278.99")
