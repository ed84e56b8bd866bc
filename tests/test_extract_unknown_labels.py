"""A structured price is confirmed by the buy box's leading amount, not by a printing beside words nobody listed.

The cascade knows many languages' words for a list price, a coupon's, a set's or a net price, but a shop in the next
country writes its own ("Qmfkgo xna XSOPV: RD$ 4,194.92"). Where structured data gives such an amount and the buy box
prints it after another amount that stands out as much, the printing beside an unknown label confirmed it (the text
check took any printing with a sign; the full comparison took any current printing). Principles that need no
word:

- **the text check confirms only the buy box's leading amount**: when the first amount with a sign after the title
  is another one, neither struck through nor named by a word the cascade knows, the full comparison decides;
- **a structured price the buy box does not lead with is not confirmed by a later printing**: when the buy box's
  leading amount (the first with its sign from the title to the buy button, not struck through) is another amount,
  read as a current price as prominent as the structured price's own printing, the page is undecided with both (a
  person picks), unless the structured offer is the variant the address selects; nor is one the buy box leads with,
  when it prints a later such amount that the scan draws more prominently (beyond the tie);
- **the title's own text is no amount of the buy box**: a model number in the name ("DH20 20") never leads it.

The labels below are pseudo-words (``bench/perturb_pages.py``'s ``relabelled`` writes whole pages so); each page
fails on the extractor before this change (it took the structured amount).
"""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

import pytest
from extract_page import page, product

from crawlers.extract import extract

D = Decimal


def _box(title: str, lead: str, second: str, button: str = "Qovaki") -> str:
    return (f"<div class='pdp'><h1>{title}</h1><div class='pdp-prices'>{lead}{second}</div>"
            f"<button class='add-to-cart'>{button}</button></div>")


# (lang, url, buy box, structured amount, currency, the buy box's leading amount)
_LED_BY_ANOTHER = [
    # a net price named by a tax nobody listed, after the price with tax (the Caribbean)
    ("es-DO", "https://www.musicaxa.example.do/p/guitarra-x7",
     _box("Guitarra X7", "<div class='price'><span class='amount'>RD$4,950.00</span></div>",
          "<div class='price-note'><span>Qmfkgo xna XSOPV:</span> <span>RD$4,194.92</span></div>"),
     "4194.92", "DOP", D("4950.00")),
    # a coupon's price in a language nobody listed, after the sale price (a Korean-style box in pseudo-words)
    ("ko-KR", "https://www.jangxa.example.kr/goods/1123",
     _box("프리미엄 블렌더 X7", "<p class='sale'><strong>32,900원</strong></p>",
          "<p class='extra'><em>뀈뀫낰뀗뀤</em> <strong>29,610원</strong></p>", "뀗뀤낰"),
     "29610", "KRW", D("32900")),
    # a set's price after the single item's, the set label in pseudo-words (a tyre shop)
    ("en-PK", "https://www.tyrexa.example.pk/product/tyre-205-55-r16",
     _box("Tyre 205/55 R16", "<div class='price'><span>Rs 18,750</span></div>",
          "<div class='bundle'><span>Qko zt 4:</span> <span>Rs 72,000</span></div>"),
     "72000", "PKR", D("18750")),
]


@pytest.mark.parametrize(("lang", "url", "body", "structured", "currency", "lead"), _LED_BY_ANOTHER,
                         ids=["net-after-gross", "coupon-after-sale", "set-after-one"])
def test_a_structured_price_printed_after_the_leading_amount_is_not_confirmed(
        lang: str, url: str, body: str, structured: str, currency: str, lead: Decimal) -> None:
    ext = extract(page(body, lang, product(structured, currency)), url)
    assert ext.price != D(structured)
    # (the leading amount where the cascade can tell, else a person picks between the two)
    assert ext.price == lead or {c.price for c in ext.competing} >= {D(structured), lead}, (ext.price, ext.flags)


def test_the_text_check_confirms_only_the_leading_amount() -> None:
    """The structured amount after another, unlabelled for the cascade, is not taken by the shortcut: the full
    comparison reads both (the page is undecided, never the structured amount)."""
    body = _box("Kaffebryggare X7", "<div class='price'>4 990 kr</div>", "<div class='note'>Xupa zeli 4 490 kr</div>",
                "Qovaki")
    ext = extract(page(body, "sv-SE", product("4490", "SEK")), "https://www.kaffexa.example.se/p/x7")
    assert ext.price != D("4490")


