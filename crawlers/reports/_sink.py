"""The write side of an import: accepted rows as the values they store, chunks written to the batch.

:class:`RowShape` turns an :class:`~crawlers.reports._validate.Accepted` row into a :data:`Row`, a plain
tuple of the observation's own values already through each column's bind processor (the batch's
constant values are added once per insert), so that a second process can prepare rows and send them
cheaply. :class:`BatchSink` rejects rows an earlier batch (or an earlier chunk) stored, writes the
receipt, and inserts with the driver's executemany (SQLite) or ``COPY`` (PostgreSQL). On PostgreSQL a chunk
is sent and left to the server (psycopg's pipeline mode) while the importer judges the next one: see
:meth:`BatchSink.flush`.
"""

from __future__ import annotations

import contextlib
import functools
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from operator import itemgetter
from typing import Any

from sqlalchemy import JSON, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from crawlers.reports._read import cells_of
from crawlers.reports._receipt import ReceiptWriter, receipt_line
from crawlers.reports._validate import Accepted, Rejected
from crawlers.reports._values import cell_text
from pricewarden.errors import ReportImportError

SQLITE_KEYS = 5000  # obs_keys per lookup on SQLite (under its limit of bound parameters)
STAGING = "pw_report_rows"  # PostgreSQL: a chunk's accepted rows on their way into observations (temporary)
POSTGRES_KEYS = 500  # obs_keys per lookup on PostgreSQL: few enough that it plans index lookups, not a table scan
KEEP_REJECTIONS = 1000  # rejections returned in the result (all of them are stored and in the receipt)
# An accepted row's own values, in this order; the batch's constant values follow them in the INSERT.
ROW_COLUMNS = ("obs_key", "product_id", "url", "observed_at", "price", "currency", "raw_text", "list_price",
               "availability", "details", "row_number")
BATCH_COLUMNS = ("source", "partner_id", "visibility", "method", "batch_id", "created_at")
Row = tuple[int, bytes, tuple[Any, ...], "dict[str, Any] | tuple[list[str], dict[str, int]]", str]
"""An accepted row ready to store: (row number, obs_key, values in ``ROW_COLUMNS`` order processed, cells
(or a CSV record and its columns, made cells by ``cells_of`` only if the row is rejected after all), its
receipt line)."""


def printable(text: str) -> str:
    """Text any database and file takes: NUL and broken surrogates replaced by U+FFFD."""
    if text.isascii() and "\x00" not in text:
        return text
    return text.replace("\x00", "\ufffd").encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def _raw(cells: Mapping[str, Any]) -> dict[str, str]:
    return {column: printable(cell_text(value)[:200]) for column, value in cells.items() if value is not None}


def _memoised(column_type: Any, processor: Any) -> Any:
    """Instants repeat across a report (one date, one import time): convert each distinct one once.

    So do the ``details`` of observations (a channel and a quantity): serialised once per distinct content.
    """
    from sqlalchemy import JSON

    from store._types import UTCDateTime

    if processor is not None and isinstance(column_type, JSON):
        return _json_memoised(processor)
    if processor is None or not isinstance(column_type, UTCDateTime):
        return processor
    memo: dict[Any, Any] = {}

    def convert(value: Any) -> Any:
        result = memo.get(value)
        if result is None:
            result = processor(value)
            if len(memo) < 100_000:
                memo[value] = result
        return result

    return convert


def _json_memoised(processor: Any) -> Any:
    """A JSON column's bind processor remembered by the content of flat objects of scalars."""
    memo: dict[Any, Any] = {}

    def convert(value: Any) -> Any:
        if type(value) is not dict:
            return processor(value)
        try:
            # the types too: {"quantity": True} is not {"quantity": 1}, though both keys hash alike
            key = (tuple(value.items()), tuple(map(type, value.values())))
            result = memo.get(key)
        except TypeError:  # a nested object: not hashable, serialised each time
            return processor(value)
        if result is None:
            result = processor(value)
            if len(memo) < 10_000:  # details repeat (channel x quantity); rejected rows' raw cells do not
                memo[key] = result
        return result

    return convert


