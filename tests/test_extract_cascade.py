"""The extraction cascade on whole pages: which step wins, disagreements, failures, hidden prices."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from crawlers.extract import extract
from crawlers.profiles import parse_profile

D = Decimal
URL = "https://shop.example/p/ac-100"


def page(body: str, *, head: str = "", lang: str = "en-US", charset: str = "utf-8") -> str:
    return (f'<html lang="{lang}"><head><meta charset="{charset}"><title>Acme AC-100</title>{head}</head>'
            f"<body><nav class='menu'><a>Home</a></nav><main>{body}</main><footer>Help</footer></body></html>")


def ld(data: dict) -> str:
    return f'<script type="application/ld+json">{json.dumps(data)}</script>'


PRODUCT = {"@context": "https://schema.org", "@type": "Product", "name": "Acme AC-100", "sku": "AC-100",
           "gtin13": "0012345678905", "mpn": "AC100-BLK",
           "offers": {"@type": "Offer", "price": "199.00", "priceCurrency": "USD",
                      "availability": "https://schema.org/InStock"}}
BUY_BOX = '<h1>Acme AC-100</h1><div class="buybox"><span class="price">{price}</span>' \
          '<button class="add-to-cart">Add to cart</button></div>'


def test_json_ld_confirmed_by_the_visible_price() -> None:
    result = extract(page(BUY_BOX.format(price="$199.00"), head=ld(PRODUCT)), URL)
    assert (result.price, result.currency, result.method) == (D("199.00"), "USD", "json-ld")
    assert (result.sku, result.gtin, result.mpn) == ("AC-100", "0012345678905", "AC100-BLK")
    assert result.availability == "InStock"
    assert result.looks_like_product
    assert result.flags == []


def test_structured_list_price_contradicted_by_the_buy_box_is_flagged() -> None:
    body = ('<h1>Acme AC-100</h1><div class="buybox"><del class="price">$199.00</del>'
            '<span class="price sale-price">$149.00</span><button class="add-to-cart">Add to cart</button></div>')
    result = extract(page(body, head=ld(PRODUCT)), URL)
    assert result.price == D("149.00")
    assert result.method == "heuristic"
    assert "structured_contradicted" in result.flags
    assert result.regular_price == D("199.00")
    methods = {(c.method, c.price) for c in result.candidates}
    assert ("json-ld", D("199.00")) in methods  # the disagreement stays on the result


def test_structured_price_not_shown_anywhere_is_kept_but_flagged() -> None:
    body = '<h1>Acme AC-100</h1><p>Great headphones.</p><button class="add-to-cart">Add to cart</button>'
    result = extract(page(body, head=ld(PRODUCT)), URL)
    assert result.price == D("199.00")
    assert "structured_not_visible" in result.flags
    shown = extract(page(BUY_BOX.format(price="$199.00"), head=ld(PRODUCT)), URL)
    assert result.confidence < shown.confidence - 0.03  # (the calibrated rate of its kind of answer)


def test_profile_beats_structured_data() -> None:
    profile = parse_profile({"name": "acme", "domains": ["shop.example"], "currency": "EUR", "locale": "de_DE",
                             "decimal_separator": ",",
                             "selectors": {"price": ".preis-jetzt", "list_price": ".preis-alt", "sku": "[data-sku]"}})
    body = ('<h1>Acme AC-100</h1><div class="buybox" data-sku="AC-100-DE"><span class="preis-alt">1.499,00 €</span>'
            '<span class="preis-jetzt">1.299,00 €</span><button>In den Warenkorb</button></div>')
    result = extract(page(body, head=ld(PRODUCT), lang="de-DE"), URL, profile=profile)
    assert (result.price, result.currency, result.method) == (D("1299.00"), "EUR", "profile")
    assert result.regular_price == D("1499.00")
    assert result.sku == "AC-100-DE"
    assert result.raw_text == "1.299,00 €"


def test_profile_xpath_and_marketplace_offers() -> None:
    profile = parse_profile({
        "name": "market", "domains": ["127.0.0.1:8605"], "currency": "USD",
        "selectors": {"price": "xpath://div[@id='buybox']//b"},
        "offers": {"container": ".offer", "price": ".offer-price", "seller_name": ".seller",
                   "seller_id": {"selector": ".seller", "attr": "data-seller-id"}},
    })
    body = ('<h1>Acme AC-100</h1><div id="buybox"><b>$189.00</b><button>Add to cart</button></div>'
            '<div class="offer"><span class="seller" data-seller-id="S1">BestDeals</span>'
            '<span class="offer-price">$189.00</span></div>'
            '<div class="offer"><span class="seller" data-seller-id="S2">CheapCo</span>'
            '<span class="offer-price">$159.00</span></div>')
    result = extract(page(body), "http://127.0.0.1:8605/p/1", profile=profile)
    assert result.price == D("189.00")
    assert [(o.seller_name, o.seller_id, o.price, o.buy_box) for o in result.sellers] == [
        ("BestDeals", "S1", D("189.00"), True), ("CheapCo", "S2", D("159.00"), False)]


def test_profile_selector_that_matches_nothing_falls_back_and_is_flagged() -> None:
    profile = parse_profile({"name": "acme", "domains": ["shop.example"], "selectors": {"price": ".gone"}})
    result = extract(page(BUY_BOX.format(price="$199.00"), head=ld(PRODUCT)), URL, profile=profile)
    assert result.price == D("199.00")
    assert result.method == "json-ld"
    assert "profile_missing:price" in result.flags


def test_json_ld_marketplace_offers_with_sellers() -> None:
    data = {**PRODUCT, "offers": [
        {"@type": "Offer", "price": "199.00", "priceCurrency": "USD", "seller": {"@type": "Organization", "name": "A"}},
        {"@type": "Offer", "price": "179.00", "priceCurrency": "USD", "seller": {"@type": "Organization", "name": "B"}},
    ]}
    result = extract(page(BUY_BOX.format(price="$199.00"), head=ld(data)), URL)
    assert result.price == D("199.00")
    assert [(o.seller_name, o.price) for o in result.sellers] == [("A", D("199.00")), ("B", D("179.00"))]


def test_json_ld_in_a_graph_with_price_specification() -> None:
    data = {"@context": "https://schema.org", "@graph": [
        {"@type": "WebPage", "name": "x"},
        {"@type": "Product", "name": "Acme", "offers": {"@type": "Offer", "priceCurrency": "EUR",
                                                        "priceSpecification": [
                                                            {"@type": "UnitPriceSpecification", "price": "89.90"},
                                                            {"@type": "UnitPriceSpecification", "price": "119.00",
                                                             "priceType": "https://schema.org/ListPrice"}]}}]}
    result = extract(page(BUY_BOX.format(price="89,90 €"), head=ld(data), lang="de-DE"), URL)
    assert (result.price, result.currency, result.regular_price) == (D("89.90"), "EUR", D("119.00"))


def test_opengraph_price_meta() -> None:
    head = ('<meta property="og:type" content="product"><meta property="product:price:amount" content="329.99">'
            '<meta property="product:price:currency" content="USD">')
    result = extract(page('<h1>Acme</h1><button>Add to cart</button>', head=head), URL)
    assert (result.price, result.currency, result.method) == (D("329.99"), "USD", "opengraph")


def test_next_data_embedded_state() -> None:
    state = {"props": {"pageProps": {"product": {"id": 7, "name": "Acme AC-100", "sku": "AC-100",
                                                 "price": {"value": 149.5, "currency": "USD"}, "available": True}}}}
    script = f'<script id="__NEXT_DATA__" type="application/json">{json.dumps(state)}</script>'
    result = extract(page('<h1>Acme</h1><div id="root"></div>' + script), URL)
    assert (result.price, result.currency, result.method) == (D("149.5"), "USD", "embedded-json")
    assert result.availability == "InStock"


def test_initial_state_assignment() -> None:
    script = ('<script>window.__INITIAL_STATE__ = {"product": {"productId": "p1", "title": "Acme", '
              '"salePrice": "$99.00", "listPrice": "$129.00"}};</script>')
    result = extract(page("<h1>Acme</h1>" + script), URL)
    assert result.price == D("99.00")
    assert result.regular_price == D("129.00")


def test_shopify_product_json_is_in_cents() -> None:
    product = {"id": 1, "title": "Acme", "handle": "acme", "price": 12999, "compare_at_price": 15999,
               "variants": [{"id": 2, "price": 12999}]}
    script = f'<script type="application/json" id="ProductJson-product-template">{json.dumps(product)}</script>'
    html = page('<h1>Acme</h1><script src="https://cdn.shopify.com/s/x.js"></script>' + script)
    result = extract(html, URL)
    assert (result.price, result.regular_price) == (D("129.99"), D("159.99"))


def _next_data(product: dict) -> str:
    data = {"props": {"pageProps": {"product": product, "navigation": [{"title": "New in", "handle": "new"}]}}}
    return f'<script id="__NEXT_DATA__" type="application/json">{json.dumps(data)}</script>'


SKELETON = ('<h1>Acme AC-100</h1><div class="css-1x2"><span class="css-3y4 shimmer"></span>'
            '<button class="css-5z6" disabled>Add to cart</button></div>')


def test_a_skeleton_pages_state_keeps_the_price_in_its_offer_object() -> None:
    # The buy box fills by script; the state gives the product's offer as a child object (a buy box's own data).
    state = _next_data({"plid": "AC100", "title": "Acme AC-100",
                        "buybox": {"price": 129.0, "listPrice": 159.0, "currency": "USD", "stock": "in_stock"}})
    result = extract(page(SKELETON + state), URL)
    assert (result.price, result.regular_price, result.method) == (D("129.0"), D("159.0"), "embedded-json")


def test_every_colour_at_one_price_is_the_price_and_the_printed_text_says_the_minor_units() -> None:
    offer = {"current": {"value": 12900, "formatted": "$129.00"}, "original": None}
    state = _next_data({"id": "p1", "name": "Acme AC-100", "selectedColour": "black",
                        "colours": [{"code": "black", "price": offer}, {"code": "white", "price": offer}]})
    result = extract(page(SKELETON + state), URL)
    assert (result.price, result.method) == (D("129.00"), "embedded-json")


def test_colours_at_different_prices_decide_nothing_by_themselves() -> None:
    state = _next_data({"id": "p1", "name": "Acme AC-100", "colours": [
        {"code": "black", "price": {"current": {"value": 12900, "formatted": "$129.00"}}},
        {"code": "gold", "price": {"current": {"value": 14900, "formatted": "$149.00"}}}]})
    result = extract(page(SKELETON + state), URL)
    assert result.price is None


def test_gbk_page_in_yuan() -> None:
    body = '<h1>爱科 AC-100 耳机</h1><div class="price-box"><span class="price">￥1,299.00</span>' \
           '<del class="price">原价￥1,599.00</del><button>加入购物车</button></div>'
    data = page(body, lang="zh-CN", charset="gbk").encode("gbk")
    result = extract(data, "https://shop.example.cn/item/1")
    assert (result.price, result.currency, result.regular_price) == (D("1299.00"), "CNY", D("1599.00"))
    assert result.title == "爱科 AC-100 耳机"


def test_yen_on_a_japanese_page_is_jpy() -> None:
    result = extract(page(BUY_BOX.format(price="¥12,800"), lang="ja"), "https://shop.example.jp/p")
    assert (result.price, result.currency) == (D("12800"), "JPY")


@pytest.mark.parametrize(("text", "visibility"), [
    ("Add to cart to see price", "cart_only"),
    ("See price in cart", "cart_only"),
    ("Our price is too low to display", "cart_only"),
    ("加入购物车查看价格", "cart_only"),
    ("Log in to see price", "login_only"),
    ("登录后查看价格", "login_only"),
    # (the same in the other languages of the shops read, and a minimum-advertised-price button)
    ("Click for Price", "cart_only"),
    ("Precio demasiado bajo para mostrarlo. Añade al carrito para ver nuestro precio.", "cart_only"),
    ("Adicione ao carrinho para ver o preço", "cart_only"),
    ("Ajoutez au panier pour voir notre prix", "cart_only"),
    ("Aggiungi al carrello per vedere il prezzo", "cart_only"),
    ("Leg in de winkelwagen om de prijs te zien", "cart_only"),
    ("Dodaj do koszyka, aby zobaczyć cenę", "cart_only"),
    ("Preis im Warenkorb", "cart_only"),
    ("장바구니에 담으면 할인가 확인", "cart_only"),
    ("Connectez-vous pour voir vos prix et conditions.", "login_only"),
    ("Inicia sesión para ver los precios", "login_only"),
    ("Regístrate para ver precios", "login_only"),
    ("Faça login para ver o preço", "login_only"),
    ("Accedi per vedere i prezzi", "login_only"),
    ("Inloggen om prijzen te bekijken", "login_only"),
    ("Zaloguj się, aby zobaczyć ceny", "login_only"),
    ("Melden Sie sich an, um Preise zu sehen", "login_only"),
    ("Preise nur nach der Anmeldung", "login_only"),
    ("로그인 후 가격 확인", "login_only"),
    ("ログインして価格を確認", "login_only"),
    ("Prisen afhænger af dit tilskud. Log ind med MitID for at se din pris.", "login_only"),
    ("Logga in med BankID för att se ditt pris", "login_only"),
    ("Logg inn for å se dine priser", "login_only"),
    ("Kirjaudu sisään nähdäksesi hinnat", "login_only"),
])
def test_hidden_price_is_its_own_case(text: str, visibility: str) -> None:
    body = (f'<h1>Acme AC-100</h1><div class="buybox"><del>$249.00</del><p class="map-msg">{text}</p>'
            '<button class="add-to-cart">Add to cart</button></div>')
    result = extract(page(body, head=ld(PRODUCT)), URL)
    assert result.price_visibility == visibility
    assert result.price is None
    assert "price_withheld_on_page" in result.flags
    assert any(c.method == "json-ld" and c.price == D("199.00") for c in result.candidates)


def test_a_price_only_in_a_closed_dialog_is_not_shown() -> None:
    # (a minimum-advertised-price button opens a <dialog> with the price; closed, the browser shows none of it)
    body = ('<h1>Acme AC-100</h1><div class="buybox"><div class="msrp">MSRP <s>$249.00</s></div>'
            '<span class="map-label">See price in cart</span> <button type="button">Show price</button>'
            '<dialog id="map"><h3>Our Price</h3><p class="map-price">$199.00</p><p>You save $50.00</p></dialog>'
            '<button class="add-to-cart">Add to cart</button></div>')
    result = extract(page(body, head=ld(PRODUCT)), URL)
    assert (result.price, result.price_visibility) == (None, "cart_only")
    opened = extract(page(body.replace('<dialog id="map">', '<dialog id="map" open>'), head=ld(PRODUCT)), URL)
    assert (opened.price, opened.price_visibility) == (D("199.00"), "visible")


@pytest.mark.parametrize("words", ["품절", "SOLD OUT", "Agotado", "Ausverkauft"])
def test_stale_in_stock_structured_price_on_a_page_that_says_sold_out(words: str) -> None:
    # (JSON-LD still says InStock; the page says sold out below its title and shows the price nowhere)
    body = (f'<h1>Acme AC-100</h1><div class="buybox"><p class="soldout">{words}</p>'
            '<button class="restock">Notify me</button></div>'
            '<section class="related"><div class="tile">Acme AC-50 <span>$89.00</span></div></section>')
    result = extract(page(body, head=ld(PRODUCT)), URL)
    assert result.price is None
    assert "no_price_shown:sold_out" in result.flags
    shown = extract(page(body.replace("</p>", "</p><span class=price>$199.00</span>", 1), head=ld(PRODUCT)), URL)
    assert shown.price == D("199.00")


@pytest.mark.parametrize(("said", "alert"), [
    ("Producto agotado", "Avísame cuando esté disponible"),
    ("Sold out", "Notify me when it is back"),
    ("Ausverkauft", "Benachrichtigen, sobald verfügbar"),
    ("品切れ", "入荷お知らせメール"),
])
def test_a_stale_in_stock_price_shown_only_past_the_back_in_stock_alert_is_no_price(said: str, alert: str) -> None:
    # (JSON-LD still says InStock; the buy box says sold out and offers an alert instead of a way to buy; the only
    # amount equal to the stale price is another colour's tile further down, whose classes say nothing)
    body = (f'<h1>Acme AC-100</h1><div class="q1"><p class="q2">{said}</p><div class="q3"><p>{alert}</p>'
            '<input type="email"><input type="button" value="OK"></div></div>'
            '<div class="q4"><h2>More</h2><ul><li><span>Acme AC-100 Grey</span><span>$199.00</span></li>'
            '<li><span>Acme AC-50</span><span>$89.00</span></li></ul></div>')
    result = extract(page(body, head=ld(PRODUCT)), URL)
    assert result.price is None
    assert "no_price_shown:sold_out" in result.flags
    # (the same buy box printing its price before the alert keeps it)
    shown = extract(page(body.replace('<div class="q3">', '<span>$199.00</span><div class="q3">', 1),
                         head=ld(PRODUCT)), URL)
    assert shown.price == D("199.00")


def test_see_price_in_cart_on_a_related_item_does_not_hide_the_product_price() -> None:
    body = (BUY_BOX.format(price="$199.00")
            + '<section class="related"><div class="tile">Acme AC-50 <span>Add to cart to see price</span></div>'
              "</section>")
    result = extract(page(body), URL)
    assert result.price == D("199.00")
    assert result.price_visibility == "visible"


@pytest.mark.parametrize(("title", "body", "failure"), [
    ("Attention Required", "<h1>Please verify you are a human</h1><div class='g-recaptcha'></div>", "captcha"),
    ("Robot check", "<p>Enter the characters you see below. Sorry, we just need to make sure you're not a robot."
                    " Type the captcha.</p>", "captcha"),
    ("Access Denied", "<h1>Access Denied</h1><p>You don't have permission. Reference #18.2f</p>", "blocked"),
    ("Sign in", "<h1>Sign in to continue</h1><form><input name=u><input type=password></form>", "login_wall"),
    ("Page not found", "<h1>404</h1><p>Sorry, we couldn't find that page. Popular: $19.99 deals</p>", "not_found"),
    ("Acme", "<h1>This product is no longer available</h1>", "not_found"),
])
def test_failure_pages_never_carry_a_price(title: str, body: str, failure: str) -> None:
    html = f"<html><head><title>{title}</title></head><body>{body}</body></html>"
    result = extract(html, URL)
    assert result.failure == failure
    assert result.price is None
    assert not result.looks_like_product


# Other products' cards with prices and buy buttons, as a "not found" or "discontinued" page shows them,
# with a long menu: too much text for the short-page reading, so only the heading or the title says it.
CARDS = "".join(f'<div class="card"><h3>Acme AC-{n}</h3><span class="price">${n}.00</span>'
                f'<button class="add-to-cart">Add to cart</button></div>' for n in (99, 49))
MENU = "<ul>" + "".join(f"<li><a href='/c/{i}'>Category {i} with a long name</a></li>" for i in range(200)) + "</ul>"


@pytest.mark.parametrize(("heading", "head"), [
    ("Sorry, we can't find what you're looking for", ""),
    ("Product not found", ""),
    # The product's own data without an offer, and the page says it is gone.
    ("Acme AC-100</h1><p>This item has been discontinued.</p><p>",
     ld({k: v for k, v in PRODUCT.items() if k != "offers"})),
])
def test_a_gone_product_with_other_products_prices_is_a_failure(heading: str, head: str) -> None:
    result = extract(page(f"{MENU}<h1>{heading}</h1>{CARDS}", head=head), URL)
    assert len(result.candidates) >= 2  # the cards' prices were seen
    assert (result.failure, result.price) == ("not_found", None), result.candidates


@pytest.mark.parametrize(("shown", "currency"), [("£129.00", "GBP"), ("C$129.00", "CAD"), ("129,00 €", "EUR")])
def test_structured_price_without_a_currency_takes_the_one_shown_beside_it(shown: str, currency: str) -> None:
    offer = {k: v for k, v in PRODUCT["offers"].items() if k != "priceCurrency"}
    result = extract(page(BUY_BOX.format(price=shown), head=ld({**PRODUCT, "offers": {**offer, "price": "129.00"}}),
                          lang="en"), URL)
    assert (result.price, result.currency, result.method) == (D("129.00"), currency, "json-ld")


def test_an_item_list_of_several_products_is_not_the_pages_product() -> None:
    def listed(*products: dict) -> str:
        return ld({"@context": "https://schema.org", "@type": "ItemList", "itemListElement": [
            {"@type": "ListItem", "position": i + 1, "item": p} for i, p in enumerate(products)]})

    other = {**PRODUCT, "name": "Acme AC-300", "offers": {**PRODUCT["offers"], "price": "99.00"}}
    results = extract(page("<h1>Search results</h1>", head=listed(other, PRODUCT)), URL)
    assert not [c for c in results.candidates if c.method == "json-ld"], results.candidates
    # One product in a list (some shops wrap the page's product so) is still the page's product.
    single = extract(page(BUY_BOX.format(price="$199.00"), head=listed(PRODUCT)), URL)
    assert (single.price, single.method) == (D("199.00"), "json-ld")


def test_a_product_named_404_keeps_its_price() -> None:
    result = extract(page(f"{MENU}<h1>Levi's 404 Comfort Jeans</h1><div class='buybox'><span class='price'>$59.50"
                          "</span><button class='add-to-cart'>Add to cart</button></div>"), URL)
    assert (result.failure, result.price) == (None, D("59.50"))


def test_out_of_stock_from_a_disabled_buy_button() -> None:
    body = ('<h1>Acme</h1><span class="price">$199.00</span><p>Sold out</p>'
            '<button class="add-to-cart" disabled>Add to cart</button>')
    result = extract(page(body), URL)
    assert result.price == D("199.00")
    assert result.availability == "OutOfStock"


def test_to_schema_keys_and_decimal_strings() -> None:
    doc = extract(page(BUY_BOX.format(price="$199.00"), head=ld(PRODUCT)), URL).to_schema()
    assert doc["price"] == "199.00" and doc["currency"] == "USD"
    for key in ("regularPrice", "availability", "sku", "gtin", "mpn", "sellers", "priceVisibility", "method",
                "confidence"):
        assert key in doc
    json.dumps(doc)  # plain data only


def test_bytes_without_a_declared_charset_are_read_as_utf8() -> None:
    html = page(BUY_BOX.format(price="1.299,00 €"), lang="de-DE").replace('<meta charset="utf-8">', "")
    result = extract(html.encode("utf-8"), URL)
    assert (result.price, result.currency) == (D("1299.00"), "EUR")


def test_structured_sources_disagree_and_one_names_the_other_the_standard_price() -> None:
    head = (ld(PRODUCT).replace('"199.00"', '"150.00"')
            + '<meta property="og:price:standard_amount" content="150.00">'
            + '<meta property="product:price:amount" content="120.00">'
            + '<meta property="product:price:currency" content="USD">')
    result = extract(page('<h1>Acme</h1><div id="app"></div>', head=head), URL)
    assert (result.price, result.regular_price) == (D("120.00"), D("150.00"))
    assert result.method == "opengraph"


def test_cart_page_of_a_hidden_price_item() -> None:
    from crawlers.extract import cart_url, read_cart_price

    profile = parse_profile({"name": "acme", "domains": ["127.0.0.1:8605"], "currency": "USD",
                             "cart": {"url": "{origin}/cart?add={sku}", "price": ".cart-total"}})
    assert cart_url(profile, "http://127.0.0.1:8605/p/ac-100", "AC-100") == "http://127.0.0.1:8605/cart?add=AC-100"
    cart = "<html><body><table><tr><td>Acme</td><td class='cart-total'>$179.00</td></tr></table></body></html>"
    found = read_cart_price(cart, "http://127.0.0.1:8605/cart?add=AC-100", profile)
    assert found is not None
    assert (found.price, found.currency, found.method) == (D("179.00"), "USD", "cart")
    assert read_cart_price("<html><body>empty</body></html>", "http://x/", profile) is None


@pytest.mark.parametrize("html", ["", b"", b"\xff\xfe\x00garbage", "<html></html>",
                                  "<body><h1>x</h1><script>window.__INITIAL_STATE__ = {broken</script></body>",
                                  b'<meta charset="nonsense"><p>text</p>'])
def test_strange_input_gives_no_price_and_no_exception(html: str | bytes) -> None:
    result = extract(html, URL)
    assert result.price is None
    assert result.method == "none"


def test_a_microdata_price_holding_the_struck_list_price_reads_the_current_one() -> None:
    # one itemprop=price element shows both amounts, units and cents in elements of their own
    body = ('<div itemscope itemtype="https://schema.org/Product"><h1 itemprop="name">Shift dress</h1>'
            '<div itemprop="offers" itemscope itemtype="https://schema.org/Offer">'
            '<meta itemprop="priceCurrency" content="USD"><span itemprop="price">'
            '<span class="strikethrough">$</span><span class="strikethrough">79.</span><span class="strikethrough">99'
            '</span><span class="sale">$</span><span class="sale">39.</span><span class="sale">99</span></span>'
            '</div><button class="add-to-cart">Add to bag</button></div>')
    result = extract(page(body), URL)
    assert (result.price, result.method, result.flags) == (D("39.99"), "microdata", [])


def _with_related(gap_rows: int) -> str:
    """A product page whose buy box shows its JSON-LD price, a spec table of ``gap_rows`` rows, then a carousel
    of other products, one of them struck through at the same amount (so the text check of the fast path
    does not settle it)."""
    specs = "".join(f"<tr><th>Spec {i}</th><td>Value {i}</td></tr>" for i in range(gap_rows))
    related = ('<div class="carousel"><div class="card"><a>Acme AC-90</a><del>$199.00</del> <span>$149.00</span>'
               '</div><div class="card"><a>Acme AC-200</a><span>$299.00</span></div></div>')
    body = (f'<div class="product">{BUY_BOX.format(price="$199.00")}</div><table class="specs">{specs}</table>'
            f"{related}")
    return page(body, head=ld(PRODUCT))


def test_a_structured_price_the_buy_box_shows_is_read_from_the_products_block_alone() -> None:
    # Far from the buy box, the related products cannot be its list price or shipping: the visible scan reads the
    # product's block (title and buy button) alone and records none of the page's other amounts.
    far = extract(_with_related(60), URL)
    near = extract(_with_related(0), URL)  # (an amount within reach of the price: the whole page is read)
    for result in (far, near):
        assert (result.price, result.currency, result.method, result.flags) == (D("199.00"), "USD", "json-ld", [])
        assert result.regular_price is None and result.outcome == "price"
    # (the block's best amount agrees with the structured price as the whole page's does: not the fast path's
    # confidence, which counts no visible agreement)
    assert far.confidence == near.confidence
    assert [c.method for c in far.candidates] == ["json-ld"]
    assert [(c.method, c.price) for c in near.candidates] == [("json-ld", D("199.00")), ("heuristic", D("199.00"))]



def _in_a_column(buy_box: str, *, head: str = "", after_block: str = "") -> str:
    """A product page whose product block (title and buy button) sits in a column with breadcrumbs before it and a
    spec table after it, then other products outside the column, far from the buy box: a carousel (one card
    struck through at the product's amount, so the text check does not settle the page) and a tile with a buy
    button of its own."""
    crumbs = "".join(f"<li><a>Section {i}</a></li>" for i in range(80))
    specs = "".join(f"<tr><th>Spec {i}</th><td>Value {i}</td></tr>" for i in range(60))
    related = ('<div class="carousel"><div class="card"><a>Acme AC-90</a><del>$199.00</del> <span>$179.00</span>'
               '</div></div><div><h3>Acme AC-200</h3><span class="price">$149.00</span>'
               '<button class="add-to-cart">Add to cart</button></div>')
    return page(f'<div class="column"><ul class="crumbs">{crumbs}</ul><div class="product">{buy_box}</div>'
                f'{after_block}<table class="specs">{specs}</table></div>{related}', head=head)


def test_a_page_without_structured_data_is_read_in_its_products_block_when_the_block_answers_clearly() -> None:
    # No structured price: the block's one amount is the price, as the whole page's scan finds it (the other
    # products' amounts are marked outside there, never the price nor its rival); they are no longer read, so no
    # longer recorded among the candidates (the whole page's scan recorded the tile's $149.00).
    result = extract(_in_a_column(BUY_BOX.format(price="$199.00")), URL)
    assert (result.price, result.currency, result.method, result.outcome) == (D("199.00"), "USD", "heuristic",
                                                                              "price")
    assert [(c.method, c.price) for c in result.candidates] == [("heuristic", D("199.00"))]
    # (a second amount in the block nearly as strong: no clear answer, the whole page is read, its tile recorded)
    close = extract(_in_a_column(BUY_BOX.format(price="$199.00") + '<span class="price">$189.00</span>'), URL)
    assert D("149.00") in {c.price for c in close.candidates}


def test_a_block_whose_best_amount_reaches_past_it_is_read_with_that_reach_not_the_whole_page() -> None:
    # The list price printed just after the product's block is within reach of the price: the scan reads the
    # nearest part holding that reach (the column), which finds the list price as the whole page does, and not
    # the other products beyond it.
    result = extract(_in_a_column(BUY_BOX.format(price="$199.00"), head=ld(PRODUCT),
                                  after_block='<p class="was">Was <del>$249.00</del></p>'), URL)
    assert (result.price, result.method, result.regular_price, result.outcome) == (D("199.00"), "json-ld",
                                                                                   D("249.00"), "price")
    assert [c.method for c in result.candidates] == ["json-ld"]


# --- embedded state holding other products: the page's own by its name or its address --------------------------------

_STATE_PAGE = ('<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>{title} | Shop</title></head>'
               '<body><main><h1>{title}</h1><div class="price-box"><span class="price"></span></div>'
               '<button class="add-to-cart">Add to cart</button></main><script>window.{name} = {state};</script>'
               '</body></html>')


@pytest.mark.parametrize(("url", "title", "state", "price"), [
    # (a promo banner's product first, then the page's, whose variant the query designates by its code)
    ("https://www.toko.example.co.id/produk/rice-cooker-1-8l?varian=putih", "Rice Cooker Digital Kirana 1,8 L",
     {"data": [{"promoBanner": {"sku": "TR-AF35", "name": "Air Fryer Kirana 3,5 L", "price": 899000},
                "product": {"sku": "TR-RC18", "name": "Rice Cooker Digital Kirana 1,8 L",
                            "variants": [{"code": "hitam", "label": "Hitam", "price": 329000},
                                         {"code": "putih", "label": "Putih", "price": 349000}]}}]}, "349000"),
    # (the recently viewed first; the page's product by its id in the address, its child by the query's id)
    ("https://nha.example.vn/ghe-an-go-p12077.html?spid=12079", "Ghế ăn gỗ sồi",
     {"recentlyViewed": [{"id": 12001, "name": "Bàn ăn Mila 1m6", "price": 7490000}],
      "product": {"id": 12077, "name": "Ghế ăn", "children": [{"id": 12078, "price": 1450000, "final_price": 1290000},
                                                              {"id": 12079, "price": 1450000,
                                                               "final_price": 1350000}]}}, "1350000"),
    # (a cart's item first, then the page's product by its name)
    ("https://shop.example.com/p/acme-kettle", "Acme Kettle 1.7 L",
     {"cart": {"items": [{"id": 77123, "name": "Acme Toaster", "price": "59.00"}]},
      "product": {"id": 88001, "name": "Acme Kettle 1.7 L", "price": "39.00"}}, "39.00"),
])
def test_the_embedded_states_product_is_the_one_the_page_is_about(url: str, title: str, state: dict,
                                                                  price: str) -> None:
    html = _STATE_PAGE.format(lang="en", title=title, name="__INITIAL_STATE__", state=json.dumps(state))
    result = extract(html, url)
    assert any(c.method == "embedded-json" and c.price == D(price) for c in result.candidates), result.candidates
    assert not any(c.method == "embedded-json" and c.price != D(price) and c.role == "current"
                   for c in result.candidates)


def test_the_pages_product_without_one_price_lets_no_other_products_price_stand() -> None:
    # (the page's product has two variants at two prices and the address designates neither: the promo's is not it)
    state = {"promo": {"sku": "AF-35", "name": "Air Fryer 3,5 L", "price": 899000},
             "product": {"sku": "RC-18", "name": "Rice Cooker 1,8 L",
                         "variants": [{"code": "a", "price": 329000}, {"code": "b", "price": 349000}]}}
    html = _STATE_PAGE.format(lang="id", title="Rice Cooker 1,8 L", name="__INITIAL_STATE__", state=json.dumps(state))
    result = extract(html, "https://www.toko.example.co.id/produk/rice-cooker")
    assert not any(c.method == "embedded-json" for c in result.candidates)
    assert result.price is None


def test_a_rental_offer_priced_a_month_is_not_the_price() -> None:
    # (JSON-LD offers renting at 199 a month, billingDuration P1M, before buying at 4,299; the page shows both)
    data = {"@context": "https://schema.org", "@type": "Product", "name": "AeroBook 14",
            "offers": [{"@type": "Offer", "name": "Rent monthly", "price": "199.00", "priceCurrency": "AED",
                        "priceSpecification": {"@type": "UnitPriceSpecification", "price": "199.00",
                                               "priceCurrency": "AED", "billingDuration": "P1M"}},
                       {"@type": "Offer", "name": "Buy", "price": "4299.00", "priceCurrency": "AED"}]}
    body = ('<h1>AeroBook 14</h1><div class="rent"><span>AED 199</span><span>/month</span></div>'
            '<div class="buy"><span class="price">AED 4,299.00</span></div><button>Add to cart</button>')
    result = extract(page(body, head=ld(data), lang="en-AE"), "https://www.gadgets.example.ae/en/aerobook-14")
    assert result.price == D("4299.00")
    assert not any(c.method == "json-ld" and c.price == D("199.00") for c in result.candidates)


@pytest.mark.parametrize(("lang", "monthly", "buy", "host"), [
    ("he-IL", "₪89 <small>לחודש</small>", "₪2,490", "www.mayim.example.co.il"),
    ("ar-SA", "89 ر.س <small>شهريًا</small>", "2,490 ر.س", "www.miyah.example.sa"),
    ("en-US", "$89<small>/mo</small>", "$2,490.00", "www.water.example.com"),
])
def test_a_subscriptions_price_a_month_first_in_the_buy_box_confirms_no_structured_price(
        lang: str, monthly: str, buy: str, host: str) -> None:
    # (Open Graph carries the plan's monthly 89; the buy box shows it first, then the purchase price)
    head = ('<meta property="og:type" content="product"><meta property="product:price:amount" content="89">'
            f'<meta property="product:price:currency" content="{ {"he-IL": "ILS", "ar-SA": "SAR"}.get(lang, "USD")}">')
    body = (f'<h1>Purion 7</h1><div class="plan"><div class="plan-price">{monthly}</div><button>Join</button></div>'
            f'<div class="plan"><div class="plan-price"><span class="now">{buy}</span></div>'
            '<button class="add-to-cart">Add to cart</button></div>')
    result = extract(page(body, head=head, lang=lang), f"https://{host}/product/purion-7")
    assert result.price != D("89")


def test_a_drugstore_club_price_for_the_customer_giving_the_cpf_is_not_the_price() -> None:
    # (JSON-LD carries the club price; the buy box shows "Por R$ 59,90", then "Clube Vida R$ 53,91 com CPF")
    data = {"@context": "https://schema.org", "@type": "Product", "name": "Protetor Solar FPS 60",
            "offers": {"@type": "Offer", "price": "53.91", "priceCurrency": "BRL"}}
    body = ('<div class="box"><h1>Protetor Solar FPS 60</h1><p>De <s>R$ 79,90</s></p><p>Por <strong>R$ 59,90</strong>'
            '</p><div class="c"><span>Clube Vida</span> R$ 53,91 <small>com CPF cadastrado</small></div>'
            '<div>R$ 56,91 no Pix</div><button>Comprar</button></div>')
    result = extract(page(body, head=ld(data), lang="pt-BR"), "https://www.drogaria.example.com.br/protetor-fps-60/p")
    assert result.price == D("59.90")
