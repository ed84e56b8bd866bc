"""An amount labelled as the price after a coupon, a voucher or a code is the coupon's result, never the price.

The page's price is the amount it shows before the coupon; the amount after it is the effective price (what
detection judges) with the coupon's wording, when the coupon is shown and brings the price to it: a label that
says after a coupon or a code shows it by itself, and so does "到手价" (the price in hand), except where the page
states reductions none of which brings the price to it. Without a shown price before it, the after-coupon amount
is still not the price.

Each page is written for the principle, in the manner of shops of several countries (not copies of any
held-out page); every test reads the whole cascade, and the buy-box reader's choice on measured amounts.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from crawlers.extract import extract

D = Decimal


def page(body: str, head: str = "", lang: str = "en") -> str:
    return (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>Product</title>{head}</head>'
            f"<body><header><nav><a href='/'>Home</a></nav></header><main>{body}</main>"
            "<footer>© Shop</footer></body></html>")


def ld(price: str, currency: str) -> str:
    return ('<script type="application/ld+json">' + json.dumps({
        "@context": "https://schema.org", "@type": "Product", "name": "Product",
        "offers": {"@type": "Offer", "price": price, "priceCurrency": currency}}) + "</script>")


def buy_box(title: str, price_line: str, coupon_line: str, button: str = "Add to cart") -> str:
    return (f'<h1>{title}</h1><div class="price-box"><div class="price">{price_line}</div>'
            f'<div class="coupon-price">{coupon_line}</div></div><button class="add-to-cart">{button}</button>')


# url, lang, the price line, the after-coupon line, price, effective price, a word of the coupon's wording
READINGS = [
    pytest.param("https://item.jd.example.cn/100012.html", "zh-CN",
                 '京东价 <span class="p-price">￥4788.00</span>',
                 '到手价 <span class="final">￥4588.00</span><span>（领券满4000减200后）</span>'
                 '<div class="quan">优惠券 满4000减200</div>', "4788.00", "4588.00", "到手价", id="zh-in-hand-stated"),
    pytest.param("https://item.mall.example.cn/8812.html", "zh-CN", '价格 <span>￥2999.00</span>',
                 '券后价 <span>￥2799.00</span>', "2999.00", "2799.00", "券后价", id="zh-after-coupon"),
    pytest.param("https://shop.example.tw/p/991", "zh-TW", '售價 <span>NT$1,290</span>',
                 '領券後 <span>NT$1,190</span>', "1290", "1190", "領券後", id="zh-tw-after-claiming"),
    pytest.param("https://shop.example.jp/item/771", "ja-JP", '販売価格 <span>17,600円</span>（税込）',
                 'クーポン利用で <span>15,840円</span>', "17600", "15840", "クーポン利用で", id="ja-with-coupon"),
    pytest.param("https://shop.example.co.kr/goods/551", "ko-KR", '판매가 <span>129,000원</span>',
                 '쿠폰적용가 <span>116,100원</span>', "129000", "116100", "쿠폰적용가", id="ko-coupon-price"),
    pytest.param("https://shop.example.in/p/shoes", "en-IN", '<span>₹1,499</span>',
                 'Best Price <span>₹1,274</span> with coupon', "1499", "1274", "with coupon", id="en-tail"),
    pytest.param("https://shop.example.de/p/jacke", "de-DE", '<span>129,99 €</span>',
                 'Mit Code HERBST10: <span>116,99 €</span>', "129.99", "116.99", "HERBST10", id="de-mit-code"),
    pytest.param("https://boutique.example.fr/p/lampe", "fr-FR", '<span>99,99 €</span>',
                 'Avec le code PROMO15 : <span>84,99 €</span>', "99.99", "84.99", "PROMO15", id="fr-avec-le-code"),
    pytest.param("https://tienda.example.es/p/robot", "es-ES", '<span>299,00 €</span>',
                 'Precio con cupón VERANO: <span>269,00 €</span>', "299.00", "269.00", "VERANO", id="es-con-cupon"),
    pytest.param("https://loja.example.com.br/p/livro", "pt-BR", '<span>R$ 99,90</span>',
                 'Com cupom LIVRO10: <span>R$ 89,91</span>', "99.90", "89.91", "LIVRO10", id="pt-com-cupom"),
    pytest.param("https://sklep.example.pl/p/pralka", "pl-PL", '<span>1 899,00 zł</span>',
                 'Z kodem AGD100 zapłacisz <span>1 799,00 zł</span>', "1899.00", "1799.00", "AGD100", id="pl-z-kodem"),
    pytest.param("https://winkel.example.nl/p/fiets", "nl-NL", '<span>€ 49,99</span>',
                 'Met code ZOMER: <span>€ 44,99</span>', "49.99", "44.99", "ZOMER", id="nl-met-code"),
    pytest.param("https://magaza.example.com.tr/p/supurge", "tr-TR", '<span>999,00 TL</span>',
                 'Kuponla <span>899,00 TL</span>', "999.00", "899.00", "Kuponla", id="tr-kuponla"),
    pytest.param("https://toko.example.co.id/p/hp", "id-ID", '<span>Rp 1.499.000</span>',
                 'Dengan voucher <span>Rp 1.399.000</span>', "1499000", "1399000", "voucher", id="id-dengan-voucher"),
]


@pytest.mark.parametrize(("url", "lang", "shown", "coupon_line", "price", "effective", "word"), READINGS)
def test_the_price_is_the_amount_before_the_coupon_and_the_effective_price_the_amount_after_it(
        url: str, lang: str, shown: str, coupon_line: str, price: str, effective: str, word: str) -> None:
    # (the after-coupon amount set first in the buy box would not change it: it is never a candidate)
    got = extract(page(buy_box("Product", shown, coupon_line), lang=lang), url)
    assert (got.outcome, got.price, got.effective_price) == ("price", D(price), D(effective)), (
        got.price, got.effective_price, got.coupon, got.candidates, got.undecided)
    assert got.coupon is not None and word in got.coupon
    assert D(effective) not in {c.price for c in got.candidates if c.method == "heuristic"}


def test_the_in_hand_price_the_stated_coupon_does_not_explain_is_no_effective_price() -> None:
    # 到手价 4488 with a coupon 满4000减200 (4788 - 200 = 4588): the rest is a subsidy, a members' rate... not
    # everyone's; the price stays the shown one, and nothing is taken off it.
    body = buy_box("无人机 标准版", '京东价 <span>￥4788.00</span>',
                   '到手价 <span>￥4488.00</span><div class="quan">优惠券 满4000减200</div>', "加入购物车")
    got = extract(page(body, lang="zh-CN"), "https://item.jd.example.cn/100013.html")
    assert (got.price, got.effective_price, got.coupon) == (D("4788.00"), D("4788.00"), None)


@pytest.mark.parametrize(("url", "lang", "body"), [
    pytest.param("https://item.jd.example.cn/100014.html", "zh-CN",
                 '<h1>无人机 标准版</h1><div class="summary-price">到手价 <span class="p-price">￥4588.00</span>'
                 '<span>（领券满4000减200后）</span></div><button class="add-to-cart">加入购物车</button>',
                 id="zh-in-hand-alone"),
    pytest.param("https://item.mall.example.cn/8813.html", "zh-CN",
                 '<h1>空气炸锅</h1><div class="price">原价 <del>￥3599.00</del></div>'
                 '<div class="price">券后价 <span>￥2799.00</span></div><button class="add-to-cart">立即购买</button>',
                 id="zh-after-coupon-beside-a-list-price"),
    pytest.param("https://shop.example.co.kr/goods/552", "ko-KR",
                 '<h1>무선 청소기</h1><div class="price">쿠폰적용가 <strong>116,100원</strong></div>'
                 '<button class="add-to-cart">장바구니</button>', id="ko-coupon-price-alone"),
    pytest.param("https://shop.example.com/p/speaker", "en-US",
                 '<h1>Speaker</h1><div class="price">Price with code SPRING: <strong>$44.99</strong></div>'
                 '<button class="add-to-cart">Add to cart</button>', id="en-code-price-alone"),
])
def test_an_after_coupon_amount_without_the_price_before_it_is_not_the_price(url: str, lang: str,
                                                                              body: str) -> None:
    got = extract(page(body, lang=lang), url)
    assert got.price is None, (got.price, got.candidates)
    assert got.outcome in {"none", "undecided"}


def test_structured_data_giving_the_after_coupon_amount_gives_way_to_the_price_before_it() -> None:
    body = buy_box("空气炸锅 6L", '京东价 <span>￥4788.00</span>',
                   '到手价 <span>￥4588.00</span><span>（领券满4000减200后）</span>', "加入购物车")
    got = extract(page(body, ld("4588.00", "CNY"), "zh-CN"), "https://item.jd.example.cn/100015.html")
    assert (got.price, got.effective_price) == (D("4788.00"), D("4588.00")), (got.price, got.flags)


@pytest.mark.parametrize(("lang", "url", "shown", "coupon_line", "price"), [
    # a condition the item does not meet: a first order, a welcome code, a spend it does not reach
    pytest.param("en-AE", "https://shop.example.ae/p/jacket", "<span>AED 149</span>",
                 "Extra 15% off with code NEW15 for first order — pay <span>AED 126.65</span>", "149",
                 id="first-order"),
    pytest.param("es-ES", "https://tienda.example.es/p/robot2", "<span>299,00 €</span>",
                 "Precio con cupón BIENVENIDA: <span>269,00 €</span>", "299.00", id="welcome-code"),
    pytest.param("zh-CN", "https://item.mall.example.cn/8814.html", "价格 <span>￥299.00</span>",
                 "券后价 <span>￥269.00</span> 满300减30", "299.00", id="spend-not-reached"),
    # a reduction after the label, not a price; the saving itself
    pytest.param("ja-JP", "https://shop.example.jp/item/772", "価格 <span>8,980円</span>",
                 "クーポン利用で <span>1,000円</span>OFF", "8980", id="ja-reduction"),
    pytest.param("en-US", "https://shop.example.com/p/mixer", "<span>$89.99</span>",
                 "Apply $10.00 coupon · Save <span>$10.00</span> with coupon", "89.99", id="save-with-coupon"),
])
def test_a_coupon_that_does_not_apply_to_everyone_now_leaves_the_price(lang: str, url: str, shown: str,
                                                                        coupon_line: str, price: str) -> None:
    got = extract(page(buy_box("Product", shown, coupon_line), lang=lang), url)
    assert got.price == D(price), (got.price, got.candidates)
    if "Save" in coupon_line:  # (the coupon itself still applies: its reduction, not its amount)
        assert got.effective_price == D("79.99")
    else:
        assert (got.effective_price, got.coupon) == (D(price), None)


def _amount(text: str, y: int, size: float, before: str = "", after: str = "") -> dict[str, Any]:
    return {"text": text, "cents": "", "size": size, "weight": 700, "struck": False, "marked": False,
            "other": False, "before": before, "after": after, "context": "", "x": 40, "y": y, "w": 120, "h": 30}


@pytest.mark.parametrize(("lang", "price", "label", "after_coupon", "want"), [
    pytest.param("zh-CN", "￥4788.00", "到手价 ", "￥4588.00", "4788.00", id="zh-in-hand"),
    pytest.param("zh-CN", "￥2999.00", "券后价 ", "￥2799.00", "2999.00", id="zh-after-coupon"),
    pytest.param("ko-KR", "129,000원", "쿠폰적용가 ", "116,100원", "129000", id="ko-coupon-price"),
    pytest.param("en-US", "$59.99", "Price with code SPRING: ", "$53.99", "59.99", id="en-with-code"),
    pytest.param("id-ID", "Rp 1.499.000", "Dengan voucher ", "Rp 1.399.000", "1499000", id="id-voucher"),
])
def test_the_buy_box_reader_never_takes_the_after_coupon_amount(lang: str, price: str, label: str,
                                                                  after_coupon: str, want: str) -> None:
    from crawlers.buybox import choose

    # the after-coupon amount set larger, nearer the button, than the price
    probe = {"buttons": [{"label": "Add to cart", "x": 40, "y": 300, "w": 200, "h": 40}],
             "title": {"label": "Product", "x": 40, "y": 100, "w": 400, "h": 40},
             "amounts": [_amount(price, 160, 20), _amount(after_coupon, 220, 30, before=label)],
             "text": f"Product {price} {label}{after_coupon}", "lang": lang, "og_locale": ""}
    reading = choose(probe, "https://shop.example.com/p/1")
    assert reading.price == D(want), reading
