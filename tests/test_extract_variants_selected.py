"""Structured data that describes another variant than the one the page's address designates.

A variant page (size, colour, fabric, shade, set option) has its own address: a query value (``?variant=``,
``?sku=``, ``?skuId=``), a path segment (a PrestaShop combination id, a stock id) or both. Its variant selector
links each variant's address (swatches) or lists the variants' ids as ``<select>`` values, with their prices and
sold-out marks; the one the address designates (else the one marked selected) is the page's variant. Shops print
JSON-LD, microdata or Open Graph for the default, first or cheapest variant whatever the address says: such a price
never wins over the designated variant's price the buy box shows; when the buy box does not show the designated
one's price the page is undecided; when the designated variant shows no price (sold out, price on request), the
page has none, never another variant's. Each page is written for the principle, in the manner of shops of several
platforms and countries (none a copy of a held-out page); every test reads the whole cascade.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from crawlers.extract import extract

D = Decimal


def ld(price: str, currency: str, url: str = "", sku: str = "") -> str:
    offer = {"@type": "Offer", "price": price, "priceCurrency": currency,
             "availability": "https://schema.org/InStock", **({"url": url} if url else {})}
    return ('<script type="application/ld+json">' + json.dumps({
        "@context": "https://schema.org", "@type": "Product", "name": "Product", **({"sku": sku} if sku else {}),
        "offers": offer}) + "</script>")


def og(amount: str, currency: str) -> str:
    return (f'<meta property="og:type" content="product"><meta property="product:price:amount" content="{amount}">'
            f'<meta property="product:price:currency" content="{currency}">')


def page(lang: str, head: str, body: str) -> str:
    filler = "".join(f"<p>Review {i}: good quality, fast delivery, fits as expected.</p>" for i in range(6))
    return (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>Product</title>{head}</head>'
            f"<body><header><nav><a href='/'>Home</a> <a href='/sale'>Sale</a></nav></header><main>{body}"
            f"<section class='reviews'>{filler}</section></main><footer>© Shop</footer></body></html>")


def swatches(base: str, items: list[tuple[str, str, str]], selected: str) -> str:
    """Links to each variant's address: (href suffix, name, what it shows)."""
    return "<ul class='swatches'>" + "".join(
        f"<li><a class='swatch{' is-selected' if suffix == selected else ''}' href='{base}{suffix}'>{name} "
        f"{shows}</a></li>" for suffix, name, shows in items) + "</ul>"