class RowShape:
    """Accepted rows as :data:`Row` tuples: each value through its column's bind processor (or COPY's text)."""

    def __init__(self, dialect: Any, source: str) -> None:
        from store._types import DigestKey
        from store.models import Observation

        table = Observation.__table__
        copy = dialect.name == "postgresql"
        self.source = source
        self.active: list[tuple[int, Any]] = []
        self.processors: list[Any] = []  # by position in ROW_COLUMNS: the processor, or None
        for position, name in enumerate(ROW_COLUMNS):
            column_type = table.c[name].type
            if copy and isinstance(column_type, JSON):
                processor = _json_memoised(json.dumps)  # COPY takes JSON as its text
            elif isinstance(column_type, DigestKey):
                # The validator's key is the column's value already: COPY's binary form takes the 16 bytes as a
                # uuid (its text form their 32 hex digits, copy_text), sqlite3 takes bytes as a BLOB.
                processor = None
            else:
                processor = _memoised(column_type, column_type._cached_bind_processor(dialect))
            self.processors.append(processor)
            if processor is not None:
                self.active.append((position, processor))

    @staticmethod
    def raw_details(channel: str | None, quantity: int | None, local: tuple[str, str] | None) -> dict[str, Any]:
        """An accepted row's ``details``: its channel, quantity and local date (with its UTC offset)."""
        details: dict[str, Any] = {"channel": channel} if channel else {}
        if quantity is not None:
            details["quantity"] = quantity
        if local is not None:
            details["local_date"], details["utc_offset"] = local
        return details

    def details(self, channel: str | None, quantity: int | None, local: tuple[str, str] | None) -> Any:
        """An accepted row's ``details`` (:meth:`raw_details`) as stored, processed."""
        details = self.raw_details(channel, quantity, local)
        processor = self.processors[9]
        return processor(details) if processor is not None else details

    def __call__(self, row: Accepted) -> Row:
        channel = row.channel
        extra = row.extra
        details = self.raw_details(channel, row.quantity,
                                   (extra["local_date"], extra["utc_offset"]) if "local_date" in extra else None)
        values = [row.obs_key, row.product_id, channel if channel and "://" in channel else None, row.observed_at,
                  row.price, row.currency, row.raw_price, extra.get("list_price"),
                  extra.get("availability", "unknown"), details, row.number]
        for position, processor in self.active:
            value = values[position]
            if value is not None:
                values[position] = processor(value)
        line = receipt_line(row.number, "accepted", None, "", row.cells)  # rendered here: in the worker, if any
        return row.number, row.obs_key, tuple(values), row.cells, line


def _processed(rows: list[dict[str, Any]], fields: list[str], defaults: dict[str, Any],
               active: list[tuple[int, Any]]) -> list[tuple[Any, ...]]:
    """Rows as tuples in ``fields`` order, each non-null value through its column's processor."""
    tuples = []
    # every row gives the same columns (one validator made them): one C-level getter per row
    get = itemgetter(*fields) if len(fields) > 1 and not any(f in defaults for f in fields) else None
    for row in rows:
        values = list(get(row)) if get is not None else [row[f] if f in row else defaults[f] for f in fields]
        for position, proc in active:
            value = values[position]
            if value is not None:
                values[position] = proc(value)
        tuples.append(tuple(values))
    return tuples


