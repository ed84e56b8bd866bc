"""Row-level validation of partner reports: a streaming loop over precomputed catalog sets.

:class:`RowValidator` judges one :class:`~crawlers.reports._read.RawRow` at a time and returns an
:class:`Accepted` or :class:`Rejected` record; it never touches the database, so the same code
judges a file, an API payload and a feed, and runs a million rows without a query per row.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from crawlers.reports._read import RawRow
from crawlers.reports._values import (
    AmbiguousAmount,
    CellError,
    TooPrecise,
    cell_text,
    check_age,
    parse_instant,
    parse_price,
    parse_quantity,
)
from pricewarden.keys import digest_key
from pricewarden.money import is_currency, minor_units

ExpectedCurrency = Callable[[str, str, datetime], "str | None"]
NotationOf = Callable[[], "str | None"]
EXAMPLE_SKU = "EXAMPLE"
# A spreadsheet number this close to a whole minor unit is that amount (434.9999999999999 -> 435.00).
FLOAT_NOISE = Decimal("1e-9")
MEMO_SIZE = 200_000  # distinct texts remembered per column (a million-row report has ~100,000 prices)
SMALL_CATALOG = 500  # up to this many SKUs, difflib compares an unknown SKU with all of them


@dataclass(frozen=True, slots=True)
class PartnerInfo:
    """What validation needs to know about the reporting partner."""

    id: int
    code: str
    locale: str = "en"
    authorised_skus: frozenset[str] = frozenset()  # SKUs or categories; empty = whole catalog
    authorised_channels: frozenset[str] = frozenset()  # lower case; empty = any channel
    domains: frozenset[str] = frozenset()  # the partner's own storefront hosts (lower case, no www.)


@dataclass(frozen=True, slots=True)
class Catalog:
    """The brand's SKUs, precomputed once per import: exact and upper-case lookups, categories."""

    ids: dict[str, int]
    categories: dict[str, str | None]
    folded: dict[str, str] = field(default_factory=dict)

    @classmethod
    def build(cls, products: list[tuple[int, str, str | None]]) -> Catalog:
        """From ``(id, sku, category)`` tuples."""
        ids = {sku: pid for pid, sku, _ in products}
        return cls(ids, {sku: cat for _, sku, cat in products}, {sku.upper(): sku for sku in ids})


@dataclass(slots=True)
class Accepted:
    """A row that becomes an observation."""

    number: int
    product_id: int
    sku: str
    price: Decimal
    currency: str
    observed_at: datetime
    channel: str | None
    quantity: int | None
    raw_price: str
    obs_key: bytes
    cells: dict[str, Any]
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Rejected:
    """A row that is refused, with the column at fault and a reason the partner can act on."""

    number: int
    column: str | None
    reason: str
    cells: dict[str, Any]


