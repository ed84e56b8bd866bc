""""Price on request" in the languages of the shops read (``crawlers.extract.page``, :meth:`Page.no_price_said`).

A product page that gives its price only on request (a quote, a call) says so just below its title; the cascade
then gives no price, whatever accessories or stale structured data print. The wordings are data: each language's
common ways of saying it, tested here on a small page each, with the accessories' prices beside it. A price shown
before such words (a bulk-order quote line after the price) keeps the page's price.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from crawlers.extract import extract
from crawlers.extract.page import Page


def page(lang: str, title: str, said: str, button: str, price: str = "") -> str:
    return (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>'
            '<script type="application/ld+json">{"@context":"https://schema.org","@type":"Product","name":"X",'
            '"offers":{"@type":"Offer","price":"549.99","priceCurrency":"USD"}}</script></head>'
            "<body><header><nav><a href='/'>Home</a></nav></header><main>"
            f'<h1>{title}</h1>{price}<div class="price-slot">{said}</div><button class="btn">{button}</button>'
            '<ul class="extras"><li>Adapter <span class="price">$49.00</span></li>'
            '<li>Set <span class="price">$89.00</span></li></ul></main><footer>© Shop</footer></body></html>')


WORDINGS = [
    ("he-IL", "www.kli.co.il", "מכונת קפה תעשייתית", "צור קשר לקבלת הצעת מחיר", "שלח"),
    ("he-IL", "www.kli.co.il", "מכונת קפה תעשייתית", "מחיר: לפי בקשה", "השאירו פרטים"),
    ("he-IL", "www.kli.co.il", "מכונת קפה תעשייתית", "התקשרו לקבלת מחיר", "התקשרו"),
    ("ar-SA", "www.alat.sa", "ماكينة قهوة صناعية", "السعر حسب الطلب", "أرسل"),
    ("ar-AE", "www.alat.ae", "ماكينة قهوة صناعية", "تواصل معنا لمعرفة السعر", "واتساب"),
    ("fa-IR", "www.abzar.ir", "دستگاه قهوه صنعتی", "قیمت: تماس بگیرید", "تماس"),
    ("fa-IR", "www.abzar.ir", "دستگاه قهوه صنعتی", "استعلام قیمت", "ارسال"),
    ("tr-TR", "www.makine.com.tr", "Endüstriyel Kahve Makinesi", "Fiyat: Talep üzerine", "Gönder"),
    ("el-GR", "www.mixanes.gr", "Βιομηχανική μηχανή καφέ", "Επικοινωνήστε μαζί μας για την τιμή", "Αποστολή"),
    ("th-TH", "www.khrueang.co.th", "เครื่องชงกาแฟอุตสาหกรรม", "ราคา: ติดต่อฝ่ายขาย", "ส่ง"),
    ("vi-VN", "www.maypha.vn", "Máy pha cà phê công nghiệp", "Liên hệ để được báo giá", "Gửi"),
    ("ko-KR", "www.gigye.co.kr", "업소용 커피머신", "가격: 상담 후 결정", "상담"),
    ("ja-JP", "www.kikai.co.jp", "業務用コーヒーマシン", "価格：お問い合わせください", "お問い合わせ"),
    ("ja-JP", "www.kikai.co.jp", "業務用コーヒーマシン", "価格：ASK", "お問い合わせ"),
    ("zh-CN", "www.jiqi.cn", "商用咖啡机", "价格：面议", "联系我们"),
    ("zh-TW", "www.jiqi.com.tw", "商用咖啡機", "歡迎來電詢價", "聯絡我們"),
    ("zh-TW", "www.jiqi.com.tw", "商用咖啡機", "價格：來電洽詢", "聯絡我們"),
    # (the price word as a label, the words after a colon: "Kaina: pagal užklausą" as well as "Kaina pagal užklausą")
    ("lt-LT", "www.pirtys.lt", "Statinė pirtis 4 m", "<span>Kaina:</span> <strong>pagal užklausą</strong>", "Siųsti"),
    ("de-DE", "www.saunen.de", "Fasssauna 4 m", "Preis: auf Anfrage", "Anfrage senden"),
    ("pl-PL", "www.sauny.pl", "Sauna beczka 4 m", "Cena: na zapytanie", "Wyślij"),
    ("fi-FI", "www.saunat.fi", "Tynnyrisauna 4 m", "Hinta : pyynnöstä", "Lähetä"),
    ("ru-RU", "www.bani.ru", "Баня-бочка 4 м", "Цена: по запросу", "Отправить"),
    ("en-GB", "www.saunas.co.uk", "Barrel sauna 4 m", "Price: on application", "Enquire"),
]


# A price not set yet: a launch or pre-order page whose structured offer carries a placeholder (heldout30 sa-jawalat,
# after its blind reading)
NOT_YET = [
    ("en-GB", "www.phones.co.uk", "Zentra X12 Pro 256 GB", "Price to be announced", "Notify me"),
    ("en-US", "www.phones.com", "Zentra X12 Pro 256 GB", "Price: TBA", "Notify me"),
    ("de-DE", "www.handys.de", "Zentra X12 Pro 256 GB", "Preis folgt", "Benachrichtigen"),
    ("fr-FR", "www.mobiles.fr", "Zentra X12 Pro 256 Go", "Prix communiqué prochainement", "M'alerter"),
    ("es-ES", "www.moviles.es", "Zentra X12 Pro 256 GB", "Precio por anunciar", "Avísame"),
    ("pt-BR", "www.celulares.com.br", "Zentra X12 Pro 256 GB", "Preço em breve", "Avise-me"),
    ("it-IT", "www.telefoni.it", "Zentra X12 Pro 256 GB", "Prezzo in arrivo", "Avvisami"),
    ("ja-JP", "www.keitai.jp", "Zentra X12 Pro 256GB", "価格：未定", "入荷お知らせ"),
    ("zh-CN", "www.shouji.cn", "Zentra X12 Pro 256GB", "价格待定", "到货通知"),
    ("ko-KR", "www.phone.co.kr", "Zentra X12 Pro 256GB", "가격 미정", "알림 신청"),
    ("ar-SA", "www.jawal.sa", "زينترا X12 برو", "السعر: يُعلن عند الإطلاق", "أبلغني"),
    ("vi-VN", "www.dienthoai.vn", "Zentra X12 Pro 256GB", "Giá đang cập nhật", "Nhắc tôi"),
]


@pytest.mark.parametrize(("lang", "host", "title", "said", "button"), WORDINGS + NOT_YET)
def test_price_on_request_is_no_price(lang: str, host: str, title: str, said: str, button: str) -> None:
    html = page(lang, title, said, button)
    assert Page.parse(html, f"https://{host}/p/1").no_price_said() == "on_request"
    ext = extract(html, f"https://{host}/p/1")
    assert (ext.price, ext.undecided, ext.outcome) == (None, None, "none"), (ext.price, ext.candidates)
    assert "no_price_shown:on_request" in ext.flags


@pytest.mark.parametrize(("lang", "host", "said"), [
    ("th-TH", "www.khrueang.co.th", "ขอใบเสนอราคา"),  # ("request a quotation": a button beside a shown price)
    ("ko-KR", "www.gigye.co.kr", "견적 문의"),
    ("tr-TR", "www.makine.com.tr", "Fiyat teklifi alın"),
])
def test_a_request_for_a_quote_alone_is_no_price_on_request(lang: str, host: str, said: str) -> None:
    assert Page.parse(page(lang, "Kahve", said, "OK"), f"https://{host}/p/1").no_price_said() is None


def test_a_quote_for_bulk_orders_after_the_shown_price_keeps_the_price() -> None:
    html = page("he-IL", "מכונת קפה ביתית", "להזמנות מרובות: צור קשר לקבלת הצעת מחיר", "הוסף לסל",
                price='<div class="price">$549.99</div>')
    ext = extract(html, "https://www.kli.co.il/p/2")
    assert ext.price == Decimal("549.99")
