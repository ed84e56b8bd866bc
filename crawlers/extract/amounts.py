"""Money as shown on a page → ``Decimal`` amount + ISO 4217 currency, keeping the raw text.

price-parser does the digit work (thousands and decimal separators, ``1.299,00``, ``1'299.–``,
Indian lakh grouping); this module finds the money token in a longer text, decides the ambiguous
``1,299`` from the locale, and maps symbols to ISO codes (``$`` is USD unless the page or locale says
otherwise, ``¥`` is CNY unless the page is Japanese).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from babel.core import get_global
from price_parser import Price

from pricewarden.locales import decimal_symbol, locale_for_territory, parse_locale, territory_of
from pricewarden.money import canonical_currency, minor_units, sole_currency, territory_currencies, whole_units

__all__ = [
    "COLON_ALONE",
    "MAX_AMOUNT",
    "SIGN",
    "ParsedAmount",
    "currency_for_symbol",
    "decimal_separator_for_locale",
    "find_amounts",
    "first_amount",
    "is_price",
    "parse_amount",
    "reads_colon_decimals",
]

# Symbols and words → ISO 4217 when the page's country does not say (CLDR decides first, see
# currency_for_symbol): the explicit forms ("US$", "C$"), and the plain "$", "¥", "kr" of the market
# that uses them most. Multi-character prefixes come first so "US$" wins over "$".
_SYMBOLS: dict[str, str] = {
    "US$": "USD", "USD$": "USD", "U$S": "USD", "C$": "CAD", "CA$": "CAD", "CAD$": "CAD",
    "A$": "AUD", "AU$": "AUD", "NZ$": "NZD", "HK$": "HKD", "S$": "SGD", "SG$": "SGD", "NT$": "TWD",
    "R$": "BRL", "MX$": "MXN", "CN¥": "CNY", "JP¥": "JPY", "RMB": "CNY", "元": "CNY", "円": "JPY",
    "€": "EUR", "£": "GBP", "₹": "INR", "Rs.": "INR", "Rs": "INR", "₩": "KRW", "원": "KRW",
    "₽": "RUB", "руб": "RUB", "₺": "TRY", "TL": "TRY", "₴": "UAH", "zł": "PLN", "Kč": "CZK", "Ft": "HUF",
    "฿": "THB", "₫": "VND", "₱": "PHP", "₪": "ILS", "₦": "NGN", "lei": "RON", "Lei": "RON", "LEI": "RON", "Fr.": "CHF",
    "CHF": "CHF",
    "kr.": "DKK", "kr": "SEK", "RM": "MYR", "Rp": "IDR", "KD": "KWD", "KSh": "KES", "Ksh": "KES", "Dhs": "MAD",
    "Dhs.": "MAD",
    "DH": "MAD",
    "S/.": "PEN", "S/": "PEN", "ر.س": "SAR", "د.إ": "AED", "ر.ق": "QAR", "د.ك": "KWD", "ج.م": "EGP",
    "R": "ZAR", "$": "USD", "¥": "CNY", "￥": "CNY",
    # (signs of the currencies the lists above missed, each its own: a page of that country was read
    # without a price, or took the one amount in another currency it showed)
    "₸": "KZT", "৳": "BDT", "₡": "CRC", "₾": "GEL", "֏": "AMD", "₼": "AZN", "₲": "PYG", "₮": "MNT", "₭": "LAK",
    "៛": "KHR", "GH₵": "GHS", "₵": "GHS", "RD$": "DOP", "Gs.": "PYG", "Bs.": "BOB", "лв.": "BGN", "лв": "BGN",
    "đ": "VND", "VNĐ": "VND", "din.": "RSD", "дин.": "RSD", "TSh": "TZS", "USh": "UGX", "E£": "EGP", "QR": "QAR",
    # (the Maghreb's dinars as their shops write them: "1 299,000 DT", "1 500 DA")
    "DT": "TND", "DA": "DZD",
    "сом": "KGS", "сўм": "UZS", "so'm": "UZS", "soʻm": "UZS", "so’m": "UZS",
    # (the convertible mark as Bosnian shops write it: "1.299,00 KM")
    "KM": "BAM",
    "FCFA": "XOF", "F CFA": "XOF", "CFA": "XOF",
    # (the Gulf's and Jordan's dinars and Oman's rial in Latin letters, "BD 189.000", "JD 6.950", "RO 24.750": read
    # only on pages of their country, as _LETTER_SIGNS says; elsewhere "RO 500" is a water filter)
    "BD": "BHD", "JD": "JOD", "RO": "OMR",
    # (currencies written as words or abbreviations in the page's own script: "4 299,00 درهم", "28.500.000 ກີບ")
    "درهم": "AED", "د.م.": "MAD", "ريال": "SAR", "دينار": "IQD", "جنيه": "EGP", "د.ع": "IQD", "د.أ": "JOD",
    "د.ب": "BHD", "ر.ع": "OMR", "د.ج": "DZD", "د.ت": "TND", "ل.ل": "LBP", "ກີບ": "LAK", "ကျပ်": "MMK",
    "টাকা": "BDT", "บาท": "THB", "ლარი": "GEL", "грн": "UAH", "ден.": "MKD", "ден": "MKD", "₨": "PKR",
    "रु.": "NPR", "रू.": "NPR", "रु": "NPR", "रू": "NPR", "ரூ": "LKR", "රු": "LKR", "դրամ": "AMD", "դր.": "AMD",
    # (the rest of the Arab world's and its neighbours' currencies as their shops abbreviate them: "1,450.000 د.ل",
    # "٨٥٬٠٠٠ ل.س", "٢٥٬٠٠٠ ر.ي", "4 500 دج", "12,000 ج.س", "۲٬۵۰۰ افغانۍ", "روپے 54,999", "349.90 ש״ח")
    "د.ل": "LYD", "ل.س": "SYP", "ر.ي": "YER", "دج": "DZD", "ج.س": "SDG", "؋": "AFN", "افغانی": "AFN",
    "افغانۍ": "AFN", "روپے": "PKR", "روپیہ": "PKR", "ש״ח": "ILS", 'ש"ח': "ILS",
    # (Africa's birr, kwanza and Malawi kwacha as their shops write them: "Br 1,850.00", "28.900,00 Kz", "MK45,000")
    "Br": "ETB", "Kz": "AOA", "MK": "MWK",
}
# Signs several currencies are written with where CLDR gives each country's own symbol differently.
_SHARED: dict[str, frozenset[str]] = {"rs": frozenset({"INR", "PKR", "LKR", "NPR", "MUR", "SCR"}),
                                       "元": frozenset({"CNY", "TWD", "HKD", "MOP"}),
                                       "fcfa": frozenset({"XOF", "XAF"}), "f cfa": frozenset({"XOF", "XAF"}),
                                       "cfa": frozenset({"XOF", "XAF"}),
                                       # (the leu of Romania and of Moldova, "3.499,99 Lei", "1 299 lei")
                                       "lei": frozenset({"RON", "MDL"}),
                                       "₨": frozenset({"PKR", "INR", "LKR", "NPR", "MUR", "SCR"}),
                                       "درهم": frozenset({"AED", "MAD"}),
                                       "ريال": frozenset({"SAR", "QAR", "OMR", "YER"}),
                                       "دينار": frozenset({"IQD", "JOD", "KWD", "BHD", "TND", "DZD", "LYD"}),
                                       "جنيه": frozenset({"EGP", "SDG"}),
                                       # (the rupee in Urdu, in Pakistan and in India)
                                       "روپے": frozenset({"PKR", "INR"}), "روپیہ": frozenset({"PKR", "INR"}),
                                       # (the dirham of the Emirates and of Morocco in Latin letters, "Dhs. 245.00")
                                       "dhs": frozenset({"AED", "MAD"}),
                                       # (the boliviano of Bolivia and the bolívar of Venezuela, "Bs. 787,38")
                                       "bs.": frozenset({"BOB", "VES"}), "bs": frozenset({"BOB", "VES"})}
# The shared signs written in ASCII, as shops write them (the keys of _SHARED are normalised)
_SHARED_ASCII: dict[str, frozenset[str]] = {"Bs.": frozenset({"BOB", "VES"}), "Dhs": frozenset({"AED", "MAD"}),
                                             "Br": frozenset({"ETB", "BYN"}), "Kz": frozenset({"AOA"}),
                                             "MK": frozenset({"MWK"})}
# ISO codes recognised in running text; not all of ISO 4217, because "ALL", "TOP" and "CUP" are words.
_ISO_IN_TEXT = frozenset(
    [
        "USD", "EUR", "GBP", "JPY", "CNY", "CAD", "AUD", "NZD", "CHF", "SEK", "NOK", "DKK", "ISK",
        "PLN", "CZK", "HUF", "RON", "BGN", "INR", "KRW", "BRL", "MXN", "RUB", "TRY", "HKD", "SGD",
        "TWD", "THB", "MYR", "IDR", "PHP", "VND", "ILS", "AED", "SAR", "ZAR", "UAH", "ARS", "CLP",
        "COP", "PEN", "UYU", "KWD", "BHD", "OMR", "QAR", "JOD", "EGP", "PKR", "NGN", "KES", "KZT", "RUR",
        "BDT", "LKR", "NPR", "GEL", "AMD", "AZN", "BGN", "RSD", "MKD", "BAM", "MDL", "BYN", "UZS", "GHS", "TZS",
        "UGX", "MAD", "TND", "DZD", "IQD", "LBP", "CRC", "GTQ", "DOP", "PYG", "BOB", "HNL", "NIO", "PAB", "VES",
        "JMD", "TTD", "XOF", "XAF", "ETB", "RWF", "ZMW", "MZN", "MUR", "KHR", "MMK", "MNT", "LAK", "MVR", "KGS", "TJS",
        "LYD", "SYP", "YER", "SDG", "AFN", "IRR", "SCR", "ETB", "AOA", "MWK", "BWP", "NAD", "MGA", "MZN", "ZMW", "RWF",
    ]
)
_CUR = (
    r"(?:US\$|USD\$|U\$S|CA\$|CAD\$|AU\$|NZ\$|HK\$|SG\$|NT\$|MX\$|CN¥|JP¥|[CARS]\$|\$|€|£|¥|￥|₹|₩|₽|₺|₴|฿|₫|₱|₪|₦"
    r"|Rs\.?|RMB|RM|Rp|KSh|Ksh|Dhs\.?|DH|KD|TL|CHF|Fr\.|zł|Kč|Ft|[Kk]r\.?|руб|[Ll]ei|LEI|元|円|원|S/\.?|ر\.س|د\.إ|ر\.ق|د\.ك|ج\.م|"
    # ("đ" is also a Vietnamese letter: a sign only where no letter follows; "RD$" before "$")
    r"RD\$|GH₵|[₸৳₡₾֏₼₲₮₭៛₵]|Gs\.|Bs\.|лв\.?|đ(?![^\W\d_])|VNĐ|din\.|дин\.|TSh|USh|E£|QR|DT|DA|KM|F\s?CFA|CFA|"
    # (currencies in the page's own script, as words or abbreviations)
    r"درهم|د\.م\.|ريال|دينار|جنيه|د\.ع|د\.أ|د\.ب|ر\.ع|د\.ج|د\.ت|ل\.ل|د\.ل|ل\.س|ر\.ي|دج(?![^\W\d_])|ج\.س|؋|"
    r"افغان[یۍ]|روپ(?:ے|یہ)|ש[״\"]ח|ກີບ|ကျပ်|টাকা|บาท|ლარი|грн|ден\.?|₨|र[ुू]\.?|ரூ|රු|դրամ|դր\.|"
    # (the som of Kyrgyzstan and of Uzbekistan as their shops write it: "2 450 сом", "1 290 000 so'm")
    r"сом(?![^\W\d_])|сўм|so[ʻ'’]m(?![^\W\d_])|"
    # (the birr, the kwanza, the Malawi kwacha)
    r"Br(?![^\W\d_])|Kz(?![^\W\d_])|MK(?![^\W\d_])|"
    + "|".join(sorted(_ISO_IN_TEXT, reverse=True))
    + r")"
)
_TOKEN_SYMBOL = re.compile(_CUR)
_CJK = r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]"  # kana, CJK ideographs, hangul
# A currency sign, symbol or code anywhere in a text (whether an amount has one beside it); or the dash after whole
# units that says "no cents" ("349,-", "349:-", "49,--"), which is as plain a price notation as a sign
SIGN = re.compile(_CUR + r"|[.,:][-–—]{1,2}(?![\w\-–—])")
# A number as shops write it: 1,299.99 / 1.299,00 / 1 299,00 / 1'299.– / 1,29,999 / 12.900 / 299.-
# (groups of three, the last of them at least; groups of two only before it, India's lakh "1,19,990": "¥229.00 88" is
# an amount and another number, not 229.0088)
_NUM = (r"\d{1,3}(?:[,.]\d{2})*(?:[,.'’\u00a0\u202f ]\d{3})+(?:[.,]\d{1,2})?(?:[.,][-–])?|"
        r"\d+(?:[.,]\d{1,2})?(?:[.,][-–])?")


def _first_characters(alternation: str) -> str:
    """The characters a branch of ``alternation`` can open with, as a character class's text (``alternation``:
    ``(?:...|...)`` as :data:`_CUR` writes it, each branch opening with a character, an escaped one or a class of
    them, never optional)."""
    firsts: set[str] = set()
    inner, depth, start, at = alternation[3:-1], 0, 0, 0  # (without "(?:" and ")")
    while at <= len(inner):
        char = inner[at] if at < len(inner) else "|"
        if char == "\\":
            at += 2
            continue
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif char == "|" and depth == 0:
            branch, start = inner[start:at], at + 1
            if branch[:1] == "\\":
                opening, size = branch[1], 2
            elif branch[:1] == "[":
                opening, size = branch[1:branch.index("]")], branch.index("]") + 1
            else:
                opening, size = branch[:1], 1
            if not opening or opening in "(.^" or branch[size:size + 1] in {"?", "*", "{"}:
                raise ValueError(f"a sign spelled so cannot be told by its first character: {branch!r}")
            firsts.update(opening)
        at += 1
    return "".join(re.escape(char) for char in sorted(firsts))


# Where a money token can start: a digit, or a character a sign opens with. At each character of a text the token's
# three alternatives are tried in turn (a look-behind each; a sign of some 200 spellings tried one by one): one
# class rules out most characters first and halves what reading a page's texts costs, for the same matches
_TOKEN_START = rf"(?=[\d{_first_characters(_CUR)}])"
_TOKEN = re.compile(
    _TOKEN_START + "(?:"
    # "29€99": the French way of writing 29,99 € (symbol in the decimal separator's place)
    r"(?<![\w.,])(?P<n3>\d{1,6})(?P<mid>[€£])(?P<c3>\d{2})(?!\d)|"
    # (a number after a CJK character is no part of a word: "79折379元", "售价379元")
    rf"(?<![A-Za-z])(?P<pre>{_CUR})\s?(?P<n1>{_NUM})(?!\d)|(?:(?<![\w.,\-])|(?<={_CJK}))(?P<n2>{_NUM})\s?(?P<post>{_CUR})"
    # (a number right after the sign is another amount's, "1,299 € 99": unless it is a percentage, "1,290,000원 13%",
    # or an amount with a sign of its own after it, "1.290.000₫ 1.790.000₫": a sign written after its amount)
    rf"(?![A-Za-z]|\s?\d(?![\d.,]*\s?(?:%|{_CUR})))"
    ")"
)
# A bare number right after a minus sign is negative (JSON-LD "-199.00"): never a price.
_BARE = re.compile(rf"(?<![\w.,\-−])(?P<n>{_NUM})(?![\w])")
# Prices without a sign, in notations no other number is written in: whole units and a dash for no minor units
# ("349,-", "7.999,-", "1 189,-", Sweden's "349:-", the Netherlands' "49,--"), read in the page's currency (its
# structured data's, else its country's) as if a sign stood beside them. Not before a digit or a word, nor an ordinal's
# number after it: "1.–3. Klasse" is a range of ordinals.
_DASHED = re.compile(r"(?<![\w.,\-–])(?P<n>(?:\d{1,3}(?:[,.'’\u00a0\u202f ]\d{3})+|\d+)[.,:](?:[-–—]{1,2}))"
                     r"(?![\w\-–—]|\s?\d{1,2}\.(?!\d))")
_DASHED_QUICK = re.compile(r"\d[.,:][-–—]")
# Colon decimals, as Swedish (and some Nordic) shops write a price: "24:90", "kr 1 249:00", "75:45 kr/l". A time of day
# is written alike ("20:00", "Öppet 10:00-20:00"), so they are read only on a page of those countries (or in their
# currencies) and only where the shop's notation is plain: a sign right beside the number, or (``allow_bare``) an
# element that says it is a price and holds that number alone.
_NORDIC = frozenset({"SE", "NO", "DK", "FI", "IS", "AX", "FO", "GL"})
_NORDIC_CURRENCIES = frozenset({"SEK", "NOK", "DKK", "ISK"})
_COLON_NUM = re.compile(r"(?<![\w.,:\-–])(?P<whole>\d{1,3}(?:[.\u00a0\u202f ]\d{3})*):(?P<cents>\d{2})(?![\d:]|[.,]\d)")
_COLON_QUICK = re.compile(r"\d:\d\d")
COLON_ALONE = re.compile(r"\s*(?P<whole>\d{1,3}(?:[.\u00a0\u202f ]\d{3})*):(?P<cents>\d{2})\s*")
_SIGN_BEFORE = re.compile(rf"(?<![A-Za-z])(?P<sign>{_CUR})\s?$")
_SIGN_AFTER = re.compile(rf"\s?(?P<sign>{_CUR})(?![A-Za-z])")
# Amounts past these are no shop's price in any currency (a Vietnamese car is ~1e9 VND): a page
# showing one is broken or hostile. MAX_AMOUNT stays well inside the store's NUMERIC(18, 4).
MAX_AMOUNT = Decimal(10) ** 12
_MAX_DIGITS = 16  # digits a number may have before it is read at all (thousands of digits are no price)
# "1e309", "1.5E+3": a number in exponent notation is no price, nor any of its digits
_EXP_AFTER = re.compile(r"[eE][+-]?\d")
_EXP_BEFORE = re.compile(r"\d[eE][+-]?$")
_GROUPED = re.compile(r"\d{1,3}[.,]\d{3}")  # "1,299" / "1.299": thousands or three decimals
_NOT_DIGIT = re.compile(r"\D")
_PERCENT_AFTER = re.compile(r"\s?%")
_PERCENT_OWN = re.compile(r"\s?%(?!\s?\d)")  # (a "%" that no number follows: the percentage of the number before it)
_LAST_GROUP = re.compile(r"(?<=[.,]\d\d)[ \u00a0\u202f]\d{1,2}$")  # (cents, then a blank and a percentage)
_CENTS_END = re.compile(r"[.,]\d{1,2}$")
_MILLS_END = re.compile(r"\d[ '\u00a0\u202f.,]\d{3}[.,]\d{3}$")


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
    """``","`` for locales writing ``1.299,00``, ``"."`` for ``1,299.00`` (CLDR); None when no locale is given."""
    if not locale:
        return None
    return decimal_symbol(locale) or "."


def _norm_symbol(symbol: str) -> str:
    return symbol.replace("￥", "¥").strip().rstrip(".").casefold()


@lru_cache(maxsize=1)
def _homes() -> dict[str, tuple[str, ...]]:
    """Currency → the countries whose tender it is today (CLDR), from CLDR's territory table."""
    homes: dict[str, list[str]] = {}
    for country in get_global("territory_currencies"):
        for code in territory_currencies(country):
            homes.setdefault(code, []).append(country)
    return {code: tuple(countries) for code, countries in homes.items()}