class RowValidator:
    """Judge rows one by one; remembers (sku, date, channel) keys to reject duplicates within a batch."""

    def __init__(
        self,
        partner: PartnerInfo,
        catalog: Catalog,
        *,
        now: datetime,
        zone: ZoneInfo,
        max_age_days: int,
        future_skew: timedelta,
        max_cell_chars: int,
        expected_currency: ExpectedCurrency | None = None,
        source: str = "partner_report",
        notation: NotationOf | None = None,
        currency_per_sku: bool = True,
    ) -> None:
        self.partner = partner
        self.catalog = catalog
        self.now = now
        self.zone = zone
        self.max_age_days = max_age_days
        self.future_skew = future_skew
        self.max_cell_chars = max_cell_chars
        self.source = source
        # Keys of the current chunk only: rows of earlier chunks are already in the database, where
        # the importer finds them by obs_key; this keeps memory flat on million-row files.
        self._seen: dict[bytes, int] = {}
        self._instants: dict[str, tuple[datetime, tuple[str, str] | None]] = {}
        self._expected = lru_cache(maxsize=65536)(expected_currency) if expected_currency else None
        # False when ``expected_currency`` answers the same for every SKU (policies.expected_currency does)
        self.currency_per_sku = currency_per_sku
        self._suggest = lru_cache(maxsize=4096)(self._close_match)
        self._deletions: dict[str, list[str]] = {}
        # The file's decimal notation, decided from all its amounts the first time one needs it.
        self._notation: str | None = None
        self._decide_notation = notation
        # Verdicts by cell text (see _check): a value, or the _Reject of that text.
        self._skus: dict[object, Any] = {}
        self._dates: dict[object, Any] = {}
        self._currencies: dict[object, Any] = {}
        self._channels: dict[object, Any] = {}
        self._quantities: dict[object, Any] = {}
        self._prices: dict[str, Decimal | str] = {}
        self._key_head = f"{source}|{partner.id}|"

    def _close_match(self, sku: str) -> str | None:
        # difflib over a large catalog costs ~0.1 s per unknown SKU; a one-deletion index finds the
        # candidates (typos, a missing or extra character) and difflib only ranks those few.
        query = sku.upper()
        folded = self.catalog.folded
        if len(folded) <= SMALL_CATALOG:
            candidates: Iterable[str] = folded
        else:
            index = self._deletions or self._build_deletions()
            found: set[str] = set()
            for variant in (query, *_deletions(query)):
                found.update(index.get(variant, ()))
            candidates = found
        matches = difflib.get_close_matches(query, candidates, n=1, cutoff=0.6)
        return folded[matches[0]] if matches else None

    def _build_deletions(self) -> dict[str, list[str]]:
        index: dict[str, list[str]] = {}
        for key in self.catalog.folded:
            for variant in (key, *_deletions(key)):
                index.setdefault(variant, []).append(key)
        self._deletions = index
        return index

    def _channel_allowed(self, channel: str) -> bool:
        allowed = self.partner.authorised_channels
        if channel in allowed:
            return True
        # A URL (or a path) on the partner's own storefront is its "web" channel.
        if channel.startswith("/"):
            return "web" in allowed
        parts = urlsplit(channel) if "://" in channel else None
        if parts is None or not parts.hostname:
            return False
        host = parts.hostname.removeprefix("www.")
        netloc = parts.netloc.lower().removeprefix("www.")
        if "web" in allowed and (host in self.partner.domains or netloc in self.partner.domains):
            return True
        return host in allowed or parts.hostname in allowed

    def check(self, row: RawRow) -> Accepted | Rejected:
        """Accept or reject one row (the first problem found is the reason)."""
        cells = row.cells
        for column, reason in row.refused.items():
            return Rejected(row.number, column, reason, cells)
        longest = self.max_cell_chars
        for column, value in cells.items():
            if isinstance(value, str):
                if len(value) > longest:
                    return Rejected(row.number, column, f"cell longer than {self.max_cell_chars} characters", cells)
                if "\x00" in value or not value.isascii():
                    problem = _bad_text(value)
                    if problem:
                        return Rejected(row.number, column, f"{column} {problem}", cells)
        try:
            return self._check(row)
        except _Reject as problem:
            return Rejected(row.number, problem.column, problem.reason, cells)

    def _check(self, row: RawRow) -> Accepted:
        # Each column's verdict depends only on its cell (and on fixed facts of the batch): a report
        # repeats its SKUs, dates, currencies, channels and quantities, so each text is judged once.
        cells = row.cells
        sku, product_id = _memo(self._skus, cells.get("sku"), self._sku)
        raw_price = cells.get("price")
        noisy: TooPrecise | None = None
        ambiguous: AmbiguousAmount | None = None
        try:
            price = self._price(raw_price)
        except TooPrecise as exc:
            noisy, price = exc, exc.amount
        except AmbiguousAmount as exc:
            ambiguous, price = exc, Decimal(0)
        except CellError as exc:
            raise _Reject("price", str(exc)) from None
        observed_at, local, stamp = _memo(self._dates, cells.get("date"), self._date)
        value = cells.get("currency")
        if self._expected is None:
            currency = _memo(self._currencies, value, self._plain_currency)
        else:
            currency = self._currency(sku, (value.strip() if type(value) is str else cell_text(value)).upper(),
                                      observed_at)
        if noisy is not None:
            price = _without_float_noise(noisy, currency)
        if ambiguous is not None:
            price = _whole_units(raw_price, currency, ambiguous)
        channel, channel_key = _memo(self._channels, cells.get("channel"), self._channel)
        quantity = _memo(self._quantities, cells.get("quantity"), _quantity)
        key = digest_key(f"{self._key_head}{sku}|{stamp}|{channel_key}")
        first = self._seen.get(key)
        if first is not None:
            raise _Reject("sku", f"duplicate of row {first} (same sku, date and channel)")
        self._seen[key] = row.number
        extra = {k: cells[k] for k in ("list_price", "availability") if cells.get(k) is not None}
        if local is not None:
            extra["local_date"], extra["utc_offset"] = local
        return Accepted(
            row.number, product_id, sku, price, currency, observed_at, channel, quantity,
            _price_text(raw_price), key, cells, extra,
        )

    def _sku(self, value: object) -> tuple[str, int]:
        sku_text = value.strip() if type(value) is str else cell_text(value)
        if not sku_text:
            raise _Reject("sku", "sku is missing")
        if sku_text.upper() == EXAMPLE_SKU:
            raise _Reject("sku", "example row from the template; delete it")
        sku = sku_text if sku_text in self.catalog.ids else self.catalog.folded.get(sku_text.upper())
        if sku is None:
            hint = self._suggest(sku_text)
            raise _Reject("sku", f"unknown SKU {sku_text[:60]!r}" + (f"; did you mean {hint!r}?" if hint else ""))
        allowed = self.partner.authorised_skus
        if allowed and sku not in allowed and self.catalog.categories.get(sku) not in allowed:
            raise _Reject("sku", f"partner {self.partner.code} is not authorised to sell {sku}")
        return sku, self.catalog.ids[sku]

    def _date(self, value: object) -> tuple[datetime, tuple[str, str] | None, str]:
        try:
            observed_at, local = self._instant(value)
            check_age(observed_at, self.now, self.max_age_days, self.future_skew)
        except CellError as exc:
            raise _Reject("date", str(exc)) from None
        return observed_at, local, observed_at.isoformat()

    def _plain_currency(self, value: object) -> str:
        return self._currency("", (value.strip() if type(value) is str else cell_text(value)).upper(), self.now)

    def _channel(self, value: object) -> tuple[str | None, str]:
        channel = (value.strip() if type(value) is str else cell_text(value)) or None
        channel_key = (channel or "").lower()
        if self.partner.authorised_channels:
            if not channel:
                raise _Reject("channel", "channel is missing; this partner reports per authorised channel")
            if not self._channel_allowed(channel_key):
                raise _Reject("channel", f"partner {self.partner.code} is not authorised for channel {channel[:80]!r}")
        return channel, channel_key

    def _price(self, raw: object) -> Decimal:
        if type(raw) is str:
            known = self._prices.get(raw)
            if known is not None:
                if type(known) is str:
                    raise CellError(known)
                return known  # type: ignore[return-value]
        try:
            price = parse_price(raw, self._notation)
        except AmbiguousAmount:
            if self._decide_notation is None:
                raise
            self._notation = self._decide_notation()
            self._decide_notation = None
            price = parse_price(raw, self._notation)
        except CellError as exc:
            # Only plain refusals are remembered: an ambiguous or too precise amount is judged with the
            # file's notation and currency, which come later.
            if type(exc) is CellError and type(raw) is str and len(self._prices) < MEMO_SIZE:
                self._prices[raw] = str(exc)
            raise
        if type(raw) is str and len(self._prices) < MEMO_SIZE:
            self._prices[raw] = price
        return price

    def forget_seen(self) -> None:
        """Drop the duplicate keys of the chunk just written (the database has them now)."""
        self._seen.clear()

    def _instant(self, value: object) -> tuple[datetime, tuple[str, str] | None]:
        """The UTC instant of a date cell, and (local date, UTC offset) as written when it has an offset."""
        # A report has few distinct dates: parse each text once.
        if type(value) is not str:
            return parse_instant(value, self.zone), _local(value)
        found = self._instants.get(value)
        if found is None:
            found = parse_instant(value, self.zone), _local(value)
            if len(self._instants) < 100_000:
                self._instants[value] = found
        return found

    def _currency(self, sku: str, given: str, at: datetime) -> str:
        expected = self._expected(sku, self.partner.code, at) if self._expected else None
        if not given:
            if expected:
                return expected
            raise _Reject("currency", "currency is missing")
        if not is_currency(given):
            raise _Reject("currency", f"{given[:20]!r} is not an ISO 4217 currency code")
        if expected and given != expected:
            raise _Reject("currency", f"currency {given} does not match {expected}, the policy currency of {sku} "
                          f"for partner {self.partner.code}")
        return given