class BatchSink:
    """Writes validated chunks: rows already stored by an earlier batch are rejected, the rest inserted."""

    def __init__(self, session: Session, batch_id: int, partner_id: int, source: str,
                 writer: ReceiptWriter, now: datetime, on_stored: Callable[[], None] | None = None) -> None:
        self.session = session
        self.on_stored = on_stored  # called after each chunk's rows, rejections and receipt lines are stored
        self.batch_id = batch_id
        self.partner_id = partner_id
        self.source = source
        self.writer = writer
        self.now = now
        self.accepted = 0
        self.rejected = 0
        self.kept: list[dict[str, Any]] = []
        self._processors: dict[tuple[Any, ...], list[Any]] = {}
        self._observations: tuple[list[str], tuple[Any, ...], str, list[int] | None] | None = None
        self._staging = False  # PostgreSQL: the temporary table of a chunk's rows exists
        self._binary_oids: list[int] | None = None  # PostgreSQL: observations' types as copy_binary writes them
        self._products: set[int] = set()  # products the batch's rows name, checked (and on PostgreSQL locked)
        # PostgreSQL: the chunk whose INSERT the server is running (its rows, keys, cursor, pipeline, statement)
        self._pending: tuple[list[Row | Rejected], list[bytes], Any, contextlib.ExitStack, str] | None = None

    def _earlier(self, keys: list[bytes]) -> dict[bytes, tuple[int | None, int | None]]:
        from store.models import Observation

        if not keys:
            return {}
        connection = self.session.connection()
        dialect = connection.dialect.name
        if dialect == "postgresql":
            # One array parameter instead of SQLAlchemy expanding ten thousand bound parameters, a few hundred
            # keys at a time: with ten thousand the planner prefers a scan of the whole table to as many lookups.
            # (obs_key is a uuid there: store.DigestKey)
            rows: Iterable[Any] = [
                (key.bytes, batch, number) for start in range(0, len(keys), POSTGRES_KEYS)
                for key, batch, number in connection.exec_driver_sql(
                    "SELECT obs_key, batch_id, row_number FROM observations WHERE obs_key = ANY(%s::uuid[])",
                    ([key.hex() for key in keys[start:start + POSTGRES_KEYS]],))]
        elif dialect == "sqlite":
            found: list[Any] = []
            for start in range(0, len(keys), SQLITE_KEYS):
                part = keys[start:start + SQLITE_KEYS]
                found.extend(connection.exec_driver_sql(
                    "SELECT obs_key, batch_id, row_number FROM observations WHERE obs_key IN "
                    f"({','.join('?' * len(part))})", tuple(part)))
            rows = found
        else:
            rows = self.session.execute(
                select(Observation.obs_key, Observation.batch_id, Observation.row_number)
                .where(Observation.obs_key.in_(keys))
            )
        return {key: (batch, number) for key, batch, number in rows}

    def flush(self, chunk: list[Row | Rejected]) -> None:
        """Store one chunk in row order: its accepted rows (unless stored before), its rejections, its receipt lines.

        On PostgreSQL the chunk's rows go through ``COPY`` into the staging table and their ``INSERT`` into
        observations is sent without waiting for it (psycopg's pipeline mode): the server inserts them, most of
        an import's time, while the importer judges the next chunk and builds its ``COPY`` text. The chunk's
        rejections, receipt lines and counts follow once the server has answered, at the next call or at
        :meth:`finish`, which must end the batch; a refusal of the server's is raised there, as SQLAlchemy
        would raise it, and the batch's one transaction rolls back as before.
        """
        connection = self.session.connection()
        if connection.dialect.name == "postgresql" and _pipelines(connection):
            self._send(connection, chunk)
            return
        keys = [r[1] for r in chunk if type(r) is tuple]
        if keys:
            self._hold_products({r[2][1] for r in chunk if type(r) is tuple})
        stored = False
        if keys and connection.dialect.name in ("sqlite", "postgresql"):
            # Inserted first, a key stored before skipped (ON CONFLICT DO NOTHING): a chunk without such keys,
            # the usual one, needs no lookup; otherwise the stored rows that are not this chunk's tell which.
            # (PostgreSQL planned the lookup of ten thousand keys as a scan of every stored observation once the
            # table is large: a million-row import scanned the rows stored so far once per chunk.)
            inserted = self._insert_observations([r[2] for r in chunk if type(r) is tuple], skip_stored=True)
            earlier = {} if inserted == len(keys) else self._stored_before(keys, chunk)
            stored = True
        else:
            earlier = self._earlier(keys)
        self._account(chunk, earlier, stored=stored)

    def finish(self) -> None:
        """Wait for the chunk the server is still inserting (PostgreSQL), then store its rejections, receipt lines."""
        pending = self._pending
        if pending is None:
            return
        self._pending = None
        chunk, keys, cursor, pipeline, statement = pending
        dialect = self.session.get_bind().dialect
        try:
            pipeline.close()  # a Sync: the INSERT's and the TRUNCATE's answers, or the server's refusal
            inserted = cursor.rowcount
        except dialect.loaded_dbapi.Error as exc:
            raise _as_sqlalchemy(exc, statement, dialect) from exc
        finally:
            cursor.close()
        earlier = {} if inserted == len(keys) else self._stored_before(keys, chunk)
        self._account(chunk, earlier, stored=True)

    def abandon(self) -> None:
        """The import failed elsewhere: end the chunk in flight, if any (an error of its own is the lesser one)."""
        pending = self._pending
        self._pending = None
        if pending is not None:
            with contextlib.suppress(Exception):
                pending[3].close()
            pending[2].close()

    def _send(self, connection: Any, chunk: list[Row | Rejected]) -> None:
        """PostgreSQL: the chunk's rows into the staging table, their INSERT sent; the previous chunk finished first."""
        accepted = [r for r in chunk if type(r) is tuple]
        if not accepted:
            self.finish()
            self._account(chunk, {}, stored=True)
            return
        keys = [r[1] for r in accepted]
        names, fixed, _, _ = self._statement(connection.dialect)
        rows = [r[2] + fixed for r in accepted]
        # COPY's data built while the server inserts the previous chunk: binary, which the server reads for less
        # CPU than text (the server's time is most of an import's wall); text for a value of another kind.
        binary = copy_binary(rows, self._binary_types(connection, names), connection.connection.driver_connection)
        text = copy_text(rows) if binary is None else None
        self.finish()
        self._hold_products({r[2][1] for r in accepted})
        insert, truncate = self._stage(connection, names, rows, text, binary)
        driver = connection.connection.driver_connection
        pipeline = contextlib.ExitStack()
        pipeline.enter_context(driver.pipeline())
        cursor = driver.cursor()
        try:
            cursor.execute(insert)  # sent: the server starts on it; its answer waits for finish()
            driver.execute(truncate)  # another cursor: this one keeps the INSERT's row count
        except BaseException as exc:  # a refusal already back (a small chunk), or the connection lost
            cursor.close()
            with contextlib.suppress(Exception):
                pipeline.close()
            if isinstance(exc, connection.dialect.loaded_dbapi.Error):
                raise _as_sqlalchemy(exc, insert, connection.dialect) from exc
            raise
        self._pending = (chunk, keys, cursor, pipeline, insert)

    def _account(self, chunk: list[Row | Rejected], earlier: dict[bytes, tuple[int | None, int | None]], *,
                 stored: bool) -> None:
        """A chunk once its accepted rows are in (``stored``), or to insert: rejections, receipt lines, counts."""
        from store.models import ReportRejection

        observations: list[tuple[Any, ...]] = []
        rejections: list[dict[str, Any]] = []
        lines: list[str] = []
        for result in chunk:
            if type(result) is tuple:
                number, key, values, cells, line = result
                found = earlier.get(key) if earlier else None
                if found is None:
                    observations.append(values)
                    lines.append(line)
                    continue
                batch, first = found
                reason = (f"duplicate of row {first} (same sku, date and channel)" if batch == self.batch_id
                          else f"already reported in batch {batch} row {first}")
                result = Rejected(number, "sku", reason, cells if type(cells) is dict else cells_of(*cells))
            assert type(result) is Rejected
            rejections.append({"batch_id": self.batch_id, "row_number": result.number,
                               "column": result.column, "reason": result.reason, "raw": _raw(result.cells)})
            lines.append(receipt_line(result.number, "rejected", result.column, result.reason, result.cells))
            if len(self.kept) < KEEP_REJECTIONS:
                self.kept.append({"row": result.number, "column": result.column, "reason": result.reason})
        self.writer.write("".join(lines))
        if observations and not stored:
            self._insert_observations(observations)
        if rejections:
            self._insert(ReportRejection.__table__, rejections)
        self.accepted += len(observations)
        self.rejected += len(rejections)
        if self.on_stored is not None:
            self.on_stored()

    def _hold_products(self, product_ids: set[int]) -> None:
        """Check the chunk's products that the batch has not named before, all at once, and keep them.

        observations.product_id has no foreign key (store.models.Observation): this is its check, once per
        product and batch rather than once per row. On PostgreSQL the products are locked FOR KEY SHARE (the
        lock the key's check took per row) until the batch commits, so none can be deleted meanwhile; on SQLite
        the batch's transaction is the one writer. A product deleted since the catalog was read refuses the file.
        """
        from store.models import Product

        new = product_ids - self._products
        if not new:
            return
        connection = self.session.connection()
        dialect = connection.dialect.name
        wanted = sorted(new)
        if dialect == "postgresql":
            found = set(connection.exec_driver_sql(
                "SELECT id FROM products WHERE id = ANY(%s) FOR KEY SHARE", (wanted,)).scalars())
        else:
            found = set()
            for start in range(0, len(wanted), SQLITE_KEYS):
                found.update(self.session.execute(select(Product.id).where(
                    Product.id.in_(wanted[start:start + SQLITE_KEYS]))).scalars())
        if found != new:
            gone = sorted(new - found)
            raise ReportImportError(f"{len(gone):,} product(s) of the report were deleted during the import "
                                    f"(ids {', '.join(map(str, gone[:5]))}); nothing was imported: import it again")
        self._products |= new

    def _stored_before(self, keys: list[bytes],
                       chunk: list[Row | Rejected]) -> dict[bytes, tuple[int | None, int | None]]:
        """The chunk's keys stored before it (by an earlier batch or chunk), once the chunk is inserted."""
        own = {r[1]: r[0] for r in chunk if type(r) is tuple}
        return {key: (batch, number) for key, (batch, number) in self._earlier(keys).items()
                if batch != self.batch_id or number != own[key]}

    def _insert_observations(self, rows: list[tuple[Any, ...]], *, skip_stored: bool = False) -> int:
        """Accepted rows (values processed already) with the batch's constant values, processed once.

        ``skip_stored`` (SQLite only): a row whose obs_key is stored already is skipped. Returns the rows inserted
        (-1 when the driver does not say).
        """
        from store.models import Observation

        table: Any = Observation.__table__
        connection = self.session.connection()
        dialect = connection.dialect
        names, fixed, statement, order = self._statement(dialect)
        if dialect.name == "postgresql":
            if not skip_stored:
                self._copy_rows(connection, table, names, (values + fixed for values in rows))
                return len(rows)
            rows = [values + fixed for values in rows]
            binary = copy_binary(rows, self._binary_types(connection, names), connection.connection.driver_connection)
            insert, truncate = self._stage(connection, names, rows, copy_text(rows) if binary is None else None,
                                           binary)
            done = connection.exec_driver_sql(insert)
            connection.exec_driver_sql(truncate)
            return int(done.rowcount)
        if skip_stored:
            statement += " ON CONFLICT (obs_key) DO NOTHING"
        if not fixed:
            done = connection.exec_driver_sql(statement, rows)
        elif order is None:  # a named paramstyle
            done = connection.exec_driver_sql(
                statement, [dict(zip(names, values + fixed, strict=True)) for values in rows])
        elif order == list(range(len(names))):
            done = connection.exec_driver_sql(statement, [values + fixed for values in rows])
        else:
            get = itemgetter(*order)
            done = connection.exec_driver_sql(statement, [get(values + fixed) for values in rows])
        return int(done.rowcount)

    def _statement(self, dialect: Any) -> tuple[list[str], tuple[Any, ...], str, list[int] | None]:
        """The observations' columns, the batch's constants (processed) after the rows' own, the INSERT, its order."""
        from store.models import Observation

        table: Any = Observation.__table__
        if self._observations is None:
            names = [*ROW_COLUMNS, *BATCH_COLUMNS]
            constants: list[Any] = [self.source, self.partner_id, "visible", self.source, self.batch_id, self.now]
            # Columns with a Python-side scalar default (a flag added to the model later): SQLAlchemy's own
            # executemany would put them in the INSERT with that default, so they are given it here.
            for column in table.columns:
                if column.name not in names and column.default is not None and getattr(column.default, "is_scalar",
                                                                                         False):
                    names.append(column.name)
                    constants.append(column.default.arg)
            for position, name in enumerate(names[len(ROW_COLUMNS):], start=len(ROW_COLUMNS)):
                value = constants[position - len(ROW_COLUMNS)]
                processor = table.c[name].type._cached_bind_processor(dialect)
                if processor is not None and value is not None:
                    constants[position - len(ROW_COLUMNS)] = processor(value)
            compiled = table.insert().values(dict.fromkeys(names)).compile(dialect=dialect)
            positional = compiled.positiontup
            order = [names.index(name) for name in positional] if positional else None
            self._observations = (names, tuple(constants), compiled.string, order)
            if dialect.name == "sqlite" and all(type(v) in (int, str) or v is None for v in constants):
                # The batch's constants written into the statement: executemany binds only the rows' own values.
                preparer = dialect.identifier_preparer
                literals = ["NULL" if v is None else str(v) if type(v) is int else "'" + v.replace("'", "''") + "'"
                            for v in constants]
                statement = (f"INSERT INTO {preparer.format_table(table)} ("
                             + ", ".join(preparer.quote(name) for name in names) + ") VALUES ("
                             + ", ".join(["?"] * len(ROW_COLUMNS) + literals) + ")")
                self._observations = (names, (), statement, None)
        return self._observations

    def _binary_types(self, connection: Any, names: list[str]) -> list[int] | None:
        """PostgreSQL: the type of each of observations' ``names`` as :func:`copy_binary` writes it (``None``: one it
        does not write)."""
        if self._binary_oids is None:
            from store.models import Observation

            table = connection.dialect.identifier_preparer.format_table(Observation.__table__)
            types = dict(connection.exec_driver_sql(
                "SELECT attname, atttypid::int FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 "
                "AND NOT attisdropped", (table,)).all())
            written = [_BINARY_AS.get(types[name]) for name in names]
            self._binary_oids = [oid for oid in written if oid is not None] if None not in written else []
        return self._binary_oids or None

    def _stage(self, connection: Any, names: list[str], rows: list[tuple[Any, ...]],
               text: str | None, binary: bytes | None = None) -> tuple[str, str]:
        """PostgreSQL: rows (with the batch's constants) through ``COPY`` into the staging table; the statements
        that move them into observations with ON CONFLICT DO NOTHING and empty the staging table.

        COPY cannot skip a conflicting row; this way a chunk needs no lookup of its keys beforehand. The
        temporary table (no indexes, no WAL) lives for the transaction and is emptied after each chunk.
        ``text``: the rows as :func:`copy_text` wrote them (``None``: psycopg writes each row), or ``binary`` as
        :func:`copy_binary` wrote them.
        """
        from store.models import Observation

        preparer = connection.dialect.identifier_preparer
        table = preparer.format_table(Observation.__table__)
        columns = ", ".join(preparer.quote(name) for name in names)
        if not self._staging:
            connection.exec_driver_sql(f"CREATE TEMPORARY TABLE {STAGING} ON COMMIT DROP AS "
                                       f"SELECT {columns} FROM {table} WITH NO DATA")
            self._staging = True
        self._copy_rows(connection, STAGING, names, rows, text, binary)
        # In row order, as COPY would store them (a chunk never holds one key twice: the validator rejects it).
        return (f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {STAGING} "
                "ORDER BY row_number ON CONFLICT (obs_key) DO NOTHING", f"TRUNCATE {STAGING}")

    def _insert(self, table: Any, rows: list[dict[str, Any]]) -> None:
        """Bulk insert through the driver's executemany, with each column's bind processor applied once.

        SQLAlchemy's own executemany spends more time building and processing parameters than
        SQLite spends inserting; the processors used here are the same ones it would apply.
        """
        connection = self.session.connection()
        dialect = connection.dialect
        given = list(rows[0])
        # Columns the rows do not give but that have a Python-side scalar default (a flag added to the
        # model later, such as observations.undecided): SQLAlchemy puts them in the INSERT, so they
        # get their default here, as its own executemany would give them.
        defaults = {c.name: c.default.arg for c in table.columns
                    if c.name not in rows[0] and c.default is not None and getattr(c.default, "is_scalar", False)}
        names = given + list(defaults)
        compiled = table.insert().values(dict.fromkeys(names)).compile(dialect=dialect)
        key = (table.name, tuple(names), dialect.name)
        processors = self._processors.get(key)
        if processors is None:
            processors = [_memoised(table.c[name].type, table.c[name].type._cached_bind_processor(dialect))
                          for name in names]
            self._processors[key] = processors
        if dialect.name == "postgresql":
            self._copy(connection, table, names, processors, defaults, rows)
            return
        positional = compiled.positiontup
        order = [names.index(name) for name in positional] if positional else list(range(len(names)))
        fields = [names[i] for i in order]
        active = [(position, processors[i]) for position, i in enumerate(order) if processors[i] is not None]
        tuples = _processed(rows, fields, defaults, active)
        params: list[Any] = tuples if positional else [dict(zip(fields, t, strict=True)) for t in tuples]
        connection.exec_driver_sql(compiled.string, params)

    def _copy(self, connection: Any, table: Any, names: list[str], processors: list[Any],
              defaults: dict[str, Any], rows: list[dict[str, Any]]) -> None:
        """PostgreSQL: the rows through ``COPY ... FROM STDIN`` (psycopg), several times faster than INSERTs.

        JSON values go as their text (``json.dumps``, SQLAlchemy's serialiser); the rest as the bind
        processors give them, which psycopg writes as it would bind them.
        """
        from sqlalchemy import JSON

        key = ("copy", table.name, tuple(names))
        active = self._processors.get(key)
        if active is None:
            active = [(i, _json_memoised(json.dumps) if isinstance(table.c[name].type, JSON) else processors[i])
                      for i, name in enumerate(names)
                      if processors[i] is not None]
            self._processors[key] = active
        self._copy_rows(connection, table, names, _processed(rows, names, defaults, active))

    def _copy_rows(self, connection: Any, table: Any, names: list[str], rows: Iterable[tuple[Any, ...]],
                   text: str | None = None, binary: bytes | None = None) -> None:
        """Rows of processed values, in ``names`` order, through ``COPY ... FROM STDIN`` into a table (or its name).

        ``text``: the rows in COPY's text format already (:func:`copy_text`); ``binary``: in its binary format
        (:func:`copy_binary`).
        """
        preparer = connection.dialect.identifier_preparer
        statement = (f"COPY {table if type(table) is str else preparer.format_table(table)} ("
                     + ", ".join(preparer.quote(name) for name in names) + ") FROM STDIN"
                     + (" (FORMAT BINARY)" if binary is not None else ""))
        cursor = connection.connection.driver_connection.cursor()
        try:
            with cursor.copy(statement) as copy:
                if binary is not None:
                    copy.write(binary)
                    return
                if text is None:
                    rows = list(rows)
                    text = copy_text(rows)
                if text is not None:
                    copy.write(text)
                else:  # a value of a kind copy_text does not write: psycopg writes each row
                    write = copy.write_row
                    for values in rows:
                        write(values)
        finally:
            cursor.close()


