"""Offers the page does not sell now: a product sold out at every seller, and a structured offer for another condition.

Two principles from the marketplace batch heldout21 (ke-kilimish, pe-plazaish, it-eprezzish):

- a page that says, below its title, that the product is sold out, whose structured offers say it is out of stock
  and whose buy box shows no price, has no price (``no_price_shown:sold_out``), whatever a stale structured price
  or a related item's tile says; a sold-out product whose buy box still shows its price keeps it;
- a structured offer for a refurbished, used or damaged item (``itemCondition``) is another offer's, not the price
  of the new item the buy box sells, unless the page itself sells such an item.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from crawlers.extract import extract

_PAGE = """<html lang="{lang}"><head><title>{title}</title>
<script type="application/ld+json">{ld}</script></head><body>
<header><nav><a href="/">Home</a> <a href="/tv">TV</a></nav></header>
<main><div class="pdp"><h1>{title}</h1>
<div class="buy-box">{buy}</div>
<div class="description"><h2>Description</h2><p>Screen, speakers, remote control and a two-year warranty.</p></div>
</div>
<section class="carousel"><h2>{related}</h2><ul class="carousel__track">
<li class="product-card"><a href="/p/2">Wall bracket</a> <span class="price">{one}</span></li>
<li class="product-card"><a href="/p/3">Soundbar</a> <span class="price">{two}</span></li>
<li class="product-card"><a href="/p/4">Smart TV 43</a> <span class="price">{three}</span></li>
</ul></section></main>
<footer>Help · Returns · Privacy</footer></body></html>"""


def _offer(price: str, currency: str, availability: str, condition: str | None = None) -> str:
    extra = f', "itemCondition": "https://schema.org/{condition}"' if condition else ""
    return (f'{{"@type": "Offer", "price": "{price}", "priceCurrency": "{currency}", '
            f'"availability": "https://schema.org/{availability}"{extra}}}')


def _ld(name: str, offers: str) -> str:
    return f'{{"@context": "https://schema.org", "@type": "Product", "name": "{name}", "offers": {offers}}}'


# (lang, host, currency, stale structured price, what the buy box says, the button, the related items' heading and
# their three prices)
_SOLD_OUT = [
    ("en-KE", "www.soko.co.ke", "KES", "17499",
     "<p class='stock'>Sold out</p><p>This item is currently out of stock from all sellers.</p>",
     "Notify me when available", "Similar products", ("KSh 850", "KSh 6,499", "KSh 27,999")),
    ("es-PE", "www.tienda.com.pe", "PEN", "2199",
     "<p class='stock'>Producto agotado</p><p>Vendedores: Hogar SAC — Sin stock</p>",
     "Avísame", "Productos similares", ("S/ 89.90", "S/ 499.00", "S/ 1,699.00")),
    ("pt-BR", "www.loja.com.br", "BRL", "2899.00",
     "<p class='stock'>Produto esgotado</p><p>Avise-me quando chegar.</p>",
     "Avise-me", "Quem viu, comprou", ("R$ 89,90", "R$ 499,00", "R$ 1.699,00")),
    ("de-DE", "www.markt.de", "EUR", "649.00",
     "<p class='stock'>Leider ausverkauft</p>", "Benachrichtigen", "Ähnliche Produkte",
     ("19,99 €", "149,00 €", "399,00 €")),
    ("fr-FR", "www.boutique.fr", "EUR", "649.00",
     "<p class='stock'>Épuisé chez tous les vendeurs</p>", "M'alerter", "Produits similaires",
     ("19,99 €", "149,00 €", "399,00 €")),
    ("nl-NL", "www.winkel.nl", "EUR", "649.00",
     "<p class='stock'>Niet leverbaar</p><p>Dit artikel is tijdelijk niet beschikbaar.</p>", "Mail mij",
     "Vergelijkbare artikelen", ("€ 19,99", "€ 149,00", "€ 399,00")),
    ("pl-PL", "www.sklep.pl", "PLN", "2599.00",
     "<p class='stock'>Brak w magazynie</p>", "Powiadom mnie", "Podobne produkty",
     ("89,00 zł", "499,00 zł", "1 699,00 zł")),
    ("id-ID", "www.toko.co.id", "IDR", "4299000",
     "<p class='stock'>Stok habis</p>", "Ingatkan saya", "Produk serupa", ("Rp89.000", "Rp499.000", "Rp1.699.000")),
    ("ja-JP", "www.mise.jp", "JPY", "54800",
     "<p class='stock'>在庫切れ</p><p>入荷待ち</p>", "入荷お知らせ", "関連商品", ("1,980円", "9,800円", "39,800円")),
    ("ko-KR", "www.gage.co.kr", "KRW", "699000",
     "<p class='stock'>품절</p>", "재입고 알림", "함께 본 상품", ("19,900원", "149,000원", "399,000원")),
]


@pytest.mark.parametrize(("lang", "host", "currency", "stale", "said", "button", "related", "others"), _SOLD_OUT)
def test_a_product_sold_out_everywhere_with_no_price_in_its_buy_box_has_none(
        lang: str, host: str, currency: str, stale: str, said: str, button: str, related: str,
        others: tuple[str, str, str]) -> None:
    """ke-kilimish: JSON-LD keeps a stale Offer price marked OutOfStock, the buy box says "Sold out" and shows no
    price, and the only amounts are related items' tiles: no price, not the stale one, not a tile's, not undecided."""
    ld = _ld("Smart TV 32", _offer(stale, currency, "OutOfStock"))
    html = _PAGE.format(lang=lang, title="Smart TV 32 HD", ld=ld, related=related, one=others[0], two=others[1],
                        three=others[2], buy=f'{said}<button class="notify" disabled>{button}</button>')
    ext = extract(html, f"https://{host}/p/1")
    assert (ext.price, ext.undecided, ext.outcome, ext.price_visibility) == (None, None, "none", "not_shown"), (
        ext.price, ext.undecided, ext.flags, ext.candidates[:3])
    assert "no_price_shown:sold_out" in ext.flags
    assert any(c.price == Decimal(stale) for c in ext.candidates)  # (kept for the evidence)


# (lang, host, currency, stale structured price, the buy box's "sold out" in a language the rules do not list, the
# button, the related items' heading and their three prices)
_SOLD_OUT_UNLISTED = [
    ("am-ET", "www.suk.et", "ETB", "24999", "<p class='stock'>ተሸጦ አልቋል</p>", "አሳውቀኝ", "ተመሳሳይ ምርቶች",
     ("899 ብር", "6,499 ብር", "27,999 ብር")),
    ("ka-GE", "www.maghazia.ge", "GEL", "1299.00", "<p class='stock'>მარაგში აღარ არის</p>", "შემატყობინე",
     "მსგავსი პროდუქტები", ("29,00 ₾", "149,00 ₾", "899,00 ₾")),
    ("km-KH", "www.hang.com.kh", "USD", "349.00", "<p class='stock'>អស់ពីស្តុក</p>", "ជូនដំណឹងខ្ញុំ", "ផលិតផលស្រដៀង",
     ("$19.00", "$149.00", "$299.00")),
]


@pytest.mark.parametrize(("lang", "host", "currency", "stale", "said", "button", "related", "others"),
                         _SOLD_OUT_UNLISTED)
def test_a_sold_out_offer_whose_price_the_page_shows_nowhere_has_none_in_any_language(
        lang: str, host: str, currency: str, stale: str, said: str, button: str, related: str,
        others: tuple[str, str, str]) -> None:
    """heldout29 kr-namugagu, heldout25 eg-takyeef, heldout23 ua-zoosvit (after their blind readings): every structured
    offer says OutOfStock and the page prints the structured price nowhere, whatever words its buy box uses: the
    product is sold out with its price hidden, so no price (the stale one is kept for the evidence)."""
    ld = _ld("Smart TV 32", _offer(stale, currency, "OutOfStock"))
    html = _PAGE.format(lang=lang, title="Smart TV 32 HD", ld=ld, related=related, one=others[0], two=others[1],
                        three=others[2], buy=f'{said}<button class="notify">{button}</button>')
    ext = extract(html, f"https://{host}/p/1")
    assert (ext.price, ext.undecided, ext.outcome, ext.price_visibility) == (None, None, "none", "not_shown"), (
        ext.price, ext.undecided, ext.flags, ext.candidates[:3])
    assert "no_price_shown:sold_out" in ext.flags
    assert any(c.price == Decimal(stale) for c in ext.candidates)


def test_an_in_stock_offer_whose_price_the_page_shows_nowhere_keeps_it() -> None:
    """The same page with the offer InStock: a structured price the static page does not print is read as before
    (flagged; a render or a person confirms it), never taken away (a guard)."""
    ld = _ld("Smart TV 32", _offer("24999", "ETB", "InStock"))
    html = _PAGE.format(lang="am-ET", title="Smart TV 32 HD", ld=ld, related="ተመሳሳይ ምርቶች", one="899 ብር",
                        two="6,499 ብር", three="27,999 ብር", buy='<button class="buy">ይግዙ</button>')
    ext = extract(html, "https://www.suk.et/p/1")
    assert ext.price == Decimal("24999") and "structured_not_visible" in ext.flags, (ext.flags, ext.undecided)


@pytest.mark.parametrize(("lang", "host", "currency", "said", "others"), [
    ("es-PE", "www.plaza.com.pe", "PEN", "<p class='stock'>Producto agotado</p>",
     ("S/ 1,499.00 <s>S/ 2,199.00</s>", "S/ 2,999.00", "S/ 89.90")),
    ("sv-SE", "www.butik.se", "SEK", "<p class='stock'>Tillfälligt slut</p>",
     ("1 499 kr <s>2 199 kr</s>", "2 999 kr", "89 kr")),
    ("tr-TR", "www.magaza.com.tr", "TRY", "<p class='stock'>Tükendi</p>",
     ("1.499,00 TL <s>2.199,00 TL</s>", "2.999,00 TL", "89,00 TL")),
])
def test_an_aggregate_offer_out_of_stock_whose_low_price_a_tile_strikes_through_is_no_price(
        lang: str, host: str, currency: str, said: str, others: tuple[str, str, str]) -> None:
    """pe-plazaish: an AggregateOffer OutOfStock, its lowPrice printed only struck through in a related item's tile,
    the buy box sold out with no price: no price, not undecided."""
    offers = (f'{{"@type": "AggregateOffer", "lowPrice": 2199, "highPrice": 2349, "offerCount": 0, '
              f'"priceCurrency": "{currency}", "availability": "https://schema.org/OutOfStock"}}')
    html = _PAGE.format(lang=lang, title="Televisor 55 QLED", ld=_ld("Televisor 55 QLED", offers), related="Similar",
                        one=others[0], two=others[1], three=others[2],
                        buy=f'{said}<button class="notify">Avísame</button>')
    ext = extract(html, f"https://{host}/p/1")
    assert (ext.price, ext.undecided, ext.outcome) == (None, None, "none"), (ext.undecided, ext.flags)
    assert "no_price_shown:sold_out" in ext.flags


@pytest.mark.parametrize(("lang", "host", "currency", "price", "shown", "said"), [
    ("en-GB", "www.shop.co.uk", "GBP", "249.00", "£249.00", "Sold out"),
    ("es-ES", "www.tienda.es", "EUR", "249.00", "249,00 €", "Agotado"),
    ("de-DE", "www.markt.de", "EUR", "249.00", "249,00 €", "Ausverkauft"),
    ("ja-JP", "www.mise.jp", "JPY", "24800", "24,800円", "売り切れ"),
])
def test_a_sold_out_product_whose_buy_box_still_shows_its_price_keeps_it(
        lang: str, host: str, currency: str, price: str, shown: str, said: str) -> None:
    """Many shops print the price beside "sold out": that price is the product's (a guard: main reads it too)."""
    ld = _ld("Smart TV 32", _offer(price, currency, "OutOfStock"))
    html = _PAGE.format(lang=lang, title="Smart TV 32 HD", ld=ld, related="Similar", one="", two="", three="",
                        buy=f'<span class="price">{shown}</span><p class="stock">{said}</p>'
                            '<button class="notify" disabled>Notify me</button>')
    ext = extract(html, f"https://{host}/p/1")
    assert ext.price == Decimal(price) and ext.price_visibility == "visible", (ext.flags, ext.undecided)


