"""Money as shown on a page → ``Decimal`` amount + ISO 4217 currency, keeping the raw text.

price-parser does the digit work (thousands and decimal separators, ``1.299,00``, ``1'299.–``,
Indian lakh grouping); this module finds the money token in a longer text, decides the ambiguous
``1,299`` from the locale, and maps symbols to ISO codes (``$`` is USD unless the page or locale says
otherwise, ``¥`` is CNY unless the page is Japanese).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from price_parser import Price

from pricewarden.money import ISO_CURRENCIES

__all__ = [
    "MAX_AMOUNT",
    "ParsedAmount",
    "currency_for_symbol",
    "decimal_separator_for_locale",
    "find_amounts",
    "is_price",
    "parse_amount",
]

# Symbols and words → ISO 4217. Multi-character prefixes come first so "US$" wins over "$".
_SYMBOLS: dict[str, str] = {
    "US$": "USD", "USD$": "USD", "U$S": "USD", "C$": "CAD", "CA$": "CAD", "CAD$": "CAD",
    "A$": "AUD", "AU$": "AUD", "NZ$": "NZD", "HK$": "HKD", "S$": "SGD", "SG$": "SGD", "NT$": "TWD",
    "R$": "BRL", "MX$": "MXN", "CN¥": "CNY", "JP¥": "JPY", "RMB": "CNY", "元": "CNY", "円": "JPY",
    "€": "EUR", "£": "GBP", "₹": "INR", "Rs.": "INR", "Rs": "INR", "₩": "KRW", "원": "KRW",
    "₽": "RUB", "руб": "RUB", "₺": "TRY", "TL": "TRY", "₴": "UAH", "zł": "PLN", "Kč": "CZK", "Ft": "HUF",
    "฿": "THB", "₫": "VND", "₱": "PHP", "₪": "ILS", "₦": "NGN", "lei": "RON", "Fr.": "CHF", "CHF": "CHF",
    "kr.": "DKK", "kr": "SEK", "RM": "MYR", "Rp": "IDR", "R": "ZAR",
}
# Regional defaults for the bare "$", "¥", "kr" by locale country or language.
_DOLLAR_BY_COUNTRY = {"CA": "CAD", "AU": "AUD", "NZ": "NZD", "HK": "HKD", "SG": "SGD", "TW": "TWD",
                      "MX": "MXN", "AR": "ARS", "CL": "CLP", "CO": "COP"}
_KRONE_BY_LANG = {"sv": "SEK", "nb": "NOK", "no": "NOK", "nn": "NOK", "da": "DKK", "is": "ISK"}
# Languages writing 1.299,00 (comma decimals); de_CH / fr_CH / it_CH use a dot (1'299.00).
_COMMA_LANGS = frozenset(
    [
        "de", "fr", "es", "it", "nl", "pt", "ru", "pl", "cs", "sk", "sl", "hr", "sr", "bg", "ro", "hu",
        "tr", "uk", "be", "da", "sv", "nb", "nn", "no", "fi", "et", "lv", "lt", "el", "id", "vi", "is",
        "ca", "eu", "gl",
    ]
)
_DOT_COUNTRIES = frozenset({"CH", "LI"})

# ISO codes recognised in running text; not all of ISO 4217, because "ALL", "TOP" and "CUP" are words.
_ISO_IN_TEXT = frozenset(
    [
        "USD", "EUR", "GBP", "JPY", "CNY", "CAD", "AUD", "NZD", "CHF", "SEK", "NOK", "DKK", "ISK",
        "PLN", "CZK", "HUF", "RON", "BGN", "INR", "KRW", "BRL", "MXN", "RUB", "TRY", "HKD", "SGD",
        "TWD", "THB", "MYR", "IDR", "PHP", "VND", "ILS", "AED", "SAR", "ZAR", "UAH", "ARS", "CLP",
        "COP",
    ]
)
# Currencies written without minor units: "1,299" / "1.299" in these is always thousands.
_ZERO_DECIMAL = frozenset({"JPY", "KRW", "VND", "CLP", "ISK", "IDR", "HUF", "TWD"})
# Currencies whose home markets write 1,299.00: a page locale alone does not turn "$1,299" into 1.299.
_DOT_HOME = frozenset({"USD", "GBP", "CNY", "INR", "AUD", "NZD", "HKD", "SGD", "MXN", "PHP", "THB", "MYR", "ILS"})
_CUR = (
    r"(?:US\$|USD\$|U\$S|CA\$|CAD\$|AU\$|NZ\$|HK\$|SG\$|NT\$|MX\$|CN¥|JP¥|[CARS]\$|\$|€|£|¥|￥|₹|₩|₽|₺|₴|฿|₫|₱|₪|₦"
    r"|Rs\.?|RMB|RM|Rp|CHF|Fr\.|zł|Kč|Ft|kr\.?|руб|lei|元|円|원|"
    + "|".join(sorted(_ISO_IN_TEXT, reverse=True))
    + r")"
)
# A number as shops write it: 1,299.99 / 1.299,00 / 1 299,00 / 1'299.– / 1,29,999 / 12.900 / 299.-
_NUM = r"\d{1,3}(?:[,.'’\u00a0\u202f ]\d{2,3})+(?:[.,]\d{1,2})?(?:[.,][-–])?|\d+(?:[.,]\d{1,2})?(?:[.,][-–])?"
_TOKEN = re.compile(
    # "29€99": the French way of writing 29,99 € (symbol in the decimal separator's place)
    r"(?<![\w.,])(?P<n3>\d{1,6})(?P<mid>[€£])(?P<c3>\d{2})(?!\d)|"
    rf"(?<![A-Za-z])(?P<pre>{_CUR})\s?(?P<n1>{_NUM})(?!\d)|(?<![\w.,\-])(?P<n2>{_NUM})\s?(?P<post>{_CUR})(?![A-Za-z]|\s?\d)"
)
# A bare number right after a minus sign is negative (JSON-LD "-199.00"): never a price.
_BARE = re.compile(rf"(?<![\w.,\-−])(?P<n>{_NUM})(?![\w])")
# Amounts past these are no shop's price in any currency (a Vietnamese car is ~1e9 VND): a page
# showing one is broken or hostile. MAX_AMOUNT stays well inside the store's NUMERIC(18, 4).
MAX_AMOUNT = Decimal(10) ** 12
_MAX_DIGITS = 16  # digits a number may have before it is read at all (thousands of digits are no price)
# "1e309", "1.5E+3": a number in exponent notation is no price, nor any of its digits
_EXP_AFTER = re.compile(r"[eE][+-]?\d")
_EXP_BEFORE = re.compile(r"\d[eE][+-]?$")


@dataclass(frozen=True, slots=True)
class ParsedAmount:
    """One amount found in a text: ``amount`` (Decimal), ``currency`` (ISO or None), ``raw`` as shown."""

    amount: Decimal
    currency: str | None
    raw: str
    start: int = 0
    end: int = 0


def _sane(amount: Decimal | None) -> bool:
    """A finite amount from 0 up to (not including) :data:`MAX_AMOUNT`."""
    return amount is not None and amount.is_finite() and 0 <= amount < MAX_AMOUNT


def is_price(amount: Decimal | None) -> bool:
    """Whether ``amount`` can be a price: finite, more than zero and less than :data:`MAX_AMOUNT`."""
    return _sane(amount) and amount is not None and amount > 0


def _in_exponent(text: str, start: int, end: int) -> bool:
    """Whether the number at ``text[start:end]`` is part of exponent notation (``1e309``, ``1e+20``)."""
    return _EXP_AFTER.match(text, end) is not None or _EXP_BEFORE.search(text, max(0, start - 3), start) is not None


def decimal_separator_for_locale(locale: str | None) -> str | None:
    """``","`` for locales writing ``1.299,00``, ``"."`` for ``1,299.00``; None when unknown."""
    if not locale:
        return None
    lang, _, country = locale.replace("-", "_").partition("_")
    lang, country = lang.lower(), country.upper()
    if country in _DOT_COUNTRIES:
        return "."
    if lang in _COMMA_LANGS:
        return ","
    return "."


def currency_for_symbol(symbol: str, *, locale: str | None = None, default: str | None = None) -> str | None:
    """The ISO 4217 code for a symbol as shown (``$``, ``€``, ``¥``, ``USD``), given the page locale.

    ``default`` is the page's or profile's own currency: when the bare symbol fits it (a ``$`` on a
    CAD page), it wins over the regional guess.
    """
    sym = symbol.strip()
    up = sym.upper()
    if len(up) == 3 and up in ISO_CURRENCIES and up.isalpha():
        return up
    lang, _, country = (locale or "").replace("-", "_").partition("_")
    lang, country = lang.lower(), country.upper()
    if sym == "$":
        if default in {"USD", "CAD", "AUD", "NZD", "HKD", "SGD", "TWD", "MXN", "ARS", "CLP", "COP"}:
            return default
        return _DOLLAR_BY_COUNTRY.get(country, "USD")
    if sym in {"¥", "￥"}:
        if default in {"JPY", "CNY"}:
            return default
        return "JPY" if lang == "ja" or country == "JP" else "CNY"
    if sym in {"kr", "kr."}:
        if default in {"SEK", "NOK", "DKK", "ISK"}:
            return default
        return _KRONE_BY_LANG.get(lang, "DKK" if sym == "kr." else "SEK")
    return _SYMBOLS.get(sym)


def _amount(number: str, decimal_separator: str | None, currency: str | None = None,
            *, explicit: bool = False) -> Decimal | None:
    if sum(c.isdigit() for c in number) > _MAX_DIGITS:
        return None
    number = number.replace("’", "'")
    text = number.rstrip("-–").rstrip(".,") if number.endswith(("-", "–")) else number
    seps = {c for c in text if c in ",."}
    # "1,299" / "1.299" (one separator, three digits after) is the only ambiguous shape; the
    # locale decides it. Anything else price-parser reads unambiguously on its own.
    ambiguous = len(seps) == 1 and re.fullmatch(r"\d{1,3}[.,]\d{3}", text) is not None
    sep = None
    if ambiguous:
        if currency in _ZERO_DECIMAL:
            whole = Decimal(re.sub(r"\D", "", text))
            return whole if _sane(whole) else None
        # A known currency with cents never shows three decimals in a shop: "1.299 €" on a page in
        # English, "1,299 €" on a German one, are 1299. Without a currency, or with a separator a
        # profile sets, the locale decides; "0.299" is decimal (a thousands group never starts with 0).
        local = decimal_separator if explicit or currency is None else None
        sep = next(iter(seps)) if text.startswith("0") else local
    if not ambiguous and len(seps) == 1 and re.search(r"[.,]\d{1,2}$", text):
        sep = seps.pop()  # "12,99" / "12.99": the only separator with 1-2 digits after is decimal
    try:
        amount = Price.fromstring(text, decimal_separator=sep).amount
    except (ArithmeticError, ValueError):
        return None
    return amount if _sane(amount) else None


def find_amounts(
    text: str,
    *,
    decimal_separator: str | None = None,
    locale: str | None = None,
    currency: str | None = None,
    allow_bare: bool = False,
) -> list[ParsedAmount]:
    """Every money token in ``text`` (``$1,299.99``, ``1.299,00 €``, ``1,299円``), in order.

    Numbers without a currency are returned only with ``allow_bare`` (an element that says it is a
    price, e.g. ``itemprop=price``) and then carry the default ``currency``.
    """
    explicit = decimal_separator is not None
    if decimal_separator is None:
        decimal_separator = decimal_separator_for_locale(locale)
    found: list[ParsedAmount] = []
    for m in _TOKEN.finditer(text):
        if _in_exponent(text, m.start(), m.end()):
            continue
        if m.group("n3"):
            iso = currency_for_symbol(m.group("mid"), locale=locale, default=currency)
            found.append(ParsedAmount(Decimal(f"{m.group('n3')}.{m.group('c3')}"), iso, m.group(0), m.start(),
                                      m.end()))
            continue
        number = m.group("n1") or m.group("n2")
        symbol = m.group("pre") or m.group("post")
        iso = currency_for_symbol(symbol, locale=locale, default=currency)
        amount = _amount(number, decimal_separator, iso, explicit=explicit)
        if amount is None:
            continue
        found.append(ParsedAmount(amount, iso, m.group(0).strip(), m.start(), m.end()))
    if not found and allow_bare:
        for m in _BARE.finditer(text):
            if _in_exponent(text, m.start(), m.end()):
                continue
            amount = _amount(m.group("n"), decimal_separator, currency, explicit=explicit)
            if amount is not None:
                found.append(ParsedAmount(amount, currency, m.group(0), m.start(), m.end()))
    return found


def parse_amount(
    text: str,
    *,
    decimal_separator: str | None = None,
    locale: str | None = None,
    currency: str | None = None,
    allow_bare: bool = True,
) -> ParsedAmount | None:
    """The first money amount in ``text``, or None; bare numbers allowed unless ``allow_bare=False``."""
    found = find_amounts(text, decimal_separator=decimal_separator, locale=locale, currency=currency,
                         allow_bare=allow_bare)
    return found[0] if found else None