@lru_cache(maxsize=2048)
def _written(code: str) -> frozenset[str]:
    """How a currency's symbol is written: in English and in the locale of each country it is tender in."""
    forms = set()
    for tag in ("en", *filter(None, (locale_for_territory(c) for c in _homes().get(code, ())[:8]))):
        loc = parse_locale(tag)
        if loc is not None and (symbol := loc.currency_symbols.get(code)):
            forms.add(_norm_symbol(symbol))
    return frozenset(forms)


@lru_cache(maxsize=256)
def local_symbols(locale: str | None) -> tuple[str, ...]:
    """The symbols the currencies of the locale's country are written with, as shops write them.

    CLDR's (``₺`` in TR), the usual informal ones this module reads (``TL``) and the ISO codes
    (``AED 899.00``), so that a page scan looks for ``TL`` on a Turkish page without looking for it
    everywhere.
    """
    country = territory_of(locale)
    if not country:
        return ()
    codes = territory_currencies(country)
    # (a one-letter sign only when it is no ASCII letter: "₸", "đ", not "R")
    found = [sym for sym, code in _SYMBOLS.items() if code in codes and (len(sym) > 1 or not sym.isascii())]
    found.extend(s for s in _shared_words(codes) if s not in found)
    for code in codes:
        loc = parse_locale(locale_for_territory(country))
        symbol = loc.currency_symbols.get(code) if loc is not None else None
        if symbol and symbol not in found and _TOKEN_SYMBOL.fullmatch(symbol):
            found.append(symbol)
    found.extend(code for code in codes if code in _ISO_IN_TEXT and code not in found)
    if country in _LETTER_SIGNS:
        found.append(_LETTER_SIGNS[country])
    # (a sign several countries share, written in ASCII: looked for on those countries' pages only, "Bs." in VE and BO)
    found.extend(s for s, family in _SHARED_ASCII.items() if family & set(codes) and s not in found)
    if "kr" in found:
        found.append("Kr")  # (the krone and krona opening a label, "Kr 449,90": on the Nordic countries' pages only)
    return tuple(found)


