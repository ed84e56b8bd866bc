"""What the buy box shows decides, not what a tile, a class name or a second currency beside it says.

- a structured price the buy box (the title to its buy button, "Comprar ahora", "Jetzt kaufen", "Buy now") never
  prints, while it prints other amounts, is not confirmed by a printing past the button (a sponsored tile, another
  variant's card); and an amount shown only in another product's block confirms no structured price while the buy
  box plainly prints another;
- a dual display (an amount and its equivalent in another currency in parentheses: "389,00 € (760,82 лв.)" during
  the euro changeover) is one price, the one in the page's currency;
- a product sold out at every seller is read by the words and its disabled buy control, never by class names: the
  amounts past that control (a carousel whose classes are hashed) are not its price.

Each page is written for the principle it tests, in the manner of shops of several countries (not copies of any
held-out page); every test reads the whole cascade, and each fails on the extractor before these principles.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from extract_page import page, product

from crawlers.extract import extract

D = Decimal




# --- a structured price printed only past the buy button ---------------------------------------------------------

# (lang, url, buy box, the tile past it, structured amount, currency, the buy box's price)
_PAST_BUTTON = [
    ("es-CO", "https://www.mercado.example.com.co/celular-x9-256gb/p/MCO1?item_id=MCO1310",
     '<div class="price"><s>$ 2.899.900</s> <span>$ 2.349.900</span> <span>18% OFF</span></div>'
     '<button class="andes-button">Comprar ahora</button>',
     '<li class="c1"><a href="/p/MCO9">Celular X9 128GB</a><span>$ 1.999.900</span></li>', "1999900", "COP",
     "2349900"),
    ("pt-BR", "https://www.loja.example.com.br/fone-z2-preto/p/42?sku=preto",
     '<div class="preco"><span>R$ 499,90</span></div><button class="btn-primary">Comprar agora</button>',
     '<li class="c1"><a href="/p/41">Fone Z2 Branco</a><span>R$ 459,90</span></li>', "459.90", "BRL", "499.90"),
    ("de-DE", "https://www.technik.example.de/kopfhoerer-k7-schwarz/p/7",
     '<div class="preis"><span>249,00 €</span></div><button class="btn">Jetzt kaufen</button>',
     '<li class="c1"><a href="/p/8">Kopfhörer K7 Weiß</a><span>229,00 €</span></li>', "229.00", "EUR", "249.00"),
]


@pytest.mark.parametrize(("lang", "url", "box", "tile", "amount", "currency", "price"), _PAST_BUTTON)
def test_a_structured_price_printed_only_past_the_buy_button_is_not_the_price(
        lang: str, url: str, box: str, tile: str, amount: str, currency: str, price: str) -> None:
    body = (f'<div class="col"><h1>Producto 256 GB</h1>{box}</div>'
            f'<section class="carousel"><h2>Publicidad</h2><ul class="track">{tile}</ul></section>')
    got = extract(page(body, lang, product(amount, currency)), url)
    assert got.price != D(amount)
    assert got.price == D(price) or got.undecided is not None


@pytest.mark.parametrize(("lang", "url", "box", "tile", "amount", "currency", "price"), _PAST_BUTTON)
def test_a_structured_price_the_buy_box_prints_is_still_taken(
        lang: str, url: str, box: str, tile: str, amount: str, currency: str, price: str) -> None:
    body = (f'<div class="col"><h1>Producto 256 GB</h1>{box}</div>'
            f'<section class="carousel"><h2>Publicidad</h2><ul class="track">{tile}</ul></section>')
    got = extract(page(body, lang, product(price, currency)), url)
    assert (got.price, got.method) == (D(price), "json-ld")


# --- a dual display: the price and its equivalent in another currency ---------------------------------------------

@pytest.mark.parametrize(("lang", "url", "shown", "struck", "price", "currency"), [
    # (Bulgaria, after the lev was retired: the euro is the price, the lev its equivalent at the fixed rate)
    ("bg", "https://zvuk.example.bg/index.php?route=product/product&product_id=7",
     "389,00 € <span class=bgn>(760,82 лв.)</span>", "449,00 € <span class=bgn>(878,17 лв.)</span>", "389.00", "EUR"),
    ("bg", "https://tehnika.example.bg/p/12", "1 249,00 € <small>(2 442,83 лв.)</small>",
     "1 399,00 € <small>(2 736,21 лв.)</small>", "1249.00", "EUR"),
])
def test_a_dual_display_is_the_price_in_the_page_currency(lang: str, url: str, shown: str, struck: str, price: str,
                                                          currency: str) -> None:
    # (an OpenCart-like info list: the price in a heading, beside a price without VAT and a quantity price)
    body = (f'<div id="product-info"><h1>Усилвател DX-40</h1><ul class="list-unstyled">'
            f'<li><span style="text-decoration: line-through;">{struck}</span></li>'
            f"<li><h2>{shown}</h2></li><li>Без ДДС: 324,17 €</li>"
            "<li>Цена при покупка на 2 или повече бр.: 379,00 €</li></ul>"
            '<button type="button" id="button-cart">Купи</button></div>')
    got = extract(page(body, lang), url)
    assert (got.price, got.currency, got.undecided) == (D(price), currency, None)


# --- sold out, read by the words and the disabled buy control -------------------------------------------------------

# (lang, url, said below the title, the disabled control, currency, the stale structured price, tiles' prices)
_SOLD_OUT = [
    ("en-KE", "https://www.soko.example.co.ke/listing/2188-smart-tv-32", "Sold out",
     '<button class="x7f2" disabled>Out of stock</button>', "KES", "17499", ("KSh 15,499", "KSh 27,999")),
    ("es-PE", "https://www.plaza.example.com.pe/licuadora-pro/p", "Producto agotado",
     '<button class="k2a9" disabled>Agotado</button>', "PEN", "2199", ("S/ 1,699.00", "S/ 2,999.00")),
    ("pl-PL", "https://www.sklep.example.pl/ekspres-k5/p/9", "Brak towaru",
     '<button class="q1z8" disabled>Wyprzedany</button>', "PLN", "1349.00", ("1 299,00 zł", "1 429,00 zł")),
    # (a control a script disables says so to assistive technology only: aria-disabled, in any case)
    ("de-DE", "https://www.kaufhaus.example.de/kaffeemaschine-k5/p/12", "Leider ausverkauft",
     '<button class="m3p0" aria-disabled="TRUE">In den Warenkorb</button>', "EUR", "249.00", ("199,00 €", "279,00 €")),
]


@pytest.mark.parametrize(("lang", "url", "said", "control", "currency", "stale", "tiles"), _SOLD_OUT)
def test_sold_out_is_read_by_the_words_and_the_disabled_control_not_by_class_names(
        lang: str, url: str, said: str, control: str, currency: str, stale: str, tiles: tuple[str, ...]) -> None:
    # (every class name hashed: nothing says "carousel" or "related" of the tiles after the buy box)
    cards = "".join(f'<li class="a{i}x"><a href="/p/{i}">Otro {i}</a><div class="b{i}y"><span>{t}</span></div></li>'
                    for i, t in enumerate(tiles))
    body = (f'<div class="z1"><h1 class="z2">Producto 32</h1><div class="z3">★ 4.5 (214)</div>'
            f'<div class="z4"><span class="z5">{said}</span></div>{control}</div>'
            f'<section class="z6"><h2>Similares</h2><ul class="z7">{cards}</ul></section>')
    got = extract(page(body, lang, product(stale, currency, "OutOfStock")), url)
    assert got.price is None and got.undecided is None
    assert "no_price_shown:sold_out" in got.flags


@pytest.mark.parametrize(("lang", "url", "said", "control", "currency", "stale", "tiles"), _SOLD_OUT)
def test_a_price_printed_before_the_sold_out_control_still_stands(
        lang: str, url: str, said: str, control: str, currency: str, stale: str, tiles: tuple[str, ...]) -> None:
    cards = "".join(f'<li class="a{i}x"><a href="/p/{i}">Otro {i}</a><div class="b{i}y"><span>{t}</span></div></li>'
                    for i, t in enumerate(tiles))
    shown = {"KES": "KSh 17,499", "PEN": "S/ 2,199.00", "PLN": "1 349,00 zł", "EUR": "249,00 €"}[currency]
    body = (f'<div class="z1"><h1 class="z2">Producto 32</h1><div class="z8"><span>{shown}</span></div>'
            f'<div class="z4"><span class="z5">{said}</span></div>{control}</div>'
            f'<section class="z6"><h2>Similares</h2><ul class="z7">{cards}</ul></section>')
    got = extract(page(body, lang, product(stale, currency, "OutOfStock")), url)
    assert got.price == D(stale)
