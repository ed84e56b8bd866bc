"""The second reading's principles, one page each, read in real Chromium from a shop on 127.0.0.1.

Each page puts the product's price in its buy box beside an amount that a shopper would not pay for the
item now, set larger, bolder or nearer the buy button than the price (or past the button, where other
offers and accessories go), and said to be something else in the words of one language or another: an
instalment, a gift's worth, points, a subsidy, a converted amount, a deposit, a free-shipping threshold,
the lowest price of the last 30 days, a members' or a code's price, a unit price. The reader must take the
price, or none where the page does not say which is which.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

# The price in 22px bold; the amount that is not the price in 30px bold (more prominent) unless said otherwise.
_STYLE = ("<style>.now{font-size:22px;font-weight:700}.big{font-size:30px;font-weight:700}.small{font-size:12px}"
          ".gap{height:260px}</style>")


def _page(title: str, buy_box: str, *, after: str = "", lang: str = "en") -> bytes:
    return (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>{_STYLE}</head>'
            f'<body><main><h1>{title}</h1><div class="buybox">{buy_box}'
            f'<button class="add-to-cart">Add to cart</button></div>{after}</main></body></html>').encode()


def _line(words: str, amount: str, tail: str = "") -> str:
    """A line of the buy box: words, then the amount in its own (larger) element, then more words."""
    return f'<p>{words}<b class="big">{amount}</b>{tail}</p>'


PAGES: dict[str, tuple[bytes, tuple[Decimal | None, str | None]]] = {
    # Where: between the title and the buy button, not past it (an accessory row without a link, nearer the button).
    "/band": (_page("Acme Kettle", '<p><span>$49.00</span></p><div class="gap"></div>',
                    after='<div><span>Descaler</span> <span>$9.99</span></div>'), (Decimal("49.00"), "USD")),
    # Prominence from the page's own style sheet: the larger amount, though farther from the button.
    "/prominent": (_page("Acme Lamp", '<p><span class="big">$129.00</span></p><p><span>$119.00</span></p>'),
                   (Decimal("129.00"), "USD")),
    # Words before the amount on its line (the amount in an element of its own): an instalment ...
    "/line-instalment": (_page("Acme TV", '<p class="now">1.199,00 €</p>'
                               + _line("Tasso zero: 20 rate da ", "59,95 €", " TAN 0%"), lang="it-IT"),
                         (Decimal("1199.00"), "EUR")),
    "/line-arabic-instalment": (_page("Acme Phone", '<p class="now">649.00 ر.س</p>'
                                      + _line("أو قسّمها على 4 دفعات بقيمة ", "162.25 ر.س", " مع تابي"),
                                      lang="ar-SA"), (Decimal("649.00"), "SAR")),
    # ... a gift's worth (贈品價值), a subsidy, points, a trade-in credit
    "/gift-worth": (_page("Acme Camera", '<p class="now">HK$8,999</p>' + _line("送贈品 價值 ", "HK$1,280"),
                          lang="zh-HK"), (Decimal("8999"), "HKD")),
    "/subsidy": (_page("Acme Fridge", '<p class="now">¥2,999.00</p>' + _line("国家补贴 ", "¥450.00"),
                       lang="zh-CN"), (Decimal("2999.00"), "CNY")),
    "/points": (_page("Acme Kettle", '<p class="now">$1.299</p>' + _line("Acumula ", "$130", " en puntos"),
                      lang="es-CL"), (Decimal("1299"), "CLP")),
    "/trade-in": (_page("Acme Laptop", '<p class="now">$1,499.99</p>'
                        + _line("Trade in &amp; save: get up to ", "$350", " in credit")), (Decimal("1499.99"), "USD")),
    # ... a converted amount, a deposit, a free-shipping threshold in Arabic
    "/converted": (_page("Acme Drill", '<p class="now">$ 24.990</p>' + _line("Aprox. ", "US$ 27"), lang="es-CL"),
                   (Decimal("24990"), "CLP")),
    "/deposit": (_page("Acme Water", '<p class="now">4,99 €</p>' + _line("zzgl. ", "0,25 €", " Pfand"),
                       lang="de-DE"), (Decimal("4.99"), "EUR")),
    "/threshold-arabic": (_page("Acme Watch", '<p class="now">899 ر.س</p>'
                                + _line("شحن مجاني للطلبات فوق ", "200 ر.س"), lang="ar-SA"), (Decimal("899"), "SAR")),
    # ... the EU's lowest price of the last 30 days, a members' price, a price with a code
    "/omnibus": (_page("Acme Sofa", '<p class="now">1 299,00 €</p>'
                       + _line("Prix le plus bas des 30 derniers jours : ", "1 599,00 €"), lang="fr-FR"),
                 (Decimal("1299.00"), "EUR")),
    "/member": (_page("Acme Serum", '<p class="now">345.000₫</p>' + _line("Thành viên hạng Vàng: ", "327.750₫"),
                      lang="vi-VN"), (Decimal("345000"), "VND")),
    "/code": (_page("Acme Washer", '<p class="now">1 899,00 zł</p>' + _line("Z kodem AGD100 zapłacisz ", "1 799,00 zł"),
                    lang="pl-PL"), (Decimal("1899.00"), "PLN")),
    # ... a card's logo before it (its alternative text is what it says)
    "/card-badge": (_page("Acme Jacket", '<p class="now">S/ 159.90</p><p><img alt="Tarjeta Oh!" width="20" '
                          'height="20" src="data:,"> Precio Oh! <b class="big">S/ 139.90</b></p>', lang="es-PE"),
                    (Decimal("159.90"), "PEN")),
    # Words after the amount: a unit price.
    "/per-count": (_page("Acme Vitamins", '<p class="now">$14.99</p>' + _line("", "$0.08", " / count")),
                   (Decimal("14.99"), "USD")),
    # Struck or labelled old prices aside, two amounts left side by side: a discount badge that turns the higher
    # into the lower says which is the list price; without one, no price.
    "/discount-pair": (_page("Acme Purifier", '<p><span class="now">₱4,499.00</span> <span class="now">₱6,999.00</span>'
                             ' <span>-36%</span></p>', lang="en-PH"), (Decimal("4499.00"), "PHP")),
    "/no-badge": (_page("Acme Purifier", '<p><span class="now">₱4,499.00</span> <span class="now">₱6,999.00</span></p>',
                        lang="en-PH"), (None, None)),
    # Cents in an element of their own, after the whole units or raised after the sign; a label glued to the amount.
    "/split-cents": (_page("Acme Saw", '<div class="now"><span>$</span><span>89</span><span>00</span></div>',
                           lang="en-AU"), (Decimal("89.00"), "AUD")),
    "/raised-cents": (_page("Acme Drill", '<div class="now"><span>129€</span><sup>90</sup></div>', lang="fr-FR"),
                      (Decimal("129.90"), "EUR")),
    "/glued-label": (_page("Acme Fridge", '<p class="now">Cena s DPH<span>12 990 Kč</span></p>', lang="cs-CZ"),
                     (Decimal("12990"), "CZK")),
}


@pytest.fixture
def shop() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            body = PAGES[self.path][0] if self.path in PAGES else b""
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_it_reads_the_price_a_shopper_pays_now_on_every_page(shop: str) -> None:
    from crawlers.buybox import read_buy_boxes

    readings = read_buy_boxes({path: shop + path for path in PAGES}, currencies=dict.fromkeys(PAGES))
    got = {path: (r.price, r.currency) for path, r in readings.items()}
    wrong = {path: (got.get(path), readings[path].raw_text if path in readings else None)
             for path, (_html, want) in PAGES.items() if got.get(path) != want}
    assert wrong == {}


def test_it_measures_prominence_with_the_pages_own_style(shop: str) -> None:
    from crawlers.buybox import read_buy_boxes

    reading = read_buy_boxes({1: shop + "/prominent"})[1]
    assert (reading.price, reading.where["font_size"], reading.where["font_weight"]) == (Decimal("129.00"), 30, 700)
