"""What a table layout says about its amounts (``crawlers.extract.tables``), and the words beside them.

Pages written for these tests in the style of small shops on legacy platforms (2000s table layouts: osCommerce,
ASP, PHP) and of the shops whose words the scan did not read yet; none is a copy of a held-out page.

- the row's label is the amount's label: "<td>Cena s DPH:</td><td><b><font>999 Kč</font></b></td>";
- a label naming the price in the shop's language outranks unlabelled amounts (a shipping table, an accessory's);
- an amount in a side box's cell with a link to another product is that product's;
- digits struck through are struck, whatever sign follows the strike;
- a saving (وفر, توفير), a bank-transfer price (Havale/EFT ile), a price with delivery (z dostawą), a fee added to
  the price (zzgl. vRG), a subscription (herhaalbestelling), a unit price (100ml당), a benefit price after cards
  and coupons (최대혜택가) are not the price;
- a percentage after an amount's sign is no amount ("1,290,000원 13%").
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from crawlers.extract import extract, find_amounts

D = Decimal


def legacy(body: str, lang: str, charset: str = "utf-8", sidebar: str = "", title: str = "Shop") -> str:
    """A 2000s table layout: a header table, a left column of boxes, the product's table, a footer."""
    return (f'<!DOCTYPE html PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN"><html lang="{lang}"><head>'
            f'<meta http-equiv="Content-Type" content="text/html; charset={charset}"><title>{title}</title></head>'
            '<body><table width="100%" class="header"><tr><td><a href="index.php"><img src="logo.gif" alt="Shop">'
            '</a></td><td align="right"><a href="account.php">Account</a> | <a href="cart.php">Cart</a></td></tr>'
            '</table><table width="100%"><tr><td width="180" valign="top" class="columnLeft">'
            '<table class="infoBox"><tr><td class="infoBoxHeading">Categories</td></tr>'
            '<tr><td><a href="index.php?cPath=1">Tools</a><br><a href="index.php?cPath=2">Garden</a></td></tr></table>'
            + sidebar + '</td><td valign="top" class="main">' + body + '</td></tr></table>'
            '<table width="100%" class="footer"><tr><td>Copyright 2006 Shop</td></tr></table></body></html>')


# --- the row's label; another product's cell -------------------------------------------------------------------

_CZ_SIDEBAR = ('<table class="infoBox"><tr><td class="infoBoxHeading">Akce</td></tr>'
               '<tr><td class="infoBoxContents"><a href="product_info.php?products_id=311">Kleště kombinované 180</a>'
               '<br><s>349 Kč</s> <span class="productSpecialPrice">299 Kč</span></td></tr></table>')
_CZ_BODY = ('<h1>Vrtačka příklepová Hromek HV-750</h1>'
            '<table border="0" cellpadding="2"><tr><td class="main">Kód zboží:</td><td class="main">HV-750</td></tr>'
            '<tr><td class="main">Cena bez DPH:</td><td class="main">826,45 Kč</td></tr>'
            '<tr><td class="main"><b>Cena s DPH:</b></td><td class="main"><b><font color="#cc0000" size="4">999 Kč'
            '</font></b></td></tr>'
            '<tr><td class="smallText">Doporučená cena:</td><td class="smallText"><strike>1 190 Kč</strike></td></tr>'
            '</table><p><input type="image" src="buttons/koupit.gif" alt="Do košíku"></p>'
            '<table border="1"><tr><th>Doprava</th><th>s DPH</th></tr><tr><td>PPL</td><td>129 Kč</td></tr>'
            '<tr><td>Zásilkovna</td><td>79 Kč</td></tr></table>'
            '<p>Vrtačka s příklepem, 750 W, sklíčidlo 13 mm.</p>')


def test_a_price_labelled_in_its_row_outranks_sidebar_specials_and_a_shipping_table() -> None:
    html = legacy(_CZ_BODY, "cs", sidebar=_CZ_SIDEBAR, title="Hromek HV-750")
    got = extract(html, "http://www.naradi-hromek.example.cz/product_info.php?products_id=418")
    assert got.undecided is None
    assert got.price == D("999")
    assert got.regular_price == D("1190")


