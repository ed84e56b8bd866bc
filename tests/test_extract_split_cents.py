"""Buy boxes that print the price with its cents apart and amounts beside it that are not the price.

- the Romanian leu written "Lei" (eMAG's "3.499<sup>99</sup> Lei"), and "lei" as the leu of the page's country;
- a recycling fee or levy included in the price or added to it ("dont éco-participation : 10,00 €",
  "Termékdíj", "contributo RAEE", "recyclingbijdrage", "Recupel", "taxa verde") is never the price;
- the EU's lowest price of the last 30 days in Romanian ("Cel mai mic preț din ultimele 30 de zile");
- a rating in per cent ("98% de satisfaction", "93% recommend", "4,6 (92%)") is no discount badge;
- a members' price followed by an invitation to join ("Abonează-te la Genius", "Jetzt Mitglied werden").

Each page is written for the principle it tests, in the manner of shops of several countries (not copies of any
held-out page); every test reads the whole cascade.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from decimal import Decimal

import pytest

from crawlers.extract import extract
from crawlers.extract.amounts import find_amounts

D = Decimal


def page(body: str, lang: str) -> str:
    return (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>Produs</title></head>'
            f"<body><header><nav><a href='/'>Home</a></nav></header><main>{body}</main>"
            "<footer>© Shop</footer></body></html>")


# --- the leu written "Lei" -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "locale", "amount", "currency"), [
    ("3.499,99 Lei", "ro_RO", "3499.99", "RON"),
    ("1 299 LEI", "ro_RO", "1299", "RON"),
    ("Lei 45,00", "ro_RO", "45.00", "RON"),
    # (Moldova writes its own leu so)
    ("1 299,00 lei", "ro_MD", "1299.00", "MDL"),
])
def test_lei_is_the_leu_of_the_page_country(text: str, locale: str, amount: str, currency: str) -> None:
    found = find_amounts(text, locale=locale)
    assert [(f.amount, f.currency) for f in found] == [(D(amount), currency)]
    # (and only as a word of its own: "Leiden 5" is a town and a number)
    found = find_amounts(f"Leiden 5 · {text}", locale=locale)
    assert [(f.amount, f.currency) for f in found] == [(D(amount), currency)]


def test_lei_after_the_cents_in_a_superscript_reads_the_whole_price() -> None:
    body = ('<h1>Televizor QLED 65 inch</h1><div class="product-page-pricing">'
            '<p class="product-new-price">3.499<sup>99</sup> <span>Lei</span></p>'
            '<button class="add-to-cart">Adaugă în Coș</button></div>')
    got = extract(page(body, "ro"), "https://www.magazin.example.ro/televizor-qled-65/pd/X1/")
    assert (got.price, got.currency) == (D("3499.99"), "RON")


def test_lei_after_the_cents_in_spans_reads_the_whole_price() -> None:
    body = ('<h1>Aspirator vertical V9</h1><div class="buy">'
            '<div class="price"><span class="int">1.299</span><span class="dec">99</span> <span class="cur">Lei</span>'
            '</div><button class="add-to-cart">Adaugă în coș</button></div>')
    got = extract(page(body, "ro"), "https://www.casa.example.ro/aspirator-v9")
    assert (got.price, got.currency) == (D("1299.99"), "RON")


# --- recycling fees and levies ----------------------------------------------------------------------------------

def test_an_eco_participation_included_in_a_split_price_is_not_the_price() -> None:
    # The seller's satisfaction rate (98 %) happens to be what the fee is of the price: no discount either.
    body = ('<h1>Lave-linge hublot 9 kg</h1><div class="fiche">'
            '<div class="bloc-prix"><p class="barre">Prix de référence <s>469,99 €</s> <span>-26%</span></p>'
            '<p class="prix" itemprop="price" content="349.99">349€<sup>99</sup></p>'
            '<p class="eco">dont éco-participation : 10,00 €</p></div>'
            '<div class="vendeur">Vendu par ELECTRO PRO · 98% de satisfaction</div>'
            '<button class="ajout-panier">Ajouter au panier</button></div>')
    got = extract(page(body, "fr"), "https://www.discount.example.fr/lave-linge/f-1100101.html")
    assert got.price == D("349.99")
    # (a price label, then the fee it includes, is still the price: "Timbru verde inclus: 25,00 Lei" is the fee,
    # named first with no price label before it)
    body = ('<h1>Lave-linge hublot 8 kg</h1><div class="bloc-prix">'
            '<p class="prix">Prix éco-part. incluse : 349,99 €</p>'
            '<button class="ajout-panier">Ajouter au panier</button></div>')
    got = extract(page(body, "fr"), "https://www.discount.example.fr/lave-linge/f-1100102.html")
    assert got.price == D("349.99")


@pytest.mark.parametrize(("lang", "url", "price_html", "fee_html", "price"), [
    ("hu", "https://www.bolt.example.hu/mosogep-wm8", '<p class="price">189 990 Ft</p>',
     '<p class="price-fee">Termékdíj: 1 250 Ft</p>', "189990"),
    ("it", "https://www.negozio.example.it/frigorifero-fx2", '<p class="price">499,00 €</p>',
     '<p class="price-fee">di cui contributo RAEE 12,00 €</p>', "499.00"),
    ("nl", "https://www.winkel.example.nl/koelkast-k3", '<p class="price">€ 649,00</p>',
     '<p class="price-fee">incl. € 9,50 verwijderingsbijdrage</p>', "649.00"),
    ("nl", "https://www.winkel.example.be/nl/wasmachine-w7", '<p class="price">€ 549,00</p>',
     '<p class="price-fee">Recupel: € 10,00 inbegrepen</p>', "549.00"),
    ("ro", "https://www.magazin.example.ro/frigider-f4", '<p class="price">2.199,00 lei</p>',
     '<p class="price-fee">Taxa verde inclusă: 30,00 lei</p>', "2199.00"),
])
def test_a_recycling_fee_beside_the_price_never_competes_with_it(lang: str, url: str, price_html: str,
                                                                 fee_html: str, price: str) -> None:
    # The fee sits in the price block, in an element named like the price: it is a part of the price at most.
    body = (f'<div class="product"><h1>Produkt X</h1><div class="price-box">{fee_html}{price_html}</div>'
            '<button class="add-to-cart">Add</button></div>')
    got = extract(page(body, lang), url)
    assert got.price == D(price)
    assert got.outcome == "price"


# --- the lowest price of the last 30 days, in Romanian -----------------------------------------------------------

def test_the_romanian_lowest_price_of_30_days_is_a_reference_not_the_price() -> None:
    body = ('<h1>Laptop Vistar 15 i7</h1><div class="product-page-pricing">'
            '<p class="price-lp30d">Cel mai mic preț din ultimele 30 de zile: 4.199,99 lei</p>'
            '<p class="product-new-price">4.299,99 lei</p>'
            '<button class="add-to-cart">Adaugă în Coș</button></div>')
    got = extract(page(body, "ro"), "https://www.magazin.example.ro/laptop-vistar-15/pd/L7/")
    assert got.price == D("4299.99")


# --- ratings in per cent ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("lang", "rating"), [
    ("en", "Reviews: 93% recommend this product"),
    ("en", "Rating 4.6 (93%)"),
    ("de", "Bewertungen: 93 % der Kunden empfehlen diesen Artikel"),
])
def test_a_rating_in_per_cent_is_no_discount_badge(lang: str, rating: str) -> None:
    # $17.49 is $249.99 less 93 %: read as a badge, the rating would make the price a list price.
    body = ('<h1>Robot Vacuum R5</h1><div class="buy-box">'
            '<p class="price">$249.99</p><p class="extra">Spare brush kit $17.49</p>'
            f'<div class="score">{rating}</div><button class="add-to-cart">Add to cart</button></div>')
    got = extract(page(body, lang), "https://shop.example.com/p/robot-vacuum-r5")
    assert got.price == D("249.99")
    # (a discount badge beside the same rating still makes the higher amount the list price)
    body = ('<h1>Robot Vacuum R5</h1><div class="buy-box">'
            '<p><span class="now">$174.99</span> <span class="tag">$249.99</span> <span>-30%</span></p>'
            f'<div class="score">{rating}</div><button class="add-to-cart">Add to cart</button></div>')
    got = extract(page(body, lang), "https://shop.example.com/p/robot-vacuum-r5")
    assert (got.price, got.regular_price) == (D("174.99"), D("249.99"))


# --- members' prices --------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("lang", "url", "buy_box", "price"), [
    ("ro", "https://www.magazin.example.ro/televizor-q80/pd/Q8/",
     '<p class="product-new-price">3.499<sup>99</sup> lei</p><div class="genius-price"><span>Genius</span> '
     'Preț Genius: <b>3.399,99 lei</b> · Abonează-te la Genius</div>', "3499.99"),
    ("en", "https://www.shop.example.com/p/coffee-machine-k5",
     '<p class="price">$449.00</p><div class="plus-box">Plus price: <b>$429.00</b> · Join Plus</div>', "449.00"),
    ("fr", "https://www.boutique.example.fr/p/machine-a-cafe-k5",
     '<p class="price">449,00 €</p><div class="plus-box">Prix Plus : <b>429,00 €</b> · Devenez membre Plus</div>',
     "449.00"),
])
def test_a_price_followed_by_an_invitation_to_join_is_for_members_only(lang: str, url: str, buy_box: str,
                                                                         price: str) -> None:
    body = (f'<h1>Produkt</h1><div class="product-page-pricing">{buy_box}'
            '<button class="add-to-cart">Add</button></div>')
    got = extract(page(body, lang), url)
    assert got.price == D(price)
    assert got.outcome == "price"


# --- minor units beside a pretty-printed page's long runs of blanks ------------------------------------------

def _ends_within(seconds: int, work: Callable[[], object]) -> object:
    # (a guard against a search that never ends, not a speed figure: the work takes milliseconds, the old pattern
    # tried every split of the blanks, about n² steps: hours for these runs)
    def stop(signum: int, frame: object) -> None:
        raise AssertionError(f"still running after {seconds} s")

    before = signal.signal(signal.SIGALRM, stop)
    signal.alarm(seconds)
    try:
        return work()
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, before)


@pytest.mark.parametrize("minor", ["", "<span>.99</span>"])
def test_a_long_run_of_blanks_beside_a_price_ends(minor: str) -> None:
    # A pretty-printed page: the element right after the whole units holds 300,000 blanks before its text (or, with
    # the minor units there, the element after the price).
    blanks = " \n" * 150_000
    note = f"<div class='note'>{blanks}Quartz movement, 30 cm.</div>"
    body = (f'<h1>Wall clock Oslo</h1><div class="price"><span class="int">$21</span>{minor or note}</div>'
            + (note if minor else "") + '<button class="add-to-cart">Add to cart</button>')
    got = _ends_within(60, lambda: extract(page(body, "en-US"), "https://shop.example.com/p/oslo"))
    assert got.price == (D("21.99") if minor else D("21"))  # type: ignore[attr-defined]



@pytest.mark.parametrize(("label", "lang", "host", "amount_html", "unit", "amount"), [
    ('<span class="visually-hidden">Preis</span>', "de-DE", "www.apo.example.de",
     '<span class="d">15</span><sup>99</sup><span>€</span>', "0,11 € / St.", "15.99"),
    ('<span class="lbl">Cena:</span>', "pl-PL", "www.apteka.example.pl",
     '<span class="d">24</span><sup>99</sup><span>zł</span>', "0,17 zł / szt.", "24.99"),
])
def test_a_label_in_its_own_element_before_split_whole_units_and_cents_is_no_part_of_the_amount(
        label: str, lang: str, host: str, amount_html: str, unit: str, amount: str) -> None:
    # ("Preis" glued to "15" read "Preis15", no amount: the unit price was the buy box's only amount)
    body = (f'<div class="pp" id="prodPrice"><h1>Vitamin Gummies 150</h1><div class="pm">{label}{amount_html}</div>'
            f'<div class="u">{unit}</div><button class="add-to-cart">Add to cart</button></div>')
    got = extract(page(body, lang), f"https://{host}/p/vitamin-gummies-150")
    assert got.price == D(amount)
