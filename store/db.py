"""Engines, sessions and migrations: SQLite file by default, PostgreSQL for teams and scale."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import lru_cache
from itertools import repeat
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnDefault, Connection, Engine, Table, create_engine, event, insert, inspect
from sqlalchemy.orm import Session, sessionmaker

from pricewarden.errors import StoreError
from pricewarden.files import touch_private

MIGRATIONS = Path(__file__).parent / "migrations"


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url``; SQLite gets WAL, foreign keys and a busy timeout for concurrent writers."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1].split("?", 1)[0] if "///" in url else ""
        if path and path != ":memory:" and not path.startswith("file:"):
            # Created owner-only before SQLite opens it; its -wal and -shm files take its mode.
            touch_private(path)
        kwargs.setdefault("connect_args", {"timeout": 30})
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    """One shared engine per URL in this process."""
    return make_engine(url)


def get_engine() -> Engine:
    """The engine of the configured database (``PRICEWARDEN_DATABASE_URL`` or the workspace SQLite)."""
    from pricewarden.settings import get_settings

    return engine_for(get_settings().database)


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    factory = sessionmaker(bind=engine or get_engine(), expire_on_commit=False)
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def _alembic_config(engine: Engine) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine | None = None, revision: str = "head") -> None:
    """Bring the database schema up to ``revision`` (default: the newest)."""
    from alembic import command

    engine = engine or get_engine()
    try:
        command.upgrade(_alembic_config(engine), revision)
    except Exception as exc:  # alembic raises many kinds; the person needs one message
        raise StoreError(f"database migration failed: {exc}") from exc
    if revision == "head":
        from store.installation import ensure_installation

        ensure_installation(engine)  # the installation's id is made with its database


def downgrade(engine: Engine | None = None, revision: str = "base") -> None:
    """Take the schema down to ``revision`` (default: empty)."""
    from alembic import command

    command.downgrade(_alembic_config(engine or get_engine()), revision)


def current_revision(engine: Engine | None = None) -> str | None:
    """The schema revision the database is at, or ``None`` for an empty database."""
    from alembic.runtime.migration import MigrationContext

    with (engine or get_engine()).connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def require_schema(engine: Engine | None = None) -> None:
    """Raise a clear error when the database has not been initialised."""
    engine = engine or get_engine()
    if not inspect(engine).has_table("products"):
        raise StoreError("the database has no PriceWarden tables: run `pricewarden db upgrade` (or `pricewarden init`)")


def head_revision() -> str:
    """The newest schema revision this code knows (the head of ``store/migrations``)."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    if head is None:  # pragma: no cover - the baseline migration ships with the code
        raise StoreError("no schema migrations found")
    return head


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite database URL (``None`` for other databases and in-memory SQLite)."""
    if url.startswith("sqlite") and "///" in url:
        path = url.split("///", 1)[1].split("?", 1)[0]
        if path and path != ":memory:" and not path.startswith("file:"):
            return Path(path)
    return None


def check_store(*, schema: bool = True) -> None:
    """Check, before a command touches it, that the store is there, creating nothing on the way.

    Raises :class:`StoreError` with one line that names the command that fixes it: no workspace
    (``pricewarden init``), no database or no schema (``pricewarden db upgrade``), a schema older than
    the code (``pricewarden db upgrade``). ``schema=False`` checks only the workspace and database
    location (for ``db upgrade`` itself, which creates the schema).
    """
    from pricewarden.settings import get_settings, redact_url

    settings = get_settings()
    url = settings.database
    sqlite_path = sqlite_file(url)
    if settings.database_url is None and not settings.workspace.is_dir():
        where = settings.workspace.resolve()
        command = "pricewarden init" + ("" if settings.workspace == Path("workspace") else f" {settings.workspace}")
        raise StoreError(f"no workspace at {where}: run `{command}` "
                         "(or set PRICEWARDEN_WORKSPACE to your workspace)")
    if sqlite_path is not None and not sqlite_path.is_file():
        if not sqlite_path.parent.is_dir():
            raise StoreError(f"the database folder {sqlite_path.parent} does not exist: create it, then run "
                             "`pricewarden db upgrade`")
        if schema:
            raise StoreError(f"no database at {sqlite_path}: run `pricewarden db upgrade` (or `pricewarden init`)")
        return
    if not schema:
        return
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy.exc import SQLAlchemyError

    try:
        with engine_for(url).connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
            has_tables = inspect(conn).has_table("products")
    except SQLAlchemyError as exc:
        reason = " ".join(str(getattr(exc, "orig", None) or exc).split())[:300]
        raise StoreError(f"cannot open the database {redact_url(url)}: {reason}") from exc
    if current is None or not has_tables:
        raise StoreError("the database has no PriceWarden tables: run `pricewarden db upgrade` (or `pricewarden init`)")
    head = head_revision()
    if current != head:
        from alembic.script import ScriptDirectory
        from alembic.util import CommandError

        try:
            ScriptDirectory(str(MIGRATIONS)).get_revision(current)
        except CommandError:
            raise StoreError(f"the database schema is at revision {current}, which this PriceWarden does not know "
                             "(made by a newer version?): upgrade PriceWarden") from None
        raise StoreError(f"the database schema is at revision {current}, this PriceWarden needs {head}: "
                         "run `pricewarden db upgrade`")


def bulk_insert(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys) in one batch on ``connection``, as ``insert(table)`` would.

    For a batch of thousands (a first detection run's violations and audit entries): SQLAlchemy's
    executemany builds every row's parameters through the statement compiler, most of the time of
    such a batch. Here each column's bind processor is applied to its values directly, a column left
    out takes its Python default once for the batch (a timestamp: one instant for the batch), and the
    rows go to the driver as plain tuples: ``COPY`` on PostgreSQL, one ``executemany`` elsewhere
    (:func:`insert_columns`, which takes the batch by column).
    """
    if not rows:
        return
    insert_columns(connection, table, {name: [row[name] for row in rows] for name in rows[0]})


