"""A CSV chunk judged column by column: each distinct cell text once, per row only what is per row.

A report repeats its SKUs, prices, dates, currencies, channels and quantities. :func:`judged_records`
takes the records of a CSV as read (:attr:`~crawlers.reports._read.Source.records`), judges each
column's distinct texts with the :class:`~crawlers.reports._validate.RowValidator`'s own verdicts,
and builds the stored :data:`~crawlers.reports._sink.Row` of a row that passes them all from a few
lookups, its obs_key and its receipt line. Every other row (a refusal, a short or blank row, a cell
too long or to be neutralised in the receipt, a duplicate) goes through ``RowValidator.check`` and
``RowShape`` in its place, so the outcome is that of the row-by-row path, row for row.
"""

from __future__ import annotations

import contextlib
from bisect import bisect_right
from collections.abc import Callable, Iterator
from itertools import accumulate, repeat
from operator import add
from typing import Any

from crawlers.reports._read import RawRow, Source, cells_of, is_blank_row
from crawlers.reports._receipt import _PLAIN, receipt_line
from crawlers.reports._sink import Row, RowShape
from crawlers.reports._validate import (
    MEMO_SIZE,
    Accepted,
    Rejected,
    RowValidator,
    _bad_text,
    _memo,
    _price_text,
    _quantity,
    _Reject,
)
from crawlers.reports._values import COLUMNS, CellError, cell_text
from pricewarden.keys import digest_key

_BAD = object()  # the verdict of a text the row-by-row path must judge
# Positions in ROW_COLUMNS whose value is taken as it is: the lane is used only when their columns process nothing
# (the key, the instant and the price go through their processors here).
_AS_IS = (1, 2, 5, 6, 10)
_RECEIPT_CELL = 1000  # longer cells are cut in the receipt (receipt_line)
_CELL_STARTS = frozenset("=+-@ \"'\t\r")
_GUARDED = (",", ";", '"', "\t", "\r", "\n", "\x00")
_STARTS = tuple(f"\x1f{c}" for c in "=+-@ \"'")


def can_judge_records(source: Source, validator: RowValidator, shape: RowShape) -> bool:
    """Whether ``source``'s records can be judged here (a CSV, and stored values that need no per-row processing)."""
    return source.records is not None and all(shape.processors[p] is None for p in _AS_IS)


def judged_records(source: Source, validator: RowValidator, shape: RowShape,
                   chunk_rows: int) -> Iterator[list[Row | Rejected]]:
    """Judged rows in chunks of ``chunk_rows`` (the last one possibly empty), as ``judged_chunks`` gives them."""
    take = source.records
    assert take is not None
    judge = _Columns(validator, shape, source.columns)
    chunk: list[Row | Rejected] = []
    while True:
        first, records = take(chunk_rows - len(chunk))  # blank rows skipped: read on until the chunk is full
        if not records:
            yield chunk
            return
        chunk.extend(judge(first, records))
        if len(chunk) >= chunk_rows:
            yield chunk
            validator.forget_seen()  # as judged_chunks: the importer stores the chunk before asking for more
            chunk = []


