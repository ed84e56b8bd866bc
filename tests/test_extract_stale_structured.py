"""Structured sources that disagree with each other: JSON-LD, microdata and Open Graph giving different prices.

The buy box settles them: an amount it shows only beside a list, previous or suggested-price word, struck through
or in an element its markup names so, is the old price, whatever source gives it; the one other structured amount
it shows as a current price is the price. Open Graph's ``product:sale_price:amount`` is the current price beside
``product:price:amount``. Two amounts the page shows alike as current prices leave it undecided, never a guess.
Each page is written for the principle it tests, in the manner of shops of several countries (not copies of any
held-out page); every test reads the whole cascade.
"""

from __future__ import annotations

import json
from decimal import Decimal

from crawlers.extract import extract

D = Decimal


def page(body: str, head: str = "", lang: str = "en", tail: str = "") -> str:
    return (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>Product</title>{head}</head>'
            f"<body><header><nav><a href='/'>Home</a></nav></header><main>{body}</main>"
            f"<footer>© Shop</footer>{tail}</body></html>")


def offer_ld(price: str, currency: str) -> str:
    return ('<script type="application/ld+json">' + json.dumps({
        "@context": "https://schema.org", "@type": "Product", "name": "Product",
        "offers": {"@type": "Offer", "price": price, "priceCurrency": currency}}) + "</script>")


def og(amount: str, currency: str, sale: str | None = None, standard: str | None = None) -> str:
    tags = [("og:type", "product"), ("product:price:amount", amount), ("product:price:currency", currency)]
    if sale is not None:
        tags.append(("product:sale_price:amount", sale))
    if standard is not None:
        tags.append(("og:price:standard_amount", standard))
    return "".join(f'<meta property="{key}" content="{value}">' for key, value in tags)


def microdata(price: str, currency: str, inner: str) -> str:
    return (f'<div itemscope itemtype="https://schema.org/Product"><div itemprop="offers" itemscope '
            f'itemtype="https://schema.org/Offer"><meta itemprop="priceCurrency" content="{currency}">'
            f'<meta itemprop="price" content="{price}">{inner}</div></div>')


# --- the buy box names one structured amount the old price ---------------------------------------------------

def test_a_previous_price_word_makes_the_json_ld_amount_the_old_one_and_microdata_the_price() -> None:
    # The shop's JSON-LD keeps the price before the special offer; the microdata and the buy box say 119,00.
    inner = ('<div class="price-box"><span class="productOldPrice">Unser alter Preis 149,00 EUR</span><br>'
             'Jetzt nur 119,00 EUR<br><span class="saving">Sie sparen 30,00 EUR</span></div>'
             '<button class="cart">In den Warenkorb</button>')
    html = page(f"<h1>Kinderküche Eiche</h1>{microdata('119.00', 'EUR', inner)}", offer_ld("149.00", "EUR"),
                lang="de-AT")
    got = extract(html, "https://www.example.at/kinderkueche-eiche.html")
    assert got.price == D("119.00") and got.method == "microdata", (got.price, got.method, got.candidates)
    assert got.regular_price == D("149.00") and got.undecided is None


def test_suggested_price_markup_makes_the_json_ld_amount_the_old_one() -> None:
    # JSON-LD holds the suggested price; Open Graph and the buy box the price shoppers pay.
    body = ('<h1>雙層玻璃茶壺 600ml</h1><div class="sale-price-area"><div class="sale-price">NT$1,290</div>'
            '<div class="sale-suggestprice">NT$1,680</div></div><button class="buy">加入購物車</button>'
            '<section class="related"><div class="card">NT$1,680</div><div class="card">NT$990</div></section>')
    html = page(body, offer_ld("1680", "TWD") + og("1290", "TWD"), lang="zh-TW")
    got = extract(html, "https://www.example.com.tw/SalePage/Index/550021")
    assert got.price == D("1290") and got.method == "opengraph", (got.price, got.method, got.candidates)
    assert got.undecided is None


def test_a_makers_suggested_retail_price_in_japanese_is_the_old_price() -> None:
    body = ('<h1>ステンレス電気ケトル 1.0L</h1><p>メーカー希望小売価格 12,800円（税込）</p>'
            '<p>販売価格 9,980円（税込）</p><button class="cart">カートに入れる</button>')
    html = page(body, offer_ld("12800", "JPY") + og("9980", "JPY"), lang="ja")
    got = extract(html, "https://shop.example.jp/item/kettle-10")
    assert got.price == D("9980"), (got.price, got.method, got.candidates)