@lru_cache(maxsize=64)
def currency_symbols(code: str | None) -> tuple[str, ...]:
    """The signs this module reads for the currency ``code`` (``SAR``: ``ر.س`` and ``SAR``), no one-letter ASCII
    sign among them: what a page whose structured data names that currency writes its prices with."""
    if not code:
        return ()
    own = [sym for sym, c in _SYMBOLS.items() if c == code and (len(sym) > 1 or not sym.isascii())]
    return (*own, *(s for s in _shared_words((code,)) if s not in own), code)


def _shared_words(codes: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """The signs in a script of their own that several currencies share and these ``codes`` are among ("درهم" for
    MAD as for AED, "₨"): the ASCII ones ("rs") are left out, being inside too many words."""
    return tuple(s for s, family in _SHARED.items() if not s.isascii() and family & set(codes))


# Letter signs, read only on pages of the country whose currency they are: "Q 2,999.00" in GT, "L 1,299.00"
# in HN (a "Q3" or "L 1" elsewhere is a quarter or a size), "BD 189.000" in BH.
_LETTER_SIGNS = {"GT": "Q", "HN": "L", "ZA": "R", "BH": "BD", "JO": "JD", "OM": "RO", "BW": "P"}


@lru_cache(maxsize=8)
def _letter_token(sign: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w.,])(?P<pre>{sign})\s?(?P<n1>{_NUM})(?!\d|[.,]\d)")