# (id, url, html, the price, or None and what the page says instead: "undecided" or the no_price_shown reason)
CASES = [
    # Shopify, English (Australia): JSON-LD of the first variant, the address selects the King size.
    ("au-shopify-variant-query",
     "https://bedroom.example.com.au/products/linen-quilt-cover?variant=4412",
     page("en-AU", ld("189.00", "AUD"),
          "<h1>Stonewashed Linen Quilt Cover</h1><div class='price'><s>$269.00</s> <span>$229.00</span></div>"
          + swatches("https://bedroom.example.com.au/products/linen-quilt-cover",
                     [("?variant=4410", "Single", "$189.00"), ("?variant=4411", "Queen", "$209.00"),
                      ("?variant=4412", "King", "<s>$269.00</s> $229.00")], "?variant=4412")
          + "<button class='add-to-cart'>Add to cart</button><p>Afterpay 4 × $57.25</p>"),
     D("229.00")),
    # PrestaShop, Spanish: the combination in the path (88-312-), JSON-LD of the default combination.
    ("es-prestashop-combination-path",
     "https://www.trailstore.example.es/zapatillas/88-312-zapatilla-trail-sierra.html",
     page("es-ES", ld("64.95", "EUR") + og("64.95", "EUR"),
          "<h1>Zapatilla trail Sierra</h1><div class='current-price'><span>74,95 €</span> IVA incluido</div>"
          + swatches("https://www.trailstore.example.es/zapatillas/",
                     [("88-311-zapatilla-trail-sierra.html", "Gris", "64,95 €"),
                      ("88-312-zapatilla-trail-sierra.html", "Naranja flúor", "74,95 €"),
                      ("88-313-zapatilla-trail-sierra.html", "Negro", "69,95 €")], "88-312-zapatilla-trail-sierra.html")
          + "<button class='add-to-cart'>Añadir al carrito</button>"),
     D("74.95")),
    # A <select> whose values are the ids the address carries (German, ?sku=): microdata of the default option.
    ("de-select-value-sku",
     "https://www.kuechenwelt.example.de/kuechenblock-eiche?sku=KB-2400-EI",
     page("de-DE", "",
          "<div itemscope itemtype='https://schema.org/Product'><h1>Küchenblock Eiche</h1>"
          "<div itemprop='offers' itemscope itemtype='https://schema.org/Offer'>"
          "<meta itemprop='price' content='1099.00'><meta itemprop='priceCurrency' content='EUR'></div>"
          "<div class='product-price'>1.299,00 € <small>inkl. MwSt.</small></div>"
          "<select name='sku'><option value='KB-2000-EI'>200 cm – 1.099,00 €</option>"
          "<option value='KB-2400-EI'>240 cm – 1.299,00 €</option>"
          "<option value='KB-2800-EI'>280 cm – 1.549,00 €</option></select>"
          "<button class='add-to-cart'>In den Warenkorb</button></div>"),
     D("1299.00")),
    # Open Graph of the single item while the address selects a gift set (Japanese, ?opt=).
    ("jp-og-single-item-set-selected",
     "https://shop.example.jp/item/hand-cream?opt=set3",
     page("ja", og("1980", "JPY"),
          "<h1>ハンドクリーム 50g</h1><p class='price'>販売価格 4,950円（税込）</p>"
          "<select name='opt'><option value='single'>単品 1,980円</option>"
          "<option value='set3'>3本セット 4,950円</option></select>"
          "<button class='cart'>カートに入れる</button>"),
     D("4950")),
    # The address names no variant (Turkish): the swatch the page marks selected is the one it sells; JSON-LD
    # carries the first colour's price.
    ("tr-marked-swatch",
     "https://www.ayakkabi.example.com.tr/chelsea-bot-deri",
     page("tr", ld("1499.90", "TRY"),
          "<h1>Chelsea Bot Deri</h1><div class='product-price'>1.699,90 TL</div>"
          + swatches("https://www.ayakkabi.example.com.tr/chelsea-bot-deri",
                     [("?renk=siyah", "Siyah", "1.499,90 TL"), ("?renk=taba", "Taba", "1.699,90 TL"),
                      ("?renk=lacivert", "Lacivert", "1.599,90 TL")], "?renk=taba")
          + "<button class='add-to-cart'>Sepete Ekle</button>"),
     D("1699.90")),
    # The designated variant is sold out and shows no price (Brazilian Portuguese): JSON-LD of another shade.
    ("br-designated-sold-out",
     "https://www.belezashop.example.com.br/base-liquida-matte/p?skuId=2204",
     page("pt-BR", ld("59.90", "BRL"),
          "<h1>Base Líquida Matte 30ml</h1><p class='unavailable'>Produto indisponível nesta cor</p>"
          + swatches("https://www.belezashop.example.com.br/base-liquida-matte/p",
                     [("?skuId=2201", "Claro 10", "R$ 59,90"), ("?skuId=2202", "Médio 30", "R$ 64,90"),
                      ("?skuId=2204", "Escuro 60", "Esgotado")], "?skuId=2204")
          + "<button class='notify'>Avise-me quando chegar</button>"),
     "sold_out"),
    # The designated option shows no price and the page sells it only by quote, no buy button (Dutch).
    ("nl-designated-on-quote",
     "https://www.sieraden.example.nl/ring-blad/?attribute_pa_materiaal=platina",
     page("nl", ld("149.00", "EUR"),
          "<h1>Ring Blad</h1><p>€ 149,00 – € 689,00</p><p>Platina maken we op maat: vraag een offerte aan.</p>"
          + swatches("https://www.sieraden.example.nl/ring-blad/",
                     [("?attribute_pa_materiaal=zilver", "Zilver", "€ 149,00"),
                      ("?attribute_pa_materiaal=goud-14k", "Goud 14K", "€ 689,00"),
                      ("?attribute_pa_materiaal=platina", "Platina", "")], "?attribute_pa_materiaal=platina")
          + "<form class='quote'><input name='email'><button type='submit'>Offerte aanvragen</button></form>"),
     "unavailable"),
    # Radio buttons in their labels (OpenCart, Polish): the checked capacity shows no price and cannot be ordered; the
    # JSON-LD's stale amount is printed nowhere on the page. Not the price of anything the page sells now.
    ("pl-checked-radio-stale-structured",
     "https://klimatyzacja.example.pl/index.php?route=product/product&product_id=88&moc=3-5kw",
     page("pl", ld("3899.00", "PLN").replace("InStock", "OutOfStock"),
          "<h1>Klimatyzator ścienny Brisa</h1><p class='stock'>Chwilowo niedostępny w tej mocy</p>"
          "<div class='options'><div class='radio'><label><input type='radio' name='option[12]' value='1'>"
          "2,6 kW — 2 999,00 zł</label></div><div class='radio'><label><input type='radio' name='option[12]' value='2'"
          " checked>3,5 kW</label></div><div class='radio'><label><input type='radio' name='option[12]' value='3'>"
          "5,0 kW — 4 599,00 zł</label></div></div>"
          "<form class='notify'><input name='email'><button type='submit'>Powiadom o dostępności</button></form>"),
     "unavailable"),
    # Radio buttons with labels beside them (Shopify, New Zealand English): the checked licence is sold by quote
    # only, the add-to-cart is disabled; "From $49.00" and the JSON-LD range's low end are another licence's price.
    ("nz-checked-radio-on-quote",
     "https://softshop.example.co.nz/products/backup-suite?variant=3004",
     page("en-NZ", '<script type="application/ld+json">' + json.dumps({
         "@context": "https://schema.org", "@type": "Product", "name": "Backup Suite",
         "offers": {"@type": "AggregateOffer", "lowPrice": "49.00", "highPrice": "129.00", "priceCurrency": "NZD"}})
          + "</script>",
          "<h1>Backup Suite</h1><div class='price'><span>From $49.00</span></div><p>Enterprise: contact our team"
          " for a quote.</p><fieldset><legend>Licence</legend>"
          "<input type='radio' id='v1' name='Licence' value='Home'><label for='v1'>Home <span>$49.00</span></label>"
          "<input type='radio' id='v2' name='Licence' value='Pro'><label for='v2'>Pro <span>$129.00</span></label>"
          "<input type='radio' id='v3' name='Licence' value='Enterprise' checked><label for='v3'>Enterprise</label>"
          "</fieldset><button type='button' class='add-to-cart' disabled>Add to cart</button>"),
     "unavailable"),
    # The designated option's price is nowhere else in the buy box (French): nothing says what this page sells.
    ("fr-designated-price-not-in-buy-box",
     "https://www.lunettes.example.fr/monture-aviateur.html?couleur=or-rose",
     page("fr", ld("149.00", "EUR"),
          "<h1>Monture aviateur titane</h1><p class='price'>À partir de 149,00 €</p>"
          + swatches("https://www.lunettes.example.fr/monture-aviateur.html",
                     [("?couleur=argent", "Argent", "149,00 €"), ("?couleur=or-rose", "Or rose", "179,00 €")],
                     "?couleur=or-rose")
          + "<button class='add-to-cart'>Ajouter au panier</button>"),
     "undecided"),
]


