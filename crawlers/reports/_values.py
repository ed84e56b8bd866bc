"""Cell parsers for partner reports: header aliases, prices by locale, dates, quantities.

Each parser returns the parsed value or raises :class:`CellError` with a reason a partner can act on.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from zoneinfo import ZoneInfo

from pricewarden.locales import decimal_symbol

# Canonical column -> accepted header spellings (compared after normalise_header).
ALIASES: dict[str, tuple[str, ...]] = {
    "sku": ("sku", "货号", "商品编码"),
    "price": ("price", "价格", "单价"),
    "currency": ("currency", "币种"),
    "date": ("date", "observed_at", "日期"),
    "channel": ("channel", "url", "渠道"),
    "quantity": ("quantity", "数量"),
}
REQUIRED = ("sku", "price", "date")
COLUMNS = ("sku", "price", "currency", "date", "channel", "quantity")
_HEADER_TO_COLUMN = {alias: column for column, aliases in ALIASES.items() for alias in aliases}

_SPACES = str.maketrans("", "", " \u00a0\u202f\u2009")
_INTEGER = re.compile(r"[+-]?\d+")
# The common case needs no notation: a dot not followed by exactly three digits can only be the decimal point.
_DOT_DECIMAL = re.compile(r"[+-]?\d+\.(?:\d{1,2}|\d{4,})")
MAX_INTEGER_DIGITS = 14  # NUMERIC(18, 4): 14 digits before the point
MAX_DECIMALS = 4
_FOUR_PLACES = Decimal(1).scaleb(-MAX_DECIMALS)


class CellError(ValueError):
    """A cell that cannot be accepted; the message is the reason shown to the partner."""


def normalise_header(text: object) -> str:
    """A header cell compared case- and whitespace-insensitively (``" Observed At "`` -> ``observed_at``)."""
    value = str(text if text is not None else "").replace("\ufeff", "").strip().lower()
    return re.sub(r"[\s\-]+", "_", value)


def column_for(header: object) -> str | None:
    """The canonical column a header names, or ``None`` for a column we ignore."""
    return _HEADER_TO_COLUMN.get(normalise_header(header))


@lru_cache(maxsize=256)
def decimal_separator(locale: str | None) -> str:
    """The decimal separator of a partner locale (CLDR: ``de_DE`` -> ``,``, ``es_MX``/``en``/``zh`` -> ``.``)."""
    return decimal_symbol(locale or "en") or "."


def _grouped(integer: str, group: str) -> str | None:
    """``1,299`` -> ``1299`` when the groups are well formed for ``group``, else ``None``."""
    parts = integer.split(group)
    if len(parts) > 1 and 1 <= len(parts[0].lstrip("+-")) <= 3 and all(len(p) == 3 for p in parts[1:]) \
            and all(p.isdigit() for p in parts[1:]):
        return "".join(parts)
    return None


class AmbiguousAmount(CellError):
    """A price such as ``4.800`` that is 4.8 or 4800 depending on the file's decimal notation."""


class TooPrecise(CellError):
    """A spreadsheet number with more decimals than kept; ``amount`` is its exact decimal value."""

    def __init__(self, message: str, amount: Decimal) -> None:
        super().__init__(message)
        self.amount = amount


def notation_of(text: str) -> str | None:
    """The decimal separator a price text shows by itself (``","`` or ``"."``), else ``None``.

    ``12,50``, ``1.299,00``, ``1.299.000`` and ``0.500`` show theirs; ``4.800`` (one separator, three
    digits after it, one to three before) and ``1299`` do not.
    """
    compact = text.strip().translate(_SPACES).lstrip("+-")
    commas, dots = compact.count(","), compact.count(".")
    if commas and dots:
        return "," if compact.rfind(",") > compact.rfind(".") else "."
    if commas + dots == 0:
        return None
    separator = "," if commas else "."
    if commas + dots > 1:  # the same separator twice can only be grouping
        return "." if separator == "," else ","
    integer, fraction = compact.split(separator)
    if len(fraction) != 3 or not integer or len(integer) > 3 or integer.startswith("0"):
        return separator  # no thousands group looks like that
    return None


def decide_notation(values: Iterable[object]) -> str | None:
    """A file's decimal separator from its own price texts: the one they all show, else ``None``.

    ``None`` when no text shows one (only whole numbers and ``4.800``-like amounts) or when texts
    show both; numbers (spreadsheet or JSON) carry no notation and are not counted.
    """
    seen: set[str] = set()
    for value in values:
        if type(value) is str and ("," in value or "." in value):
            found = notation_of(value)
            if found is not None:
                seen.add(found)
                if len(seen) > 1:
                    return None
    return seen.pop() if seen else None