def _as_sqlalchemy(error: Exception, statement: str, dialect: Any) -> BaseException:
    """The driver's error as SQLAlchemy raises it for a statement it ran (an IntegrityError for a NOT NULL, ...)."""
    return DBAPIError.instance(statement, None, error, dialect.loaded_dbapi.Error, dialect=dialect)


def _pipelines(connection: Any) -> bool:
    """Whether the driver can send a statement without waiting for its answer (psycopg 3's pipeline mode, libpq 14+)."""
    pipeline = getattr(connection.dialect.loaded_dbapi, "Pipeline", None)
    return pipeline is not None and bool(pipeline.is_supported())


_COPY_NULL = "\\N"
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_COPY_SPECIAL = ("\\", "\t", "\n", "\r")


def copy_text(rows: list[tuple[Any, ...]]) -> str | None:
    """Rows in ``COPY ... FROM STDIN``'s text format, a column at a time; ``None`` if a value is of another kind.

    Values are text, whole numbers, instants, decimals, floats, booleans or ``None`` (the bind processors'
    answers, JSON already its text): each written as PostgreSQL reads it back to the value psycopg's
    ``write_row`` would give, text escaped as COPY wants (backslash, tab, newline, carriage return).
    """
    if not rows:
        return ""
    columns = []
    for column in zip(*rows, strict=True):
        texts = _copy_column(column)
        if texts is None:
            return None
        columns.append(texts)
    return "\n".join(map("\t".join, zip(*columns, strict=True))) + "\n"


