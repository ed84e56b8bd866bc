"""What the page draws larger, withholds behind a login, or keeps only in script state (``crawlers.extract.emphasis``).

Four principles, each on small pages written for it (positive and negative cases, real extractions):

- size/emphasis: between the title and the buy button, the amount drawn clearly larger (1.25 times or more) than
  every other current amount is the price; the size comes from the page's stylesheet, inline styles or h1-h3 tags;
  a large instalment or a struck list price never gains;
- net/gross: a buy box leading with a net amount drawn larger than the gross one is undecided between them;
- login wall: a disabled buy button under "log in to see prices" (in many languages) withholds the price;
- script state: a price only script state gives, while the page shows another amount as its price, is not taken.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from crawlers.extract import extract
from crawlers.extract.emphasis import font_size
from crawlers.extract.page import Page

D = Decimal


def page(body: str, lang: str = "en", style: str = "", head: str = "") -> str:
    return (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>Product</title>'
            f"<style>{style}</style>{head}</head>"
            "<body><header><nav><a href='/'>Home</a></nav></header><main>" + body + "</main>"
            "<footer>© Shop</footer></body></html>")


# --- font sizes as the page draws them -------------------------------------------------------------------------

def test_font_size_reads_stylesheet_rules_inline_styles_and_heading_tags() -> None:
    html = page('<h1>Kettle</h1><div class="a"><span class="big" id="p">€10</span><span id="q" '
                'style="font-size:12px">€2</span><h2><span id="r">€3</span></h2><span id="s">€4</span>'
                '<span class="rel"><b id="t">€5</b></span></div>',
                style=".big{font-size:2rem} .a .rel{font-size:150%} .big:hover{font-size:90px}")
    p = Page.parse(html, "https://x.example.com/p")

    def size(ident: str) -> float:
        node = p.tree.css_first(f"#{ident}")
        assert node is not None
        return font_size(node, p)

    assert size("p") == 32.0  # (2rem; the :hover rule is not what a shopper sees first)
    assert size("q") == 12.0
    assert size("r") == 24.0  # (an h2's default)
    assert size("s") == 16.0  # (nothing says: the default)
    assert size("t") == 24.0  # (150% of the default, inherited)


# --- A. size/emphasis ------------------------------------------------------------------------------------------

_TWO_AMOUNTS = ('<h1>Aurora Laptop 14</h1><div class="box"><div class="row"><span class="{big}">₹84,990</span></div>'
                '<p class="small">Inclusive of all taxes</p>'
                '<label class="small"><input type="checkbox"> Care Pack 2 years <span>₹4,999</span></label>'
                '<button>Buy Now</button></div>')


def test_an_amount_drawn_clearly_larger_by_the_stylesheet_is_the_price() -> None:
    html = page(_TWO_AMOUNTS.format(big="text-3xl"), lang="en-IN",
                style=".text-3xl{font-size:1.875rem;line-height:2.25rem}.small{font-size:.875rem}")
    got = extract(html, "https://www.laptops.example.in/p/aurora-14")
    assert got.price == D("84990")
    assert got.undecided is None


def test_amounts_drawn_alike_are_not_told_apart_by_size() -> None:
    html = page(_TWO_AMOUNTS.format(big="text-base"), lang="en-IN",
                style=".text-base{font-size:.875rem}.small{font-size:.875rem}")
    got = extract(html, "https://www.laptops.example.in/p/aurora-14")
    assert got.price != D("84990") or got.undecided is not None
    assert "emphasis" not in " ".join(c.note or "" for c in got.candidates)


def test_an_inline_style_and_a_heading_tag_draw_larger_too() -> None:
    inline = _TWO_AMOUNTS.format(big="x").replace('<span class="x">', '<span style="font-size:28px">')
    got = extract(page(inline, lang="en-IN", style=".small{font-size:14px}"), "https://www.laptops.example.in/p/a")
    assert got.price == D("84990")
    heading = _TWO_AMOUNTS.format(big="x").replace('<div class="row"><span class="x">₹84,990</span></div>',
                                                   "<h2>₹84,990</h2>")
    got = extract(page(heading, lang="en-IN", style=".small{font-size:14px}"), "https://www.laptops.example.in/p/a")
    assert got.price == D("84990")


def test_a_utility_class_of_a_standard_scale_draws_larger_when_the_stylesheet_is_elsewhere() -> None:
    # (Tailwind's "text-3xl", Jumia's "-fs24": the stylesheet is loaded from a CDN, the class names the size)
    for big in ("text-3xl", "-fs24"):
        got = extract(page(_TWO_AMOUNTS.format(big=big), lang="en-IN"), "https://www.laptops.example.in/p/a")
        assert got.price == D("84990"), big
    got = extract(page(_TWO_AMOUNTS.format(big="md:text-3xl"), lang="en-IN"), "https://www.laptops.example.in/p/a")
    assert "emphasis" not in " ".join(c.note or "" for c in got.candidates)  # (a breakpoint's size: not read)


def test_a_large_instalment_amount_is_never_the_price() -> None:
    body = ('<h1>Sofa Nova</h1><div class="box"><p class="plan">Pay <span class="huge">$49</span>/month '
            'for 24 months</p><p class="small">or <span>$1,099.00</span> today</p>'
            '<button>Add to cart</button></div>')
    got = extract(page(body, style=".huge{font-size:48px}.small{font-size:14px}"), "https://sofas.example.com/p/nova")
    assert got.price != D("49")


def test_a_large_struck_list_price_is_never_the_price() -> None:
    body = ('<h1>Sofa Nova</h1><div class="box"><p><s class="huge">$1,499.00</s></p>'
            '<p class="small">Now <span>$1,099.00</span></p><button>Add to cart</button></div>')
    got = extract(page(body, style=".huge{font-size:48px}.small{font-size:14px}"), "https://sofas.example.com/p/nova")
    assert got.price == D("1099.00")


# --- B. net/gross ----------------------------------------------------------------------------------------------

_NET_GROSS = ('<h1>Groepenkast 3-fase 8 groepen</h1><div class="buy"><div class="main">€ 289,00 '
              '<span class="tax">excl. btw</span></div><div class="incl">€ 349,69 incl. 21% btw</div>'
              '<button>In winkelwagen</button></div>')
_LD = ('<script type="application/ld+json">{"@context":"https://schema.org","@type":"Product","name":"Groepenkast",'
       '"offers":{"@type":"Offer","price":"349.69","priceCurrency":"EUR"}}</script>')


def test_a_buy_box_leading_with_a_larger_net_amount_is_undecided_between_net_and_gross() -> None:
    got = extract(page(_NET_GROSS, lang="nl-NL", style=".main{font-size:30px}.incl{font-size:13px}", head=_LD),
                  "https://www.installatie.example.nl/p/groepenkast")
    assert got.price is None
    assert got.undecided is not None and "VAT" in got.undecided
    assert {c.price for c in got.competing} == {D("289.00"), D("349.69")}


def test_a_gross_amount_drawn_larger_than_the_net_one_is_the_price() -> None:
    body = ('<h1>Groepenkast 3-fase 8 groepen</h1><div class="buy"><div class="main">€ 349,69 incl. btw</div>'
            '<div class="excl">€ 289,00 <span>excl. btw</span></div><button>In winkelwagen</button></div>')
    got = extract(page(body, lang="nl-NL", style=".main{font-size:30px}.excl{font-size:13px}", head=_LD),
                  "https://www.installatie.example.nl/p/groepenkast")
    assert got.price == D("349.69")
    assert got.undecided is None


def test_net_and_gross_drawn_alike_leave_the_gross_price() -> None:
    got = extract(page(_NET_GROSS, lang="nl-NL", style=".main{font-size:14px}.incl{font-size:14px}", head=_LD),
                  "https://www.installatie.example.nl/p/groepenkast")
    assert got.price == D("349.69")


# --- C. login wall ---------------------------------------------------------------------------------------------

_LOGIN_WALL = ('<h1>{title}</h1><div class="buy"><p class="uvp">{uvp}</p><p class="login">{said}</p>'
               '<button class="btn-cart" disabled>{button}</button></div>')
_UVP_LD = ('<script type="application/ld+json">{"@context":"https://schema.org","@type":"Product","name":"X",'
           '"offers":{"@type":"Offer","price":"689.00","priceCurrency":"EUR"}}</script>')


@pytest.mark.parametrize(("lang", "said", "button", "uvp"), [
    ("de-AT", "Ihr Preis: Anmelden, um Preise zu sehen", "In den Warenkorb", "UVP 689,00 € inkl. 20 % USt."),
    ("en-GB", "Prices for registered customers only", "Add to basket", "RRP €689.00"),
    ("fr-FR", "Connectez-vous pour voir les prix", "Ajouter au panier", "Prix conseillé 689,00 €"),
    ("nl-NL", "Log in om de prijzen te zien", "In winkelwagen", "Adviesprijs € 689,00"),
    ("es-ES", "Inicia sesión para ver los precios", "Añadir al carrito", "PVP 689,00 €"),
])
def test_a_disabled_buy_button_under_log_in_to_see_prices_withholds_the_price(lang: str, said: str, button: str,
                                                                               uvp: str) -> None:
    body = _LOGIN_WALL.format(title="Durchlauferhitzer DHE 21 kW", uvp=uvp, said=said, button=button)
    got = extract(page(body, lang=lang, head=_UVP_LD), "https://shop.haustechnik.example.at/p/dhe21")
    assert got.price is None
    assert got.price_visibility == "login_only"


def test_an_enabled_buy_button_beside_a_login_line_keeps_the_price() -> None:
    body = ('<h1>Durchlauferhitzer DHE 21 kW</h1><div class="buy"><p class="price">689,00 €</p>'
            '<p>Anmelden, um Preise zu sehen für Ihre Kundengruppe</p><button>In den Warenkorb</button></div>')
    got = extract(page(body, lang="de-AT", head=_UVP_LD), "https://shop.haustechnik.example.at/p/dhe21")
    assert got.price == D("689.00")
    assert got.price_visibility == "visible"


def test_a_disabled_button_without_login_words_is_out_of_stock_not_a_login_wall() -> None:
    body = ('<h1>Durchlauferhitzer DHE 21 kW</h1><div class="buy"><p class="price">689,00 €</p>'
            '<p>Derzeit nicht lieferbar</p><button disabled>In den Warenkorb</button></div>')
    got = extract(page(body, lang="de-AT", head=_UVP_LD), "https://shop.haustechnik.example.at/p/dhe21")
    assert got.price == D("689.00")
    assert got.price_visibility == "visible"


# --- D. script state -------------------------------------------------------------------------------------------

def _state(price: str) -> str:
    return (f'<script>window.__NUXT__={{"layout":"default","data":[{{"product":{{"id":881203,'
            f'"name":"Blender PowerMix 2L",'
            f'"price":{price},"originalPrice":1599000,"flashSale":null}}}}],"error":null}}</script>')


def test_a_script_state_price_the_page_does_not_show_is_not_taken() -> None:
    body = ('<h1>Blender PowerMix 2L</h1><div class="buy"><span class="flash">Rp1.299.000</span> '
            '<button>Tambah ke Keranjang</button></div>' + _state("1349000"))
    got = extract(page(body, lang="id-ID"), "https://www.rumah.example.co.id/p/blender")
    assert got.price is None
    assert got.undecided is not None  # (this small page: already the structured-data rule's case)
    assert {c.price for c in got.competing} == {D("1349000"), D("1299000")}


def test_a_script_state_price_the_page_shows_is_taken() -> None:
    body = ('<h1>Blender PowerMix 2L</h1><div class="buy"><span class="flash">Rp1.299.000</span> '
            '<button>Tambah ke Keranjang</button></div>' + _state("1299000"))
    got = extract(page(body, lang="id-ID"), "https://www.rumah.example.co.id/p/blender")
    assert got.price == D("1299000")
    assert got.undecided is None


def test_a_script_state_price_shown_only_more_weakly_than_another_is_not_taken() -> None:
    # the state holds the default size's price; the URL's size is dearer and its price leads the buy box
    body = ('<h1>Airfryer 7,5 l</h1><div class="sizes"><a href="?meret=5-5-l">5,5 l <span>32 990 Ft</span></a> '
            '<a href="?meret=7-5-l" class="on">7,5 l</a></div><p>Lorem ipsum dolor sit amet, consectetur.</p>'
            '<div class="buy"><span class="price">39 990 Ft</span><button>Kosárba</button></div>' + _state("32990"))
    got = extract(page(body, lang="hu-HU"), "https://www.konyha.example.hu/termek/airfryer?meret=7-5-l")
    assert got.price is None
    assert got.undecided is not None and "script state" in got.undecided
    assert {c.price for c in got.competing} == {D("32990"), D("39990")}


def test_a_script_state_price_shown_as_strongly_as_another_settles_the_tie() -> None:
    body = ('<h1>Airfryer 7,5 l</h1><div class="buy"><span class="price">39 990 Ft</span> '
            '<span class="price">32 990 Ft</span><button>Kosárba</button></div>' + _state("32990"))
    got = extract(page(body, lang="hu-HU"), "https://www.konyha.example.hu/termek/airfryer")
    assert got.undecided is None or "script state" not in got.undecided
