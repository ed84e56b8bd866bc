"""The schema: migrations match the models, run up and down, and keep money and instants exact."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, select

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
        s.add(Observation(obs_key=amount, source=Source.CRAWL, observed_at=datetime.now(UTC),
                          price=Decimal(amount), currency="USD"))
    with session_scope(db) as s:
        price = s.scalar(select(Observation.price).where(Observation.obs_key == amount))
    assert price == Decimal(amount)
    assert isinstance(price, Decimal)


def test_floats_are_refused_as_money(db: Engine) -> None:
    with pytest.raises(Exception, match="float"), session_scope(db) as s:
        s.add(Observation(obs_key="f", source=Source.CRAWL, observed_at=datetime.now(UTC), price=19.99))


def test_instants_come_back_aware_in_utc(db: Engine) -> None:
    shanghai = timezone(timedelta(hours=8))
    seen = datetime(2026, 3, 8, 9, 30, tzinfo=shanghai)
    with session_scope(db) as s:
        s.add(Observation(obs_key="t", source=Source.CRAWL, observed_at=seen))
    with session_scope(db) as s:
        stored = s.scalar(select(Observation.observed_at))
    assert stored == seen
    assert stored.tzinfo is not None
    assert stored.utcoffset() == timedelta(0)


def test_naive_instants_are_refused(db: Engine) -> None:
    with pytest.raises(Exception, match="naive"), session_scope(db) as s:
        s.add(Observation(obs_key="n", source=Source.CRAWL, observed_at=datetime(2026, 1, 1)))


def test_unique_sku(db: Engine) -> None:
    with session_scope(db) as s:
        s.add(Product(sku="AC-1"))
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"), session_scope(db) as s:
        s.add(Product(sku="AC-1"))