def parse_price(value: object, notation: str | None = None) -> Decimal:
    """A positive exact price from a cell; the decimal separator is the text's own, else ``notation``.

    ``notation`` is the file's decimal separator (:func:`decide_notation`), used only for texts that
    do not show theirs (``4.800``); without it such a text raises :class:`AmbiguousAmount`, never a
    guess. Numbers from XLSX arrive as int/float (the file stores them as decimal text; ``repr``
    gives that text back exactly); one with more decimals than kept raises :class:`TooPrecise`.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        raise CellError("price is missing")
    if isinstance(value, bool):
        raise CellError(f"price is not a number: {value!r}")
    if isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, float):
        amount = Decimal(repr(value)) if math.isfinite(value) else Decimal("NaN")
        if amount.is_finite() and amount.adjusted() < MAX_INTEGER_DIGITS and amount.quantize(_FOUR_PLACES) != amount:
            raise TooPrecise(f"price {value!r} has more than {MAX_DECIMALS} decimal places", amount)
    elif isinstance(value, Decimal):
        amount = value
    else:
        text = str(value)
        plain = _INTEGER.fullmatch(text) or _DOT_DECIMAL.fullmatch(text)
        amount = Decimal(text) if plain else _parse_text(text, notation)
    return _checked(amount, str(value))


def _parse_text(text: str, notation: str | None) -> Decimal:
    raw = text.strip()
    compact = raw.translate(_SPACES)
    sign = ""
    if compact[:1] in "+-" and compact[:1]:
        sign, compact = compact[0], compact[1:]
    if not compact or compact.strip("0123456789,.") or not any(c.isdigit() for c in compact):
        raise CellError(f"price {raw[:60]!r} is not a number")
    decimal = notation_of(compact)
    if decimal is None and ("," in compact or "." in compact):
        if notation is None:
            separator = "," if "," in compact else "."
            raise AmbiguousAmount(
                f"price {raw[:60]!r} is ambiguous: the file's own amounts do not show whether {separator!r} is the "
                f"decimal or the thousands separator; write it without thousands separators, e.g. "
                f"{compact.replace(separator, '')} or {compact.replace(separator, '.').rstrip('0').rstrip('.')}"
            )
        decimal = notation
    if decimal is not None and decimal in compact:
        cut = compact.rfind(decimal)
        integer, fraction = compact[:cut], compact[cut + 1:]
    else:
        integer, fraction = compact, ""
    group = "." if decimal == "," else ","
    if not fraction.isdigit() and fraction:
        raise CellError(f"price {raw[:60]!r} is not a number")
    if decimal is not None and decimal in compact and not fraction:
        raise CellError(f"price {raw[:60]!r} is not a number")
    if not integer.isdigit():
        joined = _grouped(integer, group) if integer else "0"
        if joined is None or not joined.isdigit():
            raise CellError(f"price {raw[:60]!r} has malformed thousands separators")
        integer = joined
    try:
        return Decimal(f"{sign}{integer}.{fraction}" if fraction else f"{sign}{integer}")
    except InvalidOperation:
        raise CellError(f"price {raw[:60]!r} is not a number") from None


def _checked(amount: Decimal, shown: str) -> Decimal:
    if not amount.is_finite():
        raise CellError(f"price {shown[:60]!r} is not a number")
    if amount == 0:
        raise CellError("price is zero")
    if amount < 0:
        raise CellError(f"price {shown[:60]!r} is negative")
    if amount.adjusted() >= MAX_INTEGER_DIGITS:
        raise CellError(f"price {shown[:40]!r} is too large")
    # trailing zeros are harmless (1.230000 is 1.23); more significant decimals than the column keeps are not
    if amount.quantize(_FOUR_PLACES) != amount:
        raise CellError(f"price {shown[:40]!r} has more than {MAX_DECIMALS} decimal places")
    return amount


_DATE_ONLY = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")


def parse_instant(value: object, zone: ZoneInfo) -> datetime:
    """An aware UTC instant from a date cell; a date alone means midnight in ``zone``.

    Accepts ISO 8601 (``2026-11-20``, ``2026-11-20T10:00``, with ``Z`` or an offset), ``2026/11/20``
    and spreadsheet date cells. ``11/20/2026`` and ``20/11/2026`` are refused: they read both ways.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        raise CellError("date is missing")
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time())
    elif isinstance(value, str):
        text = value.strip()
        match = _DATE_ONLY.fullmatch(text)
        try:
            if match:
                moment = datetime(int(match[1]), int(match[2]), int(match[3]))  # noqa: DTZ001 - zone below
            else:
                moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise CellError(f"date {text[:40]!r} is not a date; write it as YYYY-MM-DD") from None
    else:
        raise CellError(f"date {value!r} is not a date; write it as YYYY-MM-DD")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(ZoneInfo("UTC"))


def check_age(moment: datetime, now: datetime, max_age_days: int, future_skew: timedelta) -> None:
    """Reject a date in the future (beyond the clock skew) or older than ``max_age_days``."""
    if moment > now + future_skew:
        raise CellError(f"date {moment:%Y-%m-%d %H:%M} UTC is in the future")
    if moment < now - timedelta(days=max_age_days):
        raise CellError(f"date {moment:%Y-%m-%d} is older than {max_age_days} days")


def parse_quantity(value: object) -> int | None:
    """An optional whole non-negative quantity."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise CellError(f"quantity {value!r} is not a whole number")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    else:
        text = str(value).strip()
        # isdecimal, not isdigit: superscripts and circled digits ("¹", "①") are digits int() refuses.
        if not text.isdecimal() or len(text) > 12:
            raise CellError(f"quantity {text[:40]!r} is not a whole number")
        number = int(text)
    if number < 0 or number > 10**12:
        raise CellError(f"quantity {number} is out of range")
    return number


def cell_text(value: object) -> str:
    """A cell as text (``12345.0`` from a spreadsheet number -> ``12345``)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()
