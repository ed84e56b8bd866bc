"""What shoppers write is not what the shop offers.

An amount quoted in a review, a rating's text, a question or its answer, a comment ("paid 899,95 kr in November") is
never a candidate of the visible scan and never confirms a structured price: a product sold out with its price hidden
has no price, whatever a stale structured offer and a review quoting it say; a buy box that shows its price keeps it.
Reviews are found by schema.org markup (``itemprop="review"``, ``reviewBody``) and by the names themes give the blocks
(class, id) in several languages.

Each page is written for the principle it tests, in the manner of shops of several countries (not copies of any
held-out page); every test reads the whole cascade, and each fails on the extractor before this principle.
"""

from __future__ import annotations

from decimal import Decimal

import extract_page
import pytest

from crawlers.extract import extract

D = Decimal


def page(body: str, lang: str, ld: dict | None = None) -> str:
    return extract_page.page(body, lang, ld, name="Produkt")


def product(price: str, currency: str, availability: str) -> dict:
    return extract_page.product(price, currency, availability, name="Produkt")


# --- a product sold out, its price hidden: a review quoting the stale structured price confirms nothing -----------

# (lang, url, title and sold-out notice, what shoppers wrote, structured amount, currency)
_SOLD_OUT = [
    ("da-DK", "https://www.legehuset.example.dk/p/traktor-med-vogn-4410",
     "<h1>Traktor med vogn 4410</h1><p>Udsolgt</p><p>Varen er udsolgt. Prisen vises, når varen er på lager igen.</p>"
     '<button type="button">Giv mig besked</button>',
     '<section class="kundeanmeldelser"><div class="anmeldelse"><b>Lise</b><p>Købt til 349,00 kr. sidste år, holder '
     "stadig.</p></div></section>", "349.00", "DKK"),
    ("de-DE", "https://www.spielwelt.example.de/p/holzeisenbahn-set-80",
     "<h1>Holzeisenbahn-Set 80 Teile</h1><p>Ausverkauft</p><p>Dieser Artikel ist leider ausverkauft.</p>"
     '<button type="button" disabled>In den Warenkorb</button>',
     '<div itemprop="review" itemscope itemtype="https://schema.org/Review"><span itemprop="author">Jens</span>'
     '<p itemprop="reviewBody">Für 79,99 € ein super Set, mein Sohn spielt jeden Tag.</p></div>', "79.99", "EUR"),
    ("en-GB", "https://www.toybarn.example.co.uk/p/wooden-kitchen-deluxe",
     "<h1>Wooden Kitchen Deluxe</h1><p>Sold out</p><p>This item is sold out. We will show its price when it is back."
     '</p><button type="button">Notify me</button>',
     '<section id="questions-answers"><h2>Questions</h2><p>Q: Is £129.99 the price with the oven?</p>'
     "<p>A: Yes, the oven is included.</p></section>", "129.99", "GBP"),
]


@pytest.mark.parametrize(("lang", "url", "box", "written", "amount", "currency"), _SOLD_OUT)
def test_a_review_quoting_a_stale_structured_price_does_not_confirm_it_on_a_sold_out_page(
        lang: str, url: str, box: str, written: str, amount: str, currency: str) -> None:
    html = page(f'<div class="product">{box}</div><section class="description"><p>Robust og sjov.</p></section>'
                f"{written}", lang, product(amount, currency, "OutOfStock"))
    ex = extract(html, url)
    assert ex.price is None, ex.to_schema()
    assert ex.price_visibility == "not_shown"
    assert "no_price_shown:sold_out" in ex.flags


# --- the buy box shows the price: what a review quotes is no candidate ------------------------------------------------

# (lang, url, buy box, what shoppers wrote, the buy box's price, the amount quoted)
_BUY_BOX = [
    ("de-DE", "https://www.kuechenprofi.example.de/p/standmixer-m3",
     '<h1>Standmixer M3</h1><div class="preis"><span>249,00 €</span></div>'
     '<button class="btn">In den Warenkorb</button>',
     '<section class="produktbewertungen"><article><p>Preis: 199,00 € im Angebot bekommen, top Gerät.</p></article>'
     "</section>", "249.00", "199.00"),
    ("es-ES", "https://www.hogar.example.es/p/cafetera-italiana-6",
     '<h1>Cafetera italiana 6 tazas</h1><div class="precio"><span>34,95 €</span></div>'
     '<button class="btn">Añadir al carrito</button>',
     '<div id="opiniones"><div class="opinion"><p>Precio 29,95 € en rebajas, muy buena.</p></div></div>',
     "34.95", "29.95"),
]


@pytest.mark.parametrize(("lang", "url", "box", "written", "price", "quoted"), _BUY_BOX)
def test_an_amount_a_review_quotes_is_no_candidate_beside_the_buy_box_price(
        lang: str, url: str, box: str, written: str, price: str, quoted: str) -> None:
    ex = extract(page(f'<div class="product">{box}</div>{written}', lang), url)
    assert ex.price == D(price), ex.to_schema()
    assert D(quoted) not in {c.price for c in ex.candidates}