def _copy_column(values: tuple[Any, ...]) -> Sequence[str] | None:
    kinds = set(map(type, values))
    if kinds == {str}:
        joined = "".join(values)
        if not any(special in joined for special in _COPY_SPECIAL):
            return values
        return [value.translate(_COPY_ESCAPES) for value in values]
    if kinds == {int}:
        return list(map(str, values))
    if kinds == {bytes}:  # the obs_key: a uuid, read from its hex digits
        return [value.hex() for value in values]
    if not kinds <= _COPY_KINDS:
        return None
    instants: dict[datetime, str] = {}  # a report's instants repeat: each written once
    out = []
    for value in values:
        if type(value) is datetime:
            text = instants.get(value)
            if text is None:
                text = instants[value] = value.isoformat()
            out.append(text)
        else:
            out.append(_copy_value(value))
    return out


def _copy_value(value: Any) -> str:
    kind = type(value)
    if value is None:
        return _COPY_NULL
    if kind is str:
        return str.translate(value, _COPY_ESCAPES)
    if kind is bool:
        return "t" if value else "f"
    if kind is datetime:
        return datetime.isoformat(value)
    if kind is float:
        return repr(value)
    if kind is bytes:
        return value.hex()  # type: ignore[no-any-return]
    return str(value)  # int, Decimal