def _memo(memo: dict[object, Any], value: object, judge: Callable[[Any], Any]) -> Any:
    """``judge(value)`` remembered for text cells: its result, or the refusal it raised (raised again)."""
    if type(value) is not str:
        return judge(value)
    known = memo.get(value, memo)
    if known is memo:
        try:
            known = judge(value)
        except _Reject as problem:
            known = _Refusal(problem.column, problem.reason)
        if len(memo) < MEMO_SIZE:
            memo[value] = known
    if type(known) is _Refusal:
        raise _Reject(known.column, known.reason)
    return known


def _quantity(value: object) -> int | None:
    try:
        return parse_quantity(value)
    except CellError as exc:
        raise _Reject("quantity", str(exc)) from None


def _price_text(raw: object) -> str:
    if type(raw) is str and len(raw) <= 500 and not raw[:1].isspace() and not raw[-1:].isspace():
        return raw
    return cell_text(raw)[:500]


def _bad_text(value: str) -> str | None:
    """Why a text cell cannot be stored (PostgreSQL refuses NUL; no database stores half a surrogate pair)."""
    if "\x00" in value:
        return "contains a NUL byte (\\x00); remove it"
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "contains text that is not valid Unicode"
    return None


def _local(value: object) -> tuple[str, str] | None:
    """(date, offset) as written, for a timestamp carrying its own UTC offset: the partner's local date."""
    moment: datetime | None = None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str) and ("+" in value or value.rstrip().endswith("Z") or value.count("-") > 2):
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    if moment is None or moment.tzinfo is None:
        return None
    offset = moment.strftime("%z")
    return moment.date().isoformat(), f"{offset[:3]}:{offset[3:]}" if offset else "+00:00"


