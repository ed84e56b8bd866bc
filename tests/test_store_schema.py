"""The schema: migrations match the models, run up and down, and keep money and instants exact."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, select

from pricewarden.keys import digest_key
from store import Base, Observation, Product, Source, current_revision, downgrade, session_scope, upgrade
from store.models import beyond_autogenerate


def test_migrations_match_the_models(db: Engine) -> None:
    with db.connect() as conn:
        # The text search's table or index and the indexes over expressions are written by make_baseline.
        opts = {"compare_type": True,
                "include_object": lambda _obj, name, _type, _reflected, _other: not beyond_autogenerate(name)}
        diff = compare_metadata(MigrationContext.configure(conn, opts=opts), Base.metadata)
    assert diff == [], "models changed without `make migration`"
    assert current_revision(db) == "0001"


def test_downgrade_then_upgrade_round_trips(db: Engine) -> None:
    downgrade(db, "base")
    assert current_revision(db) is None
    upgrade(db)
    assert current_revision(db) == "0001"


@pytest.mark.parametrize("amount", ["0.01", "1299.00", "99999999999999.9999", "0.0001", "19.9"])
def test_money_round_trips_exactly(db: Engine, amount: str) -> None:
    with session_scope(db) as s:
        s.add(Observation(obs_key=digest_key(amount), source=Source.CRAWL, observed_at=datetime.now(UTC),
                          price=Decimal(amount), currency="USD"))
    with session_scope(db) as s:
        price = s.scalar(select(Observation.price).where(Observation.obs_key == digest_key(amount)))
    assert price == Decimal(amount)
    assert isinstance(price, Decimal)


def test_floats_are_refused_as_money(db: Engine) -> None:
    with pytest.raises(Exception, match="float"), session_scope(db) as s:
        s.add(Observation(obs_key=digest_key("f"), source=Source.CRAWL, observed_at=datetime.now(UTC), price=19.99))


def test_instants_come_back_aware_in_utc(db: Engine) -> None:
    shanghai = timezone(timedelta(hours=8))
    seen = datetime(2026, 3, 8, 9, 30, tzinfo=shanghai)
    with session_scope(db) as s:
        s.add(Observation(obs_key=digest_key("t"), source=Source.CRAWL, observed_at=seen))
    with session_scope(db) as s:
        stored = s.scalar(select(Observation.observed_at))
    assert stored == seen
    assert stored.tzinfo is not None
    assert stored.utcoffset() == timedelta(0)


def test_naive_instants_are_refused(db: Engine) -> None:
    with pytest.raises(Exception, match="naive"), session_scope(db) as s:
        s.add(Observation(obs_key=digest_key("n"), source=Source.CRAWL, observed_at=datetime(2026, 1, 1)))


def test_a_natural_key_round_trips_as_sixteen_bytes_and_nothing_else_is_taken(db: Engine) -> None:
    key = digest_key("crawl\x1f7\x1fS1\x1f2026-03-02T08:00:00+00:00")
    with session_scope(db) as s:
        s.add(Observation(obs_key=key, source=Source.CRAWL, observed_at=datetime.now(UTC)))
    with session_scope(db) as s:
        assert s.scalar(select(Observation.obs_key).where(Observation.obs_key == key)) == key
    for wrong in (key.hex(), key + b"\x00", key[:15]):  # the hex of a key, or another length
        with pytest.raises(Exception, match="16 bytes"), session_scope(db) as s:
            s.add(Observation(obs_key=wrong, source=Source.CRAWL, observed_at=datetime.now(UTC)))


def test_unique_sku(db: Engine) -> None:
    with session_scope(db) as s:
        s.add(Product(sku="AC-1"))
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"), session_scope(db) as s:
        s.add(Product(sku="AC-1"))


def test_bulk_insert_writes_what_insert_writes_without_compiling_each_row(db: Engine) -> None:
    """Rows whose keys come in another order than the table's columns, a default left out: the same rows as
    ``insert(table)`` makes, sent as plain tuples (SQLite: one executemany of the table-ordered INSERT;
    PostgreSQL: COPY), never through SQLAlchemy's per-row parameter building."""
    from sqlalchemy import event, insert

    from store import AuditLog, bulk_insert

    table = AuditLog.__table__
    at = datetime(2026, 5, 1, 12, 30, tzinfo=UTC)
    rows = [{"reason": f"r{i}", "after": {"n": i, "when": [at.isoformat()]}, "entity_id": str(i),
             "entity_type": "violation", "action": "violation.auto_resolved", "actor": "detection", "at": at}
            for i in range(3)]
    compiled_batches: list[int] = []

    def seen(conn: Any, clauseelement: Any, multiparams: Any, params: Any, execution_options: Any) -> None:
        compiled_batches.append(len(multiparams))

    with db.begin() as conn:
        event.listen(conn, "before_execute", seen)
        bulk_insert(conn, table, rows)
        event.remove(conn, "before_execute", seen)
        conn.execute(insert(table), [{**r, "reason": "x" + r["reason"]} for r in rows])
    assert compiled_batches == []
    with session_scope(db) as s:
        found = s.execute(select(AuditLog.reason, AuditLog.after, AuditLog.before, AuditLog.entity_id,
                                 AuditLog.actor, AuditLog.at).order_by(AuditLog.id)).all()
    assert [tuple(r) for r in found[:3]] == [(f"r{i}", {"n": i, "when": [at.isoformat()]}, {}, str(i), "detection",
                                              at) for i in range(3)]
    assert [tuple(r)[1:] for r in found[3:]] == [tuple(r)[1:] for r in found[:3]]