@lru_cache(maxsize=4096)
def currency_for_symbol(symbol: str, *, locale: str | None = None, default: str | None = None) -> str | None:
    """The ISO 4217 code for a symbol as shown (``$``, ``€``, ``¥``, ``USD``), given the page locale.

    ``default`` is the page's or profile's own currency: when the symbol is how that currency is
    written (a ``$`` on a CAD page), it wins. Else a currency of the locale's country written so
    (CLDR: ``$`` in CL is CLP, ``kr`` in NO is NOK, ``¥`` in JP is JPY), else the symbol's usual one.
    Obsolete codes read as today's (``RUR`` → RUB).
    """
    sym = symbol.strip()
    up = sym.upper()
    if len(up) == 3 and up.isalpha() and (code := canonical_currency(up)) is not None:
        return code
    norm = _norm_symbol(sym)
    if default and norm in _written(default):
        return default
    country = territory_of(locale)
    if country:
        for code in territory_currencies(country):
            if norm in _written(code):
                return code
        family = _SHARED.get(norm)
        if family is not None:
            # ("Rs." is the rupee of India, Pakistan, Sri Lanka, Nepal, Mauritius: the page's country says which)
            for code in territory_currencies(country):
                if code in family:
                    return code
    if default and _SHARED.get(norm, frozenset()) >= {default, _SYMBOLS.get(sym)}:
        return default
    return _SYMBOLS.get(sym)