@pytest.mark.parametrize(("url", "html", "expected"), [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_the_designated_variant_decides_over_structured_data_of_another(url: str, html: str,
                                                                         expected: Decimal | str) -> None:
    got = extract(html, url)
    if isinstance(expected, Decimal):
        assert got.price == expected, (got.price, got.method, got.flags, got.undecided)
        assert got.undecided is None
    elif expected == "undecided":
        assert got.price is None and got.undecided is not None, (got.price, got.method, got.flags)
        assert "another variant" in got.undecided
    else:
        assert got.price is None and got.undecided is None, (got.price, got.method, got.flags, got.undecided)
        assert f"no_price_shown:{expected}" in got.flags, got.flags
        assert got.price_visibility == "not_shown"


# --- what must not move ------------------------------------------------------------------------------------------

def test_structured_data_of_the_designated_variant_stays() -> None:
    html = page("en-GB", ld("45.00", "GBP"),
                "<h1>Merino Crew Jumper</h1><div class='price'>£45.00</div>"
                + swatches("https://knit.example.co.uk/products/merino-crew",
                           [("?variant=71", "Navy", "£45.00"), ("?variant=72", "Oat", "£49.00")], "?variant=71")
                + "<button class='add-to-cart'>Add to basket</button>")
    got = extract(html, "https://knit.example.co.uk/products/merino-crew?variant=71")
    assert got.price == D("45.00") and got.method == "json-ld", (got.price, got.method, got.flags)
    assert not any(f.startswith(("structured_other_variant", "no_price_shown")) for f in got.flags)


def test_radio_options_the_page_marks_checked_keep_their_reading() -> None:
    # Options as radio buttons (aria-checked), JSON-LD of the first colour shown only in its own option: the buy box's
    # amount, as before.
    html = page("tr", ld("1499.90", "TRY"),
                "<h1>Chelsea Bot Deri</h1><div class='product-price'>1.699,90 TL</div>"
                "<div role='radiogroup'><button role='radio' aria-checked='false'>Siyah 1.499,90 TL</button>"
                "<button role='radio' aria-checked='true'>Taba 1.699,90 TL</button>"
                "<button role='radio' aria-checked='false'>Lacivert 1.599,90 TL</button></div>"
                "<button class='add-to-cart'>Sepete Ekle</button>")
    got = extract(html, "https://www.ayakkabi.example.com.tr/chelsea-bot-deri")
    assert got.price == D("1699.90"), (got.price, got.method, got.flags)


def test_a_selector_of_surcharges_says_nothing_about_the_price() -> None:
    # Options that add to the price ("+495 kr") are no variant's price: the structured price stands.
    html = page("sv", ld("16495", "SEK"),
                "<h1>Soffa Ljung 3-sits</h1><div class='price'>16 495 kr</div>"
                "<select name='ben'><option value='ek' selected>Ek natur</option>"
                "<option value='svart'>Svart metall +495 kr</option></select>"
                "<button class='add-to-cart'>Lägg i varukorgen</button>")
    got = extract(html, "https://www.soffor.example.se/produkt/ljung-3-sits")
    assert got.price == D("16495") and got.method == "json-ld", (got.price, got.method, got.flags)


def test_a_sold_out_designated_variant_that_shows_its_price_keeps_it() -> None:
    # The designated colour is sold out but the buy box prints its price: that is the page's price, as shown.
    html = page("de-DE", ld("139.95", "EUR"),
                "<h1>Laufschuh Stride</h1><div class='price'>139,95 €</div><p>Ausverkauft</p>"
                + swatches("https://www.lauf.example.de/stride/",
                           [("VX-1", "Blau", "139,95 €"), ("VX-2", "Weiß", "Ausverkauft")], "VX-2")
                + "<button class='notify'>Benachrichtigen</button>")
    got = extract(html, "https://www.lauf.example.de/stride/VX-2")
    assert got.price == D("139.95"), (got.price, got.method, got.flags, got.undecided)


@pytest.mark.parametrize(("lang", "head", "body", "url"), [
    # A refurbished shop (Italian): the address names grade B, sold out; the buy box offers grade A instead, named.
    ("it-IT", ld("329.00", "EUR"),
     "<h1>Tablet Orbe 11 128 GB</h1>"
     + swatches("https://www.rigenera.example.it/tablet-orbe-11?grado=",
                [("a", "Grado A", "329,00 €"), ("b", "Grado B", "Esaurito")], "b")
     + "<p>Questo grado è esaurito.</p><p>Disponibile in Grado A a 329,00 €</p>"
       "<button class='notify'>Avvisami</button>",
     "https://www.rigenera.example.it/tablet-orbe-11?grado=b"),
    # A Turkish electronics shop: the address names the open-box unit, sold out; the new unit's price is shown
    # after its name, and its JSON-LD is the new unit's.
    ("tr-TR", ld("18999.00", "TRY"),
     "<h1>Kulaklık Vela Pro</h1>"
     + swatches("https://www.elektro.example.com.tr/vela-pro?durum=",
                [("sifir", "Sıfır", "18.999,00 TL"), ("acik-kutu", "Açık kutu", "Tükendi")], "acik-kutu")
     + "<div class='alt'>Sıfır ürün: <b>18.999,00 TL</b> <button class='add-to-cart'>Sepete Ekle</button></div>",
     "https://www.elektro.example.com.tr/vela-pro?durum=acik-kutu"),
    # No structured data (Vietnamese): the visible scan's price is the other grade's.
    ("vi-VN", "",
     "<h1>Điện thoại Nova 12 256GB</h1>"
     + swatches("https://www.maycu.example.vn/nova-12?loai=",
                [("99", "Like new 99%", "8.490.000₫"), ("95", "Cũ 95%", "Hết hàng")], "95")
     + "<p>Hết hàng loại này.</p><p>Còn hàng: Like new 99% giá 8.490.000₫</p><button>Báo khi có hàng</button>",
     "https://www.maycu.example.vn/nova-12?loai=95"),
])
def test_a_sold_out_designated_option_gives_no_price_when_the_buy_box_offers_another(lang: str, head: str, body: str,
                                                                                      url: str) -> None:
    # The address names a condition or grade that is sold out; the buy box offers another one, printed after that
    # option's name: that amount is the other option's offer, not the page's price.
    got = extract(page(lang, head, body), url)
    assert got.price is None and "no_price_shown:sold_out" in got.flags, (got.price, got.method, got.flags)


def _no_h1(name: str, before: str = "") -> str:
    # (a table layout that heads its product with a cell, no h1; the size links designate the variant)
    return ('<!doctype html><html lang="de-AT"><head><meta charset="utf-8">'
            f"<title>{name} | Radhaus</title>{ld('3999.00', 'EUR')}</head><body><header>{before}</header>"
            f'<table><tr><td class="pageHeading">{name}</td></tr><tr><td><div class="sizes">'
            '<a href="/trail-e7?size=m">M – 3.999,00 €</a> <a href="/trail-e7?size=l">L – 4.199,00 €</a></div>'
            '<div class="preis">4.199,00 €</div><button>In den Warenkorb</button></td></tr></table>'
            "<footer>© Radhaus</footer></body></html>")


@pytest.mark.parametrize("before", [
    "",
    # (a breadcrumb's link naming the product ahead of its heading is not the heading)
    '<nav class="crumbs"><a href="/">Start</a> › <a href="/trail-e7">Kettwerk Trail E-7 625 Wh</a></nav>',
])
def test_a_page_without_an_h1_is_read_from_the_element_its_name_starts(before: str) -> None:
    ex = extract(_no_h1("Kettwerk Trail E-7 625 Wh", before), "https://www.radhaus.example.at/trail-e7?size=l")
    assert (ex.price, "structured_other_variant_selected" in ex.flags) == (D("4199.00"), True)


def _woo(query: str, shown: str) -> tuple[str, str]:
    # (a WooCommerce variable product: the summary's range, JSON-LD of the first variation, each variation's prices in
    # the form's data-product_variations; ``shown``: what the variation block prints once the address is read)
    variations = [{"attributes": {"attribute_pa_vikt": slug}, "display_price": price, "display_regular_price": was,
                   "is_in_stock": True, "is_purchasable": True, "variation_id": 400 + i}
                  for i, (slug, price, was) in enumerate((("250-g", 89, 89), ("1-kg", 279, 329), ("3-kg", 749, 749)))]
    form = ("<form class='variations_form cart' data-product_id='77' data-product_variations='"
            + json.dumps(variations) + "'><table class='variations'><tr><th><label for='pa_vikt'>Vikt</label></th>"
            "<td><select id='pa_vikt' name='attribute_pa_vikt'><option value=''>Välj</option>"
            "<option value='250-g'>250 g</option><option value='1-kg'>1 kg</option><option value='3-kg'>3 kg</option>"
            "</select></td></tr></table><div class='single_variation_wrap'><div class='woocommerce-variation'>"
            f"{shown}</div><button type='submit' class='single_add_to_cart_button button alt'>Lägg i varukorgen"
            "</button></div></form>")
    url = f"https://www.rosteriet.example.se/produkt/espresso-blend/?{query}"
    return url, page("sv-SE", ld("89.00", "SEK", sku="EB-250"),
                     "<h1>Espresso Blend Mörkrost</h1><p class='price'>89,00 kr – 749,00 kr</p>" + form)


def test_a_woocommerce_variation_the_address_selects_decides_by_the_platform_s_state() -> None:
    # (no option shows a price: the form's state says the 1 kg variation costs 279, the variation block prints it)
    url, html = _woo("attribute_pa_vikt=1-kg", "<span class='price'><del>329,00 kr</del> <ins>279,00 kr</ins></span>")
    ex = extract(html, url)
    assert (ex.price, "structured_other_variant_selected" in ex.flags) == (D("279.00"), True)


def test_a_woocommerce_variation_the_buy_box_does_not_print_leaves_the_page_undecided() -> None:
    url, html = _woo("attribute_pa_vikt=1-kg", "<p class='stock in-stock'>I lager</p>")
    ex = extract(html, url)
    assert ex.price is None and ex.undecided is not None


def test_a_woocommerce_variation_of_the_structured_price_keeps_it() -> None:
    url, html = _woo("attribute_pa_vikt=250-g", "<span class='price'>89,00 kr</span>")
    assert extract(html, url).price == D("89.00")