# --- what stays confirmed ---------------------------------------------------------------------------------------------


def test_the_structured_price_the_buy_box_leads_with_is_confirmed_whatever_follows() -> None:
    body = _box("Guitarra X7", "<div class='price'><span class='amount'>RD$4,950.00</span></div>",
                "<div class='price-note'><span>Qmfkgo xna XSOPV:</span> <span>RD$4,194.92</span></div>")
    ext = extract(page(body, "es-DO", product("4950.00", "DOP")), "https://www.musicaxa.example.do/p/guitarra-x7")
    assert (ext.price, ext.undecided) == (D("4950.00"), None)


def test_a_struck_list_price_before_the_structured_price_leaves_it_confirmed() -> None:
    body = _box("Guitarra X7", "<div class='price'><del>RD$5,950.00</del></div>",
                "<div class='price-now'><span>Qmfkgo:</span> <span>RD$4,950.00</span></div>")
    ext = extract(page(body, "es-DO", product("4950.00", "DOP")), "https://www.musicaxa.example.do/p/guitarra-x7")
    assert (ext.price, ext.undecided) == (D("4950.00"), None)


def test_a_leading_amount_a_known_word_names_the_list_price_leaves_the_structured_price_confirmed() -> None:
    body = _box("Guitarra X7", "<div class='price'>Antes RD$5,950.00</div>",
                "<div class='price-now'><span>Ahora</span> <span>RD$4,950.00</span></div>", "Agregar al carrito")
    ext = extract(page(body, "es-DO", product("4950.00", "DOP")), "https://www.musicaxa.example.do/p/guitarra-x7")
    assert (ext.price, ext.undecided) == (D("4950.00"), None)


# --- a price cut from a struck list price is the price, whatever percentage follows it --------------------------------


def test_an_amount_under_a_struck_list_price_is_no_list_price_of_a_lower_amount() -> None:
    """A coupon's price ten per cent under the price, beside a struck list price, its label in pseudo-words: the
    discount arithmetic (32,900 less 10 % is 29,610) made the price the "list price" of the coupon's amount."""
    body = _box("프리미엄 블렌더 X7", "<p class='sale'><del>45,000원</del> <span>26%</span> <span>32,900원</span></p>",
                "<p class='extra'><em>뀈뀫낰뀗뀤</em> <strong>29,610원</strong> <span>낷끽냄낸 (10%)</span></p>",
                "뀗뀤낰")
    ext = extract(page(body, "ko-KR"), "https://www.jangxa.example.kr/goods/1123")
    assert ext.price != D("29610")
    assert ext.price == D("32900") or {c.price for c in ext.competing} >= {D("32900"), D("29610")}, ext.flags


def test_a_badge_beside_an_unstruck_pair_still_names_the_list_price() -> None:
    """Without a struck amount above it, the higher of two amounts a badge relates is the list price, as before."""
    body = _box("Blender X7", "<p class='prices'><span>KSh 79,999</span> <span>KSh 64,999</span> <span>-19%</span></p>",
                "", "Qovaki")
    ext = extract(page(body, "en-KE"), "https://www.blendxa.example.ke/p/x7")
    assert ext.price == D("64999")


@pytest.mark.parametrize(("lang", "url", "prices", "price", "listed"), [
    # (the shop's own class for its list price, no stylesheet striking it, the saving in a word nobody listed)
    ("id-ID", "https://www.rumahxa.example.co.id/produk/kulkas-x7",
     "<span class='rk-coret'>Rp 5.199.000</span><span class='rk-final'>Rp 4.299.000</span>"
     "<span class='rk-hemat'>Qmfko Rp 900.000</span>", "4299000", "5199000"),
    ("en-KE", "https://www.blendxa.example.ke/p/x7",
     "<span>KSh 79,999</span> <span>KSh 64,999</span> <span>Zvorak KSh 15,000</span>", "64999", "79999"),
])
def test_a_saving_printed_after_two_amounts_names_the_higher_the_list_price(
        lang: str, url: str, prices: str, price: str, listed: str) -> None:
    ext = extract(page(_box("Blender X7", f"<div class='p'>{prices}</div>", ""), lang), url)
    assert ext.price == D(price)
    assert ext.regular_price == D(listed)