def _amount(number: str, decimal_separator: str | None, currency: str | None = None,
            *, explicit: bool = False) -> Decimal | None:
    if sum(c.isdigit() for c in number) > _MAX_DIGITS:
        return None
    number = number.replace("’", "'")
    text = number.rstrip("-–—").rstrip(".,:") if number.endswith(("-", "–", "—")) else number
    seps = {c for c in text if c in ",."}
    # "1,299" / "1.299" (one separator, three digits after) is the only ambiguous shape; the
    # locale decides it. Anything else price-parser reads unambiguously on its own.
    ambiguous = len(seps) == 1 and _GROUPED.fullmatch(text) is not None
    sep = None
    if ambiguous:
        if currency is not None and whole_units(currency):
            whole = Decimal(_NOT_DIGIT.sub("", text))
            return whole if _sane(whole) else None
        if currency is not None and minor_units(currency) == 3 and text[-4] == (decimal_separator or "."):
            # "KD 1.250": a dinar has 1000 fils, and three decimals are how Gulf shops write it
            try:
                amount = Price.fromstring(text, decimal_separator=text[-4]).amount
            except (ArithmeticError, ValueError):
                return None
            return amount if _sane(amount) else None
        # A known currency with cents never shows three decimals in a shop: "1.299 €" on a page in
        # English, "1,299 €" on a German one, are 1299. Without a currency, or with a separator a
        # profile sets, the locale decides; "0.299" is decimal (a thousands group never starts with 0).
        local = decimal_separator if explicit or currency is None else None
        sep = next(iter(seps)) if text.startswith("0") else local
    if not ambiguous and len(seps) == 1 and _CENTS_END.search(text):
        sep = seps.pop()  # "12,99" / "12.99": the only separator with 1-2 digits after is decimal
    elif (not ambiguous and currency is not None and minor_units(currency) == 3 and _MILLS_END.search(text)
          and text.count(text[-4]) == 1):
        sep = text[-4]  # "1 299,000 DT": a dinar's three decimals after thousands grouped otherwise
    try:
        amount = Price.fromstring(text, decimal_separator=sep).amount
    except (ArithmeticError, ValueError):
        return None
    return amount if _sane(amount) else None


