"""Amounts beside the buy box that are not the page's price: a stale feed's list price shown after "was" while a
related item's tile prints the same amount, points earned and what they are worth, a price in markup named
"unitPrice" that is the price of one unit bought, and an accessory's microdata price outside the product's item.

Each page is written for the principle it tests, in the manner of shops of several countries (not copies of any
held-out page); every test reads the whole cascade.
"""

from __future__ import annotations

import json
from decimal import Decimal

from crawlers.extract import extract

D = Decimal


def page(body: str, head: str = "", lang: str = "en") -> str:
    return (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>Product</title>{head}</head>'
            f"<body><header><nav><a href='/'>Home</a></nav></header><main>{body}</main>"
            "<footer>© Shop</footer></body></html>")


def offer_ld(price: str, currency: str) -> str:
    return ('<script type="application/ld+json">' + json.dumps({
        "@context": "https://schema.org", "@type": "Product", "name": "Product",
        "offers": {"@type": "Offer", "price": price, "priceCurrency": currency}}) + "</script>")


# --- a structured price the buy box labels "was" --------------------------------------------------------------

def test_a_structured_price_shown_after_was_beside_the_sale_price_is_the_list_price() -> None:
    # The feed still carries the price before the sale; a related item's tile happens to cost the same.
    body = ('<h1>Garden Hose 15 m</h1><div class="buy"><span class="badge">SALE</span>'
            '<p class="sale">$24.99</p><p class="old"><span>was</span> $31.50</p>'
            '<button class="add-to-cart">Add to cart</button></div>'
            '<section class="related"><h2>You may also like</h2><div class="tile"><h3>Hose reel</h3>'
            '<p class="tile-price">$31.50</p></div></section>')
    got = extract(page(body, offer_ld("31.50", "USD")), "https://garden.example.com/p/hose-15")
    assert got.price == D("24.99")


def test_a_structured_price_shown_after_statt_with_no_other_amount_stays_the_price() -> None:
    # "statt" beside the structured price itself: the buy box's first amount is the structured one.
    body = ('<h1>Wasserkocher Inox</h1><div class="buy"><p class="price">39,99 €</p>'
            '<p class="uvp">statt 49,99 €</p><button class="add-to-cart">In den Warenkorb</button></div>')
    got = extract(page(body, offer_ld("39.99", "EUR"), lang="de"), "https://haus.example.de/p/kocher")
    assert got.price == D("39.99")


# --- points earned ---------------------------------------------------------------------------------------------

def test_points_and_their_worth_in_a_points_row_are_never_the_price() -> None:
    # The price's markup says "unitPrice" (the price of one unit bought); the points row shows their worth in yen.
    body = ('<div itemscope itemtype="http://schema.org/Product"><h1 itemprop="name">コードレス掃除機 ST-1</h1>'
            '<div itemprop="offers" itemscope itemtype="http://schema.org/Offer"><table>'
            '<tr><th>販売価格</th><td><span id="js_unitPrice" class="productPrice">￥28,600</span>'
            '<span>（税込）</span><meta itemprop="price" content="28600"><meta itemprop="priceCurrency" content="JPY">'
            '</td></tr><tr><th>ポイント</th><td><span>2,860ポイント</span><span>（10%還元）</span>'
            '<span>(￥2,860相当)</span></td></tr></table>'
            '<button class="add-to-cart">ショッピングカートに入れる</button></div></div>')
    got = extract(page(body, lang="ja"), "https://kaden.example.jp/product/1001/")
    assert got.price == D("28600")
    assert "structured_contradicted" not in got.flags


def test_a_unit_price_per_measure_in_unit_price_markup_stays_a_unit_price() -> None:
    body = ('<h1>Olivenöl nativ extra</h1><div class="buy"><p class="price">8,99 €</p>'
            '<p class="unit-price">Preis 11,99 € / 1 l</p><button class="add-to-cart">In den Warenkorb</button></div>')
    got = extract(page(body, offer_ld("8.99", "EUR"), lang="de"), "https://feinkost.example.de/p/oel")
    assert got.price == D("8.99")


# --- microdata outside the product's item ----------------------------------------------------------------------

def test_an_accessory_microdata_price_outside_the_product_item_is_not_the_page_price() -> None:
    # The product's offer is an item of its own; the "often bought together" tiles carry stray itemprop=price.
    # The buy box prints the whole euros with a dash for cents ("449,-").
    body = ('<h1>Volautomaat QB-5</h1><div class="buy-block" itemprop="offers" itemscope '
            'itemtype="http://schema.org/Offer"><meta itemprop="price" content="449.00">'
            '<meta itemprop="priceCurrency" content="EUR"><span class="promo-price">449 <sup>-</sup></span>'
            '<div>Andere verkopers vanaf <span class="other-price">439,95</span></div>'
            '<button class="add-to-cart">In winkelwagen</button></div>'
            '<section class="carousel"><h2>Vaak samen gekocht</h2><ul>'
            '<li class="slider-item"><a href="/p/ontkalker">Ontkalker</a><div class="price-block">'
            '<meta itemprop="price" content="19.95"><span class="promo-price">19 <sup>95</sup></span></div></li>'
            '</ul></section>')
    got = extract(page(body, lang="nl"), "https://winkel.example.nl/p/qb-5/")
    assert got.price == D("449.00")
    assert all(c.price != D("19.95") for c in got.candidates if c.method == "microdata")


def test_a_structured_price_shown_after_avant_beside_the_sale_price_is_the_list_price() -> None:
    body = ('<h1>Bouilloire inox 1,7 L</h1><div class="buy"><p class="prix">29,90 €</p>'
            '<p class="ancien">avant 39,90 €</p><button class="add-to-cart">Ajouter au panier</button></div>'
            '<section class="related"><h2>Vous aimerez aussi</h2><div class="tile"><h3>Grille-pain</h3>'
            '<p class="tile-price">39,90 €</p></div></section>')
    got = extract(page(body, offer_ld("39.90", "EUR"), lang="fr"), "https://maison.example.fr/p/bouilloire")
    assert got.price == D("29.90")