def test_three_amounts_whose_first_is_the_others_difference_are_no_saving() -> None:
    """Three sizes' prices ("$10 $20 $30"): the first is the difference of the others, but it is printed before them,
    no saving; the higher is no list price by that."""
    body = _box("Blender X7", "<div class='p'><span>$10.00</span> <span>$20.00</span> <span>$30.00</span></div>", "")
    ext = extract(page(body, "en-US"), "https://www.blendxa.example.com/p/x7")
    assert ext.regular_price is None


# --- a later amount drawn plainer than the structured price, and the title's own digits -------------------------------


def _woo(title: str, prices: str) -> str:
    return (f"<div class='pdp'><h1 class='product_title'>{title}</h1>{prices}<form class='cart'><button type='submit' "
            "name='add-to-cart' class='single_add_to_cart_button'>Jla zz zmge</button></form></div>")


# (a WooCommerce sale: the struck list price, then the sale price, each repeated in a screen-reader text whose words
# nobody listed; the structured data is the list price)
_WOO_SALE = ("<p class='price'><del aria-hidden='true'><span class='amount'><bdi>"
             "<span class='currencySymbol'>KSh</span>10,999.00</bdi></span></del> "
             "<span class='screen-reader-text'>Jsnzpdsu qigda zpg: KSh10,999.00.</span>"
             "<ins aria-hidden='true'><span class='amount'><bdi><span class='currencySymbol'>KSh</span>8,499.00</bdi>"
             "</span></ins><span class='screen-reader-text'>Qomauvd qigda xo: KSh8,499.00.</span></p>")


def test_a_structured_price_the_buy_box_draws_plainer_than_a_later_amount_is_not_taken() -> None:
    """The buy box leads with the structured amount, then prints another, unstruck and named by no word the cascade
    knows, that the scan draws more prominently (beyond the tie): only the words would say which one a shopper pays,
    and a person picks (before: the structured list price, 10,999, read as the price)."""
    ext = extract(page(_woo("Zauamzt JD60 Qinvesfp 6 Xeusm", _WOO_SALE), "en-KE", product("10999", "KES")),
                  "https://www.jikonixa.example.ke/p/jd60")
    assert ext.price is None and ext.undecided is not None
    assert {c.price for c in ext.competing} >= {D("10999"), D("8499.00")}


def test_a_structured_price_the_buy_box_draws_as_plainly_as_a_later_amount_stays_confirmed() -> None:
    """The same order with the later amount drawn no more prominently (a note's amount): the structured price stands,
    and so does a structured sale price the buy box prints after the struck list price."""
    plain = ("<p class='price'><span class='a'>KSh10,999.00</span> <span class='screen-reader-text'>Jsnzpdsu: "
             "KSh10,999.00.</span></p><p class='note'>Qomauvd xo <span>KSh8,499.00</span> zkf</p>")
    url = "https://www.jikonixa.example.ke/p/jd60"
    ext = extract(page(_woo("Zauamzt JD60 Qinvesfp 6 Xeusm", plain), "en-KE", product("10999", "KES")), url)
    assert (ext.price, ext.undecided) == (D("10999"), None)
    ext = extract(page(_woo("Zauamzt JD60 Qinvesfp 6 Xeusm", _WOO_SALE), "en-KE", product("8499", "KES")), url)
    assert (ext.price, ext.undecided) == (D("8499"), None)


def _katastima(title: str) -> str:
    return _box(title, "<p class='kt-old'>Ζκδκοη ψεδπ: <del>€229,90</del></p><p class='kt-now'>€189,90</p>",
                "<p class='kt-members'>Ψεδπ ζλγομ: <span>€179,90</span></p>", "Ξρελυνχι ζηε ξκοιπι")