class _Columns:
    """Judges chunks of records for one file (its columns) with one validator and shape.

    The verdicts of texts seen in earlier chunks are kept (the accepted ones with their stored values),
    so a chunk judges only its new texts.
    """

    def __init__(self, validator: RowValidator, shape: RowShape, columns: dict[str, int]) -> None:
        self.validator = validator
        self.shape = shape
        self.columns = columns
        self.need = max(columns.values()) + 1
        self._known: dict[str, tuple[dict[Any, Any], set[Any]]] = {}  # by column: (accepted texts, refused texts)
        self._currencies: dict[tuple[Any, ...], str] = {}
        self._details: dict[tuple[str | None, str | None, str], Any] = {}
        availability = shape.processors[8]
        self._availability = availability("unknown") if availability is not None else "unknown"

    def _verdicts(self, name: str, column: tuple[Any, ...], judge: Callable[[Any], Any], slow: bytearray) -> list[Any]:
        """Each cell's verdict (``_BAD``: the row goes row by row); each new text judged once."""
        accepted, refused = self._known.setdefault(name, ({}, set()))
        if len(accepted) + len(refused) > MEMO_SIZE:
            accepted.clear()
            refused.clear()
        judged = list(map(accepted.get, column, repeat(_BAD)))
        missing = _where(judged, _BAD)  # texts not accepted before: new ones, refused ones, cells refused as cells
        if not missing:
            return judged
        longest = self.validator.max_cell_chars
        for value in {column[i] for i in missing}.difference(refused):
            if value is not None and (len(value) > longest or "\x00" in value):
                continue  # its row is refused for the cell itself
            try:
                accepted[value] = judge(value)
            except (_Reject, CellError):
                refused.add(value)
        get = accepted.get
        for i in missing:
            verdict = judged[i] = get(column[i], _BAD)
            if verdict is _BAD:
                slow[i] = 1
        return judged

    def __call__(self, first: int, records: list[list[str]]) -> list[Row | Rejected]:
        validator, shape, columns = self.validator, self.shape, self.columns
        count = len(records)
        slow = bytearray(count)  # 1: the row goes through RowValidator.check
        special = bytearray(count)  # 1: its receipt line needs receipt_line's guards
        widths = list(map(len, records))
        if min(widths) < self.need:
            padded = list(records)
            for i, width in enumerate(widths):
                if width < self.need:
                    slow[i] = 1
                    padded[i] = [""] * self.need
            table = list(zip(*padded, strict=False))
        else:
            table = list(zip(*records, strict=False))
        nothing: tuple[None, ...] = (None,) * count
        cells = {name: table[index] for name, index in columns.items()}
        for column in cells.values():
            _mark_cells(column, validator.max_cell_chars, slow, special)

        processors = shape.processors
        key_p, observed_p, price_p = processors[0], processors[3], processors[4]
        verdicts = self._verdicts
        skus = verdicts("sku", cells["sku"], lambda v: _memo(validator._skus, v, validator._sku), slow)
        prices = verdicts("price", cells["price"], lambda v: _price(validator._price(v), price_p, v), slow)
        date_texts = cells["date"]
        dates = verdicts("date", date_texts,
                         lambda v: _date(_memo(validator._dates, v, validator._date), observed_p), slow)
        channel_texts = cells.get("channel", nothing)
        channels = verdicts("channel", channel_texts,
                            lambda v: _channel(_memo(validator._channels, v, validator._channel)), slow)
        quantity_texts = cells.get("quantity", nothing)
        quantities = verdicts("quantity", quantity_texts, lambda v: _memo(validator._quantities, v, _quantity), slow)
        currency_texts = cells.get("currency", nothing)
        per_sku = validator._expected is not None and validator.currency_per_sku
        if per_sku:  # a resolver that may answer per SKU: looked up per row below
            currencies = verdicts("currency", currency_texts, _given, slow)
        elif validator._expected is not None:  # the policy's currency: by the text and the instant
            pairs = tuple(zip(currency_texts, date_texts, strict=True))
            currencies = verdicts("currency+date", pairs, lambda v: validator._currency(
                "", _given(v[0]), _memo(validator._dates, v[1], validator._date)[0]), slow)
        else:
            currencies = verdicts("currency", currency_texts,
                                  lambda v: _memo(validator._currencies, v, validator._plain_currency), slow)

        head = validator._key_head
        seen = validator._seen
        known_currencies, known_details = self._currencies, self._details
        availability = self._availability
        out: list[Row | Rejected] = []
        receipt = zip(*(cells.get(name, ("",) * count) for name in COLUMNS), strict=True)  # a missing column blank
        rows = zip(range(first, first + count), slow, special, skus, prices, dates, currencies, channels, quantities,
                   channel_texts, quantity_texts, date_texts, receipt, records, strict=True)
        for (number, is_slow, is_special, sku_pid, price, date, currency, channel_v, quantity,
             channel_text, quantity_text, date_text, (c1, c2, c3, c4, c5, c6), record) in rows:
            if not is_slow:
                sku, product_id = sku_pid
                observed_at, local, stamp, observed = date
                if per_sku:
                    wanted = (sku, currency, observed_at)
                    found = known_currencies.get(wanted)
                    if found is None:
                        try:
                            found = validator._currency(sku, currency, observed_at)
                        except _Reject:
                            is_slow = 1
                        else:
                            if len(known_currencies) < MEMO_SIZE:
                                known_currencies[wanted] = found
                    currency = found
            if is_slow:
                row = cells_of(record, columns)
                if is_blank_row(row):
                    continue  # skipped silently, as the reader does
                judged = validator.check(RawRow(number, row))
                out.append(shape(judged) if isinstance(judged, Accepted) else judged)
                continue
            channel, channel_key, url = channel_v
            key = digest_key(f"{head}{sku}|{stamp}|{channel_key}")
            earlier = seen.get(key)
            if earlier is not None:
                out.append(Rejected(number, "sku", f"duplicate of row {earlier} (same sku, date and channel)",
                                    cells_of(record, columns)))
                continue
            seen[key] = number
            details = known_details.get((channel_text, quantity_text, date_text))
            if details is None:
                details = shape.details(channel, quantity, local)
                if len(known_details) < 10_000:
                    known_details[(channel_text, quantity_text, date_text)] = details
            amount, raw = price
            stored = key_p(key) if key_p is not None else key
            if is_special:
                line = receipt_line(number, "accepted", None, "", cells_of(record, columns))
            else:
                line = f"{number},accepted,,,{c1},{c2},{c3},{c4},{c5},{c6}\r\n"
            out.append((number, key, (stored, product_id, url, observed, amount, currency, raw, None, availability,
                                      details, number), (record, columns), line))
        return out


