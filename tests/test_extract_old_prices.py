"""Old prices, instalments, surcharges and variations that are not the price the page sells at.

A structured price the page shows only as its list price (a "regular" price beside the sale price, struck
through, or named so by a screen-reader label after it) is never confirmed by that printing; an instalment
(Laybuy, "weekly payments from") or an option's surcharge ("(+4,90 €)") is never the price; a price shown
alone in a heading is; the variant the page's address selects decides between the offers of several
variants, and a range with nothing selected decides nothing. Each page is written for the principle it
tests, in the manner of shops of several countries (not copies of any held-out page); every test reads the
whole cascade.
"""

from __future__ import annotations

import html as html_lib
import json
from decimal import Decimal

from crawlers.extract import extract

D = Decimal


def page(body: str, head: str = "", lang: str = "en") -> str:
    return (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>Product</title>{head}</head>'
            f"<body><header><nav><a href='/'>Home</a></nav></header><main>{body}</main>"
            "<footer>© Shop</footer></body></html>")


def offer_ld(*offers: tuple[str, str, str | None]) -> str:
    """JSON-LD Product with one offer per (price, currency, url)."""
    items = [{"@type": "Offer", "price": p, "priceCurrency": c, **({"url": u} if u else {})} for p, c, u in offers]
    return ('<script type="application/ld+json">' + json.dumps({
        "@context": "https://schema.org", "@type": "Product", "name": "Product",
        "offers": items[0] if len(items) == 1 else items}) + "</script>")


def aggregate_ld(low: str, high: str, currency: str) -> str:
    return ('<script type="application/ld+json">' + json.dumps({
        "@context": "https://schema.org", "@type": "Product", "name": "Product",
        "offers": {"@type": "AggregateOffer", "lowPrice": low, "highPrice": high, "priceCurrency": currency,
                   "offerCount": 3}}) + "</script>")


# --- a structured price the page shows only as its old price -------------------------------------------------

def test_a_structured_price_shown_only_as_the_regular_price_beside_a_sale_price_is_not_confirmed() -> None:
    # The feed still carries the price before the sale; the buy box shows it as "price-regular".
    body = ('<h1>Lampe de bureau Arco LED</h1><div class="price-box"><span class="price-sale">89,00 €</span>'
            '<span class="price-regular">119,00 €</span></div><button class="add-to-cart">Ajouter au panier</button>')
    got = extract(page(body, offer_ld(("119.00", "EUR", None)), lang="fr"), "https://boutique.example.fr/p/arco")
    assert got.price == D("89.00"), (got.price, got.method, got.flags, got.candidates)
    assert "structured_contradicted" in got.flags


def test_a_structured_price_shown_only_struck_with_no_readable_current_price_leaves_the_page_undecided() -> None:
    # The current price is drawn as an image: it cannot be read, and the structured price is the struck one.
    body = ('<h1>عطر المسك الأبيض 75 مل</h1><div class="product-price"><h4 class="total"><img src="/p/149.svg" '
            'alt=""></h4><span class="text-gray line-through">199 ر.ق</span></div>'
            '<button class="add-to-cart">أضف للسلة</button>')
    got = extract(page(body, offer_ld(("199", "QAR", None)), lang="ar"), "https://misk.example.qa/p/75")
    assert got.price is None and got.undecided, (got.price, got.method, got.flags)
    assert "structured_shown_as_regular" in got.flags


def test_a_screen_reader_label_after_an_amount_names_it_the_list_price() -> None:
    body = ('<h1>Vantage 70-200mm f/4 lens</h1><div class="prices"><span class="p1">$899.00</span>'
            '<span class="p2">$1,049.00</span><span class="sr-only">Regular Price</span>'
            '<span class="sr-only">Sale Price</span></div><button class="add-to-cart">Add to Cart</button>')
    got = extract(page(body, offer_ld(("1049.00", "USD", None))), "https://lens.example.com/product-page/vantage")
    assert got.price == D("899.00"), (got.price, got.method, got.flags, got.candidates)


def test_a_screen_reader_label_before_the_next_amount_names_that_one() -> None:
    # "Regular price" labels the amount after it, not the one before it.
    body = ('<h1>Trail runner 2</h1><div class="price"><span>$120.00</span>'
            '<span class="visually-hidden">Regular price</span><s>$150.00</s></div>'
            '<button class="add-to-cart">Add to cart</button>')
    got = extract(page(body, offer_ld(("120.00", "USD", None))), "https://run.example.com/products/trail-runner-2")
    assert got.price == D("120.00") and got.method == "json-ld", (got.price, got.method, got.flags)


def test_shopwares_with_list_price_class_is_the_current_price() -> None:
    body = ('<h1>Trekkingrad Alpina 8</h1><div class="product-detail-price-container">'
            '<p class="product-detail-price with-list-price">1.899,00 €*</p>'
            '<span class="list-price">UVP <span class="list-price-price">2.199,00 €*</span></span></div>'
            '<button class="btn-buy">In den Warenkorb</button>')
    got = extract(page(body, offer_ld(("1899.00", "EUR", None)), lang="de-AT"), "https://rad.example.at/Alpina-8")
    assert got.price == D("1899.00") and got.undecided is None, (got.price, got.method, got.flags, got.undecided)


def test_a_product_cards_price_element_is_no_card_holders_price() -> None:
    body = ('<h1>Stavebnice Hrad 3000</h1><div class="p-price"><span class="price-standard">1 499 Kč</span>'
            '<strong class="price-final" data-testid="productCardPrice">1 199 Kč</strong></div>'
            '<button class="add-to-cart">Do košíku</button>')
    got = extract(page(body, offer_ld(("1399", "CZK", None)), lang="cs"), "https://hracky.example.cz/hrad-3000/")
    assert got.price != D("1399"), (got.price, got.method, got.flags)
    assert got.price in {D("1199"), None}, (got.price, got.method, got.flags)