def test_sold_out_wording_without_structured_data_saying_so_takes_no_price_away() -> None:
    """A "sold out" line where the structured offer says InStock (a size sold out, a stale badge) removes nothing:
    the structured price the buy box does not show is read as before (a guard)."""
    ld = _ld("Smart TV 32", _offer("17499", "KES", "InStock"))
    html = _PAGE.format(lang="en-KE", title="Smart TV 32 HD", ld=ld, related="Similar", one="KSh 850",
                        two="KSh 6,499", three="KSh 27,999",
                        buy='<p class="stock">Sold out</p><button class="add-to-cart">Add to cart</button>')
    ext = extract(html, "https://www.soko.co.ke/p/1")
    assert not any(f.startswith("no_price_shown") for f in ext.flags)


# (lang, host, currency, the new item's price shown (499 or 49,800 yen), the other offer's price and condition, the
# buy box's words for it)
_CONDITIONS = [
    ("it-IT", "www.negozio.it", "EUR", "€ 499,00", "419.00", "Refurbished",
     "Altre condizioni: Ricondizionato grado A – € 419,00 – venduto da ReNova"),
    ("de-DE", "www.markt.de", "EUR", "499,00 €", "419.00", "Refurbished",
     "Weitere Angebote: Generalüberholt – 419,00 € – verkauft von ReNova"),
    ("fr-FR", "www.boutique.fr", "EUR", "499,00 €", "419.00", "Refurbished",
     "Autres états : Reconditionné – 419,00 € – vendu par ReNova"),
    ("es-ES", "www.tienda.es", "EUR", "499,00 €", "419.00", "Refurbished",
     "Otras condiciones: Reacondicionado – 419,00 € – vendido por ReNova"),
    ("en-US", "www.market.com", "USD", "$499.00", "419.00", "Refurbished",
     "Other conditions: Renewed – $419.00 – sold by ReNova"),
    ("ja-JP", "www.ichiba.jp", "JPY", "49,800円", "41900", "Used",
     "その他の状態: 中古品 – 41,900円 – ReNova"),
    ("pl-PL", "www.sklep.pl", "EUR", "499,00 €", "379.00", "Used",
     "Inne oferty: Używany – 379,00 € – sprzedawca Privato"),
    ("nl-NL", "www.winkel.nl", "EUR", "€ 499,00", "449.00", "Damaged",
     "Andere staat: Beschadigde verpakking – € 449,00 – verkoper Outlet"),
]