_COPY_KINDS = frozenset({str, int, bool, float, Decimal, datetime, bytes, type(None)})


_UUID, _TEXT, _NUMERIC, _TIMESTAMPTZ = 2950, 25, 1700, 1184
# Column types copy_binary writes, as the type it writes them as: text, varchar and json are all read from the
# text's UTF-8 bytes in COPY's binary form (json_recv, varcharrecv with the column's length check).
_BINARY_AS = {20: 20, 21: 21, 23: 23, 16: 16, 701: 701, _NUMERIC: _NUMERIC, _TIMESTAMPTZ: _TIMESTAMPTZ,
              _UUID: _UUID, _TEXT: _TEXT, 1043: _TEXT, 114: _TEXT}
# The values each may hold (None aside), as the bind processors give them.
_BINARY_KINDS: dict[int, frozenset[type]] = {
    20: frozenset({int}), 21: frozenset({int}), 23: frozenset({int}), 16: frozenset({bool}),
    701: frozenset({float}), _NUMERIC: frozenset({Decimal, int}), _TIMESTAMPTZ: frozenset({datetime}),
    _UUID: frozenset({bytes}), _TEXT: frozenset({str})}
_BINARY_HEAD = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # the signature, no flags, no header extension
_BINARY_TAIL = b"\xff\xff"