def test_a_sidebar_special_linked_to_another_product_is_never_the_price() -> None:
    # (no h1: the product's name in an osCommerce "pageHeading" cell, its price in the cell beside it)
    body = ('<table width="100%"><tr><td class="pageHeading">Manguera extensible 30 m <br><span class="smallText">'
            '[MX-30]</span></td><td class="pageHeading" align="right"><s>34,90€</s> '
            '<span class="productSpecialPrice">27,50€</span></td></tr></table>'
            '<p>Manguera de jardín extensible con pistola de 7 posiciones.</p>'
            '<input type="image" src="buttons/comprar.gif" alt="Añadir a la cesta">')
    sidebar = ('<table class="infoBox"><tr><td class="infoBoxHeading">Ofertas</td></tr>'
               '<tr><td class="infoBoxContents"><a href="product_info.php?products_id=77">Aspersor oscilante 2000'
               '</a><br><s>19,90€</s><br><span class="productSpecialPrice">14,95€</span></td></tr></table>')
    html = legacy(body, "es", sidebar=sidebar, title="Jardín Pérez - Manguera extensible 30 m")
    got = extract(html, "http://www.jardin-perez.example.es/product_info.php?cPath=4_9&products_id=203")
    assert got.undecided is None
    assert got.price == D("27.50")


def test_a_labelled_price_outranks_delivery_from_and_an_accessory_table() -> None:
    body = ('<h1><font size="4">Бензопила Лесник БП-45</font></h1>'
            '<table><tr><td>Код товара:</td><td>BP-45</td></tr>'
            '<tr><td>Цена:</td><td><font color="#cc0000" size="5"><b>12 490 руб.</b></font> '
            '<font size="2" color="#777">($134.00)</font></td></tr></table>'
            '<form action="cart.php" method="post">Количество: <input type="text" name="qty" value="1" size="3"> '
            '<input type="image" src="img/buy.gif" alt="Купить"></form>'
            '<p>Доставка транспортной компанией: по тарифам перевозчика (от 350 руб.)</p>'
            '<table border="1"><tr><td colspan="2"><b>Дополнительно</b></td></tr>'
            '<tr><td>Цепь 45 см</td><td>890 руб.</td></tr><tr><td>Масло для цепи 1 л</td><td>420 руб.</td></tr>'
            '</table>')
    html = legacy(body, "ru", title="Бензопила Лесник БП-45")
    got = extract(html, "http://www.instrument-lesnik.example.ru/product.php?id=5120")
    assert got.undecided is None
    assert got.price == D("12490")


def test_a_label_after_another_word_is_another_price_and_gains_nothing() -> None:
    # ("Ár:" names the price; "Klubtag ár:" the club members' price: it gains no weight from "ár")
    body = ('<h1>Horgászbot Csuka 270</h1><table>'
            '<tr><td>Ár:</td><td><b>12 990 Ft</b></td></tr>'
            '<tr><td>Klubtag ár:</td><td><b>11 990 Ft</b></td></tr></table>'
            '<input type="image" src="kosar.gif" alt="Kosárba">')
    got = extract(legacy(body, "hu", title="Horgászbot Csuka 270"), "http://www.csuka-bolt.example.hu/termek.php?id=88")
    assert got.undecided is None
    assert got.price == D("12990")


# --- what the words beside an amount say it is ------------------------------------------------------------------

def test_a_saving_in_arabic_is_never_the_price() -> None:
    body = ('<h1>مكنسة كهربائية نسيم 2000 واط</h1><table dir="rtl">'
            '<tr><td>السعر قبل الخصم:</td><td><strike>999 ر.س</strike></td></tr>'
            '<tr><td>السعر الآن:</td><td><font color="red" size="4">849 ر.س</font></td></tr>'
            '<tr><td>وفر:</td><td><font color="green">150 ر.س</font></td></tr></table>'
            '<input type="image" src="buy.gif" alt="أضف إلى السلة">')
    got = extract(legacy(body, "ar"), "http://www.naseem-store.example.com.sa/product.php?id=412")
    assert got.undecided is None
    assert got.price == D("849")
    inline = ('<h1>مكيف نسمة 18000 وحدة</h1><div class="price"><del>3 299 ر.س</del> <b>2 899 ر.س</b> '
              '<span class="save">توفير 400 ر.س</span></div><button>أضف إلى السلة</button>')
    got = extract(legacy(inline, "ar"), "http://www.naseem-store.example.com.sa/product.php?id=413")
    assert got.price == D("2899")
    assert got.undecided is None


