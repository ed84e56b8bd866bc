"""Structured data still in the currency a country retired, on pages that charge in the one that replaced it.

Bulgaria adopted the euro on 1 January 2026; its shops print both currencies for months ("12,90 € (25,23 лв.)")
while feeds and JSON-LD lag behind in leva. The held-out batches met it three times (bg-tekhnomarket,
bg-velomagazin, bg-zdrave): the structured lev amount was taken as the price. Pages here are written for these
tests, in the style of those shops.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from crawlers.extract import extract

_PAGE = """<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>
<script type="application/ld+json">{ld}</script></head><body>
<header><nav><a href="/">{home}</a> <a href="/cart">{cart}</a></nav></header>
<main><div class="product"><h1>{title}</h1>
<div class="price-box">{buy}</div>
<button type="submit" class="add-to-cart">{button}</button></div>
<section class="description"><p>{title}. 50 ml.</p></section>
<section class="related"><h2>{related}</h2><div class="tile"><a href="/p/2">Other product</a> {tile}</div></section>
</main></body></html>"""


def _ld(price: str, currency: str, name: str) -> str:
    return json.dumps({"@context": "https://schema.org", "@type": "Product", "name": name,
                       "offers": {"@type": "Offer", "price": price, "priceCurrency": currency,
                                  "availability": "https://schema.org/InStock"}}, ensure_ascii=False)


_BG = {"lang": "bg", "home": "Начало", "cart": "Количка", "button": "Добави в количката", "related": "Подобни продукти",
       "title": "Слънцезащитен лосион SPF50 за деца"}
_HR = {"lang": "hr", "home": "Početna", "cart": "Košarica", "button": "Dodaj u košaricu", "related": "Slični proizvodi",
       "title": "Akumulatorska bušilica 18 V"}


@pytest.mark.parametrize(("host", "words", "ld", "buy", "tile", "price"), [
    # (Bulgaria: the euro with the lev beside it at 1.95583, struck old price in both, JSON-LD still in leva)
    ("www.apteka.example.bg", _BG, ("25.23", "BGN"),
     '<span class="price-new">12,90 €</span> <span class="price-secondary">25,23 лв.</span> '
     '<del>15,90 € / 31,10 лв.</del> <span class="badge">-19%</span>',
     "8,50 € / 16,62 лв.", "12.90"),
    # (the lev first in the markup, the euro after it: the order says nothing)
    ("tehnika.example.bg", _BG, ("699.00", "BGN"),
     '<div class="bgn">699,00 лв.</div> <div class="eur"><b>357,39 €</b></div>',
     "39,00 € (76,28 лв.)", "357.39"),
])
def test_structured_data_in_a_retired_currency_gives_way_to_todays(
        host: str, words: dict[str, str], ld: tuple[str, str], buy: str, tile: str, price: str) -> None:
    """The structured offer in the currency the country retired is not the price: the page's amount in today's
    currency is, and the extraction says why."""
    ext = extract(_PAGE.format(ld=_ld(*ld, words["title"]), buy=buy, tile=tile, **words), f"https://{host}/p/1")
    assert (ext.price, ext.currency) == (Decimal(price), "EUR"), (ext.flags, ext.undecided, ext.candidates)
    assert f"structured_retired_currency:{ld[1]}" in ext.flags
    assert all(c.currency == "EUR" for c in ext.candidates)


@pytest.mark.parametrize(("host", "words", "ld", "buy", "price", "currency"), [
    # (a page that shows no euro amount at all keeps its structured reading: nothing on it says otherwise)
    ("www.apteka.example.bg", _BG, ("25.23", "BGN"), '<span class="price-new">25,23 лв.</span>', "25.23", "BGN"),
    # (structured data already in euro on a dual-display page: as before)
    ("www.apteka.example.bg", _BG, ("12.90", "EUR"),
     '<span class="price-new">12,90 €</span> <span class="price-secondary">25,23 лв.</span>', "12.90", "EUR"),
    # (Croatia, 2023: a stale feed in kunas, a code PriceWarden no longer takes, is not shown: the page's euro)
    ("www.alati.example.hr", _HR, ("2103.92", "HRK"),
     '<span class="price">279,24 €</span> <span class="hrk">(2.103,92 kn)</span>', "279.24", "EUR"),
    # (a country whose currency is still legal tender: Romanian lei stay lei beside a euro reference)
    ("www.farmacie.example.ro", {**_BG, "lang": "ro", "button": "Adaugă în coș", "related": "Produse similare"},
     ("57.99", "RON"), '<span class="price">57,99 lei</span> <small>(11,65 €)</small>', "57.99", "RON"),
])
def test_other_pages_keep_their_structured_reading(
        host: str, words: dict[str, str], ld: tuple[str, str], buy: str, price: str, currency: str) -> None:
    ext = extract(_PAGE.format(ld=_ld(*ld, words["title"]), buy=buy, tile="", **words), f"https://{host}/p/1")
    assert (ext.price, ext.currency) == (Decimal(price), currency), (ext.flags, ext.undecided, ext.candidates)
    assert not any(f.startswith("structured_retired_currency") for f in ext.flags)
