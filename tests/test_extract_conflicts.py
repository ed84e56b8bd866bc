"""Evidence that conflicts: structured data of another variant than the page sells, a structured price the buy
box shows only as a card or members' price, and a buy box whose price only a script draws.

In each case the cascade takes the price everyone pays for what the page's address selects, or says it cannot
tell (undecided, or a price slot the crawl renders), never the structured price that describes something
else. Each page is written for the principle it tests, in the manner of shops of several countries (not
copies of any held-out page); every test reads the whole cascade.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from crawlers.extract import extract

D = Decimal


def page(body: str, head: str = "", lang: str = "en", tail: str = "") -> str:
    return (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>Product</title>{head}</head>'
            f"<body><header><nav><a href='/'>Home</a></nav></header><main>{body}</main>"
            f"<footer>© Shop</footer>{tail}</body></html>")


def offer_ld(price: str, currency: str, url: str | None = None, sku: str | None = None) -> str:
    offer: dict[str, str] = {"@type": "Offer", "price": price, "priceCurrency": currency}
    if url:
        offer["url"] = url
    if sku:
        offer["sku"] = sku
    return ('<script type="application/ld+json">' + json.dumps({
        "@context": "https://schema.org", "@type": "Product", "name": "Product", "offers": offer}) + "</script>")


def product_json(variants: list[tuple[int, str, int]]) -> str:
    """Shopify-style product JSON: (id, title, price in cents) per variant."""
    return ('<script type="application/json" id="ProductJson-main">' + json.dumps({
        "id": 77, "title": "Product", "price": variants[0][2],
        "variants": [{"id": i, "title": t, "price": p} for i, t, p in variants]}) + "</script>")


# --- structured data of another variant than the address selects -------------------------------------------

def test_the_state_price_of_the_variant_the_address_selects_wins_over_another_variants_offer() -> None:
    # The theme renders the first variant's offer (and "From €79") whatever ?variant= selects; the buy box
    # and the product JSON give the selected one's price.
    url = "https://shop.example.nl/products/wool-throw?variant=4100002"
    body = ('<h1>Wool throw 130 x 170</h1><p class="from">From €79.00</p>'
            '<div class="price"><span class="price-item">€94.00</span></div>'
            '<fieldset><legend>Colour: Ochre</legend><input type="radio" name="c" value="Grey">'
            '<label>Grey</label><input type="radio" name="c" value="Ochre" checked><label>Ochre</label></fieldset>'
            '<button class="add-to-cart">Add to cart</button>')
    html = page(body, offer_ld("79.00", "EUR", url="https://shop.example.nl/products/wool-throw?variant=4100001"),
                lang="en-NL", tail=product_json([(4100001, "Grey", 7900), (4100002, "Ochre", 9400)]))
    got = extract(html, url)
    assert got.price == D("94.00"), (got.price, got.method, got.flags, got.candidates)
    assert got.method == "embedded-json" and got.undecided is None


def test_another_variants_offer_without_state_yields_to_a_clear_buy_box_price() -> None:
    url = "https://www.example.co.uk/p/desk-lamp?sku=LAMP-BRASS"
    body = ('<h1>Arc desk lamp</h1><div class="product-price"><span class="price price--sale">£64.00</span></div>'
            '<button class="add-to-basket">Add to basket</button>')
    html = page(body, offer_ld("49.00", "GBP", url="https://www.example.co.uk/p/desk-lamp?sku=LAMP-BLACK"),
                lang="en-GB")
    got = extract(html, url)
    assert got.price == D("64.00"), (got.price, got.method, got.flags, got.candidates)
    assert "structured_contradicted" in got.flags


def test_the_state_price_of_the_selected_variant_not_shown_leaves_the_page_undecided() -> None:
    # The state says the selected variant costs 1 290 kr; the static buy box shows the default variant's 990 kr
    # (the script switches it after load): nothing shown is the selected variant's price.
    url = "https://www.example.se/produkt/kruka?variant=900002"
    body = ('<h1>Kruka keramik</h1><div class="price"><span class="price-item">990 kr</span></div>'
            '<button class="buy">Lägg i varukorgen</button>')
    html = page(body, offer_ld("990", "SEK"), lang="sv-SE",
                tail=product_json([(900001, "Liten", 99000), (900002, "Stor", 129000)]))
    got = extract(html, url)
    assert got.price is None and got.undecided is not None, (got.price, got.flags, got.candidates)
    assert "another variant" in got.undecided
    assert {c.price for c in got.competing} == {D("990")}


def test_an_offer_of_the_selected_variant_is_read_as_before() -> None:
    url = "https://shop.example.com/products/mug?variant=51"
    body = ('<h1>Stoneware mug</h1><div class="price"><span class="price-item">$18.00</span></div>'
            '<button class="add-to-cart">Add to cart</button>')
    html = page(body, offer_ld("18.00", "USD", url="https://shop.example.com/products/mug?variant=51"),
                tail=product_json([(50, "White", 1600), (51, "Blue", 1800)]))
    got = extract(html, url)
    assert got.price == D("18.00") and got.method == "json-ld" and not got.flags, (got.price, got.flags)



@pytest.mark.parametrize(("url", "lang", "line", "buy_box", "structured", "currency", "want"), [
    pytest.param("https://shop.example.ie/p/throw", "en-IE", "From €79.00", "€94.00", "79.00", "EUR", "94.00",
                 id="from"),
    pytest.param("https://shop.example.de/p/decke", "de-DE", "ab 79,00 €", "94,00 €", "79.00", "EUR", "94.00",
                 id="ab"),
    pytest.param("https://tienda.example.cl/p/manta", "es-CL", "Desde $ 79.990", "$ 94.990", "79990", "CLP", "94990",
                 id="desde"),
    pytest.param("https://shop.example.com/p/throw", "en-US", "Starting at $79.00", "$94.00", "79.00", "USD", "94.00",
                 id="starting-at"),
    # (the languages that write "from" after the amount)
    pytest.param("https://shop.example.co.kr/p/throw", "ko-KR", "79,000원부터", "94,000원", "79000", "KRW", "94000",
                 id="buteo"),
    pytest.param("https://shop.example.jp/p/throw", "ja-JP", "7,900円から", "9,400円", "7900", "JPY", "9400",
                 id="kara"),
    pytest.param("https://shop.example.cn/p/throw", "zh-CN", "¥79起", "¥94", "79", "CNY", "94", id="qi"),
])
def test_a_from_price_confirms_no_structured_price_while_the_buy_box_shows_another(
        url: str, lang: str, line: str, buy_box: str, structured: str, currency: str, want: str) -> None:
    # No variant in the address: the structured offer is the cheapest variant's, the buy box the chosen one's.
    body = (f'<h1>Wool throw</h1><p class="from">{line}</p><div class="price">'
            f'<span class="price-item price-item--sale">{buy_box}</span></div>'
            '<div class="opts"><button aria-pressed="false">Grey</button>'
            '<button aria-pressed="true">Ochre</button></div><button class="add-to-cart">Add to cart</button>')
    got = extract(page(body, offer_ld(structured, currency), lang), url)
    assert got.price == D(want), (got.price, got.method, got.flags, got.candidates)


def test_a_from_price_that_is_the_only_price_shown_still_confirms_the_structured_one() -> None:
    body = ('<h1>Wool throw</h1><div class="price"><span class="price-item">From €79.00</span></div>'
            '<button class="add-to-cart">Add to cart</button>')
    got = extract(page(body, offer_ld("79.00", "EUR"), "en-IE"), "https://shop.example.ie/p/throw")
    assert got.price == D("79.00") and got.method == "json-ld", (got.price, got.method, got.flags)


# --- a structured price the buy box shows only as a card, rewards, club or app price ------------------------

def ld(price: str, currency: str) -> str:
    return offer_ld(price, currency)


# url, lang, the public price as shown, the conditional line, the structured (conditional) price, currency, want
CONDITIONAL = [
    pytest.param("https://shop.example.com/p/1", "en-US", "$24.99", "Rewards price $21.99", "21.99", "USD", "24.99",
                 id="rewards-price"),
    pytest.param("https://shop.example.com/p/1", "en-US", "$24.99", "Card price: $21.99", "21.99", "USD", "24.99",
                 id="card-price"),
    pytest.param("https://shop.example.com/p/1", "en-US", "$24.99", "App-only price $21.99", "21.99", "USD", "24.99",
                 id="app-only"),
    pytest.param("https://shop.example.com/p/1", "en-US", "$24.99", "$21.99 in the app", "21.99", "USD", "24.99",
                 id="in-the-app-after"),
    pytest.param("https://shop.example.co.uk/p/1", "en-GB", "£4.50", "Clubcard Price £3.75", "3.75", "GBP", "4.50",
                 id="club-card"),
    pytest.param("https://loja.example.com.br/p/1", "pt-BR", "R$ 249,90", "Preço exclusivo no app R$ 229,90",
                 "229.90", "BRL", "249.90", id="pt-exclusivo-no-app"),
    pytest.param("https://shop.example.de/p/1", "de-DE", "24,99 €", "Kundenkartenpreis 21,99 €", "21.99", "EUR",
                 "24.99", id="de-kundenkarte"),
    pytest.param("https://shop.example.it/p/1", "it-IT", "24,99 €", "Prezzo Carta Fedeltà 21,99 €", "21.99", "EUR",
                 "24.99", id="it-carta-fedelta"),
    pytest.param("https://shop.example.pl/p/1", "pl-PL", "24,99 zł", "Cena w aplikacji 21,99 zł", "21.99", "PLN",
                 "24.99", id="pl-w-aplikacji"),
    pytest.param("https://shop.example.jp/p/1", "ja-JP", "2,980円", "アプリ価格 2,680円", "2680", "JPY", "2980",
                 id="ja-app"),
    pytest.param("https://shop.example.cn/p/1", "zh-CN", "¥299.00", "APP专享价 ¥279.00", "279.00", "CNY", "299.00",
                 id="zh-app"),
    pytest.param("https://shop.example.kr/p/1", "ko-KR", "29,900원", "앱 전용가 26,900원", "26900", "KRW", "29900",
                 id="ko-app"),
]


@pytest.mark.parametrize(("url", "lang", "public", "line", "structured", "currency", "want"), CONDITIONAL)
def test_a_structured_price_the_buy_box_labels_for_card_holders_or_app_users_is_not_the_price(
        url: str, lang: str, public: str, line: str, structured: str, currency: str, want: str) -> None:
    body = (f'<h1>Thing</h1><div class="price"><span class="price__now">{public}</span></div>'
            f'<div class="promo-line"><b>{line}</b></div><button class="add-to-cart">Add to cart</button>')
    got = extract(page(body, ld(structured, currency), lang), url)
    assert got.price == D(want), (got.price, got.method, got.flags, got.candidates)
    assert "structured_contradicted" in got.flags


def test_a_rand_price_with_its_cents_raised_beats_the_store_cards_structured_price() -> None:
    # "R249<sup>99</sup>": the rand's one-letter sign on a South African page, cents in a sup; the JSON-LD
    # offer is the card price the page names beside the card's logo.
    body = ('<h1>Rooibos tea 80 bags</h1><div class="pdp-price"><div class="pdp-price__now">R49<sup>99</sup></div>'
            '<div class="pdp-price__was">Was R59.99</div></div>'
            '<div class="rewards"><img src="/card.svg" alt="Spaza Card"><b>Card price R44.99</b></div>'
            '<button class="add-to-cart">Add to trolley</button>')
    got = extract(page(body, ld("44.99", "ZAR"), "en-ZA"), "https://www.spaza.example.co.za/p/rooibos-80")
    assert got.price == D("49.99") and got.currency == "ZAR", (got.price, got.flags, got.candidates)


def test_a_capital_r_elsewhere_is_no_rand() -> None:
    body = ('<h1>Cable R2 USB-C</h1><div class="price"><span class="price__now">$12.00</span></div>'
            '<p>Model R2 500 series</p><button class="add-to-cart">Add to cart</button>')
    got = extract(page(body, lang="en-US"), "https://shop.example.com/p/cable-r2")
    assert got.price == D("12.00"), (got.price, got.candidates)


# --- a buy box whose price only a script draws --------------------------------------------------------------

@pytest.mark.parametrize("box", [
    '<span class="p-price"><span>￥</span><span class="price J-p-8812"></span></span>',
    '<div class="product-price">R$ <span class="price-value"></span></div>',
    '<p class="price"><span class="currency">€</span><span class="price__amount"></span></p>',
], ids=["yuan-sign-then-empty", "real-sign-then-empty", "euro-sign-then-empty"])
def test_a_currency_sign_beside_an_empty_price_slot_waits_for_the_script(box: str) -> None:
    # The price is only in a script's state (not JSON the cascade reads); related products show theirs.
    body = (f'<div class="sku-name">Laptop 16 Pro 32G 1T</div><div class="summary-price">{box}</div>'
            '<a class="btn-buy" href="/cart/add?pid=8812">Add to cart</a>'
            '<section class="recommend"><h2>Recommended</h2><ul>'
            '<li class="gl-item"><a href="/p/1">Mouse</a><div class="p-price"><i>￥129.00</i></div></li>'
            '<li class="gl-item"><a href="/p/2">Dock</a><div class="p-price"><i>￥459.00</i></div></li></ul></section>')
    tail = '<script>var pageConfig={product:{skuid:8812,price:{p:"3299.00",op:"3699.00"}}};</script>'
    got = extract(page(body, tail=tail), "https://item.example.cn/8812.html")
    assert got.price is None and got.undecided is None, (got.price, got.candidates)
    assert "price_placeholder" in got.flags and got.looks_like_product  # (the crawl renders it)


def test_a_sign_beside_a_filled_price_is_read() -> None:
    body = ('<h1>Laptop 16 Pro</h1><div class="summary-price"><span class="p-price"><span>￥</span>'
            '<span class="price">3299.00</span></span></div>'
            '<a class="btn-buy" href="/cart/add?pid=8812">Add to cart</a>')
    got = extract(page(body, lang="zh-CN"), "https://item.example.cn/8812.html")
    assert got.price == D("3299.00") and "price_placeholder" not in got.flags, (got.price, got.candidates)