# --- instalments and surcharges -------------------------------------------------------------------------------

def test_laybuy_and_weekly_payments_are_never_the_price() -> None:
    body = ('<h1>Kiwi 30L daypack</h1><div class="price-area"><span class="price-unreadable">NZ$ —</span></div>'
            '<div class="laybuy-price">or 6 weekly payments from $24.83 with Laybuy</div>'
            '<p>or 4 fortnightly payments of $37.25</p><button class="add-to-cart">Add to cart</button>')
    got = extract(page(body, lang="en-NZ"), "https://packs.example.co.nz/products/kiwi-30")
    assert got.price not in {D("24.83"), D("37.25")}, (got.price, got.method, got.flags)


def test_an_options_surcharge_is_no_price_and_a_heading_holding_the_amount_alone_is() -> None:
    # OpenCart's default theme: the price in an <h2> of the product's info list, options priced "(+…)".
    body = ('<div class="col-sm-4"><h1>Βραστήρας Inox 1,7L</h1><ul class="list-unstyled"><li>Κωδικός: BR-17</li></ul>'
            '<ul class="list-unstyled"><li><span style="text-decoration: line-through;">49,90€</span></li>'
            '<li><h2>39,90€</h2></li><li>Χωρίς ΦΠΑ: 32,18€</li></ul>'
            '<div class="extras"><label><input type="checkbox"> Φίλτρο αλάτων (+3,90€)</label>'
            '<label><input type="checkbox"> Επέκταση εγγύησης (+9,90€)</label></div>'
            '<button id="button-cart" class="btn btn-primary">Προσθήκη στο καλάθι</button></div>')
    got = extract(page(body, lang="el"), "https://ilektrika.example.gr/vrastiras-inox")
    assert got.price == D("39.90") and got.undecided is None, (got.price, got.method, got.undecided)


# --- the variant the address selects --------------------------------------------------------------------------

def test_the_selected_option_of_the_addresses_variant_confirms_that_variants_offer() -> None:
    base = "https://gear.example.com.au/products/swag-tent"
    body = ('<h1>Swag tent 2P</h1><div class="product-single__prices"><span class="product__price on-sale">'
            '$449.00 AUD</span></div><div class="afterpay">or 4 payments of $112.25 with Afterpay</div>'
            '<select name="id"><option value="9001">Sand - $399.00 AUD</option>'
            '<option selected="selected" value="9002">Forest - $449.00 AUD</option></select>'
            '<button class="add-to-cart">Add to cart</button>')
    head = offer_ld(("399.0", "AUD", base + "?variant=9001"), ("449.0", "AUD", base + "?variant=9002"),
                    ("399.0", "AUD", base + "?variant=9003"))
    got = extract(page(body, head, lang="en-AU"), base + "?variant=9002")
    assert got.price == D("449.0"), (got.price, got.method, got.flags, got.candidates)


def _woo_page(head: str) -> str:
    variations = [{"attributes": {"attribute_pa_size": size}, "display_price": price,
                   "display_regular_price": 1299.0, "sku": f"GR-{size.upper()}"}
                  for size, price in (("s", 999.0), ("m", 1099.0), ("l", 1199.0))]
    body = ('<h1>Gravelcykel Fjord</h1><p class="price"><span class="woocommerce-Price-amount amount"><bdi>'
            '999,00&nbsp;<span class="woocommerce-Price-currencySymbol">€</span></bdi></span> &ndash; '
            '<span class="woocommerce-Price-amount amount"><bdi>1.199,00&nbsp;'
            '<span class="woocommerce-Price-currencySymbol">€</span></bdi></span></p>'
            f'<form class="variations_form cart" data-product_variations="{html_lib.escape(json.dumps(variations))}">'
            '<select name="attribute_pa_size"><option value="s">S</option><option value="m">M</option>'
            '<option value="l">L</option></select>'
            '<button type="submit" class="single_add_to_cart_button button">Læg i kurv</button></form>')
    return page(body, head, lang="de-DE")


def test_the_woocommerce_variation_the_address_selects_gives_the_price_inside_the_shown_range() -> None:
    got = extract(_woo_page(aggregate_ld("999.00", "1199.00", "EUR")),
                  "https://rad.example.de/produkt/fjord/?attribute_pa_size=m")
    assert got.price == D("1099.0") and got.method == "embedded-json", (got.price, got.method, got.flags)


def test_a_range_with_no_variation_selected_names_no_price() -> None:
    got = extract(_woo_page(aggregate_ld("999.00", "1199.00", "EUR")), "https://rad.example.de/produkt/fjord/")
    assert got.price is None and got.undecided, (got.price, got.method, got.flags)


def test_the_signs_of_the_pages_own_currency_are_read_whatever_its_language_names() -> None:
    # lang="ar" names no country; the structured data says AED, and the buy box writes "د.إ" after an icon.
    body = ('<h1>ساعة ذكية فيتا 2</h1><div class="price-wrap"><h4 class="total-price">349 <i class="icon-aed"></i>'
            ' د.إ</h4><span class="before-price line-through">399 د.إ</span></div>'
            '<button class="add-to-cart">أضف إلى السلة</button>')
    got = extract(page(body, offer_ld(("399", "AED", None)), lang="ar"), "https://saatna.example.com/p/vita-2")
    assert got.price == D("349"), (got.price, got.method, got.flags, got.candidates)
