"""Money: a ``Decimal`` amount with an ISO 4217 currency, never a float."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from functools import lru_cache

from babel.core import get_global
from babel.numbers import get_territory_currencies

# ISO 4217 codes PriceWarden accepts (active currencies; enough for every market we sell into).
ISO_CURRENCIES = frozenset(
    """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN
    BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS
    GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW
    KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD
    NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD
    SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES
    VND VUV WST XAF XCD XOF XPF YER ZAR ZMW ZWL
    """.split()  # noqa: SIM905 (a block of codes reads better than a list)
)

# Codes that are no longer ISO 4217 (or never were) but that shops and feeds still send for a
# current currency: the Russian rouble's pre-1998 code (Yandex Market feeds use it to this day) and
# the common abbreviations of the yuan and the New Taiwan dollar.
OBSOLETE_CODES = {"RUR": "RUB", "RMB": "CNY", "NTD": "TWD"}


def canonical_currency(code: str | None) -> str | None:
    """The ISO 4217 code a currency code as sent means (``rur`` → RUB, `` usd `` → USD), or None.

    None when the code is no currency PriceWarden knows.
    """
    if not code:
        return None
    up = code.strip().upper()
    up = OBSOLETE_CODES.get(up, up)
    return up if up in ISO_CURRENCIES else None


@lru_cache(maxsize=512)
def _fractions(code: str) -> tuple[int, int]:
    """(digits, cash digits) of a currency from CLDR's currency data."""
    table = get_global("currency_fractions")
    digits, _, cash_digits, _ = table.get(code, table["DEFAULT"])
    return digits, cash_digits


def minor_units(code: str) -> int:
    """Decimal places a currency's amounts carry (CLDR): JPY 0, EUR 2, KWD 3."""
    return _fractions(code)[0]


def whole_units(code: str) -> bool:
    """Whether prices in this currency come in whole units in practice.

    True when CLDR gives it no minor unit, or none in cash (JPY, KRW, CLP, COP, IDR, HUF, TWD, SEK):
    ``12.990`` or ``1,299`` in such a currency is a thousands group, never a fraction.
    """
    digits, cash = _fractions(code)
    return digits == 0 or cash == 0


@lru_cache(maxsize=512)
def territory_currencies(country: str) -> tuple[str, ...]:
    """The currencies legal tender today in an ISO 3166 country (CLDR), main one first: CL → (CLP,)."""
    try:
        return tuple(get_territory_currencies(country.upper(), tender=True))
    except (KeyError, ValueError):
        return ()


def sole_currency(country: str | None) -> str | None:
    """The one currency legal tender in ``country``, when it has exactly one (CL → CLP; none for Panama: PAB and
    USD)."""
    codes = territory_currencies(country) if country else ()
    return codes[0] if len(codes) == 1 else None


def is_currency(code: str) -> bool:
    """True when ``code`` is an ISO 4217 code PriceWarden knows (upper case, three letters)."""
    return code in ISO_CURRENCIES


def to_decimal(value: object) -> Decimal:
    """Convert an exact value (str, int, Decimal) to ``Decimal``; floats are refused.

    Raises ``ValueError`` for floats, booleans and anything that is not a finite number.
    """
    if isinstance(value, (bool, float)):
        raise ValueError(f"money must not be a float: {value!r}")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"not a number: {value!r}") from None
    else:
        raise ValueError(f"not a number: {value!r}")
    if not result.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return result


@dataclass(frozen=True, slots=True, order=True)
class Money:
    """An amount of money: ``Decimal`` amount and ISO 4217 ``currency``."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            object.__setattr__(self, "amount", to_decimal(self.amount))
        if not is_currency(self.currency):
            raise ValueError(f"unknown ISO 4217 currency: {self.currency!r}")

    def rounded(self) -> Money:
        """The amount rounded to the currency's minor unit (banker's rounding)."""
        places = minor_units(self.currency)
        return Money(self.amount.quantize(Decimal(1).scaleb(-places), ROUND_HALF_EVEN), self.currency)

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"