def test_the_titles_own_digits_never_lead_the_buy_box() -> None:
    """A model number in the product's name ("DH20 20", read as 2020 dirhams) led the buy box, so the members' price
    the structured data holds, printed after the price, was confirmed (before: 179.90). The name is no amount: the
    buy box leads with the price, and the page is undecided between the two."""
    url = "https://www.katastixa.example.gr/p/dh20"
    ext = extract(page(_katastima("Αφυγραντήρας DH20 20 λίτρα"), "el-GR", product("179.90", "EUR")), url)
    assert ext.price is None and {c.price for c in ext.competing} >= {D("179.90"), D("189.90")}
    ext = extract(page(_katastima("Αφυγραντήρας DH20 20 λίτρα"), "el-GR", product("189.90", "EUR")), url)
    assert (ext.price, ext.undecided) == (D("189.90"), None)


# --- the measure: bench/perturb_pages.py's relabelled rewrite ---------------------------------------------------------


def test_relabelled_replaces_every_word_alike_and_keeps_amounts_signs_and_the_title_match() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # (bench/ is scripts, not an installed package)
    from bench.perturb_pages import perturb

    html = page("<h1>Taladro Bosch 18V</h1><p>Precio sin ITBIS: RD$ 1.299,00 · 售价379元 · 79,900원 · 1 299 руб. "
                "· 249 kr · 12 USD</p><p>Precio</p>", "es-DO", product("1299.00", "DOP", name="Taladro Bosch 18V"),
                name="Taladro Bosch 18V")
    out = perturb(html, "relabelled")
    assert out is not None
    for kept in ("RD$ 1.299,00", "379元", "79,900원", "1 299 руб.", "249 kr", "12 USD", "18V", '"price": "1299.00"'):
        assert kept in out
    for gone in ("Precio", "ITBIS", "售价", "Taladro", "Bosch"):
        assert gone not in out
    # (the same word, the same pseudo-word: in the text, the title and the JSON-LD name)
    title = out.split("<h1>")[1].split("</h1>")[0]
    assert f'"name": "{title}"' in out and f"<title>{title}</title>" in out
    labels = perturb(html, "relabelled-labels")
    assert labels is not None and "<h1>Taladro Bosch 18V</h1>" in labels and "ITBIS" not in labels


# --- what it costs ----------------------------------------------------------------------------------------------------


def test_the_buy_box_is_read_for_its_leading_amount_only_when_an_amount_could_outshine_the_price(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The full comparison's check reads the buy box only when the visible scan holds a rival: another current amount
    with its sign, as prominent as the structured price's printing (on most pages none, and the answer is the same)."""
    from crawlers.extract import cascade
    from crawlers.extract.heuristics import Visible
    from crawlers.extract.model import Candidate
    from crawlers.extract.page import Page

    body = _box("Guitarra X7", "<div class='price'><span>RD$5,950.00</span></div>",
                "<div class='price-now'><span>Qmfkgo:</span> <span>RD$4,950.00</span></div>")
    parsed = Page.parse(page(body, "es-DO", product("4950.00", "DOP")), "https://www.musicaxa.example.do/p/x7")
    chosen = Candidate("json-ld", D("4950.00"), "DOP", "4950.00", 0.9)
    shown = Candidate("heuristic", D("4950.00"), "DOP", "RD$4,950.00", 0.8)
    read: list[Decimal] = []

    def leading(page: Page, price: Decimal, currency: str | None, struck: list[str] | None = None) -> Decimal | None:
        read.append(price)
        return D("5950.00")

    monkeypatch.setattr(cascade, "_leading_amount", leading)
    weak = Candidate("heuristic", D("5950.00"), "DOP", "RD$5,950.00", 0.5)  # (far less prominent: no rival)
    listed = Candidate("heuristic", D("5950.00"), "DOP", "RD$5,950.00", 0.8, note="weak-was")  # (a list price)
    for others in ([], [weak], [listed]):
        assert cascade._outshone(chosen, Visible(candidates=[shown, *others]), [], parsed) is None
    assert read == []
    rival = Candidate("heuristic", D("5950.00"), "DOP", "RD$5,950.00", 0.8)
    outshone = cascade._outshone(chosen, Visible(candidates=[shown, rival]), [], parsed)
    assert outshone is not None and outshone[1] == [chosen, rival] and read == [D("4950.00")]
