"""Amounts beside the buy box that are not the unit price a shopper pays now: multi-buy offers, instalment
prices a stale feed gives as the price, and the amounts left on a page whose own price slot a script fills.

Each page is written for the principle it tests, in the manner of shops of several countries (not copies of
any held-out page); every test reads the whole cascade.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from crawlers.extract import extract

D = Decimal


def page(body: str, head: str = "", lang: str = "en") -> str:
    return (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>Product</title>{head}</head>'
            f"<body><header><nav><a href='/'>Home</a></nav></header><main>{body}</main>"
            "<footer>© Shop</footer></body></html>")


def ld(price: str, currency: str) -> str:
    return ('<script type="application/ld+json">' + json.dumps({
        "@context": "https://schema.org", "@type": "Product", "name": "Product",
        "offers": {"@type": "Offer", "price": price, "priceCurrency": currency}}) + "</script>")


# url, lang, title, the buy box's price, the multi-buy line, the price to read
MULTI_BUY = [
    pytest.param("https://shop.example.ie/p/pesto", "en-IE", "Sundried tomato pesto 190g", "€2.79",
                 '<div class="promo"><span class="badge">Mix &amp; Match</span> Any 2 Riviera jars for €4.00</div>',
                 "2.79", id="mix-and-match-any-2-for"),
    pytest.param("https://tienda.example.mx/p/cafe", "es-MX", "Café molido 400 g", "$129.00",
                 '<div class="oferta">Lleve 2 por $220.00</div>', "129.00", id="lleve-2-por"),
    pytest.param("https://shop.example.de/p/saft", "de-DE", "Apfelsaft naturtrüb 1 l", "2,49 €",
                 '<div class="aktion">Im 2er Pack nur 4,29 €</div>', "2.49", id="2er-pack"),
    pytest.param("https://shop.example.co.uk/p/tea", "en-GB", "Assam tea 80 bags", "£3.25",
                 '<div class="offer-line">Buy more: 3 x £2.75</div>', "3.25", id="3-x"),
]


@pytest.mark.parametrize(("url", "lang", "title", "shown", "offer", "price"), MULTI_BUY)
def test_a_multi_buy_price_is_never_the_unit_price(url: str, lang: str, title: str, shown: str, offer: str,
                                                   price: str) -> None:
    # the multi-buy line sits between the title and the button, the unit price below them, unlabelled
    body = (f'<h1>{title}</h1>{offer}<button class="add-to-cart">Add</button>'
            f'<p>Stock: yes</p><div><span>{shown}</span></div>')
    got = extract(page(body, lang=lang), url)
    assert got.price == D(price), (got.price, got.candidates, got.undecided)
    assert not any(c.role == "current" and c.price != D(price) and c.method == "heuristic"
                   and c.confidence >= 0.6 for c in got.candidates)


def test_an_instalment_price_in_structured_data_gives_way_to_the_cash_price_the_buy_box_shows() -> None:
    # A feed left the financed price (its offer ran out) while the buy box sells for less in cash: the
    # page shows the feed's amount only under an instalment label, so it confirms nothing.
    body = ('<h1>Frižider kombinovani NF 185 inox</h1><div class="price-box">'
            '<div class="row"><span>MPC:</span> <s>1.499,00 KM</s></div>'
            '<div class="row"><span>Web cijena:</span> <strong class="price-current">1.299,00 KM</strong></div>'
            '<div class="row"><span>Cijena na rate (do 24 rate):</span> <strong>1.399,00 KM</strong>'
            ' <small>npr. 12 x 116,58 KM</small></div></div><button class="add-to-cart">U korpu</button>')
    got = extract(page(body, ld("1399.00", "BAM"), "bs-BA"), "https://www.tehnika.example.ba/frizider-nf-185")
    assert got.price == D("1299.00"), (got.price, got.flags, got.candidates)
    assert got.currency == "BAM"
    assert "structured_contradicted" in got.flags


def test_an_instalment_label_keeps_the_structured_price_from_being_confirmed_by_it() -> None:
    body = ('<h1>Pralka 8 kg</h1><div class="price-box"><span class="price-current">1 899,00 zł</span>'
            '<div class="raty"><span>Raty 0% (10 rat):</span> <strong>1 999,00 zł</strong></div></div>'
            '<button class="add-to-cart">Do koszyka</button>')
    got = extract(page(body, ld("1999.00", "PLN"), "pl-PL"), "https://sklep.example.pl/pralka-8kg")
    assert got.price != D("1999.00"), (got.price, got.flags)


def nuxt(price: str) -> str:
    state = {"layout": "default", "data": [{"product": {"id": "DV-1", "title": "Laptop Air 13 16GB",
                                                        "price": {"current": float(price), "currency": "EUR"}}}]}
    return f"<script>window.__NUXT__={json.dumps(state)};</script>"


def test_a_waiting_price_slot_lets_no_other_amount_stand_in_and_the_state_gives_the_price() -> None:
    body = ('<h1>Laptop Air 13 16GB</h1><div class="buybox" id="price-app"><div class="pd-price">'
            '<span class="pd-price__label">Cena:</span> <span class="pd-price__val" v-text="price.current">—</span>'
            '</div><button class="add-to-cart">Ielikt grozā</button><p>Bezmaksas piegāde virs 30 €</p></div>'
            '<section class="related"><h2>Līdzīgi</h2><div class="card"><span class="card-price">39,99 €</span></div>'
            '</section>')
    got = extract(page(body, lang="lv-LV") + nuxt("1149.0"), "https://www.dators.example.lv/p/DV-1")
    assert got.price == D("1149.0"), (got.price, got.flags, got.candidates)
    assert got.method == "embedded-json"
    assert "price_placeholder" in got.flags  # (a render confirms it before anything partner-facing)


def test_a_skeleton_price_slot_without_state_is_no_price_and_asks_for_a_render() -> None:
    body = ('<h1>Smart TV 50" 4K</h1><div class="pdp-price pdp-skeleton"><span class="pdp-price__list"></span>'
            '<span class="pdp-price__value" data-bind="price"></span></div>'
            '<button class="buy">Adicionar ao carrinho</button>'
            '<div class="reco"><div class="reco__price"><s>R$ 699,00</s> <span>R$ 499,00</span></div>'
            '<div class="reco__price"><span>R$ 129,90</span></div></div>')
    got = extract(page(body, lang="pt-BR"), "https://www.loja.example.com.br/smart-tv-50/p/77")
    assert got.price is None and got.undecided is None, (got.price, got.undecided)
    assert "price_placeholder" in got.flags
    assert got.looks_like_product  # (the crawl renders a product page with no price)


def test_a_spinner_beside_a_shown_price_is_no_empty_buy_box() -> None:
    body = ('<h1>Knit baby romper</h1><div class="buy-box__price"><span class="buy-box__price-spinner hidden"></span>'
            '<p class="current">$28.50</p></div><button class="add-to-cart">Add to cart</button>')
    got = extract(page(body), "https://market.example.com/listing/1/romper")
    assert got.price == D("28.50"), (got.price, got.flags)
    assert "price_placeholder" not in got.flags
