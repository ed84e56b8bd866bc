"""Three kinds of page the cascade once read wrong: cents in an element of their own, structured data with
several sellers' offers, and structured data that describes a variant the page does not select."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from crawlers.extract import extract

D = Decimal
URL = "https://shop.example/p/ac-100"


def page(body: str, *, head: str = "", lang: str = "en-US") -> str:
    return (f'<html lang="{lang}"><head><meta charset="utf-8"><title>Acme AC-100</title>{head}</head>'
            f"<body><nav class='menu'><a>Home</a></nav><main>{body}</main><footer>Help</footer></body></html>")


def ld(offers: object, name: str = "Acme AC-100") -> str:
    data = {"@context": "https://schema.org", "@type": "Product", "name": name, "offers": offers}
    return f'<script type="application/ld+json">{json.dumps(data)}</script>'


def buy_box(price_html: str, extra: str = "") -> str:
    return (f'<h1>Acme AC-100</h1><div class="buybox"><div class="price">{price_html}</div>{extra}'
            '<button class="add-to-cart">Add to cart</button></div>')


@pytest.mark.parametrize(("price_html", "lang", "url", "want", "currency"), [
    ('<span class="dollars">$21</span><span class="cents">.99</span>', "en-AU", "https://chemist.example.com.au/p/1",
     "21.99", "AUD"),
    ('<span class="dollars">$14</span><sup class="cents">99</sup>', "en-US", URL, "14.99", "USD"),
    ('<span class="int">129€</span><sup class="dec">90</sup>', "fr-FR", "https://brico.example.fr/p/1", "129.90",
     "EUR"),
    ('R$ <strong>1.899</strong><sup>90</sup>', "pt-BR", "https://loja.example.com.br/p/1", "1899.90", "BRL"),
    ('$8,999<sup>00</sup>', "es-MX", "https://tienda.example.com.mx/p/1", "8999.00", "MXN"),
    ('<span class="sym">$</span><span class="int">89</span><span class="dec">00</span>', "en-AU",
     "https://tools.example.com.au/p/1", "89.00", "AUD"),
])
def test_minor_units_in_an_element_of_their_own_are_one_amount(price_html: str, lang: str, url: str, want: str,
                                                                 currency: str) -> None:
    result = extract(page(buy_box(price_html), lang=lang), url)
    assert (result.price, result.currency) == (D(want), currency)


def test_a_struck_price_split_the_same_way_stays_the_list_price() -> None:
    body = buy_box('<del class="was">$34<sup>99</sup></del> <span class="now">$21<sup>99</sup></span>')
    result = extract(page(body), URL)
    assert (result.price, result.regular_price) == (D("21.99"), D("34.99"))


def test_the_page_sellers_offer_wins_over_an_aggregate_lowest_price() -> None:
    offers = [{"@type": "AggregateOffer", "lowPrice": "11850.00", "highPrice": "12990.00", "priceCurrency": "MXN",
               "offerCount": 4},
              {"@type": "Offer", "price": "12499.00", "priceCurrency": "MXN",
               "seller": {"@type": "Organization", "name": "Mercatodo"}}]
    body = ('<h1>Refrigerador RF14X</h1><div>Vendido por <b>Mercatodo</b></div><div class="buybox">'
            '<s class="old">$15,999</s> <span class="badge">21% OFF</span><div class="price">$12,499</div>'
            '<button class="add-to-cart">Agregar al carrito</button>'
            '<a href="#ofertas">Otras 3 opciones de compra desde $11,850</a></div>')
    result = extract(page(body, head=ld(offers), lang="es-MX"), "https://tienda.example.com.mx/p/rf14x")
    assert (result.price, result.method) == (D("12499.00"), "json-ld")


def test_without_a_visible_price_several_sellers_offers_leave_the_page_undecided() -> None:
    offers = [{"@type": "Offer", "price": "27.50", "priceCurrency": "EUR", "seller": {"name": "Audio-Discount24"}},
              {"@type": "Offer", "price": "34.99", "priceCurrency": "EUR", "seller": {"name": "Technikwelt"}}]
    body = ('<h1>Kopfhörer NC700</h1><div>Verkauf durch <b>Technikwelt</b></div>'
            '<button class="add-to-cart">In den Warenkorb</button>')
    result = extract(page(body, head=ld(offers), lang="de-DE"), "https://technikwelt.example.de/p/nc700")
    # (the page shows no price: nothing confirms the offer of the seller it names; a person picks)
    assert result.price is None and result.undecided
    assert {c.price for c in result.competing} == {D("27.50"), D("34.99")}


@pytest.mark.parametrize("options", [
    '<button role="radio" aria-checked="false">128GB <span>£799.00</span></button>'
    '<button role="radio" aria-checked="true">256GB <span>£899.00</span></button>',
    '<select><option value="128">128GB – £799.00</option><option value="256" selected>256GB – £899.00</option>'
    '</select>',
    '<button>128GB – £799.00</button><button class="is-selected">256GB</button>',
])
def test_structured_data_of_another_variant_loses_to_the_selected_one(options: str) -> None:
    offers = {"@type": "Offer", "price": "799.00", "priceCurrency": "GBP"}
    body = f'<h1>Pixelon 9 Pro 256GB</h1><div class="options">{options}</div>' + \
        '<div class="buybox"><p class="price">£899.00</p><button class="add-to-cart">Add to basket</button></div>'
    result = extract(page(body, head=ld(offers), lang="en-GB"), "https://phones.example.co.uk/p/pixelon-9-pro")
    assert result.price == D("899.00")
    assert "structured_contradicted" in result.flags


def test_a_placeholder_option_selects_no_variant() -> None:
    offers = {"@type": "Offer", "price": "28.50", "priceCurrency": "USD"}
    body = ('<h1>Acme AC-100</h1><select><option value="" selected>Select a size</option>'
            '<option value="1">3-6 months ($28.50)</option><option value="2">2 years ($30.50)</option></select>'
            '<div class="buybox"><p class="price">$28.50</p><button class="add-to-cart">Add to cart</button></div>')
    result = extract(page(body, head=ld(offers)), URL)
    assert (result.price, result.method, result.flags) == (D("28.50"), "json-ld", [])