# Arabic-Indic and Persian digits with the Arabic thousands and decimal separators ("٢٬٤٩٩٫٥٠" is 2,499.50):
# the regex's \d matches them one by one, but ٬ and ٫ are no separator it knows.
_EASTERN_DIGITS = str.maketrans({**{chr(0x660 + i): str(i) for i in range(10)},
                                 **{chr(0x6F0 + i): str(i) for i in range(10)}, "٬": ",", "٫": "."})


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
    if len(text) <= _CACHED_TEXT:
        return list(_find_short(text, decimal_separator, locale, currency, allow_bare))
    return _find(text, decimal_separator, locale, currency, allow_bare)


# A page repeats the same short texts ("$19.99" in a grid, "Add to cart for $5"): those are read once
# (about 60 % of the calls on real pages). ParsedAmount is frozen; each caller gets a list of its own.
_CACHED_TEXT = 200


@lru_cache(maxsize=8192)
def _find_short(text: str, decimal_separator: str | None, locale: str | None, currency: str | None,
                allow_bare: bool) -> tuple[ParsedAmount, ...]:
    return tuple(_find(text, decimal_separator, locale, currency, allow_bare))


def first_amount(text: str, accept: Callable[[ParsedAmount], bool], *, locale: str | None = None,
                 currency: str | None = None) -> ParsedAmount | None:
    """The first amount of ``find_amounts(text, locale=locale, currency=currency)`` that ``accept`` takes, or None.

    Reads ``text`` only as far as that amount (the first signed amount after a title is a few dozen characters into
    the 2,500 read): its tokens come in order, unless the text holds the letter its locale writes as a sign ("R" in
    ZA), whose amounts are sorted in among them (then all of it is read).
    """
    if len(text) <= _CACHED_TEXT or _letter_sign(locale, text) is not None:
        return next((found for found in find_amounts(text, locale=locale, currency=currency) if accept(found)), None)
    text = text if text.isascii() else text.translate(_EASTERN_DIGITS)
    return next((found for found in _tokens(text, decimal_separator_for_locale(locale), False, locale, currency)
                 if accept(found)), None)


