"""Locale and currency facts come from CLDR (Babel), and amounts are read by the page's country.

A table of facts (minor units, decimal symbols, currencies by territory, obsolete codes), then
whole pages: a page's ``lang`` and its country-code domain decide how ``$12.990`` reads.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from crawlers.extract import currency_for_symbol, extract, find_amounts
from crawlers.extract.page import Page
from crawlers.reports import decimal_separator, parse_price
from pricewarden.locales import country_of_host, decimal_symbol, group_symbol, locale_for_territory, territory_of
from pricewarden.money import Money, canonical_currency, minor_units, territory_currencies, whole_units

D = Decimal


@pytest.mark.parametrize(("code", "digits", "whole"), [
    ("EUR", 2, False), ("USD", 2, False), ("JPY", 0, True), ("KRW", 0, True), ("CLP", 0, True),
    ("COP", 0, True), ("IDR", 0, True), ("TWD", 2, True), ("KWD", 3, False), ("BHD", 3, False), ("INR", 2, False),
])
def test_minor_units_come_from_cldr(code: str, digits: int, whole: bool) -> None:
    assert minor_units(code) == digits
    assert whole_units(code) is whole


def test_money_rounds_to_the_cldr_minor_unit() -> None:
    assert Money(D("1299.6"), "JPY").rounded().amount == D("1300")
    assert Money(D("1.2345"), "KWD").rounded().amount == D("1.234")
    assert Money(D("9.995"), "EUR").rounded().amount == D("10.00")


@pytest.mark.parametrize(("sent", "code"), [
    ("RUR", "RUB"), ("rur", "RUB"), (" usd ", "USD"), ("RMB", "CNY"), ("NTD", "TWD"), ("EUR", "EUR"),
    ("XYZ", None), ("", None), (None, None),
])
def test_obsolete_and_informal_codes_map_to_today(sent: str | None, code: str | None) -> None:
    assert canonical_currency(sent) == code


@pytest.mark.parametrize(("locale", "decimal", "group"), [
    ("de_DE", ",", "."), ("de_CH", ".", "’"), ("es_MX", ".", ","), ("es_CL", ",", "."), ("es_AR", ",", "."),
    ("es_CO", ",", "."), ("id_ID", ",", "."), ("ko_KR", ".", ","), ("en_IN", ".", ","), ("pt_BR", ",", "."),
    ("fr_FR", ",", "\u202f"), ("en_US", ".", ","), ("ja_JP", ".", ","),
])
def test_decimal_and_group_symbols_come_from_cldr(locale: str, decimal: str, group: str) -> None:
    assert decimal_symbol(locale) == decimal
    # (CLDR's Swiss German group is the right single quote since v42; Babel may ship either)
    assert group_symbol(locale) in ({group, "'"} if locale == "de_CH" else {group})


def test_partner_reports_use_the_same_cldr_separators() -> None:
    # the two hand tables used to disagree on es_MX (issue 24): CLDR writes 1,299.00 there
    assert decimal_separator("es_MX") == "."
    assert decimal_separator("es_ES") == ","
    assert parse_price("1,299.00", "es_MX") == D("1299.00")
    assert parse_price("1.299,00", "es_CL") == D("1299.00")


@pytest.mark.parametrize(("country", "currencies", "locale"), [
    ("CL", ("CLP",), "es_CL"), ("CA", ("CAD",), "en_CA"), ("JP", ("JPY",), "ja_JP"), ("CH", ("CHF",), "de_CH"),
    ("KR", ("KRW",), "ko_KR"),
])
def test_territories_know_their_currency_and_locale(country: str, currencies: tuple[str, ...], locale: str) -> None:
    assert territory_currencies(country)[:len(currencies)] == currencies
    assert locale_for_territory(country) == locale
    assert territory_of(locale) == country


@pytest.mark.parametrize(("host", "country"), [
    ("www.tienda.cl", "CL"), ("shop.co.uk", "GB"), ("www.falabella.com.co", "CO"), ("brand.co", None),
    ("store.io", None), ("shop.example.com", None), ("127.0.0.1:8080", None), ("www.tokopedia.co.id", "ID"),
])
def test_country_code_domains(host: str, country: str | None) -> None:
    assert country_of_host(host) == country


@pytest.mark.parametrize(("symbol", "locale", "default", "code"), [
    ("$", "es_CL", None, "CLP"), ("$", "es_AR", None, "ARS"), ("$", "es_CO", None, "COP"), ("$", "es_MX", None, "MXN"),
    ("$", "en_CA", None, "CAD"), ("$", "zh_TW", None, "TWD"), ("$", "en_US", None, "USD"), ("$", None, None, "USD"),
    ("$", "en_US", "CLP", "CLP"), ("kr", "nb_NO", None, "NOK"), ("kr", "da_DK", None, "DKK"), ("kr", None, None, "SEK"),
    ("¥", "ja_JP", None, "JPY"), ("￥", "ja", None, "JPY"), ("¥", "zh_CN", None, "CNY"), ("R", "en_ZA", None, "ZAR"),
    ("RUR", "ru_RU", None, "RUB"), ("Rp", "id_ID", None, "IDR"), ("S/", "es_PE", None, "PEN"),
])
def test_symbols_read_by_the_pages_country(symbol: str, locale: str | None, default: str | None, code: str) -> None:
    assert currency_for_symbol(symbol, locale=locale, default=default) == code


@pytest.mark.parametrize(("text", "locale", "amount", "code"), [
    ("$12.990", "es_CL", "12990", "CLP"), ("$ 1.299.990", "es_CL", "1299990", "CLP"),
    ("$ 129.900", "es_CO", "129900", "COP"), ("$ 12.999,99", "es_AR", "12999.99", "ARS"),
    ("$ 45.999", "es_AR", "45999", "ARS"), ("Rp 129.000", "id_ID", "129000", "IDR"),
    ("Rp129.000", "id_ID", "129000", "IDR"), ("12.900원", "ko_KR", "12900", "KRW"),
    ("₹1,29,999", "hi_IN", "129999", "INR"), ("KD 1.250", "ar_KW", "1.250", "KWD"),
    ("KWD 12.500", "en_KW", "12.500", "KWD"), ("1 299 RUR", "ru_RU", "1299", "RUB"),
    ("$1,299.00", "es_MX", "1299.00", "MXN"),
    # (the dinars and the rial in Latin letters, on pages of their own country)
    ("BD 189.000", "en_BH", "189.000", "BHD"), ("JD 6.950", "en_JO", "6.950", "JOD"),
    ("RO 24.750", "en_OM", "24.750", "OMR"),
])
def test_amounts_read_by_country_and_currency(text: str, locale: str, amount: str, code: str) -> None:
    found = find_amounts(text, locale=locale)
    assert found, text
    assert (found[0].amount, found[0].currency) == (D(amount), code)


@pytest.mark.parametrize("text", ["RO 500 water filter", "BD 189.000", "JD 6.950"])
def test_latin_letter_dinars_are_read_only_on_their_countrys_pages(text: str) -> None:
    # (elsewhere "RO 500" is a reverse-osmosis filter and "BD" a Blu-ray)
    assert find_amounts(text, locale="en_US") == []


def _page(lang: str | None, price: str, ld: str = "") -> str:
    lang_attr = f' lang="{lang}"' if lang else ""
    return (f"<html{lang_attr}><head><title>Zapatilla</title>{ld}</head><body><h1>Zapatilla Runner 3</h1>"
            f"<div class='product-price'><span class='price'>{price}</span></div>"
            "<button class='add-to-cart'>Agregar al carro</button></body></html>")


@pytest.mark.parametrize(("lang", "url", "price", "amount", "code"), [
    ("es", "https://www.tienda.cl/p/1", "$ 39.990", "39990", "CLP"),
    (None, "https://www.tienda.cl/p/1", "$39.990", "39990", "CLP"),
    ("es", "https://www.tienda.com.ar/p/1", "$ 45.999", "45999", "ARS"),
    ("es", "https://www.tienda.com.co/p/1", "$ 189.900", "189900", "COP"),
    ("id", "https://www.toko.co.id/p/1", "Rp 1.249.000", "1249000", "IDR"),
    ("ko", "https://shop.co.kr/p/1", "39,900원", "39900", "KRW"),
    ("en", "https://shop.in/p/1", "₹1,24,999", "124999", "INR"),
])
def test_whole_pages_read_by_their_country(lang: str | None, url: str, price: str, amount: str, code: str) -> None:
    ext = extract(_page(lang, price), url)
    assert (ext.price, ext.currency) == (D(amount), code)


def test_structured_whole_unit_price_with_a_dot_is_thousands() -> None:
    ld = ('<script type="application/ld+json">{"@type":"Product","name":"Zapatilla","offers":{"@type":"Offer",'
          '"price":"39.990","priceCurrency":"CLP"}}</script>')
    ext = extract(_page("es-CL", "$39.990", ld), "https://www.tienda.cl/p/1")
    assert (ext.price, ext.currency, ext.method) == (D("39990"), "CLP", "json-ld")


def test_structured_rur_is_roubles() -> None:
    ld = ('<script type="application/ld+json">{"@type":"Product","name":"Чайник","offers":{"@type":"Offer",'
          '"price":"2490","priceCurrency":"RUR"}}</script>')
    ext = extract(_page("ru", "2 490 ₽", ld), "https://shop.ru/p/1")
    assert (ext.price, ext.currency) == (D("2490"), "RUB")


def test_page_locale_combines_lang_and_country_domain() -> None:
    assert Page.parse("<html lang='es'><body></body></html>", "https://www.tienda.cl/").locale == "es_CL"
    assert Page.parse("<html lang='zh-Hans-CN'><body></body></html>", "https://x.com/").locale == "zh_Hans_CN"
    assert Page.parse("<html lang='en-US'><body></body></html>", "https://x.cl/").locale == "en_US"
    assert Page.parse("<html><body></body></html>", "https://x.co.kr/").locale == "ko_KR"


@pytest.mark.parametrize(("cart", "buy"), [("เพิ่มไปยังรถเข็น", "ซื้อสินค้า"), ("หยิบใส่รถเข็น", "ซื้อเลย")])
def test_a_thai_marketplace_buy_box_without_a_heading_is_read_by_its_buttons(cart: str, buy: str) -> None:
    # (no h1: the name in a span as <title> gives it; the buttons in the marketplace's Thai; a shop voucher's "ลด ฿100"
    # is a reduction, not the price; nothing in the markup says which amount is the list price but the badge)
    html = ('<!doctype html><html lang="th"><head><meta charset="utf-8"><title>Solvik Pulse Mini ลำโพงบลูทูธ | Shop'
            '</title></head><body><header><a href="/">หน้าแรก</a></header><main><section>'
            '<div class="a1"><span>Solvik Pulse Mini ลำโพงบลูทูธ</span></div><div class="a2"><div class="a3">฿3,190'
            '</div><div class="a4">฿2,490</div><div class="a5">ลด 22%</div></div><div class="a6"><span>โค้ดส่วนลด'
            f'</span><span class="a7">ลด ฿100</span></div><button class="b1">{buy}</button>'
            f'<button class="b2">{cart}</button></section></main></body></html>')
    ext = extract(html, "https://shop.example.co.th/Solvik-Pulse-Mini-i.2231.88120")
    assert (ext.price, ext.currency) == (Decimal("2490"), "THB")
