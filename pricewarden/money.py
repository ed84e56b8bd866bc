"""Money: a ``Decimal`` amount with an ISO 4217 currency, never a float."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

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

# Minor units per currency where they differ from 2.
_MINOR_UNITS = {"JPY": 0, "KRW": 0, "VND": 0, "CLP": 0, "ISK": 0, "UGX": 0, "XAF": 0, "XOF": 0,
                "XPF": 0, "BHD": 3, "JOD": 3, "KWD": 3, "OMR": 3, "TND": 3, "IQD": 3, "LYD": 3}


def minor_unit(code: str) -> int:
    """Decimal places of a currency's minor unit (``USD`` 2, ``JPY`` 0, ``KWD`` 3)."""
    return _MINOR_UNITS.get(code, 2)


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
        places = _MINOR_UNITS.get(self.currency, 2)
        return Money(self.amount.quantize(Decimal(1).scaleb(-places), ROUND_HALF_EVEN), self.currency)

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"
