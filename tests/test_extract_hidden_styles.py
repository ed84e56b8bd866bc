"""Elements the page's own stylesheet hides (``crawlers.extract.stylesheet``): never read as a shown amount.

Themes hide the other states of a product with their own rules (``.price--sale { display: none }`` for a sale that
has not started, a members' price, a block a script fills) and show them again per state (``.on-sale .price--sale
{ display: block }``). A rule hides an element only as the cascade applies it: no other rule matching the element
with an equal or higher specificity (a later one for an equal) shows it again, ``!important`` and the element's own
``style`` honoured; only at every width (a top-level rule, ``@media screen``), and only by a selector known without
a browser (unknown means shown). Real extractions of small written pages.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from extract_page import page

from crawlers.extract import extract
from crawlers.extract.heuristics import read_visible
from crawlers.extract.page import Page

D = Decimal
URL = "https://shop.example.com/products/kettle"


def _page(css: str, box: str, wrapper: str = "product") -> str:
    """A kettle's page whose buy box is ``box`` (in an element of the classes ``wrapper``) and whose stylesheet is
    ``css``."""
    return page(f'<style>{css}</style><div class="{wrapper}"><h1>Kettle</h1>{box}'
                '<button type="submit" name="add">Add to cart</button></div>', "en-US", name="Kettle")


def _read(css: str, box: str, wrapper: str = "product") -> set[Decimal]:
    """Every amount the visible scan reads on :func:`_page` (a candidate or one it rejects: a members' price), and
    the price the page is read at."""
    html = _page(css, box, wrapper)
    visible = read_visible(Page.parse(html, URL))
    return {extract(html, URL).price, *(c.price for c in (*visible.candidates, *visible.rejected))}


SALE_BOX = ('<div class="price"><div class="price--sale"><span class="price-item">$39.00</span> <s>$49.00</s></div>'
            '<div class="price--regular"><span class="price-item">$49.00</span></div></div>')


@pytest.mark.parametrize("css", [
    ".price--sale{display:none}",
    ".price--sale { display: none; }",
    "/* the sale state */ .price .price--sale{color:red;display:none}",
    "@media screen{.price--sale{display:none}}",
    "@media all { .product .price--sale { visibility: hidden } }",
    ".price--sale{display:none!important}.on-sale .price--sale{display:block}",  # (important: no state shows it)
    ".price--sale{display:none}.price--sale.is-active{display:block}",  # (a state the product is not in)
    ".price--sale{display:block}.price--sale{display:none}",  # (equal specificity: the later)
])
def test_a_sale_template_the_stylesheet_hides_is_not_read(css: str) -> None:
    read = _read(css, SALE_BOX)
    assert D("49.00") in read
    assert D("39.00") not in read


@pytest.mark.parametrize("css", [
    ".price--sale{display:none}.on-sale .price--sale{display:block}.on-sale .price--regular{display:none}",
    ".on-sale .price--sale{display:flex}.price--sale{display:none}.on-sale .price--regular{display:none}",
    # (a specificity the hiding rule does not reach, whatever the order)
    ".price--sale{display:none}#sale{display:block}.on-sale .price--regular{display:none}",
])
def test_a_state_that_shows_the_sale_price_is_read(css: str) -> None:
    box = SALE_BOX.replace('class="price--sale"', 'class="price--sale" id="sale"')
    assert extract(_page(css, box, wrapper="product on-sale"), URL).price == D("39.00")


MEMBER_BOX = ('<div class="price-box"><span class="price">$44.00</span>'
              '<div class="member-price">Members: <span>$35.00</span></div></div>')
MEMBER_CSS = ".member-price{display:none}.is-member .member-price{display:block}"


def test_a_members_price_hidden_from_a_shopper_not_signed_in_is_not_read() -> None:
    read = _read(MEMBER_CSS, MEMBER_BOX)
    assert D("44.00") in read
    assert D("35.00") not in read


def test_a_members_price_shown_to_a_member_is_read() -> None:
    assert D("35.00") in _read(MEMBER_CSS, MEMBER_BOX, wrapper="product is-member")


@pytest.mark.parametrize("css", [
    "@media (max-width: 749px){.member-price{display:none}}",  # (a phone's: a desktop shows it)
    "@media screen and (min-width: 990px){.member-price{display:none}}",
    "@supports (display: grid){.member-price{display:none}}",
    '.x:after{content:"}"}@media (max-width: 749px){.member-price{display:none}}',  # (a brace in a string)
    ".member-price::before{display:none}",  # (a pseudo-element's)
    ".member-price:not(.x){display:none}.price-box:hover .member-price{display:block}",  # (unknown means shown)
    ".no-js .member-price{display:none}",  # (a script swaps the root's no-js)
    ".member-price{display:none}.a-js .member-price{display:block}",  # (and its "a-no-js" for "a-js")
    ".member-price{display:none}",  # (with the element's own style showing it: below)
    ".member-price{visibility:hidden}.member-price span{visibility:visible}",  # (a child drawn again)
    ".sr-only{position:absolute;clip:rect(0,0,0,0)}.member-price{display:block}.x{display:none}",
    ".member-price.visually-hidden{display:none}",  # (a screen reader's text, whatever the stylesheet says)
])
def test_what_a_rule_hides_only_at_some_width_or_not_known_to_hide_is_read(css: str) -> None:
    box = MEMBER_BOX
    if "visually-hidden" in css:
        box = box.replace('class="member-price"', 'class="member-price visually-hidden"')
    if css == ".member-price{display:none}":
        box = box.replace('class="member-price"', 'class="member-price" style="display: block"')
    assert D("35.00") in _read(css, box.replace('<div class="price-box">', '<div class="price-box no-js">')
                               if "no-js" in css else box)


def test_an_important_rule_outranks_the_elements_own_style() -> None:
    box = MEMBER_BOX.replace('class="member-price"', 'class="member-price" style="display:block"')
    assert D("35.00") not in _read(".member-price{display:none !important}", box)


@pytest.mark.parametrize(("css", "box"), [
    # (a block a script fills from its template; the shopper sees what it draws)
    (".js-template{display:none}", '<span class="price">$44.00</span><div class="js-template"><span>$39.00</span>'
                                   '</div>'),
    # (a price still loading, drawn hidden until the script has it)
    ("[data-state=loading] .price{visibility:hidden}", '<span class="price-now">$44.00</span>'
                                                       '<div data-state="loading"><span class="price">$39.00</span>'
                                                       '</div>'),
])
def test_a_script_state_the_stylesheet_hides_is_not_read(css: str, box: str) -> None:
    read = _read(css, box)
    assert D("44.00") in read
    assert D("39.00") not in read
