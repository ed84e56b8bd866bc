"""Every length and window of the extraction is measured on the text as a shopper reads it, a run of blanks one space.

A page saved or served pretty-printed (each word on a line of its own, indented by its depth) shows what the same page
minified shows; only the raw characters between the words grow. A window counted in raw characters (the label before
an amount, the text of a price element, the region that a currency changeover or a review is looked for in, a buy
button's label) then reaches less of what is shown, and the reading changes from right to wrong. Real extractions of
small written pages (``tests/extract_page.py``), each written as a formatter writes it.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal

from extract_page import page, product

from crawlers.extract import extract
from crawlers.extract.page import Page

D = Decimal


def pretty(html: str) -> str:
    """``html`` as a formatter writes it: every run of blanks in a text a newline and an indent of 24 spaces, and
    every tag on a line of its own (what a browser shows is unchanged)."""
    html = re.sub(r"(?<=>)([^<]+)", lambda m: re.sub(r"\s+", "\n" + " " * 24, f" {m.group(1)} "), html)
    return re.sub(r"><", ">\n" + " " * 20 + "<", html)


def test_a_buy_button_whose_label_is_on_lines_of_its_own_is_the_buy_button() -> None:
    html = pretty(page("<h1>Kettle</h1><p>$49.00</p><button>Add to cart</button>", "en-US"))
    button = Page.parse(html, "https://shop.example.com/p/kettle").buy_button
    assert button is not None and " ".join(button.text().split()) == "Add to cart"


def test_a_structured_price_in_a_retired_currency_is_not_the_price_when_the_new_one_is_on_its_own_line() -> None:
    # Bulgaria's changeover, pretty-printed: "12,90 € (25,23 лв.)" with "€" on a line of its own; the feed lags.
    ld = product("25.23", "BGN", name="Слънцезащитен лосион")
    body = ('<h1>Слънцезащитен лосион SPF50</h1><div class="cena"><span class="eur">12,90 €</span> '
            '<span class="lev">(25,23 лв.)</span></div><button>Добави в количката</button>')
    got = extract(pretty(page(body, "bg-BG", ld, name="Слънцезащитен лосион")), "https://apteka.example.bg/p/losion")
    assert got.price == D("12.90")


def test_a_structured_price_printed_only_in_a_review_past_an_indent_confirms_nothing() -> None:
    # A sold-out toy: the feed still gives 899.95; the page prints it only in a review, "Gav 899,95 kr i november".
    ld = product("899.95", "DKK", "OutOfStock", name="Brandstation")
    body = ('<h1>Brandstation 60421</h1><p>Udsolgt</p><p>Varen er desværre udsolgt.</p>'
            '<button disabled>Læg i kurven</button><section class="reviews"><article class="review">'
            '<p>Fin gave. Gav 899,95 kr i november.</p></article></section>')
    got = extract(pretty(page(body, "da-DK", ld, name="Brandstation")), "https://legetoej.example.dk/p/60421")
    assert got.price is None


def test_a_price_element_holding_an_empty_indented_widget_is_read() -> None:
    # "Now $52.00" in a heading that also holds an empty ratings widget: a page of indentation, a few words shown.
    widget = "<div>" * 30 + "☆☆☆☆☆" + "</div>" * 30
    body = ('<h1>Mesh Leggings</h1><h5 class="product-price"><s>$64.95</s></h5>'
            f'<h5 class="product-price">Now $52.00 {widget}</h5><button>Add to bag</button>')
    html = pretty(page(body, "en-US", name="Mesh Leggings"))
    assert len(html) > 2000
    got = extract(html, "https://shop.example.com/p/leggings")
    assert got.price == D("52.00")


def test_the_pages_here_read_the_same_unformatted() -> None:
    # (the same pages as served minified give the same readings: the tests above test the formatting alone)
    ld = product("25.23", "BGN", name="Слънцезащитен лосион")
    body = ('<h1>Слънцезащитен лосион SPF50</h1><div class="cena"><span class="eur">12,90 €</span> '
            '<span class="lev">(25,23 лв.)</span></div><button>Добави в количката</button>')
    assert extract(page(body, "bg-BG", ld), "https://apteka.example.bg/p/losion").price == D("12.90")
    assert json.dumps(ld)  # (the JSON-LD is valid as written)
