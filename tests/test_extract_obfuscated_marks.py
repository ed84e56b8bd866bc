"""The chosen option marked by ARIA alone, its classes renamed to hashes (CSS-in-JS, CSS modules).

A build that renames every class ("css-1x8f2k", "_3kF9a") leaves no "selected" or "active" in the markup; the state
a screen reader reads survives it: a toggle button's ``aria-pressed="true"``, a swatch link's ``aria-current="true"``
(never ``aria-current="page"``, a menu's). The option so marked is the page's variant, and the other options' prices,
which the JSON-LD of the first variant repeats, are not this page's. Each page is written for the principle, in the
manner of shops of several countries (none a copy of a held-out page); every test reads the whole cascade.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from extract_page import page, product

from crawlers.extract import extract

D = Decimal

CASES = [
    # Spanish bicycle shop: the group buttons are toggles, the chosen one pressed; JSON-LD of the cheaper group.
    ("es-pressed-toggle", "https://www.bicis.example.es/es/bicicleta-trail-29.html",
     page("<div class='css-a81kq2'><h1>Bicicleta trail 29</h1><div class='css-0p2m7x'><del><span class='css-9xk2"
          "1a'>PVP 2.599,00 €</span></del> <span class='css-m2k7pq'>2.349,00 €</span></div>"
          "<div class='css-q7d0aa'><span class='css-r0x1zz'>Grupo:</span><ul class='css-7hh1p0'>"
          "<li><button class='css-u3n8cb'>Shimano Deore 12v · 1.999,00 €</button></li>"
          "<li><button class='css-u3n8cb css-k2l9mm' aria-pressed='true'>Shimano XT 12v · 2.349,00 €</button></li>"
          "</ul></div><button class='css-zz81ka'>Añadir al carrito</button></div>",
          "es-ES", product("1999.00", "EUR", name="Bicicleta trail 29"), name="Bicicleta trail 29"),
     D("2349.00")),
    # English (Mauritius) grocery: size chips are links, the current one aria-current="true"; JSON-LD of the small
    # size.
    ("mu-current-chip", "https://www.marche.example.mu/en/oils/extra-virgin-olive-oil-1l",
     page("<div class='_3kF9a'><h1>Extra virgin olive oil</h1><div class='_1Qm2x'><s class='_7Tt0p'>Rs 610.00</s> "
          "<span class='_2Zp8w'>Rs 545.00</span></div><nav class='_9Lm3q' aria-label='Size'>"
          "<a class='_4Hh2c' href='/en/oils/extra-virgin-olive-oil-500ml'>500 ml Rs 295.00</a> "
          "<a class='_4Hh2c _0Pp9d' aria-current='true' href='/en/oils/extra-virgin-olive-oil-1l'>1 L Rs 545.00</a>"
          "</nav><button class='_6Bb1r'>Add to basket</button></div>",
          "en-MU", product("295.00", "MUR", name="Extra virgin olive oil"), name="Extra virgin olive oil"),
     D("545.00")),
]


@pytest.mark.parametrize(("url", "html", "want"), [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_the_option_aria_marks_chosen_is_the_page_s_variant(url: str, html: str, want: Decimal) -> None:
    got = extract(html, url)
    assert got.price == want, (got.price, got.method, got.flags, got.undecided)