def _letter_sign(locale: str | None, text: str) -> str | None:
    """The letter the locale's country writes as its currency sign ("R", "Q"), when ``text`` holds it."""
    letter = _LETTER_SIGNS.get(territory_of(locale) or "") if locale else None
    return letter if letter is not None and letter in text else None


def _find(text: str, decimal_separator: str | None, locale: str | None, currency: str | None,
          allow_bare: bool) -> list[ParsedAmount]:
    explicit = decimal_separator is not None
    if decimal_separator is None:
        decimal_separator = decimal_separator_for_locale(locale)
    if not text.isascii():
        text = text.translate(_EASTERN_DIGITS)  # (one character for one: positions stay those of the text)
    found = list(_tokens(text, decimal_separator, explicit, locale, currency))
    letter = _letter_sign(locale, text)
    if letter is not None:
        for m in _letter_token(letter).finditer(text):
            iso = currency_for_symbol(letter, locale=locale, default=currency)
            amount = _amount(m.group("n1"), decimal_separator, iso, explicit=explicit)
            if amount is not None:
                found.append(ParsedAmount(amount, iso, m.group(0).strip(), m.start(), m.end()))
        found.sort(key=lambda a: a.start)
    if not found and allow_bare and (alone := COLON_ALONE.fullmatch(text)) is not None and reads_colon_decimals(locale,
                                                                                                        currency):
        # ("<p class="price">24:90</p>" on a Swedish page: colon decimals, in the page's currency)
        amount = _colon_decimal(alone)
        if amount is not None:
            found.append(ParsedAmount(amount, _home(locale, currency), text.strip(), alone.start("whole"),
                                      alone.end("cents")))
            return found
    if not found and allow_bare:
        for m in _BARE.finditer(text):
            if _in_exponent(text, m.start(), m.end()):
                continue
            amount = _amount(m.group("n"), decimal_separator, currency, explicit=explicit)
            if amount is not None:
                found.append(ParsedAmount(amount, currency, m.group(0), m.start(), m.end()))
    return found


def _tokens(text: str, decimal_separator: str | None, explicit: bool, locale: str | None,
            currency: str | None) -> Iterator[ParsedAmount]:
    """The amounts of :data:`_TOKEN`'s matches in ``text`` (its Eastern digits already translated), in order, with the
    sign-less notations of :data:`_DASHED` and the colon decimals of :data:`_COLON_NUM` among them (a colon amount
    takes the place of the signed token its cents would make, "90 kr" of "24:90 kr"; a signed token takes that of a
    dashed amount it holds, "kr 349,-")."""
    signed = _signed_tokens(text, decimal_separator, explicit, locale, currency)
    # (most texts hold neither: a look for the one character each needs first)
    quick_dash = ("-" in text or "–" in text or "—" in text) and _DASHED_QUICK.search(text) is not None
    quick_colon = (":" in text and reads_colon_decimals(locale, currency)
                   and _COLON_QUICK.search(text) is not None)
    if not quick_dash and not quick_colon:
        yield from signed
        return
    colon = _colon_amounts(text, locale, currency) if quick_colon else []
    tokens = [t for t in signed if not any(c.start < t.end and t.start < c.end for c in colon)]
    dashed = _dashed_amounts(text, locale, currency) if quick_dash else []
    taken = [*tokens, *colon]
    dashed = [d for d in dashed if not any(t.start < d.end and d.start < t.end for t in taken)]
    yield from sorted([*taken, *dashed], key=lambda a: a.start)