def test_a_batch_by_column_writes_what_insert_writes_with_its_documents_already_as_text(db: Engine) -> None:
    """``insert_columns``: a batch given by column (in any order, a default left out, a JSON column given as
    the text ``json.dumps`` makes of each document, named ``bound``) stores the rows ``insert(table)`` stores
    from the same values as dicts, never through SQLAlchemy's per-row parameter building; a column of
    another length, or bound values with no driver-level path, are refused."""
    import json

    from sqlalchemy import event, insert

    from store import AuditLog, insert_columns

    table = AuditLog.__table__
    at = datetime(2026, 5, 1, 12, 30, tzinfo=UTC)
    after = [{"n": i, "name": "Ärger \u2013 \"q\"", "when": [at.isoformat()], "none": None} for i in range(3)]
    columns: dict[str, list[Any]] = {
        "reason": [f"r{i}" for i in range(3)], "after": [json.dumps(a) for a in after],
        "entity_id": [str(i) for i in range(3)], "entity_type": ["violation"] * 3,
        "action": ["violation.auto_resolved"] * 3, "actor": ["detection"] * 3, "at": [at] * 3,
        "before": [{"status": "open"}] * 3}
    compiled_batches: list[int] = []

    def seen(conn: Any, clauseelement: Any, multiparams: Any, params: Any, execution_options: Any) -> None:
        compiled_batches.append(len(multiparams))

    with db.begin() as conn:
        event.listen(conn, "before_execute", seen)
        insert_columns(conn, table, columns, bound=("after",))
        event.remove(conn, "before_execute", seen)
        conn.execute(insert(table), [{"reason": "x" + columns["reason"][i], "after": after[i],
                                      **{k: v[i] for k, v in columns.items() if k not in ("reason", "after")}}
                                     for i in range(3)])
        with pytest.raises(ValueError, match="different lengths"):
            insert_columns(conn, table, {**columns, "reason": ["a", "b"]})
    assert compiled_batches == []
    with session_scope(db) as s:
        found = s.execute(select(AuditLog.reason, AuditLog.after, AuditLog.before, AuditLog.entity_id,
                                 AuditLog.actor, AuditLog.at).order_by(AuditLog.id)).all()
    assert [tuple(r) for r in found[:3]] == [(f"r{i}", after[i], {"status": "open"}, str(i), "detection", at)
                                             for i in range(3)]
    assert [tuple(r)[1:] for r in found[3:]] == [tuple(r)[1:] for r in found[:3]]


def test_instants_of_a_batch_are_converted_at_once_as_one_by_one() -> None:
    """``UTCDateTime.bind_many`` (a bulk insert's column on SQLite) writes what the bind processor writes for
    each value; a batch it cannot take whole (naive, foreign, several zones, before 1970, past 2262) is left
    to it."""
    from datetime import timedelta, timezone

    import pandas as pd
    from sqlalchemy.dialects import postgresql, sqlite

    from store._types import UTCDateTime

    dialect, kind = sqlite.dialect(), UTCDateTime()
    one = kind.dialect_impl(dialect).bind_processor(dialect)
    assert one is not None
    at = datetime(2026, 5, 1, 12, 30, tzinfo=UTC)
    batch = [at + timedelta(microseconds=7_919 * i * i) for i in range(2_000)]
    batch += [None, pd.Timestamp("2026-05-01 12:00:00.123456789+00:00")]
    assert kind.bind_many(batch, dialect) == [None if v is None else one(v) for v in batch]
    west = timezone(timedelta(hours=-3))
    shifted = [datetime(2026, 3, 1, 23, 59, 59, 999_999, tzinfo=west), None]
    assert kind.bind_many(shifted, dialect) == [one(shifted[0]), None] == ["2026-03-02 02:59:59.999999", None]
    for odd in ([datetime(2026, 1, 1)], ["2026-01-01"], [at, at.astimezone(west)], [datetime(1969, 1, 1, tzinfo=UTC)],
                [at, datetime(9999, 12, 31, tzinfo=UTC)], [None], []):
        assert kind.bind_many(odd, dialect) is None
    assert kind.bind_many(batch, postgresql.dialect()) is None


def test_amounts_of_a_batch_are_converted_at_once_as_one_by_one() -> None:
    """``Amount.bind_many`` (a bulk insert's column on SQLite) writes what the bind processor writes for each
    ``Decimal``; a batch with anything else is left to it (which refuses a float)."""
    from sqlalchemy.dialects import postgresql, sqlite

    from store._types import Amount

    dialect, kind = sqlite.dialect(), Amount()
    one = kind.dialect_impl(dialect).bind_processor(dialect)
    assert one is not None
    batch = [Decimal("199.00"), None, Decimal("-0.0100"), Decimal("1E+2"), Decimal("12345678901234.5678")]
    assert kind.bind_many(batch, dialect) == [None if v is None else one(v) for v in batch]
    assert kind.bind_many([Decimal("1"), 2.5], dialect) is None and kind.bind_many([3], dialect) is None
    assert kind.bind_many(batch, postgresql.dialect()) is None
