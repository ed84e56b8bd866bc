"""Alembic environment: uses the engine handed over by store.db, or the configured database."""

from __future__ import annotations

from alembic import context

from store.models import Base, beyond_autogenerate

config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        from store.db import get_engine

        engine = get_engine()
    with engine.begin() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            include_object=lambda _obj, name, _type, _reflected, _other: not beyond_autogenerate(name),
        )
        context.run_migrations()


run_migrations()
