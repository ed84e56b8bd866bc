"""Column types that keep money exact, instants in UTC and natural keys compact on both SQLite and PostgreSQL."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import DateTime, Dialect, LargeBinary, Numeric, String, Uuid
from sqlalchemy.types import TypeDecorator, TypeEngine

from pricewarden.keys import KEY_BYTES


class Amount(TypeDecorator[Decimal]):
    """An exact decimal amount: NUMERIC(18, 4) on PostgreSQL, text on SQLite (whose NUMERIC is a float)."""

    impl = Numeric(18, 4)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(40))
        return dialect.type_descriptor(Numeric(18, 4, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("money must be Decimal, not float")
        amount = Decimal(value)
        return str(amount) if dialect.name == "sqlite" else amount

    def bind_many(self, values: list[Any], dialect: Dialect) -> list[Any] | None:
        """What the bind processor makes of each of ``values`` (a batch's column) on SQLite, in one pass: the
        text of each ``Decimal`` (``None`` stays ``None``). ``None`` when the batch holds anything else (another
        dialect, a float, an int): the caller converts value by value."""
        if dialect.name != "sqlite" or not set(map(type, values)) <= {Decimal, type(None)}:
            return None
        return [None if v is None else str(v) for v in values]

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return Decimal(str(value)) if dialect.name == "sqlite" else Decimal(value)


class UTCDateTime(TypeDecorator[datetime]):
    """An instant, stored in UTC and always returned timezone-aware (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected datetime, got {type(value).__name__}")
        if value.tzinfo is None:
            raise ValueError("naive datetime: PriceWarden stores only timezone-aware instants")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def bind_many(self, values: list[Any], dialect: Dialect) -> list[Any] | None:
        """What the bind processor makes of each of ``values`` (a batch's column), in one pass, on SQLite:
        the ``YYYY-MM-DD HH:MM:SS.ffffff`` text in UTC of each timezone-aware ``datetime`` or pandas
        ``Timestamp`` (``None`` stays ``None``). ``None`` when the batch is not that (another dialect, a
        naive or foreign value, an instant before 1970 or
        past 2262): the caller converts value by value, which says
        what is wrong with a bad one."""
        if dialect.name != "sqlite" or not values:
            return None
        import numpy as np
        import pandas as pd
        from pandas.api.types import infer_dtype

        if infer_dtype(values, skipna=True) != "datetime":
            return None  # strings, dates, numbers, numpy datetime64 (naive): value by value
        try:
            index = pd.DatetimeIndex(values)
        except (TypeError, ValueError):  # naive and aware mixed, several zones, past 2262: value by value
            return None
        if index.tz is None:
            return None
        utc = index.tz_convert("UTC").tz_localize(None)
        missing = np.asarray(utc.isna())
        micros = utc.to_numpy(dtype="datetime64[ns]").astype("datetime64[us]")
        if (micros[~missing] < np.datetime64(0, "us")).any():
            return None  # numpy rounds sub-microseconds before 1970 otherwise than datetime's truncation
        texts = np.datetime_as_string(micros, unit="us")  # 2026-03-01T15:00:00.000000, fixed width
        if texts.dtype.itemsize == 26 * 4:  # four-digit years: the "T" (the eleventh character) made a space
            texts.view(np.uint32).reshape(-1, 26)[:, 10] = ord(" ")
        else:
            texts = np.char.replace(texts, "T", " ")
        texts = texts.tolist()
        if missing.any():
            return [None if gone else text for text, gone in zip(texts, missing.tolist(), strict=True)]
        return texts  # type: ignore[no-any-return]

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected datetime from the database, got {type(value).__name__}")
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class DigestKey(TypeDecorator[bytes]):
    """A natural key of ``KEY_BYTES`` bytes (``pricewarden.keys.digest_key``): PostgreSQL's ``uuid``, a BLOB on SQLite.

    Half a SHA-256, binary, rather than its 64 hex digits: a unique index of random keys puts each new row on a
    page of its own, and at a million rows the hex index (122 MB) was as large as PostgreSQL's default buffer
    pool, which a big import then wrote out and read back; this one is 39 MB (27 MB on SQLite, against 82).
    ``uuid`` is PostgreSQL's fixed 16-byte type (no length header: an index entry of 24 bytes against 80); the
    value is no RFC 4122 UUID, only of its size.
    """

    impl = LargeBinary(KEY_BYTES)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(Uuid(as_uuid=True))
        return dialect.type_descriptor(LargeBinary(KEY_BYTES))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if type(value) is not bytes or len(value) != KEY_BYTES:
            raise TypeError(f"a natural key is {KEY_BYTES} bytes (digest_key), got {value!r:.80}")
        return uuid.UUID(bytes=value) if dialect.name == "postgresql" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> bytes | None:
        if value is None:
            return None
        return value.bytes if isinstance(value, uuid.UUID) else bytes(value)


CLOCK_OFFSET_ENV = "PRICEWARDEN_CLOCK_OFFSET"


def utcnow() -> datetime:
    """The current instant in UTC: every instant PriceWarden records comes from here.

    ``PRICEWARDEN_CLOCK_OFFSET`` (seconds, demo and tests only) shifts it, in this process and in
    every child that inherits the environment; production never sets it.
    """
    shift = os.environ.get(CLOCK_OFFSET_ENV)
    now = datetime.now(UTC)
    return now + timedelta(seconds=float(shift)) if shift else now
