"""A list price struck through in Indian grouping, and pages that head their product without an ``h1``.

- a structured price that the page prints only struck through as the M.R.P. in lakhs ("M.R.P.: <s>₹1,49,990</s>")
  is the list price, not the price: the text check sees it struck in that grouping too;
- a page without an ``h1`` (the name in a ``div``, a table cell) is read below the product's name as its
  ``og:title`` or ``<title>`` gives it: "price on request", "no longer sold" and "sold out" said there count as they
  do below an ``h1``.

Each page is written for the principle it tests (not a copy of any held-out page); every test reads the whole
cascade, and each fails on the extractor before these principles.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from crawlers.extract import extract

D = Decimal


def page(body: str, lang: str, ld: dict | None = None, title: str = "Produkt") -> str:
    script = f'<script type="application/ld+json">{json.dumps(ld)}</script>' if ld else ""
    return (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>'
            f'<meta property="og:title" content="{title}">{script}</head>'
            f"<body><header><nav><a href='/'>Home</a></nav></header><main>{body}</main>"
            "<footer>© Shop</footer></body></html>")


def product(name: str, price: str, currency: str, availability: str = "InStock") -> dict:
    return {"@context": "https://schema.org", "@type": "Product", "name": name, "sku": "SKU-1",
            "offers": {"@type": "Offer", "price": price, "priceCurrency": currency,
                       "availability": f"https://schema.org/{availability}"}}


# --- a list price struck through in lakhs -----------------------------------------------------------------------

@pytest.mark.parametrize(("price", "mrp", "selling", "order"), [
    ("149990", "₹1,49,990", "₹1,24,990", "mrp first"),
    ("149990", "₹1,49,990", "₹1,24,990", "price first"),
    ("1234567.00", "Rs. 12,34,567.00", "Rs. 11,49,000.00", "mrp first"),
])
def test_a_structured_price_struck_through_in_lakhs_is_the_list_price(price: str, mrp: str, selling: str,
                                                                       order: str) -> None:
    struck = f'<div class="mrp">M.R.P.: <s>{mrp}</s> <span>(Incl. of all taxes)</span></div>'
    now = f'<div class="sp"><span class="selling">{selling}</span> <span>17% off</span></div>'
    box = struck + now if order == "mrp first" else now + struck
    body = f"<h1>Zentra ProBook 14 i7 16GB 1TB</h1>{box}<button>Add to Cart</button><p>Ships in 2 days</p>"
    got = extract(page(body, "en-IN", product("Zentra ProBook 14", price, "INR")),
                  "https://www.shop.example.in/zentra-probook/p/1")
    assert got.price != D(price)
    assert got.undecided is not None or got.price < D(price)


# --- pages without an h1 -----------------------------------------------------------------------------------------

_NAME = "Tischkreissäge TK-254 Profi"


def _no_h1(said: str, after: str, lang: str = "de-DE") -> str:
    # (an osCommerce-like table layout: the name in a cell, an accessory box beside it)
    return ('<table><tr><td class="c1"><div class="pageHeading">' + _NAME + "</div>"
            f"<p>{said}</p>{after}</td>"
            '<td class="c2"><div class="box"><a href="/product_info.php?products_id=7">Sägeblatt 254 mm</a>'
            "<span>39,90 €</span></div></td></tr></table>")


@pytest.mark.parametrize(("said", "flag"), [
    ("Preis auf Anfrage", "no_price_shown:on_request"),
    ("Dieser Artikel ist nicht mehr lieferbar.", "no_price_shown:unavailable"),
])
def test_no_price_said_below_a_title_that_is_no_h1(said: str, flag: str) -> None:
    html = page(_no_h1(said, "<p>Tel. 030 1234567</p>"), "de-DE", product(_NAME, "899.00", "EUR"),
                title=f"{_NAME} | Werkzeug Müller")
    got = extract(html, "https://www.werkzeug.example.de/product_info.php?products_id=1184")
    assert (got.price, got.undecided) == (None, None)
    assert flag in got.flags


def test_sold_out_said_below_a_title_that_is_no_h1() -> None:
    html = page(_no_h1("Ausverkauft", '<button class="k1" disabled>Ausverkauft</button>'), "de-DE",
                product(_NAME, "899.00", "EUR", "OutOfStock"), title=f"{_NAME} - Werkzeug Müller")
    got = extract(html, "https://www.werkzeug.example.de/product_info.php?products_id=1184")
    assert got.price is None and "no_price_shown:sold_out" in got.flags


def test_a_price_shown_below_a_title_that_is_no_h1_stands() -> None:
    html = page(_no_h1("Sofort lieferbar", '<p class="price">899,00 €</p><button>In den Warenkorb</button>'),
                "de-DE", product(_NAME, "899.00", "EUR"), title=f"{_NAME} | Werkzeug Müller")
    got = extract(html, "https://www.werkzeug.example.de/product_info.php?products_id=1184")
    assert got.price == D("899.00")