def test_a_consumer_price_in_korean_is_the_old_price() -> None:
    inner = ('<table><tr><th>소비자가</th><td>39,000원</td></tr><tr><th>판매가</th><td>29,900원</td></tr></table>'
             '<button class="buy">구매하기</button>')
    html = page(f"<h1>코튼 니트 가디건</h1>{microdata('39000', 'KRW', inner)}", og("29900", "KRW"), lang="ko")
    got = extract(html, "https://www.example.co.kr/goods/view?no=1200")
    assert got.price == D("29900"), (got.price, got.method, got.candidates)


def test_a_suggested_price_in_english_and_spanish_is_the_old_price() -> None:
    for lang, old, new, shown_old, shown_new, words in (
            ("en-US", "249.99", "199.99", "$249.99", "$199.99", ("Suggested price:", "Our price")),
            ("es-MX", "1299.00", "999.00", "$1,299.00", "$999.00", ("Precio sugerido", "Precio"))):
        inner = (f'<p>{words[0]} {shown_old}</p><p>{words[1]} <b>{shown_new}</b></p>'
                 '<button class="add-to-cart">Add to cart</button>')
        html = page(f"<h1>Cordless drill 20V</h1>{microdata(new, 'USD' if lang == 'en-US' else 'MXN', inner)}",
                    offer_ld(old, "USD" if lang == "en-US" else "MXN"), lang=lang)
        got = extract(html, "https://www.example.com/p/drill-20v")
        assert got.price == D(new), (lang, got.price, got.method, got.candidates)


def test_a_list_word_before_another_amount_does_not_make_the_price_old() -> None:
    # "UVP 1.049,00 € 899,00 €": the word names 1.049,00, not the amount after it. The stale Open Graph tag
    # gives the list price; JSON-LD and the buy box the price.
    body = ('<h1>Zephyr Z5 128 GB</h1><div class="price"><span>UVP 1.049,00 €</span> 899,00 € inkl. MwSt.</div>'
            '<button class="cart">In den Warenkorb</button>')
    html = page(body, offer_ld("899.00", "EUR") + og("1049.00", "EUR"), lang="de-DE")
    got = extract(html, "https://www.example.de/zephyr-z5")
    assert got.price == D("899.00") and got.undecided is None, (got.price, got.method, got.candidates)


# --- Open Graph's sale price ----------------------------------------------------------------------------------

def test_the_open_graph_sale_price_shown_in_the_buy_box_is_the_price() -> None:
    # No JSON-LD; the sale price sits in the element that also holds its saving, so no element shows it alone.
    body = ('<div class="infoArea"><h2>린넨 와이드 팬츠</h2><table>'
            '<tr><th>판매가</th><td><span style="text-decoration:line-through">69,000원</span></td></tr>'
            '<tr><th>할인판매가</th><td><span id="price_sale">55,200원 <span>(13,800원 할인)</span></span></td></tr>'
            '<tr><th>쿠폰적용가</th><td>첫 구매 10% 쿠폰 적용 시 49,680원</td></tr>'
            '<tr><th>배송비</th><td>3,000원</td></tr></table><a class="btnBuy" href="#">구매하기</a></div>')
    html = page(body, og("69000", "KRW", sale="55200"), lang="ko")
    got = extract(html, "https://linen.example.co.kr/product/wide-pants/2210/")
    assert got.price == D("55200") and got.method == "opengraph", (got.price, got.undecided, got.candidates)
    assert got.regular_price == D("69000")


def test_the_open_graph_sale_price_keeps_its_own_currency() -> None:
    # Only the sale price names its currency (``product:sale_price:currency``).
    head = ('<meta property="og:type" content="product"><meta property="product:price:amount" content="69.00">'
            '<meta property="product:sale_price:amount" content="55.00">'
            '<meta property="product:sale_price:currency" content="EUR">')
    body = ('<h1>Lin lavé – housse de couette</h1><p class="prices"><span class="old-price">69,00 €</span> '
            '<span class="special">55,00 €</span></p><button class="add-to-cart">Ajouter au panier</button>')
    got = extract(page(body, head, lang="fr-BE"), "https://www.example.be/housse-lin")
    assert (got.price, got.currency, got.method) == (D("55.00"), "EUR", "opengraph"), (got.price, got.candidates)
    assert {c.currency for c in got.candidates if c.method == "opengraph"} == {"EUR"}


