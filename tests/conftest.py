"""Shared fixtures: a workspace per test and a real database (SQLite, or PostgreSQL when configured).

The suite runs twice in CI: once on SQLite, once with ``PRICEWARDEN_TEST_POSTGRES=postgresql+psycopg://...``
pointing at a server, where each session creates its own throw-away database. With
``PRICEWARDEN_TEST_ONLY_DB=1`` only the tests that use the database run (the PostgreSQL pass).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text

from pricewarden.settings import get_settings
from store import Base, make_engine, upgrade
from store.db import engine_for

DB_FIXTURES = {"db", "engine", "session", "db_url"}
# What the network policy lets the tests fetch (crawlers.network): their own servers, nothing else.
TEST_ALLOW = "127.0.0.1"
# Modules that start Prefect's server or check what it leaves behind, in two groups of about equal cost
# (~150-170 s each on SQLite, a busy 2-core machine): each group runs one module after another on one
# pytest-xdist worker (`--dist loadgroup`), so that no more than two of their servers start side by side.
# One group of all six was a chain of 315-500 s on one worker, as long as the rest of the suite per worker.
PREFECT_MODULES = {"test_flows_deploy": "prefect-a", "test_prefect_start": "prefect-a",
                   "test_flows_scaleout": "prefect-a",
                   "test_demo_run": "prefect-b", "test_secrets_everywhere": "prefect-b",
                   "test_flows_prefect": "prefect-b"}
# Modules whose module-scoped fixture costs many seconds (a prepared world and an uncrashed monitor run;
# every page of the sandbox world scanned or extracted): each runs whole on one worker, so that its fixture
# is built once. Spread over the workers, each worker that ran one of their tests built it again, and again
# whenever it ran another module's test in between.
MODULE_GROUPS = {"test_flows_crash", "test_extract_scans", "test_extract_world"}


def xdist_group(nodeid: str) -> str | None:
    """The group whose tests run one after another on one worker, for a test's node id; None when it has none."""
    module = nodeid.partition("::")[0].rpartition("/")[2].removesuffix(".py")
    if module in PREFECT_MODULES:
        return PREFECT_MODULES[module]
    return module if module in MODULE_GROUPS else None


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """`--dist loadgroup` by the groups above, read from the node ids.

    pytest-xdist 3.8 names an ``xdist_group`` mark's group by appending it to the item's node id, which
    pytest 9.2 no longer lets a plugin change (pytest-xdist issue 1386): the marks were silently ignored and
    every group spread over the workers. Here the scheduler asks :func:`xdist_group` instead. Groups with
    the most tests are handed out first, so the long chains start at once.
    """
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class GroupScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return xdist_group(nodeid) or nodeid

    return GroupScheduling(config, log)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if DB_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.db)
    if os.environ.get("PRICEWARDEN_TEST_ONLY_DB") == "1":
        selected = [i for i in items if i.get_closest_marker("db")]
        deselected = [i for i in items if not i.get_closest_marker("db")]
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test gets its own workspace and no PRICEWARDEN_* from the caller's environment."""
    for key in list(os.environ):
        if key.startswith("PRICEWARDEN_") and not key.startswith("PRICEWARDEN_TEST"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("PRICEWARDEN_WORKSPACE", str(tmp_path / "workspace"))
    # The tests' servers listen on 127.0.0.1: allowed explicitly, the network policy stays on.
    monkeypatch.setenv("PRICEWARDEN_NETWORK__ALLOW", TEST_ALLOW)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def db_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a migrated database for this test session (dropped at the end on PostgreSQL)."""
    server = os.environ.get("PRICEWARDEN_TEST_POSTGRES")
    if not server:
        path = tmp_path_factory.mktemp("db") / "test.db"
        url = f"sqlite:///{path}"
        upgrade(make_engine(url))
        yield url
        return
    name = f"pw_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    base, _, _ = server.rpartition("/")
    url = f"{base}/{name}"
    upgrade(make_engine(url))
    yield url
    engine_for.cache_clear()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def db(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Engine:
    """The test database, emptied, and configured as PRICEWARDEN_DATABASE_URL for code under test."""
    engine = engine_for(db_url)
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    if engine.dialect.name == "postgresql":
        # TRUNCATE the tables the last test wrote to (TRUNCATE makes new files for a table and its indexes, 0.1-0.8 s
        # for all of them on a busy disk, paid by each of the ~520 tests of the PostgreSQL pass: most tests write to
        # a few), and every sequence back to 1, as TRUNCATE ... RESTART IDENTITY of them all did. Not DELETE: a table
        # emptied so keeps its dead rows' space, which later rows reuse, so that a scan without ORDER BY no longer
        # returns rows in the order they were written, and tests that read a few rows back in that order fail now
        # and then (two such failures in two CI runs, 5 December 2026).
        with engine.begin() as conn:
            used = [name for name in tables
                    if conn.execute(text(f'SELECT EXISTS (SELECT 1 FROM "{name}")')).scalar()]
            if used:
                conn.execute(text("TRUNCATE " + ", ".join(f'"{name}"' for name in used) + " CASCADE"))
            conn.execute(text("SELECT setval(c.oid, 1, false) FROM pg_class c "
                              "WHERE c.relkind = 'S' AND c.relnamespace = current_schema()::regnamespace"))
    else:
        with engine.connect() as conn:
            # SQLite ignores PRAGMA foreign_keys inside a transaction: switch it off before the
            # deletes begin one and back on after their commit, on the same pooled connection,
            # so no test runs on a connection left without foreign-key checks.
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            for name in tables:
                conn.execute(text(f'DELETE FROM "{name}"'))
            conn.commit()
            conn.exec_driver_sql("PRAGMA foreign_keys=ON")
            conn.commit()
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    monkeypatch.setenv("PRICEWARDEN_DATABASE_URL", db_url)
    get_settings.cache_clear()
    return engine


@pytest.fixture
def session(db: Engine) -> Iterator[object]:
    """A session on the emptied test database, committed at the end of the test."""
    from store import session_scope

    with session_scope(db) as s:
        yield s


@pytest.fixture
def setup(db: Engine, tmp_path: Path) -> tuple[Any, Any, Engine]:
    """The review app over the web world (tests/web_world.py): ``(app, world, engine)``."""
    from web_world import make_app

    app, world = make_app(db, tmp_path / "ws")
    return app, world, db