def copy_binary(rows: list[tuple[Any, ...]], oids: list[int] | None, context: Any) -> bytes | None:
    """Rows in ``COPY ... FROM STDIN (FORMAT BINARY)``'s form, each column as the type in ``oids``; ``None`` when a
    value is of another kind (or a text holds NUL, an instant no zone, a key is not 16 bytes, or psycopg cannot
    write rows ahead of a COPY): then :func:`copy_text`.

    The server reads a value of this form with the type's receive function, with less CPU than parsing its text:
    the same values (an instant's microseconds, a decimal's digits and scale, a text's characters, the key's 16
    bytes); the column's modifier (a length, a scale) is applied alike.
    """
    if not oids or not rows:
        return None
    try:
        from psycopg._copy_base import format_row_binary  # psycopg's own writer of a row, ahead of the COPY
    except ImportError:
        return None
    for oid, column in zip(oids, zip(*rows, strict=True), strict=True):
        kinds = set(map(type, column))
        kinds.discard(type(None))
        if not kinds <= _BINARY_KINDS[oid]:
            return None
        if oid == _TIMESTAMPTZ and any(value.tzinfo is None for value in set(column) if value is not None):
            return None
        if oid == _UUID and any(len(value) != 16 for value in column if value is not None):
            return None
        if oid == _TEXT and "\x00" in "".join(value for value in column if value is not None):
            return None
    from psycopg.adapt import AdaptersMap, Transformer
    from psycopg.pq import Format

    adapters = AdaptersMap(context.adapters)
    adapters.register_dumper(bytes, _key_dumper())
    transformer = Transformer(adapters)
    transformer.set_dumper_types(oids, Format.BINARY)
    data = bytearray(_BINARY_HEAD)
    for row in rows:
        format_row_binary(row, transformer, data)
    data += _BINARY_TAIL
    return bytes(data)


@functools.cache
def _key_dumper() -> Any:
    from psycopg.adapt import Dumper
    from psycopg.pq import Format

    class KeyDumper(Dumper):
        """The obs_key's 16 bytes as a uuid in binary form (the bytes themselves)."""

        format = Format.BINARY
        oid = _UUID

        def dump(self, obj: Any) -> bytes:
            return obj  # type: ignore[no-any-return]

    return KeyDumper