def _home(locale: str | None, currency: str | None) -> str | None:
    """The page's own currency: ``currency`` (its structured data's or profile's), else the only one of the country its
    locale names ("nb_NO"; not a language's likely one: an English page is not a US shop's for it)."""
    if currency:
        return currency
    parts = (locale or "").replace("-", "_").split("_")
    return sole_currency(parts[-1].upper() if len(parts) > 1 and len(parts[-1]) == 2 and parts[-1].isalpha() else None)


def reads_colon_decimals(locale: str | None, currency: str | None) -> bool:
    """Whether a page of ``locale`` (in ``currency``) writes prices with colon decimals ("24:90"): a Nordic one."""
    return (territory_of(locale) if locale else None) in _NORDIC or currency in _NORDIC_CURRENCIES


def _dashed_amounts(text: str, locale: str | None, currency: str | None) -> list[ParsedAmount]:
    """The sign-less amounts of :data:`_DASHED` in ``text``, in the page's currency; none when it has no known one."""
    iso = _home(locale, currency)
    if iso is None:
        return []
    found = []
    for m in _DASHED.finditer(text):
        amount = _amount(m.group("n"), None, iso)
        if amount is not None:
            found.append(ParsedAmount(amount, iso, m.group(0), m.start(), m.end()))
    return found


def _colon_decimal(m: re.Match[str]) -> Decimal | None:
    amount = Decimal(f"{_NOT_DIGIT.sub('', m.group('whole'))}.{m.group('cents')}")
    return amount if _sane(amount) else None


def _colon_amounts(text: str, locale: str | None, currency: str | None) -> list[ParsedAmount]:
    """The colon-decimal amounts of ``text`` with a sign right before or after them ("kr 24:90", "1:00 kr")."""
    found = []
    for m in _COLON_NUM.finditer(text):
        start, end = m.start(), m.end()
        before = _SIGN_BEFORE.search(text, max(0, start - 12), start)
        after = _SIGN_AFTER.match(text, end) if before is None else None
        sign = before or after
        amount = _colon_decimal(m) if sign is not None else None
        if sign is None or amount is None:
            continue
        if before is not None:
            start = before.start()
        elif after is not None:
            end = after.end()
        iso = currency_for_symbol(sign.group("sign"), locale=locale, default=currency)
        found.append(ParsedAmount(amount, iso, text[start:end].strip(), start, end))
    return found


def _signed_tokens(text: str, decimal_separator: str | None, explicit: bool, locale: str | None,
                   currency: str | None) -> Iterator[ParsedAmount]:
    """The amounts of :data:`_TOKEN`'s matches in ``text`` (its Eastern digits already translated), in order."""
    for m in _TOKEN.finditer(text):
        if _in_exponent(text, m.start(), m.end()):
            continue
        if m.group("n3"):
            iso = currency_for_symbol(m.group("mid"), locale=locale, default=currency)
            yield ParsedAmount(Decimal(f"{m.group('n3')}.{m.group('c3')}"), iso, m.group(0), m.start(), m.end())
            continue
        number = m.group("n1") or m.group("n2")
        symbol = m.group("pre") or m.group("post")
        end = m.end()
        if m.group("n1") and number[-1:].isdigit() and _PERCENT_AFTER.match(text, end):
            # ("$39.90 43% OFF": the last blank-separated group is the badge's percentage, not digits of the amount)
            cut = _LAST_GROUP.search(number)
            if cut is not None:
                number, end = number[:cut.start()], end - (len(number) - cut.start())
            elif m.group("pre") and _PERCENT_OWN.match(text, end):
                continue  # ("원 13%": a percentage after another amount's sign is no amount; not "₺1.249,90 %31")
        iso = currency_for_symbol(symbol, locale=locale, default=currency)
        amount = _amount(number, decimal_separator, iso, explicit=explicit)
        if amount is None:
            continue
        yield ParsedAmount(amount, iso, text[m.start():end].strip(), m.start(), end)


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
