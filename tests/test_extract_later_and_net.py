"""Amounts a shopper does not pay now, or not as shown: a price that starts later, a store card's, a net one.

Principles from the blind readings of trade shops and sale-season pages (heldout39, heldout41), each written here in
the manner of shops of several countries (not copies of those pages); every test reads the whole cascade and fails on
the extractor before this change:

- a flash sale's or a time deal's price before it opens ("Desde las 20:00: 219,00 €", "20:00 오픈 특가", "¥459
  11月10日20:00开抢") is under a condition, time: never the price, nor does it confirm structured data that gives it;
  a time of day is no amount that cuts a label short;
- a store card's name alone as an amount's label ("Tarjeta Cóndor $169.990") names a card holders' price;
- a currency sign in an element of its own, the number in the next, beside a struck price ("<span>¥</span><span>529.00
  </span> <del>¥699.00</del>"), is one amount;
- a net amount is net whatever stands between the word and the tax ("zzgl. 19 % MwSt.", "（税抜）", a WooCommerce
  suffix beside the amount's wrapper, "alv 0 %", "ราคายังไม่รวม VAT"): structured data giving it, beside the gross
  amount the buy box shows with it, is not the price;
- a structured offer for several units at least (``eligibleQuantity``) is a quantity tier's, not the price of one;
- a supplier's recommended price ("Rek. cirkapris", "Ovh.") is a list price.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from crawlers.extract import extract

D = Decimal


def page(body: str, lang: str, offer: dict[str, Any] | None = None, title: str = "Producto X7") -> str:
    ld = "" if offer is None else (
        '<script type="application/ld+json">'
        + json.dumps({"@context": "https://schema.org", "@type": "Product", "name": title, "sku": "X7",
                      "offers": {"@type": "Offer", "availability": "https://schema.org/InStock", **offer}})
        + "</script>")
    return (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>{ld}</head>'
            "<body><header><nav><a href='/'>Home</a></nav></header><main><div class='product'>"
            f"<h1 class='name'>{title}</h1>{body}</div></main><footer>© Shop</footer></body></html>")


# (lang, url, buy box, structured offer or None, the price)
LATER = [
    pytest.param("es-ES", "https://www.casatodo.example.es/robot-x7.html",
                 '<div class="flash"><span class="label">Oferta flash</span> <p>Desde las 20:00: <b>219,00 €</b> · '
                 'unidades limitadas</p></div><div class="price-box"><span class="price">249,00 €</span> '
                 '<del class="old">399,00 €</del></div><button class="add-to-cart">Añadir al carrito</button>',
                 {"price": "219.00", "priceCurrency": "EUR"}, "249.00", id="flash-from-a-time"),
    pytest.param("de-DE", "https://www.haushalt24.example.de/p/x7",
                 '<div class="preis"><span class="aktuell">249,00 €</span></div><div class="deal">Blitzangebot ab '
                 '20 Uhr: <strong>199,00 €</strong></div><button class="btn-buy">In den Warenkorb</button>',
                 {"price": "199.00", "priceCurrency": "EUR"}, "249.00", id="ab-20-uhr"),
    pytest.param("zh-CN", "https://item.jiapin.example.cn/100238871.html",
                 '<dl class="row"><dt>价格</dt><dd><span class="p">¥529.00</span> <del>日常价 ¥699.00</del></dd></dl>'
                 '<dl class="row"><dt>双11价</dt><dd><span class="future">¥459</span> 11月10日20:00开抢</dd></dl>'
                 '<button class="buy">加入购物车</button>', None, "529.00", id="starts-said-after"),
]


@pytest.mark.parametrize(("lang", "url", "body", "offer", "price"), LATER)
def test_a_price_that_starts_later_is_not_the_price(lang: str, url: str, body: str, offer: dict[str, Any] | None,
                                                    price: str) -> None:
    got = extract(page(body, lang, offer), url)
    assert (got.outcome, got.price) == ("price", D(price)), (got.undecided, got.candidates)


def test_a_time_deal_before_it_opens_gives_no_price() -> None:
    body = ('<div class="head"><span class="soon">오픈 예정</span></div><table><tr><th>정가</th><td><strike>329,000원'
            '</strike></td></tr><tr><th>타임딜 특가</th><td><span class="deal">20:00 오픈 특가 199,000원</span></td>'
            '</tr></table><p>타임딜 오픈 전입니다.</p><button class="btn" disabled>알림 신청</button>')
    got = extract(page(body, "ko", {"price": "199000", "priceCurrency": "KRW"}), "https://malgeun.example.kr/p/500")
    assert got.price is None and got.outcome in {"undecided", "none"}


def test_a_store_cards_name_alone_labels_a_card_holders_price() -> None:
    body = ('<ul class="prices"><li class="card"><span class="lbl">Tarjeta Cóndor</span> <span class="v">$169.990'
            '</span></li><li class="web"><span class="lbl">Internet</span> <span class="v">$189.990</span></li>'
            '<li class="normal"><span class="lbl">Normal</span> <span class="v"><s>$329.990</s></span></li></ul>'
            '<button class="add">Agregar al carro</button>')
    got = extract(page(body, "es-CL", {"price": "169990", "priceCurrency": "CLP"}),
                  "https://www.dormir.example.cl/colchon-2-plazas")
    assert got.price == D("189990")


def test_a_sign_in_its_own_element_beside_a_struck_price_is_read_with_its_number() -> None:
    body = ('<dl><dt>价格</dt><dd><span class="yen">¥</span><span class="num">529.00</span> <del class="orig">日常价 '
            '¥699.00</del></dd></dl><button class="buy">加入购物车</button>')
    got = extract(page(body, "zh-CN"), "https://item.jiapin.example.cn/100238872.html")
    assert (got.price, got.currency, got.regular_price) == (D("529.00"), "CNY", D("699.00"))


# (lang, url, buy box, structured offer or None, the gross price)
NET = [
    pytest.param("de-DE", "https://www.werkzeug.example.de/akku-bohrschrauber-kbs-18",
                 '<div class="price-container"><p class="product-detail-price">189,00 €*</p><p class="tax">zzgl. 19 % '
                 'MwSt.</p><p class="secondary">entspricht <strong>224,91 €</strong> inkl. 19 % MwSt.</p></div>'
                 '<button class="btn-buy">In den Warenkorb</button>',
                 {"price": "189.00", "priceCurrency": "EUR"}, "224.91", id="zzgl-with-a-rate"),
    pytest.param("ja", "https://www.kogu.example.jp/shopdetail/000000004471/",
                 '<div class="price-area"><p class="price-main"><span class="label">販売価格</span> <span class="num">'
                 '14,800</span><span class="yen">円</span> <span class="tax">（税抜）</span></p><p class="incl">税込 '
                 '16,280円</p></div><div class="qty"><p>数量割引（1個あたり・税抜）</p><table><tr><th>1〜9個</th>'
                 '<td>14,800円</td></tr><tr><th>10個以上</th><td>13,900円</td></tr></table></div>'
                 '<button class="cart">カートに入れる</button>',
                 {"price": "14800", "priceCurrency": "JPY"}, "16280", id="tax-excluded-in-brackets"),
    pytest.param("es-ES", "https://www.suministros.example.es/producto/guantes-nitrilo/",
                 '<p class="price"><span class="woocommerce-Price-amount amount"><bdi>8,26&nbsp;€</bdi></span> '
                 '<small class="woocommerce-price-suffix">/ caja sin IVA</small></p><p class="incl"><span '
                 'class="woocommerce-Price-amount amount"><bdi>9,99&nbsp;€</bdi></span> con IVA (21 %)</p>'
                 '<button class="single_add_to_cart_button">Añadir al carrito</button>', None, "9.99",
                 id="suffix-beside-the-wrapper"),
    pytest.param("fi-FI", "https://www.labra.example.fi/tuote/vaaka-x7",
                 '<div class="hinta"><span class="now">1 890,00 €</span> <span class="vat">alv 0 %</span></div>'
                 '<div class="gross"><span>2 371,95 €</span> sis. alv 25,5 %</div>'
                 '<button class="osta">Lisää ostoskoriin</button>', None, "2371.95", id="alv-0"),
    pytest.param("th-TH", "https://www.crewkitchen.example.co.th/product/oven-x7",
                 '<div class="price"><span class="big">45,900.00 บาท</span> <span class="note">(ราคายังไม่รวม VAT 7%)'
                 '</span></div><div class="incl">ราคารวม VAT <span>49,113.00 บาท</span></div>'
                 '<button class="add">หยิบใส่ตะกร้า</button>', None, "49113.00", id="thai-not-yet-including"),
]


@pytest.mark.parametrize(("lang", "url", "body", "offer", "price"), NET)
def test_the_gross_amount_beside_a_net_one_is_the_price(lang: str, url: str, body: str,
                                                        offer: dict[str, Any] | None, price: str) -> None:
    got = extract(page(body, lang, offer), url)
    assert (got.outcome, got.price) == ("price", D(price)), (got.undecided, got.candidates)


def test_a_structured_offer_for_several_units_is_no_price_of_one() -> None:
    body = ('<div class="price-box"><span class="price excl">€ 4,95 excl. btw</span><span class="price incl">€ 5,99 '
            'incl. btw</span></div><table class="tiers"><tr><td>10+</td><td>€ 4,45 excl. (€ 5,38 incl.)</td></tr>'
            '<tr><td>50+</td><td>€ 3,95 excl. (€ 4,78 incl.)</td></tr></table>'
            '<button class="tocart">In winkelwagen</button>')
    offer = {"price": "5.38", "priceCurrency": "EUR",
             "eligibleQuantity": {"@type": "QuantitativeValue", "minValue": 10, "unitCode": "C62"}}
    got = extract(page(body, "nl-NL", offer), "https://www.installatie.example.nl/wcd-1-voudig")
    assert got.price == D("5.99")
    assert all(c.price != D("5.38") or c.method == "heuristic" for c in got.candidates)


def test_a_suppliers_recommended_price_on_a_trade_login_page_is_no_price() -> None:
    body = ('<div class="pris"><p class="login">Logga in för att se ditt pris</p><p class="rek">Rek. cirkapris '
            '1 495 kr inkl. moms</p></div><button class="btn" disabled>Köp</button>')
    got = extract(page(body, "sv-SE", {"price": "1495.00", "priceCurrency": "SEK"}),
                  "https://www.verktyg.example.se/produkt/borrmaskin-x7")
    assert got.price is None


# --- marketplaces' listings and premium retailers (after heldout40, heldout42, heldout43's blind readings) ---------

def test_the_offer_the_address_names_is_the_price_not_the_others() -> None:
    # (the URL names an advert; its element carries that id, the other offers theirs; "Neuf dès" is a from-price)
    body = ('<div class="summary"><a href="#offers">Neuf dès 279,00 €</a> · <a href="#offers">Occasion dès 199,00 €</a>'
            '</div><aside class="selected" data-advert-id="7712093456"><p>Annonce sélectionnée</p><div class="cond">'
            'Occasion - Très bon état</div><div class="pm-price">214,90 €</div><div class="ship">+ 5,90 € livraison'
            '</div><button class="add">Ajouter au panier</button></aside><section id="offers"><ul>'
            '<li class="offer" data-advert-id="7712101122"><span class="c">Neuf</span><span class="p">279,00 €</span>'
            '</li><li class="offer" data-advert-id="7711987743"><span class="c">Occasion - Bon état</span>'
            '<span class="p">199,00 €</span></li><li class="offer" data-advert-id="7712093456"><span class="c">Occasion'
            ' - Très bon état</span><span class="p">214,90 €</span></li></ul></section>')
    got = extract(page(body, "fr-FR", {"price": "279.00", "priceCurrency": "EUR"}),
                  "https://fr.marche.example.fr/mfp/8841273/objectif-35mm/offer/buy/7712093456")
    assert got.price == D("214.90")


def test_a_listing_in_dollars_is_not_read_at_its_approximate_pesos() -> None:
    body = ('<div class="cv-price"><span class="cur">US$</span><span class="frac">450</span> <p class="tax">Precio sin '
            'impuestos nacionales: US$ 371,90</p><p class="conv">Pagás en pesos al tipo de cambio del día: aprox. '
            '$ 517.500</p></div><button class="buy">Comprar ahora</button><section class="seller"><h2>Más del '
            'vendedor</h2><span>$ 12.999</span> <span>$ 15.490</span></section>')
    got = extract(page(body, "es-AR", {"price": "517500", "priceCurrency": "ARS"}),
                  "https://articulo.compraventa.example.com.ar/MLA-1498237710-notebook-usada-_JM")
    assert (got.price, got.currency) == (D("450"), "USD")


def test_split_cents_before_a_discount_badge_are_read_as_cents() -> None:
    body = ('<div class="fo-price"><s class="prev"><span class="f">349</span><span class="c">90</span></s> <div '
            'class="cur"><span class="sym">R$</span><span class="f">279</span><span class="c">90</span> <span '
            'class="off">20% OFF</span></div><p>em <b>10x R$ 27,99 sem juros</b></p></div>'
            '<button class="buy">Comprar agora</button>')
    got = extract(page(body, "pt-BR"), "https://produto.feira.example.com.br/MLB-4128390125-liquidificador-_JM")
    assert got.price == D("279.90")


def test_a_vips_price_after_a_discount_rate_is_conditional_and_a_number_after_cents_is_another() -> None:
    body = ('<div class="panel"><div class="row"><span class="l">价格</span><span class="p">¥<em>259.00</em></span>'
            '</div><div class="row"><span class="l">优惠</span><span class="c">店铺券 满200减30</span> <span class="a">'
            '券后 ¥229.00</span></div><div class="vip">88VIP 95折 ¥246.05</div></div><button class="buy">立即购买'
            '</button>')
    got = extract(page(body, "zh-CN"), "https://item.taotao.example.cn/item.htm?id=712345678901&skuId=5129384756102")
    assert (got.price, got.effective_price) == (D("259.00"), D("229.00"))


def test_a_range_whose_upper_end_has_no_sign_is_a_range() -> None:
    body = ('<div class="price"><span class="lbl">直購價</span> <strong class="p">$ 299</strong> ~ 459</div>'
            '<div class="spec"><button data-price="299">單人</button><button data-price="359">雙人</button></div>'
            '<button class="buy">直接購買</button>')
    offer = {"@type": "AggregateOffer", "lowPrice": "299", "highPrice": "459", "priceCurrency": "TWD"}
    got = extract(page(body, "zh-TW", offer), "https://www.lutian.example.tw/item/22140050178421")
    assert got.price is None and got.outcome == "undecided"


def test_an_option_marked_selected_in_a_span_designates_the_variant() -> None:
    body = ('<div class="storage"><a class="opt" href="/phones/z15-pro-128gb-10294830.html">128 GB<br><span>£799.00'
            '</span></a> <span class="opt is-selected">256 GB<br><span>£899.00</span></span> <a class="opt" '
            'href="/phones/z15-pro-512gb-10294844.html">512 GB<br><span>£1,049.00</span></a></div><div class="pricing">'
            '<p class="price">£899.00</p><p class="was">Was £949.00</p></div>'
            '<button class="add">Add to basket</button>')
    offer = {"price": "799.00", "priceCurrency": "GBP",
             "url": "https://www.bright.example.co.uk/phones/z15-pro-128gb-10294830.html"}
    got = extract(page(body, "en-GB", offer), "https://www.bright.example.co.uk/phones/z15-pro-256gb-10294837.html")
    assert got.price == D("899.00")


def test_a_tax_free_price_for_visitors_is_not_the_price() -> None:
    body = ('<div class="price"><span class="p">¥1,892,000</span><span class="tax">税込</span></div><p class="free">'
            '訪日外国人のお客様は店頭にて免税価格 <strong>¥1,720,000</strong> でご購入いただけます。</p>'
            '<button class="add-cart">カートに入れる</button>')
    got = extract(page(body, "ja", {"price": "1720000", "priceCurrency": "JPY"}),
                  "https://www.tokei.example.jp/products/detail/20417")
    assert got.price == D("1892000")


def test_a_price_on_request_page_without_a_buy_button_gives_no_price() -> None:
    body = ('<div class="prices"><span class="por">Preis auf Anfrage</span></div><p>Ausschließlich in unserer Boutique.'
            '</p><button class="appt">Termin vereinbaren</button><div class="alt"><p>Auch erhältlich in Kalbsleder – '
            '<a href="/taschen/kaiserin-kalbsleder/AH-KAI-CALF.html">3.950,00 €</a></p></div>')
    got = extract(page(body, "de-AT", {"price": "3950.00", "priceCurrency": "EUR"}),
                  "https://www.hofer.example.at/taschen/kaiserin-krokodilleder/AH-KAI-CROC.html")
    assert got.price is None


def test_a_trade_ins_credit_said_in_the_sentence_after_it_is_no_price() -> None:
    body = ('<div class="plans"><label><b>Power 500</b> <span>AED 499/month incl. device</span></label></div>'
            '<div class="trade"><p>Get up to <b>AED 1,000</b> off your monthly bills when you trade in your old phone.'
            '</p></div><button class="cta">Continue</button>')
    got = extract(page(body, "en-AE"), "https://www.dunetel.example.ae/phones/z15?plan=power-500")
    assert got.price is None


def test_a_number_after_an_amounts_cents_is_another_number() -> None:
    from crawlers.extract.amounts import find_amounts

    assert [a.amount for a in find_amounts("券后 ¥229.00 88VIP", locale="zh-CN")] == [D("229.00")]
    assert [a.amount for a in find_amounts("₹1,19,990", locale="en-IN")] == [D("119990")]


# --- a discount the shop applies by itself in the basket (after heldout41's blind reading) -------------------------

AUTOMATIC = [
    pytest.param("fr-FR", '<div class="prices"><span class="price">59,90 €</span> <del>99,00 €</del></div><p class="'
                 'extra">2e démarque : -10 % supplémentaires appliqués automatiquement au panier, sans code : soit '
                 '<b>53,91 €</b></p><button class="add">Ajouter au panier</button>',
                 {"price": "59.90", "priceCurrency": "EUR"}, "59.90", "53.91", id="fr-structured"),
    pytest.param("de-AT", '<div class="prices"><span class="price">179,95 €*</span> statt <del>299,95 €*</del></div>'
                 '<p class="extra">Nochmals -20 % im Warenkorb, ohne Code. Ihr Preis: <b>143,96 €</b></p>'
                 '<button class="buy">In den Warenkorb</button>', None, "179.95", "143.96", id="de-visible"),
    pytest.param("ar-SA", '<div class="prices"><span class="price">٢٤٩ ر.س</span> <del>٣٩٩ ر.س</del></div><p class="'
                 'extra">خصم إضافي ١٥٪ يطبق تلقائيًا في السلة بدون كود — السعر بعد الخصم ٢١١٫٦٥ ر.س</p>'
                 '<button class="add">أضف للسلة</button>', {"price": "249.00", "priceCurrency": "SAR"}, "249.00",
                 "211.65", id="ar-eastern-digits"),
]


@pytest.mark.parametrize(("lang", "body", "offer", "price", "effective"), AUTOMATIC)
def test_a_discount_applied_by_itself_in_the_basket_with_its_price_stated_is_the_effective_price(
        lang: str, body: str, offer: dict[str, Any] | None, price: str, effective: str) -> None:
    got = extract(page(body, lang, offer), "https://www.shop.example/p/x7")
    assert (got.price, got.effective_price) == (D(price), D(effective)), got.coupon


NOT_AUTOMATIC = [
    # (a percentage alone: the shopper sees the result only in the basket)
    pytest.param("en-MY", '<div class="prices"><span class="price">RM 299.00</span></div><p>Extra 10% off applied '
                 'automatically at checkout.</p><button class="add">Add to cart</button>', id="percentage-alone"),
    # (a robot vacuum's self-cleaning is automatic; its card discount is no basket discount)
    pytest.param("ko", '<div class="prices"><span class="price">1,290,000원</span></div><p>물걸레 자동세척 스테이션 '
                 '5% 카드 할인 최대혜택가 1,225,500원</p><button class="cart">장바구니 담기</button>',
                 id="automatic-feature"),
]


@pytest.mark.parametrize(("lang", "body"), NOT_AUTOMATIC)
def test_no_stated_basket_discount_leaves_the_price_as_it_is(lang: str, body: str) -> None:
    got = extract(page(body, lang), "https://www.shop.example/p/x7")
    assert got.price is not None and got.effective_price == got.price, got.coupon


def test_a_coupons_reduction_is_no_price_after_it() -> None:
    from crawlers.extract.cascade import _CONDITION, _NOT_APPLICABLE
    from crawlers.extract.coupons import after_coupon

    # ("z kuponem" labels the price after a coupon; "-30 zł" right after it is the coupon's reduction, not that price)
    got = after_coupon("449,00 zł → 419,00 zł z kuponem -30 zł Odbierz kupon", D("449.00"), locale="pl-PL",
                       currency="PLN", not_applicable=_NOT_APPLICABLE, condition=_CONDITION)
    assert got is None or got[1] == D("419.00")


# --- wholesale and professional supply shops (after heldout45's blind reading) -------------------------------------

SUPPLY = [
    pytest.param("es-ES", '<div class="price"><span class="current">7,95 €</span> <span class="tax">+ IVA</span> '
                 '<span class="tip" title="9,62 € IVA incluido">ⓘ <span class="bubble">9,62 € IVA incluido</span>'
                 '</span></div>'
                 '<button class="add-to-cart">Añadir al carrito</button>', {"price": "7.95", "priceCurrency": "EUR"},
                 {"9.62"}, id="plus-iva"),
    pytest.param("en-PH", '<p class="price">₱4,680.00 <small>/ case, VAT inclusive</small></p><p class="pergal">'
                 '₱1,170.00 per gallon</p><button class="single_add_to_cart_button">Add to cart</button>',
                 {"price": "1170.00", "priceCurrency": "PHP"}, {"4680.00"}, id="per-gallon"),
    pytest.param("es-MX", '<div class="prices"><del>$319.00</del> <span>Precio socio y público:</span> <strong '
                 'class="best">$289.00</strong></div><p>Precio por pieza: <em>$48.17</em></p><p>Mayoreo: 3 cajas o '
                 'más: <strong>$279.00</strong></p><button class="buy">Agregar al carrito</button>',
                 {"price": "48.17", "priceCurrency": "MXN"}, {"289.00"}, id="per-piece-and-members-and-all"),
    pytest.param("ja", '<div class="price"><span class="label">1パック（12双）</span><span class="p">¥680</span></div>'
                 '<div class="incl">（税込 ¥748）</div><p>1双あたり ¥62</p>'
                 '<button class="cart">カートに入れる</button>',
                 {"price": "680", "priceCurrency": "JPY"}, {"748", None}, id="net-then-gross-in-brackets"),
]


@pytest.mark.parametrize(("lang", "body", "offer", "prices"), SUPPLY)
def test_a_supply_shops_net_unit_and_tier_amounts_are_not_the_price(lang: str, body: str, offer: dict[str, Any],
                                                                    prices: set[str | None]) -> None:
    got = extract(page(body, lang, offer), "https://www.supply.example/p/x7")
    assert (None if got.price is None else str(got.price)) in prices, (got.undecided, got.candidates)


# --- bids, deposits said after their amount, a piece's price (after heldout46/47's blind readings) ------------------

def test_a_classified_priced_by_bidding_gives_no_price() -> None:
    body = ('<div class="ad-price"><span>السعر:</span> <b>على السوم</b></div><div class="bid"><span>السوم الحالي:'
            '</span> <strong>١٤٥٬٠٠٠ ريال</strong> <small>(٧ سومات)</small></div><form><button>سوم</button></form>')
    got = extract(page(body, "ar-SA", {"price": "145000", "priceCurrency": "SAR"}),
                  "https://souq.example.sa/ad/nissan-patrol-2018-98123456")
    assert got.price is None


def test_an_auction_without_buy_it_now_gives_no_price() -> None:
    body = ('<div class="auction"><p>Ledande bud <strong>1 250 kr</strong> (14 bud)</p><p>Utropspris 500 kr</p>'
            '<p>Minst 1 300 kr</p><button class="bid">Lägg bud</button></div>')
    got = extract(page(body, "sv-SE"), "https://www.auktion.example.se/item/2918/456789012")
    assert got.price is None


def test_a_deposit_said_after_its_amount_is_left_out_of_the_total() -> None:
    body = ('<div class="product-price"><span class="current-price-value">129,95 €</span> <span>IVA incluido</span>'
            '</div><div class="deposit"><p><strong>+ 10,00 € depósito por batería usada</strong> (se reembolsa)</p>'
            '<p class="total">Total con depósito: <b>139,95 €</b></p></div><button class="add-to-cart">Añadir al '
            'carrito</button>')
    got = extract(page(body, "es-ES", {"price": "139.95", "priceCurrency": "EUR"}),
                  "https://www.baterias.example.es/baterias-coche/agm-70ah")
    assert got.price == D("129.95")


def test_the_price_of_a_piece_in_the_element_named_the_price_is_the_price() -> None:
    body = ('<div class="price-box"><em class="main-price">329,00 zł</em> <span>/ szt.</span></div><div class="qty">'
            '<input value="4"> <p>Razem za komplet: <strong>1 316,00 zł</strong></p></div><p>Montaż od 25,00 zł/szt.'
            '</p><button class="add">Dodaj do koszyka</button>')
    got = extract(page(body, "pl-PL"), "https://www.opony.example.pl/opona-letnia-225-45-r17")
    assert got.price == D("329.00")


def test_a_range_with_a_buy_button_waiting_for_a_choice_is_no_price_yet() -> None:
    # (after heldout50's blind reading: the offers' low end is no offer's price until a size is chosen; since the blind
    # readings of heldout60-66, a page that prints its price only as where prices start and offers no way to buy at it
    # has no price yet, as heldout50's truth says, rather than an undecided one)
    body = ('<div class="price"><span class="price-item">₱499.00 – ₱1,299.00</span></div><fieldset><legend>Size'
            '</legend><input type="radio" name="s" id="s1"><label for="s1">50 ml</label><input type="radio" name="s" '
            'id="s2"><label for="s2">250 ml</label></fieldset><p>Select a size</p><button class="add" disabled>Add to '
            'cart</button>')
    offer = {"@type": "AggregateOffer", "lowPrice": "499.00", "highPrice": "1299.00", "priceCurrency": "PHP"}
    got = extract(page(body, "en-PH", offer), "https://www.sampaguita.example.ph/products/body-mist")
    assert got.price is None and got.outcome == "none" and "no_price_shown:from_only" in got.flags, got.flags


# --- DIY and building materials (after heldout49's blind reading) ----------------------------------------------------

def test_split_cents_before_what_the_amount_is_per_are_cents() -> None:
    body = ('<div class="price" data-component="price"><span class="dollar">$</span><span class="whole">3</span><span '
            'class="cents">98</span> <span class="uom">/bag</span></div><div class="multi"><b>5 for $15</b></div>'
            '<button class="atc">Add to Cart</button>')
    got = extract(page(body, "en-US"), "https://www.homestead.example.com/p/mulch-2-cu-ft/1004417")
    assert got.price == D("3.98")


def test_a_quantity_calculators_total_is_not_the_price() -> None:
    body = ('<p class="price"><span class="amount"><bdi><span class="sym">R</span>6.49</bdi></span> <small>each incl. '
            'VAT</small></p><div class="by-calc"><h4>Wall calculator</h4><p>Wall of <b>10 m²</b> ≈ 55 bricks/m² → '
            '<b>550 bricks</b> · <b>R3,569.50</b></p></div>'
            '<button class="single_add_to_cart_button">Add to cart</button>')
    got = extract(page(body, "en-ZA", {"price": "3569.50", "priceCurrency": "ZAR"}),
                  "https://www.buildersyard.example.co.za/product/face-brick/?attribute_pa_unit=each")
    assert got.price == D("6.49")


# --- everyday pages of two regions (after heldout51/52's blind readings) --------------------------------------------

def test_a_reference_in_dollars_beside_bolivares_is_no_price() -> None:
    body = ('<div class="price-box"><p class="bs"><span class="cur">Bs.</span> <span class="amt">787,38</span></p><p '
            'class="ref">REF $ 12,50</p><p class="rate">Tasa BCV: Bs. 62,99 por dólar</p></div>'
            '<button class="add-to-cart">Agregar al carrito</button>')
    got = extract(page(body, "es-VE", {"price": "12.50", "priceCurrency": "USD"}),
                  "https://www.farmacia.example.com.ve/losartan-50-mg-x-30")
    assert (got.price, got.currency) == (D("787.38"), "VES")


def test_bootstraps_list_unstyled_is_no_list_price() -> None:
    body = ('<ul class="list-unstyled"><li><h2>14,99 €</h2></li><li>Bez PVN: 12,39 €</li></ul>'
            '<div class="oc-slider"><span class="now">9,99 €</span></div>')
    got = extract(page(body, "lv-LV"), "https://www.gramatnica.example.lv/index.php?route=product/product&product_id=42")
    assert got.price == D("14.99")


@pytest.mark.parametrize(("lang", "url", "shown", "price", "currency"), [
    ("ru", "https://shop.example.kg/p/x7", "2 450 сом", "2450", "KGS"),
    ("uz", "https://shop.example.uz/p/x7", "1 290 000 so'm", "1290000", "UZS"),
    ("en", "https://shop.example.mv/p/x7", "MVR 289.00", "289.00", "MVR"),
])
def test_the_som_and_the_rufiyaa_are_currencies(lang: str, url: str, shown: str, price: str, currency: str) -> None:
    # (after heldout53's blind reading: pages showing only these were read as showing no price)
    body = f'<div class="price-current">{shown}</div><a class="buy-button" href="#">Add to cart</a>'
    got = extract(page(body, lang), url)
    assert (got.price, got.currency) == (D(price), currency)


def test_wix_names_its_prices_by_data_hook() -> None:
    # (after heldout56's blind reading: a struck price named only by data-hook="strikethrough-price")
    body = ('<div data-hook="product-price"><span data-hook="strikethrough-price">AED 799.00</span> <span '
            'data-hook="formatted-primary-price">AED 649.00</span></div><p>Price includes VAT</p>'
            '<button data-hook="add-to-cart">Add to Cart</button>')
    got = extract(page(body, "en-AE", {"price": "649", "priceCurrency": "AED"}),
                  "https://www.desertcamp.example.ae/product-page/dome-tent-dune")
    assert (got.price, got.regular_price) == (D("649"), D("799.00"))
