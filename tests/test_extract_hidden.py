"""Elements a shopper cannot see (``crawlers.extract.page``): never read as a shown amount, never a confirmation.

Themes print the other states of a product in hidden templates for their scripts to show: a sale block, a members'
price, an out-of-stock variant's price, a "Sold out" button. Hidden means the ``hidden`` attribute, an inline
``display: none`` or ``visibility: hidden``, or a class that hides at every width (``hidden``, ``hide``, ``d-none``,
``is-hidden``, ``invisible``). Not hidden: a screen reader's text (``sr-only``, ``visually-hidden``), a class that
hides at one width only (``hidden-xs``, ``d-md-none``, ``hidden md:block``), and what a hidden element holds for
machines (microdata, a variant selector's state). Real extractions of small written pages.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from crawlers.extract import extract
from crawlers.extract.page import Page

D = Decimal
URL = "https://shop.example.com/products/kettle"


def page(body: str, head: str = "") -> str:
    return ('<!doctype html><html lang="en-US"><head><meta charset="utf-8"><title>Kettle</title>' + head + "</head>"
            "<body><header><nav><a href='/'>Home</a></nav></header><main>" + body + "</main>"
            "<footer>© Shop</footer></body></html>")


def ld(price: str) -> str:
    return ('<script type="application/ld+json">{"@context":"https://schema.org","@type":"Product","name":"Kettle",'
            '"offers":{"@type":"Offer","price":"' + price + '","priceCurrency":"USD",'
            '"availability":"https://schema.org/InStock"}}</script>')


HIDING = [
    'hidden',
    'style="display:none"',
    'style="color: red; display: none !important"',
    'style="visibility:hidden"',
    'class="price hidden"',
    'class="hide"',
    'class="d-none"',
    'class="is-hidden"',
    'class="invisible"',
]


@pytest.mark.parametrize("hiding", HIDING)
def test_a_hidden_sale_template_is_not_read_as_the_price(hiding: str) -> None:
    # (the theme's sale block for another state: drawn by its script when a sale starts, hidden now)
    html = page('<h1>Kettle</h1><div class="product-price"><div ' + hiding + '><span class="price-sale">$39.00</span>'
                ' <s>$49.00</s></div><div class="price-regular"><span class="price-item">$49.00</span></div></div>'
                '<button type="submit" name="add">Add to cart</button>')
    ex = extract(html, URL)
    assert ex.price == D("49.00")
    assert D("39.00") not in {c.price for c in ex.candidates}


@pytest.mark.parametrize("hiding", ['class="val hide"', 'class="val" style="display:none"', 'class="val" hidden'])
def test_a_hidden_copy_of_the_amount_is_not_read_into_it(hiding: str) -> None:
    # (the list price the theme keeps hidden right after the current one, equal to it: "$" "15" "15" is not $15.15)
    html = page('<h1>Decorative Pillow</h1><div class="pp__price"><span class="cur">$</span><span class="val">15</span>'
                f' <span {hiding}>15</span></div><button>Add to cart</button>')
    ex = extract(html, URL)
    assert ex.price == D("15")
    assert D("15.15") not in {c.price for c in ex.candidates}


def test_a_structured_price_printed_only_in_a_hidden_block_is_not_confirmed_by_it() -> None:
    # (a stale feed's price, printed by the page only in the hidden template of another state, right in the buy box;
    # the shopper sees another amount: the page does not show the structured price)
    html = page('<h1>Kettle</h1><div class="price"><span class="price-sale" hidden>$59.00</span>'
                '<span class="now">$44.00</span></div><button>Add to cart</button>', head=ld("59.00"))
    ex = extract(html, URL)
    assert ex.price != D("59.00")
    assert "structured_contradicted" in ex.flags or ex.outcome == "undecided"


@pytest.mark.parametrize("shown", [
    'class="hidden md:block"',  # (Tailwind: hidden on a phone, shown from the md width on)
    'class="d-none d-lg-flex"',  # (Bootstrap: the same)
    'class="hidden-xs"',  # (Bootstrap 3: hidden on a phone only)
    'class="d-md-none"',
    'class="sr-only"',  # (a screen reader reads it out: the price for a blind shopper)
    'class="visually-hidden"',
    'aria-hidden="true"',  # (hidden from a screen reader, drawn on the screen)
])
def test_what_some_shopper_sees_is_read(shown: str) -> None:
    html = page(f'<h1>Kettle</h1><div class="box"><span class="price" {shown}>$44.00</span></div>'
                '<button>Add to cart</button>')
    assert extract(html, URL).price == D("44.00")


def test_a_hidden_label_without_an_amount_still_names_the_amount_beside_it() -> None:
    # (a theme hiding its labels from sight as a screen reader's: "Was" is still what the struck amount is)
    html = page('<h1>World Map</h1><div id="pricing"><span class="hidden">Was</span><span>$24.99</span>'
                '<span class="price">$13.74</span></div><button>Add to cart</button>')
    ex = extract(html, URL)
    assert ex.price == D("13.74")


def test_microdata_and_a_variant_selector_inside_hidden_elements_are_still_read() -> None:
    html = page('<div itemscope itemtype="https://schema.org/Product"><h1 itemprop="name">Kettle</h1>'
                '<div style="display:none" itemprop="offers" itemscope itemtype="https://schema.org/Offer">'
                '<span itemprop="price">44.00</span><meta itemprop="priceCurrency" content="USD"></div>'
                '<select name="id" class="hidden"><option value="1" selected>Red - $44.00</option>'
                '<option value="2">Blue - $49.00</option></select>'
                '<span class="price">$44.00</span><button>Add to cart</button></div>')
    ex = extract(html, URL)
    assert ex.price == D("44.00")
    assert ex.method == "microdata"
    parsed = Page.parse(html, URL)
    assert parsed.tree.css_first("select") is not None


def test_a_hidden_buy_control_is_not_the_buy_button() -> None:
    # (the theme's sold-out state, a disabled button in a hidden template, ahead of the button a shopper uses)
    html = page('<h1>Kettle</h1><span class="price">$44.00</span><div class="sold-out-state" hidden>'
                '<p>Back in stock soon: was $44.00</p><button disabled>Add to cart</button></div>'
                '<button id="buy">Add to cart</button>')
    parsed = Page.parse(html, URL)
    assert parsed.buy_button is not None and parsed.buy_button.attributes.get("id") == "buy"
    assert "Back in stock" not in parsed.visible_text
    assert extract(html, URL).availability == "InStock"


def test_a_hidden_element_holding_the_title_stays() -> None:
    # (a page does not hide the title of what it sells: a class read wrongly, or one a script removes)
    html = page('<div class="hidden product"><h1>Kettle</h1><span class="price">$44.00</span>'
                '<button>Add to cart</button></div>')
    parsed = Page.parse(html, URL)
    assert parsed.heading is not None
    assert extract(html, URL).price == D("44.00")


def test_a_profile_selector_reads_what_the_shopper_sees_first_and_a_hidden_element_it_alone_names() -> None:
    from crawlers.profiles import parse_profile

    profile = parse_profile({"name": "acme", "domains": ["shop.example.com"], "currency": "USD",
                             "selectors": {"price": ".price-now", "sku": "#sku-data"}})
    # (the theme's hidden sale template matches the person's selector too: the shown one is the price; the sku is
    # kept only in a hidden element, which the person's selector names)
    html = page('<h1>Kettle</h1><div class="sale-state" hidden><span class="price-now">$39.00</span></div>'
                '<span class="price-now">$44.00</span><span id="sku-data" style="display:none">KT-1 2024</span>'
                '<button>Add to cart</button>')
    ex = extract(html, URL, profile=profile)
    assert (ex.price, ex.method, ex.sku) == (D("44.00"), "profile", "KT-1 2024")