@pytest.mark.parametrize(("lang", "host", "currency", "shown", "other", "condition", "others_said"), _CONDITIONS)
def test_a_structured_offer_for_another_condition_is_not_the_new_items_price(
        lang: str, host: str, currency: str, shown: str, other: str, condition: str, others_said: str) -> None:
    """it-eprezzish: JSON-LD describes the refurbished offer (itemCondition RefurbishedCondition) while the buy box
    sells the new item: the buy box's amount is the price, never the other condition's, which stays as evidence."""
    ld = _ld("Robot Vacuum R8", _offer(other, currency, "InStock", f"{condition}Condition"))
    html = _PAGE.format(lang=lang, title="Robot Vacuum R8 Max", ld=ld, related="Similar", one="", two="", three="",
                        buy=f'<span class="price">{shown}</span><button class="add-to-cart">Add to cart</button>'
                            f'<p class="other-offers">{others_said}</p>')
    ext = extract(html, f"https://{host}/p/1")
    new = Decimal("49800" if currency == "JPY" else "499.00")
    assert ext.price == new, (ext.price, ext.undecided, ext.flags, ext.candidates[:3])
    assert [c.note for c in ext.candidates if c.price == Decimal(other) and c.method == "json-ld"] == [
        f"other condition: {condition}"]