def test_a_bank_transfer_price_labelled_before_its_amount_is_not_the_default_price() -> None:
    body = ('<h1>Kompresör Rüzgar 50 Lt</h1><table>'
            '<tr><td>Piyasa Fiyatı:</td><td><strike>4.450,00 TL</strike></td></tr>'
            '<tr><td>KDV Dahil:</td><td><b>3.899,00 TL</b></td></tr>'
            '<tr><td>Havale/EFT ile:</td><td><b>3.743,04 TL</b> (%4 indirimli)</td></tr></table>'
            '<input type="image" src="sepete_ekle.gif" alt="Sepete Ekle">')
    got = extract(legacy(body, "tr", charset="windows-1254"), "http://www.ruzgar-yapi.example.com.tr/urun.asp?id=907")
    assert got.undecided is None
    assert got.price == D("3899.00")


@pytest.mark.parametrize(("fee", "lang", "url", "price"), [
    # (a recycling fee added to the price)
    ('<span class="price">CHF 849.–</span> inkl. MwSt., zzgl. vRG <span class="price">CHF 25.–</span>',
     "de-CH", "https://www.haushalt-zentrum.example.ch/p/waschmaschine-aqua-8", D("849")),
    # (the price with delivery)
    ('<span class="price">1 499,00 zł</span> z dostawą <span class="price">1 513,99 zł</span>',
     "pl", "https://www.sklep-agd.example.pl/p/pralka-aqua-8", D("1499.00")),
    # (a subscription's price: a repeat order)
    ('<span class="price">€ 39,99</span> <span class="small">Herhaalbestelling: <span>€ 37,99</span> (5% korting)'
     '</span>', "nl", "https://www.dierenwinkel.example.nl/p/kattenbrokken-10-kg", D("39.99")),
])
def test_an_amount_added_to_the_price_or_for_a_subscription_is_not_the_price(fee: str, lang: str, url: str,
                                                                           price: Decimal) -> None:
    body = f'<h1>Product</h1><div class="buybox"><p>{fee}</p><button>Add to cart</button></div>'
    got = extract(legacy(body, lang), url)
    assert got.undecided is None
    assert got.price == price


def test_korean_unit_and_benefit_prices_and_struck_digits_with_the_sign_outside() -> None:
    body = ('<h1>촉촉 수분 앰플 30ml</h1><div class="prd_price">'
            '<span class="price-1"><strike>52,000</strike><span>원</span></span> '
            '<span class="price-2"><strong>44,000</strong><span>원</span></span> '
            '<span class="unit">(10ml당 14,667원)</span></div>'
            '<div class="benefit"><p>최대혜택가 39,600원</p></div><button>구매하기</button>')
    got = extract(legacy(body, "ko"), "https://www.chokchok.example.co.kr/goods/view.do?no=1023")
    assert got.undecided is None
    assert got.price == D("44000")


# --- a percentage after an amount's sign ------------------------------------------------------------------------

def test_a_percentage_after_an_amounts_sign_is_no_amount() -> None:
    assert [a.amount for a in find_amounts("1,290,000원 13%", locale="ko_KR")] == [D("1290000")]
    assert find_amounts("원 13%", locale="ko_KR") == []
    # (a Turkish badge writes the sign first: the amount before it stays)
    assert [a.amount for a in find_amounts("₺1.249,90 %31", locale="tr_TR")] == [D("1249.90")]


def test_a_korean_price_beside_its_discount_rate_confirms_the_structured_price() -> None:
    body = ('<h1>로봇청소기 맑음 R7</h1><dl class="item_price"><dt>정가</dt><dd><strike>899,000원</strike></dd></dl>'
            '<dl class="item_price"><dt>판매가</dt><dd><strong>769,000</strong>원 <span class="dc">14%</span></dd></dl>'
            '<button>바로구매</button>')
    head = ('<script type="application/ld+json">{"@context":"https://schema.org","@type":"Product","name":"R7",'
            '"offers":{"@type":"Offer","price":"769000","priceCurrency":"KRW"}}</script>')
    html = legacy(body, "ko").replace("</head>", head + "</head>")
    got = extract(html, "https://www.malgeum.example.co.kr/goods/goods_view.php?goodsNo=1000233")
    assert got.undecided is None
    assert got.price == D("769000")
