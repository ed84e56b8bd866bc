"""A big report read and validated in a second process while the importer's process writes it.

The importer's process holds the batch's one transaction. Reading and judging rows needs no
database except the policy's currency, so a forked child (``reports.parallel_min_mb``) reads the
file, judges its rows with the same :class:`~crawlers.reports._validate.RowValidator` and sends
chunks of :data:`~crawlers.reports._sink.Row` tuples and ``Rejected`` rows through a pipe. A send
waits until the importer takes the chunk, so at most one chunk is in flight: memory stays that of a
few chunks, as in one process. Being forked, the child judges with exactly the importer's settings,
catalog and currency resolver; it opens database connections of its own (SQLAlchemy's
``dispose(close=False)``), never touching the importer's.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from crawlers.reports._read import RawRow, Source
from crawlers.reports._sink import Row, RowShape
from crawlers.reports._validate import Accepted, Rejected, RowValidator
from pricewarden.errors import ReportImportError

_INHERITED: list[Any] = []  # in the child: the importer's connection pools, kept so that none is closed
YOUNG_COLLECTION_ROWS = 100_000  # with the collector held back: the young generations collected after this many rows
FULL_COLLECTION_ROWS = 500_000  # and everything after this many


@contextlib.contextmanager
def held_collector() -> Iterator[Callable[[int], None]]:
    """The cyclic garbage collector held back while chunks are judged and written; the answer is told each chunk's rows.

    A chunk makes a few hundred thousand objects and the memos keep many: the collector's automatic passes
    over them cost as much CPU as judging the rows (11 of 27 s of CPU in a million-row report, 59 full
    passes). Reference counting frees the chunks; the answer collects the young generations every
    ``YOUNG_COLLECTION_ROWS`` rows and everything every ``FULL_COLLECTION_ROWS``, so cyclic garbage stays
    bounded. The collector is as it was afterwards.
    """
    enabled = gc.isenabled()
    gc.disable()
    young = full = 0

    def after_chunk(rows: int) -> None:
        nonlocal young, full
        young += rows
        full += rows
        if full >= FULL_COLLECTION_ROWS:
            gc.collect()
            young = full = 0
        elif young >= YOUNG_COLLECTION_ROWS:
            gc.collect(1)
            young = 0

    try:
        yield after_chunk
    finally:
        if enabled:
            gc.enable()


def can_fork() -> bool:
    """Whether a second process can judge rows here: ``fork`` is available and there is a second core."""
    return "fork" in multiprocessing.get_all_start_methods() and (os.cpu_count() or 1) > 1


def judge_source(source: Source, validator: RowValidator, shape: RowShape,
                 chunk_rows: int) -> Iterator[list[Row | Rejected]]:
    """``source``'s rows judged in chunks: a CSV's column by column (:mod:`._columns`), else row by row."""
    from crawlers.reports._columns import can_judge_records, judged_records

    if can_judge_records(source, validator, shape):
        return judged_records(source, validator, shape, chunk_rows)
    return judged_chunks(source.rows, validator, shape, chunk_rows)


def judged_chunks(rows: Iterable[RawRow], validator: RowValidator, shape: RowShape,
                  chunk_rows: int) -> Iterator[list[Row | Rejected]]:
    """Rows judged in order, in chunks of ``chunk_rows`` (the last one possibly empty), accepted ones as ``Row``.

    The validator forgets a chunk's duplicate keys once the chunk is taken: the importer stores it
    before it asks for the next, and finds later duplicates of it in the database.
    """
    chunk: list[Row | Rejected] = []
    check = validator.check
    for row in rows:
        judged = check(row)
        chunk.append(shape(judged) if type(judged) is Accepted else judged)  # type: ignore[arg-type]
        if len(chunk) >= chunk_rows:
            yield chunk
            validator.forget_seen()
            chunk = []
    yield chunk


class Worker:
    """The child process judging a report; :attr:`source` describes the file as the child opened it."""

    def __init__(self, open_source: Callable[[], Source], validator: RowValidator, shape: RowShape,
                 chunk_rows: int, name: str) -> None:
        context = multiprocessing.get_context("fork")
        self.name = name
        self._pipe, sender = context.Pipe(duplex=False)
        self._process = context.Process(target=_judge, args=(sender, open_source, validator, shape, chunk_rows),
                                        name="pricewarden-report-worker", daemon=True)
        self._process.start()
        sender.close()
        self._ended = False
        try:
            _, file_format, encoding, columns, ignored = self._receive()
        except BaseException:
            self.close()
            raise
        self.source = Source(file_format, encoding, columns, ignored, iter(()), self.close)

    def chunks(self) -> Iterator[list[Row | Rejected]]:
        """The judged chunks, in order, as the child sends them."""
        while True:
            message = self._receive()
            if message[0] == "end":
                self._ended = True
                return
            yield message[1]

    def _receive(self) -> tuple[Any, ...]:
        try:
            message: tuple[Any, ...] = self._pipe.recv()
        except EOFError:
            self._process.join(5)
            raise ReportImportError(f"the process reading the file stopped (exit code {self._process.exitcode})",
                                    file=self.name) from None
        if message[0] == "refused":
            raise ReportImportError(message[1], file=message[2])
        if message[0] == "failed":
            raise ReportImportError(f"reading the file failed: {message[1]}", file=self.name)
        return message

    def close(self) -> None:
        """Stop the child (at once when the importer gives up before the end) and wait for it."""
        self._pipe.close()
        if not self._ended and self._process.is_alive():
            self._process.terminate()
        self._process.join()
        self._process.close()


def _judge(pipe: Any, open_source: Callable[[], Source], validator: RowValidator, shape: RowShape,
           chunk_rows: int) -> None:
    """The child: open the file, send how it reads, then every chunk, then ``("end",)`` or the refusal."""
    source: Source | None = None
    try:
        _own_connections()
        source = open_source()
        pipe.send(("source", source.format, source.encoding, source.columns, source.ignored))
        with held_collector() as after_chunk:
            for chunk in judge_source(source, validator, shape, chunk_rows):
                pipe.send(("rows", chunk))
                after_chunk(len(chunk))
                del chunk
        pipe.send(("end",))
    except ReportImportError as exc:
        message = str(exc)
        if exc.file and message.startswith(f"{exc.file}: "):
            message = message[len(exc.file) + 2:]
        _send(pipe, ("refused", message, exc.file))
    except (BrokenPipeError, ConnectionResetError):
        pass  # the importer gave up first
    except BaseException as exc:  # a fault here is the import's: the importer raises it with the file's name
        _send(pipe, ("failed", f"{type(exc).__name__}: {exc}"))
    finally:
        if source is not None:
            source.close()
        pipe.close()


def _send(pipe: Any, message: tuple[Any, ...]) -> None:
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the importer gave up first
        pipe.send(message)


def _own_connections() -> None:
    """New connections for the child (the currency resolver reads the policy); the importer's are left alone."""
    from store import get_engine

    engine = get_engine()
    _INHERITED.append(engine.pool)
    engine.dispose(close=False)