def _whole_units(raw: object, currency: str, ambiguous: AmbiguousAmount) -> Decimal:
    """``12,800`` in a currency without minor units (JPY, KRW) can only be 12800; elsewhere it stays ambiguous."""
    if minor_units(currency) != 0:
        raise _Reject("price", str(ambiguous))
    grouping = "," if "," in str(raw) else "."
    try:
        return parse_price(raw, "." if grouping == "," else ",")
    except CellError as exc:
        raise _Reject("price", str(exc)) from None


def _without_float_noise(noisy: TooPrecise, currency: str) -> Decimal:
    """A spreadsheet number rounded to the currency's minor unit when only float noise separates them."""
    amount = noisy.amount
    rounded = amount.quantize(Decimal(1).scaleb(-minor_units(currency)), rounding=ROUND_HALF_EVEN)
    if rounded > 0 and abs(amount - rounded) <= rounded * FLOAT_NOISE:
        return rounded
    raise _Reject("price", str(noisy))


def _deletions(text: str) -> Iterator[str]:
    return (text[:i] + text[i + 1:] for i in range(len(text)))


@dataclass(frozen=True, slots=True)
class _Refusal:
    column: str | None
    reason: str


class _Reject(Exception):
    def __init__(self, column: str | None, reason: str) -> None:
        self.column = column
        self.reason = reason
