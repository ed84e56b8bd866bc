"""Cell parsers for partner reports: header aliases, prices by locale, dates, quantities.

Each parser returns the parsed value or raises :class:`CellError` with a reason a partner can act on.
"""

from __future__ import annotations

import re
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
_PLAIN = re.compile(r"[+-]?\d+(?:\.\d+)?")
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


def parse_price(value: object, locale: str | None) -> Decimal:
    """A positive exact price from a cell; ``1,299.00`` / ``1.299,00`` only as the partner's locale writes them.

    Numbers from XLSX arrive as int/float (the file stores them as decimal text; ``str(float)`` gives
    that text back exactly); text is parsed with the locale's decimal separator and rejected when
    it could mean two different amounts.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        raise CellError("price is missing")
    if isinstance(value, bool):
        raise CellError(f"price is not a number: {value!r}")
    if isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, float):
        amount = _checked(Decimal(repr(value)) if value == value else Decimal("NaN"), repr(value))
    elif isinstance(value, Decimal):
        amount = value
    else:
        text = str(value)
        # the common case, a plain dot-decimal number, needs no locale rules
        plain = _PLAIN.fullmatch(text) and ("." not in text or decimal_separator(locale) == ".")
        amount = Decimal(text) if plain else _parse_text(text, locale)
    return _checked(amount, str(value))


def _parse_text(text: str, locale: str | None) -> Decimal:
    raw = text.strip()
    compact = raw.translate(_SPACES)
    decimal = decimal_separator(locale)
    group = "." if decimal == "," else ","
    if "," in compact and "." in compact:
        last = max(compact.rfind(","), compact.rfind("."))
        if compact[last] != decimal:
            raise CellError(
                f"price {raw[:60]!r} uses {compact[last]!r} as decimal separator, but locale {locale or 'en'} "
                f"writes {decimal!r}; write it as {_example(decimal)}"
            )
        integer, fraction = compact[:last], compact[last + 1:]
        joined = _grouped(integer, group)
        if joined is None:
            raise CellError(f"price {raw[:60]!r} has malformed thousands separators")
        compact = f"{joined}.{fraction}"
    elif group in compact:
        joined = _grouped(compact, group)
        if joined is None and compact.count(group) == 1 and 1 <= len(compact) - compact.index(group) - 1 <= 2:
            # "569.00" in a de_DE file, "12,5" in an en_US one: a group of one or two digits cannot
            # be a thousands group, so this separator can only be the decimal point.
            joined = compact.replace(group, ".")
        if joined is None:
            raise CellError(
                f"price {raw[:60]!r} is ambiguous: {group!r} is the thousands separator in locale "
                f"{locale or 'en'}; write it as {_example(decimal)}"
            )
        compact = joined
    elif decimal == ",":
        if compact.count(",") > 1:
            raise CellError(f"price {raw[:60]!r} is not a number")
        compact = compact.replace(",", ".")
    if not _PLAIN.fullmatch(compact):
        raise CellError(f"price {raw[:60]!r} is not a number")
    try:
        return Decimal(compact)
    except InvalidOperation:
        raise CellError(f"price {raw[:60]!r} is not a number") from None


def _example(decimal: str) -> str:
    return f"e.g. {'1299.00' if decimal == '.' else '1299,00'}, without thousands separators"


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
        if not text.isdigit() or len(text) > 12:
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