def insert_columns(connection: Connection, table: Table, columns: Mapping[str, Sequence[Any]], *,
                   bound: Collection[str] = ()) -> None:
    """Insert a batch given by column (``columns``: column key -> one value per row, all as long) on
    ``connection``, as :func:`bulk_insert` does its rows, with no dict or tuple per row made by the caller.

    ``bound`` names columns whose values are already what the column's bind processor makes of them (a JSON
    column's text, built by column by the caller): they go to the driver as they are. Such a batch needs a
    table whose left-out columns have plain Python defaults (never a SQL expression)."""
    if not columns:
        return
    lengths = {len(values) for values in columns.values()}
    if len(lengths) > 1:
        raise ValueError(f"{table.name}: columns of different lengths ({', '.join(map(str, sorted(lengths)))})")
    count = lengths.pop()
    if not count:
        return
    dialect = connection.dialect
    values: dict[str, Any] = {}
    for column in table.columns:
        default = column.default
        if column.key in columns or default is None:
            continue
        if not isinstance(default, ColumnDefault) or not (default.is_scalar or default.is_callable):
            if bound:
                raise ValueError(f"{table.name}.{column.key}: a SQL default cannot take a batch of bound values")
            # A SQL expression default: as SQLAlchemy does it.
            connection.execute(insert(table), [dict(zip(columns, row, strict=True))
                                               for row in zip(*columns.values(), strict=True)])
            return
        # A callable default is wrapped by SQLAlchemy to take the execution context (unused by ours).
        values[column.key] = default.arg(None) if default.is_callable else default.arg
    # In the table's order, the order of an INSERT's compiled parameters (the columns may come in any order).
    names = [column.key for column in table.columns if column.key in columns or column.key in values]
    processors = [table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names]
    # Converted by column (one comprehension per column rather than a generator per row), then zipped into
    # the rows' tuples; a default is converted once.
    converted: list[Any] = []
    for name, process in zip(names, processors, strict=True):
        if name in values:
            value = values[name]
            converted.append(repeat(value if process is None or value is None else process(value), count))
            continue
        cells = columns[name]
        if name in bound or process is None:
            converted.append(cells)
            continue
        many = getattr(table.c[name].type, "bind_many", None)
        batch = many(cells, dialect) if many is not None else None
        if batch is not None:  # the column's type converts the batch at once (instants on SQLite)
            converted.append(batch)
            continue
        if isinstance(next((v for v in cells if v is not None), None), (dict, list)):
            # A document (JSON) serialised once per object: a batch's rows may share one (alive in ``columns``
            # meanwhile, so an id names one object).
            done: dict[int, Any] = {}
            converted.append([None if v is None else done[id(v)] if id(v) in done
                              else done.setdefault(id(v), process(v)) for v in cells])
            continue
        converted.append([None if v is None else process(v) for v in cells])

    quoted = ", ".join(dialect.identifier_preparer.quote(table.c[name].name) for name in names)
    if dialect.name == "postgresql":
        driver = connection.connection.driver_connection
        assert driver is not None
        with driver.cursor() as cursor, cursor.copy(
                f"COPY {dialect.identifier_preparer.format_table(table)} ({quoted}) FROM STDIN") as copy:
            for row in zip(*converted, strict=True):
                copy.write_row(row)
        return
    compiled = insert(table).compile(dialect=dialect, column_keys=names)
    if compiled.positional and compiled.positiontup == names:
        connection.exec_driver_sql(str(compiled), list(zip(*converted, strict=True)))
    elif bound:
        raise ValueError(f"{table.name}: this dialect's INSERT cannot take a batch of bound values")
    else:
        connection.execute(insert(table), [{**dict(zip(columns, row, strict=True)), **values}
                                           for row in zip(*columns.values(), strict=True)])