def test_a_declared_list_price_the_page_shows_struck_is_no_rival() -> None:
    body = ('<h1>Espresso-Tassen 4er Set</h1><p class="price"><s>statt 99,00 €</s> <strong>79,00 €</strong></p>'
            '<button class="cart">In den Warenkorb</button>')
    html = page(body, offer_ld("79.00", "EUR") + og("79.00", "EUR", standard="99.00"), lang="de-DE")
    got = extract(html, "https://www.example.de/espresso-tassen")
    assert got.price == D("79.00") and got.undecided is None, (got.price, got.method, got.candidates)


# --- no false abstention, and undecided when the evidence still conflicts -----------------------------------------

def test_a_list_price_equal_to_a_related_items_price_does_not_unsettle_the_structured_price() -> None:
    # The structured price is right; the list price happens to equal a related product's price.
    body = ('<h1>Trinkflasche 750 ml</h1><div class="price"><span class="uvp">UVP 29,99 €</span> '
            '<span class="current">24,99 €</span></div><button class="cart">In den Warenkorb</button>'
            '<section class="related"><h2>Passend dazu</h2><div class="tile">Isolierbecher 29,99 €</div></section>')
    html = page(body, offer_ld("24.99", "EUR") + og("24.99", "EUR"), lang="de-DE")
    got = extract(html, "https://www.example.de/trinkflasche-750")
    assert got.price == D("24.99") and got.undecided is None, (got.price, got.method, got.candidates)


def test_structured_sources_the_page_shows_alike_as_current_prices_leave_it_undecided() -> None:
    # JSON-LD 1480, Open Graph 1190; the buy box prints both, neither named nor drawn as the old one.
    body = ('<h1>保溫便當盒 1.2L</h1><div class="price-area"><div class="price">NT$1,190</div>'
            '<div class="price">NT$1,480</div></div><button class="buy">加入購物車</button>')
    html = page(body, offer_ld("1480", "TWD") + og("1190", "TWD"), lang="zh-TW")
    got = extract(html, "https://www.example.com.tw/SalePage/Index/661002")
    assert got.price is None and got.undecided, (got.price, got.method, got.candidates)
    assert {c.price for c in got.competing} == {D("1190"), D("1480")}


# --- the net half of a net/gross pair --------------------------------------------------------------------------

def test_structured_data_giving_the_net_price_the_page_prints_only_as_netto_is_not_the_price() -> None:
    # A trade shop's feed gives the net price; consumers see the gross one, the net only in the small print.
    body = ('<h1>Installationsrohr M20 grau, 3 m</h1><div class="buybox"><div class="price-main">12,49 €*</div>'
            '<div class="price-sub">inkl. 19 % MwSt., zzgl. Versand · <span>10,50 € netto</span></div>'
            '<button class="cart">In den Warenkorb</button></div>')
    got = extract(page(body, offer_ld("10.50", "EUR"), lang="de-DE"), "https://www.example.de/rohr-m20")
    assert got.price == D("12.49"), (got.price, got.method, got.candidates)


def test_the_same_in_a_nordic_shop_ekskl_moms() -> None:
    body = ('<h1>Termostat for gulvvarme</h1><div class="pdp"><p class="price">1.249,00 kr.</p>'
            '<p class="small">999,20 kr. ekskl. moms</p><button>Læg i kurv</button></div>')
    got = extract(page(body, offer_ld("999.20", "DKK"), lang="da-DK"), "https://www.example.dk/termostat")
    assert got.price == D("1249.00"), (got.price, got.method, got.candidates)


def test_a_price_plus_sales_tax_is_still_the_price() -> None:
    # US prices are quoted before sales tax: "plus tax" after the one amount does not make it a net half.
    body = ('<h1>Shop Vac 6 gal</h1><div class="buy"><span class="price">$89.99</span> plus tax'
            '<button>Add to cart</button></div>')
    got = extract(page(body, offer_ld("89.99", "USD"), lang="en-US"), "https://www.example.com/shop-vac")
    assert got.price == D("89.99"), (got.price, got.method, got.candidates)
