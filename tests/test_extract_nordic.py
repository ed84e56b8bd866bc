"""Prices without a currency sign, in the notations of Nordic and Central European shops (issue 22).

Pages written here in the manner of such shops (not copies of the held-out pages heldout58 no-bleiebua, heldout60
dk-moebelhuset and no-gulvhuset, heldout61 se-systemboden); every positive test reads the whole cascade and fails on
the extractor before this change:

- a comma, point or colon followed by a dash after whole units ("349,-", "7.999,-", "1 189,-", "449:-", "49,--") is a
  price notation, "and no cents", whatever sign stands beside it or none: read in the page's currency (its structured
  data's, else its country's);
- colon decimals ("24:90", "89:50 kr", "75:45 kr/l") are a price on a Nordic page only where the shop's notation is
  plain: a sign right beside the number, or an element its markup names a price holding that number alone. A time of
  day ("20:00", "Öppet 10:00-20:00") is never an amount, nor is a number with a dash on a page whose currency nothing
  says, nor an ordinal range ("1.–3. Klasse");
- where the cascade asks whether the page prints an amount with a sign (a structured price confirmed, an option of
  another size printing it), the dash counts as one.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from crawlers.extract import extract
from crawlers.extract.amounts import find_amounts
from crawlers.extract.heuristics import _signs, _walk
from crawlers.extract.page import Page

D = Decimal


def page(body: str, lang: str, offer: dict[str, Any] | None = None, title: str = "Produkt X7") -> str:
    ld = "" if offer is None else (
        '<script type="application/ld+json">'
        + json.dumps({"@context": "https://schema.org", "@type": "Product", "name": title, "sku": "X7",
                      "offers": {"@type": "Offer", "availability": "https://schema.org/InStock", **offer}})
        + "</script>")
    return (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>{ld}</head>'
            "<body><header><nav><a href='/'>Hjem</a> <a href='/kundeservice'>Kundeservice</a></nav>"
            "<p class='usp'>Åpent 10:00-20:00 · Bestill før 15:00</p></header><main><div class='product'>"
            f"<h1 class='name'>{title}</h1>{body}</div></main><footer>© Butikk 2019–2024</footer></body></html>")


# (lang, url, buy box, structured offer or None, price, currency)
DASHED = [
    pytest.param("nb", "https://www.barnebutikken.example.no/produkt/vaatservietter-12-pk",
                 '<div class="pris"><span class="tidligere">Før 599,-</span> <span class="naa">499,-</span></div>'
                 '<p class="enhet">4,16 kr/stk</p><p>Kjøp 2 for 899,-</p><p>Fri frakt over 699,-</p>'
                 '<button class="kjop">Legg i handlekurv</button>', None, "499", "NOK", id="no-foer-naa"),
    pytest.param("da", "https://www.boligshop.example.dk/spiseborde/spisebord-eg-200",
                 '<div class="stof">Bordplade: Olieret eg (+1.500 kr.)</div><div class="pris-boks">'
                 '<span class="foer">Før 14.995,-</span><span class="nu">12.495,-</span></div>'
                 '<p>Levering 399,- · Fra 521 kr./md.</p><button class="add">Læg i kurv</button>', None, "12495",
                 "DKK", id="dk-thousands-point"),
    pytest.param("nb", "https://www.flisbutikken.example.no/fliser/gulvflis-grafitt-60x60",
                 '<div class="m2">Tilsvarer 412,90 kr/m²</div><div class="pakke"><span class="tekst">Pakke (1,44 m²)'
                 '</span> <strong class="verdi">1 189,-</strong></div><p>Frakt 149,-</p>'
                 '<button class="add">Legg i handlekurv</button>', None, "1189", "NOK", id="no-blank-grouped"),
    pytest.param("sv", "https://www.hemochtradgard.example.se/produkt/krukvaxt-monstera",
                 '<div class="pris"><span class="ord">Ord. pris 449:-</span> <span class="kampanj">349:-</span></div>'
                 '<p>Fri frakt över 499:-</p><button class="kop">Lägg i varukorgen</button>', None, "349", "SEK",
                 id="se-colon-dash"),
    pytest.param("de", "https://www.technikecke.example.de/p/wasserkocher-1-7-l",
                 '<div class="angebot"><span class="statt">statt 69,-</span> <b class="jetzt">49,-</b></div>'
                 '<p>inkl. MwSt., zzgl. Versand</p><button class="btn">In den Warenkorb</button>', None, "49", "EUR",
                 id="de-whole-euros"),
    pytest.param("cs", "https://www.domacipotreby.example.cz/konvice-nerez",
                 '<div class="cena-box"><span class="puvodni">Původní cena 1 590,-</span> '
                 '<span class="akce">1 290,-</span></div><button class="koupit">Do košíku</button>', None, "1290",
                 "CZK", id="cz-blank-grouped"),
    pytest.param("nl", "https://www.fietsonderdelen.example.nl/p/zadelpen-27-2",
                 '<div class="prijs"><span class="nu">49,--</span></div><p>Voor 22:00 besteld, morgen in huis</p>'
                 '<button class="bestel">In winkelwagen</button>', None, "49", "EUR", id="nl-double-dash"),
    # (structured data on a page of no country: its currency is the page's)
    pytest.param("nb", "https://www.nordiskfritid.example.com/p/sovepose-x7",
                 '<div class="pris"><span class="naa">1 349,-</span></div><div class="abo">Abonnement: 1 214,10 kr '
                 'per levering</div><button class="kjop">Legg i handlekurv</button>',
                 {"price": "1349.00", "priceCurrency": "NOK"}, "1349.00", "NOK", id="structured-currency"),
]


@pytest.mark.parametrize(("lang", "url", "body", "offer", "price", "currency"), DASHED)
def test_a_dash_for_no_cents_is_a_price_without_a_sign(lang: str, url: str, body: str, offer: dict[str, Any] | None,
                                                       price: str, currency: str) -> None:
    got = extract(page(body, lang, offer), url)
    assert got.outcome == "price", got.undecided
    assert got.price == D(price)
    assert got.currency == currency


COLON = [
    pytest.param('<p class="price">24:90</p><p class="price-note">+ pant 1:00 kr · Att betala inkl. pant: 25:90</p>'
                 '<p class="litre">75:45 kr/l</p><p>Beställningsvara · Ursprunglig pris 26:90</p>'
                 '<button class="buy">Lägg i varukorg</button>', "24.90", id="price-element-alone"),
    pytest.param('<div class="produktinfo"><span class="belopp">89:50 kr</span> <span class="jmf">Jmf-pris 179:00 kr/kg'
                 '</span></div><p>Öppet idag 10:00-20:00</p><button class="buy">Köp</button>', "89.50",
                 id="sign-after"),
]


@pytest.mark.parametrize(("body", "price"), COLON)
def test_colon_decimals_on_a_swedish_page(body: str, price: str) -> None:
    got = extract(page(body, "sv"), "https://www.dryckesboden.example.se/produkt/ol/pale-ale-33cl")
    assert got.outcome == "price", got.undecided
    assert (got.price, got.currency) == (D(price), "SEK")


def test_the_pages_dashed_list_price_is_its_regular_price() -> None:
    body = DASHED[0].values[2]
    got = extract(page(body, "nb"), "https://www.barnebutikken.example.no/produkt/vaatservietter-12-pk")
    assert (got.price, got.regular_price) == (D("499"), D("599"))


# --- what stays no amount ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "locale"), [
    ("Öppet 10:00-20:00", "sv_SE"), ("Beställ före 20:00 så skickar vi idag", "sv_SE"), ("kl. 20:00", "nb_NO"),
    ("Åpent 10:00–20:00", "nb_NO"), ("1.–3. Klasse", "de_DE"), ("Saison 2019-2020", "nb_NO"),
    ("Modell 2019–2024", "sv_SE"),
    # (colon decimals only on a Nordic page; a dash without a currency the page names is not read without a sign)
    ("24:90 Uhr", "de_DE"), ("349,-", "en"),
])
def test_times_ranges_and_pages_of_no_currency_show_no_amount(text: str, locale: str) -> None:
    assert find_amounts(text, locale=locale) == []


def test_a_time_in_the_buy_box_of_a_swedish_page_is_not_its_price() -> None:
    body = ('<div class="leverans">Beställ före <span class="time">20:00</span> så skickar vi idag</div>'
            '<p class="oppet">Butiken: <span class="tid">10:00</span>–<span class="tid">20:00</span></p>'
            '<div class="price-box"><span class="price">249:00 kr</span></div><button class="buy">Köp</button>')
    got = extract(page(body, "sv"), "https://www.kokshornan.example.se/produkt/stekpanna-28")
    assert (got.price, got.currency) == (D("249.00"), "SEK")


def test_a_dash_in_a_page_without_a_currency_is_read_as_before() -> None:
    # (an English page of no country and no structured data: "349,-" in an element that says it is a price is a bare
    # number, as it was; outside one, no amount)
    body = '<div class="product-price">349,-</div><p>Save 20,- today</p><button class="buy">Add to cart</button>'
    got = extract(page(body, "en"), "https://www.outdoorhub.example.com/p/sleeping-bag")
    assert got.price == D("349")
    assert got.currency is None


# --- the dash is as plain as a sign where the cascade asks whether the page prints an amount --------------------

def test_a_structured_price_the_buy_box_prints_with_a_dash_is_confirmed() -> None:
    body = ('<div class="pris"><span class="nu">4 990:-</span> <span class="ord">Ord. pris 6 490:-</span></div>'
            '<p>Hemleverans 149 kr</p><button class="kop">Lägg i varukorgen</button>')
    got = extract(page(body, "sv", {"price": "4990.00", "priceCurrency": "SEK"}),
                  "https://www.elbutiken.example.se/p/dammsugare-x7")
    assert (got.price, got.method) == (D("4990.00"), "json-ld")
    assert "structured_not_visible" not in got.flags


def test_a_structured_price_shown_only_in_another_sizes_option_is_that_sizes() -> None:
    # (the address selects M; the structured offer is S's campaign price, printed in S's option and as "Fra")
    body = ('<p class="fra">Fra 11 990,-</p><div class="sizes" role="radiogroup">'
            '<button role="radio" aria-checked="false" data-size="S">S <small>11 990,- kampanje</small></button>'
            '<button role="radio" aria-checked="true" class="selected" data-size="M">M <small>12 990,-</small></button>'
            '</div><div class="pris"><span class="naa">12 990,-</span> <span class="foer">Før <s>14 990,-</s></span>'
            '</div><button class="kjop">Legg i handlekurv</button>')
    got = extract(page(body, "nb", {"price": "11990", "priceCurrency": "NOK"}),
                  "https://www.sykkelhuset.example.no/el/tursykkel-x7?storrelse=M")
    assert got.price == D("12990")


def test_the_visible_scan_s_walk_finds_a_dashed_amount_and_no_other_dash() -> None:
    page = Page.parse('<html lang="nb"><body><p class="a">349,-</p><p class="b">Åpent man.-fre. 10-20</p>'
                      '<p class="c">Før 1 429,–</p><p class="d">1.-3. trinn</p></body></html>',
                      "https://www.butikk.example.no/p/1")
    assert page.tree.body is not None
    starts, _positions = _walk(page.tree.body, _signs(page.locale), dashes=True)
    assert [n.attributes["class"] for n in starts] == ["a", "c", "d"]  # ("1.-3." is found, and read as no amount)
    assert find_amounts("1.-3. trinn", locale="nb_NO") == []