def _mark_cells(column: tuple[str, ...], longest: int, slow: bytearray, special: bytearray) -> None:
    """Rows whose cell in ``column`` is refused as a cell (too long, NUL, not storable) or needs receipt guards."""
    if max(map(len, column)) > min(longest, _RECEIPT_CELL):
        for i, value in enumerate(column):
            if len(value) > longest:
                slow[i] = 1
            elif len(value) > _RECEIPT_CELL:
                special[i] = 1
    joined = "\x1f".join(column)
    if "\x00" in joined or not joined.isascii():
        for i, value in enumerate(column):
            if "\x00" in value or (not value.isascii() and _bad_text(value)):
                slow[i] = 1
    # _PLAIN needs one of these characters, or a formula character (past blanks and quotes) where a cell starts.
    if not (joined[:1] in _CELL_STARTS or any(c in joined for c in _GUARDED) or any(s in joined for s in _STARTS)):
        return
    found = _PLAIN.finditer(joined)
    first = next(found, None)
    if first is None:
        return
    # Where each cell starts in ``joined``; a match ends inside the cell it concerns (its separator before it).
    starts = list(map(add, accumulate(map(len, column), initial=0), range(len(column))))
    for match in (first, *found):
        special[bisect_right(starts, match.end() - 1) - 1] = 1


def _where(verdicts: list[Any], bad: object) -> list[int]:
    """The positions whose verdict is ``bad`` (a few per chunk once a file's texts are known: C-level scans)."""
    found = []
    i = -1
    with contextlib.suppress(ValueError):
        while True:
            i = verdicts.index(bad, i + 1)
            found.append(i)
    return found


def _given(value: object) -> str:
    return (value.strip() if type(value) is str else cell_text(value)).upper()


def _price(amount: Any, processor: Any, text: str) -> tuple[Any, str]:
    return (processor(amount) if processor is not None else amount), _price_text(text)


def _date(found: tuple[Any, Any, str], processor: Any) -> tuple[Any, Any, str, Any]:
    observed_at, local, stamp = found
    return observed_at, local, stamp, processor(observed_at) if processor is not None else observed_at


def _channel(found: tuple[str | None, str]) -> tuple[str | None, str, str | None]:
    channel, channel_key = found
    return channel, channel_key, channel if channel and "://" in channel else None