def test_a_used_offer_listed_first_beside_the_new_one_is_set_aside() -> None:
    """Two JSON-LD offers, the used one first and cheaper, the buy box shows only the new one's amount: the price is
    the new one's (as before), and the used offer's amount is no structured candidate, only evidence."""
    offers = (f'[{_offer("319.90", "EUR", "InStock", "UsedCondition")}, '
              f'{_offer("379.90", "EUR", "InStock", "NewCondition")}]')
    html = _PAGE.format(lang="fi-FI", title="Kuulokkeet WH9", ld=_ld("Kuulokkeet WH9", offers),
                        related="Samankaltaiset", one="", two="", three="",
                        buy='<span class="price">379,90 €</span><button class="add-to-cart">Lisää ostoskoriin</button>')
    ext = extract(html, "https://www.kauppa.fi/p/1")
    assert ext.price == Decimal("379.90"), (ext.undecided, ext.flags)
    assert not any(c.price == Decimal("319.90") and c.note != "other condition: Used" for c in ext.candidates)


@pytest.mark.parametrize(("lang", "host", "title", "shown"), [
    ("it-IT", "www.negozio.it", "Robot Vacuum R8 Max Ricondizionato", "€ 419,00"),
    ("en-US", "www.market.com", "Robot Vacuum R8 Max (Renewed)", "$419.00"),
])
def test_a_refurbished_listing_keeps_its_refurbished_offer(lang: str, host: str, title: str, shown: str) -> None:
    """A page that sells a refurbished item as its own (its title says so) is priced by that offer (a guard)."""
    ld = _ld(title, _offer("419.00", "EUR" if lang == "it-IT" else "USD", "InStock", "RefurbishedCondition"))
    html = _PAGE.format(lang=lang, title=title, ld=ld, related="Similar", one="", two="", three="",
                        buy=f'<span class="price">{shown}</span><button class="add-to-cart">Add to cart</button>')
    ext = extract(html, f"https://{host}/p/1")
    assert ext.price == Decimal("419.00") and ext.method == "json-ld", (ext.flags, ext.undecided)


def test_a_sold_out_buy_box_printing_another_amount_than_the_stale_offer_is_not_priceless() -> None:
    """The buy box prints an amount (however plainly) beside "Sold out": it shows a price, so the page is read as
    before (the structured one, the shown one or undecided), never as showing none (a guard)."""
    ld = _ld("Smart TV 32", _offer("17499", "KES", "OutOfStock"))
    html = _PAGE.format(lang="en-KE", title="Smart TV 32 HD", ld=ld, related="Similar", one="KSh 850",
                        two="KSh 6,499", three="KSh 27,999",
                        buy='<b>KSh 16,999</b> <p class="stock">Sold out</p><button disabled>Notify me</button>')
    ext = extract(html, "https://www.soko.co.ke/p/1")
    assert not any(f.startswith("no_price_shown") for f in ext.flags), (ext.price, ext.flags)
