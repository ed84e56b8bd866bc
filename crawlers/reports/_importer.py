"""Import a partner report as one batch: validate row by row, store good rows, receipt every row.

One transaction per batch: the ``ReportBatch``, its observations, its rejections, the receipt's
evidence row and the audit entry are committed together or not at all. A file already imported by
the same partner (same SHA-256) changes nothing and returns the earlier batch.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from operator import itemgetter
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from crawlers.reports._read import Source, file_sha256, open_report, read_payload
from crawlers.reports._receipt import ReceiptWriter
from crawlers.reports._validate import Accepted, Catalog, ExpectedCurrency, PartnerInfo, Rejected, RowValidator
from crawlers.reports._values import cell_text, decide_notation
from pricewarden.errors import NotFoundError, ReportImportError
from pricewarden.identifiers import check_partner_code

SQLITE_KEYS = 5000  # obs_keys per lookup on SQLite (under its limit of bound parameters)
KEEP_REJECTIONS = 1000  # rejections returned in the result (all of them are stored and in the receipt)


@dataclass(slots=True)
class ImportResult:
    """What an import did: the batch, its counts, the receipt, and whether the file was already imported."""

    batch_id: int
    partner: str
    file_name: str
    file_sha256: str
    format: str
    encoding: str | None
    received_at: datetime
    rows_total: int
    rows_accepted: int
    rows_rejected: int
    receipt_path: str
    receipt_sha256: str | None
    duplicate: bool = False
    ignored_columns: list[str] = field(default_factory=list)
    rejections: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON output and the partner API."""
        return asdict(self)

    def summary(self) -> str:
        """One line for people."""
        head = f"batch {self.batch_id} ({self.partner}, {self.file_name})"
        if self.duplicate:
            return f"{head} was already imported on {self.received_at:%Y-%m-%d %H:%M} UTC: nothing changed"
        return (f"{head}: {self.rows_accepted} accepted, {self.rows_rejected} rejected of {self.rows_total} rows; "
                f"receipt {self.receipt_path}")


def receipt_path(partner_code: str, batch_id: int, sha: str) -> Path:
    """Where the receipt of a batch is written in the workspace."""
    from pricewarden.settings import get_settings

    code = check_partner_code(partner_code)  # the code names the file: never a path of its own
    return get_settings().reports_dir / "receipts" / f"{code}-batch{batch_id:06d}-{sha[:12]}.csv"


def _partner(session: Session, code: str) -> Any:
    from store.models import Partner

    check_partner_code(code)
    partner = session.scalar(select(Partner).where(Partner.code == code))
    if partner is None:
        raise NotFoundError(f"no partner with code {code!r}")
    return partner


def _result_of(batch: Any, partner_code: str, *, duplicate: bool) -> ImportResult:
    return ImportResult(
        batch.id, partner_code, batch.file_name, batch.file_sha256, batch.format, batch.encoding,
        batch.received_at, batch.rows_total, batch.rows_accepted, batch.rows_rejected,
        str(receipt_path(partner_code, batch.id, batch.file_sha256)), batch.receipt_sha256, duplicate,
    )


def default_expected_currency() -> ExpectedCurrency | None:
    """The policy's currency resolver (``policies.expected_currency``), memoised for one batch.

    ``policies.expected_currency`` documents that the SKU does not change its answer (currencies are
    per scope) and runs three queries per call; memoising per (partner, instant) turns a million
    per-row lookups into one per distinct date. A fresh memo per batch sees a newly published policy.
    If per-rule currencies come, key the memo on the SKU too.
    """
    try:
        import policies
    except ImportError:
        return None
    resolver = getattr(policies, "expected_currency", None)
    if not callable(resolver):
        return None
    memo: dict[tuple[str, datetime], str | None] = {}

    def by_instant(sku: str, partner: str, at: datetime) -> str | None:
        key = (partner, at)
        if key not in memo:
            memo[key] = resolver(sku, partner, at)
        return memo[key]

    return by_instant


def import_file(
    path: str | Path,
    partner: str,
    *,
    engine: Engine | None = None,
    submitted_by: str = "system",
    expected_currency: ExpectedCurrency | None = None,
    now: datetime | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> ImportResult:
    """Import a report file (CSV/TSV in UTF-8, UTF-8 with BOM or GBK/GB18030; XLSX; JSON) for ``partner``.

    Raises :class:`ReportImportError` only when the file cannot be read at all; bad rows are
    rejected one by one and listed in the receipt. ``on_progress`` is called with (rows read, rows
    rejected) after each chunk of ``reports.chunk_rows`` rows.
    """
    file = Path(path)
    if not file.is_file():
        raise ReportImportError("no such file", file=str(file))
    from pricewarden.settings import get_settings

    limit = get_settings().reports.max_file_mb
    if file.stat().st_size > limit << 20:
        raise ReportImportError(f"file is larger than {limit:,} MB (reports.max_file_mb)", file=file.name)
    sha = file_sha256(file)
    return run_import(lambda: open_report(file), partner=partner, file_name=file.name, sha=sha, engine=engine,
                      submitted_by=submitted_by, expected_currency=expected_currency, now=now,
                      on_progress=on_progress)


def import_rows(
    rows: Iterable[Mapping[str, Any]],
    partner: str,
    *,
    name: str = "api",
    engine: Engine | None = None,
    submitted_by: str = "api",
    expected_currency: ExpectedCurrency | None = None,
    now: datetime | None = None,
) -> ImportResult:
    """Import a JSON payload: a list of row objects keyed by column header (the partner API calls this)."""
    records = list(rows)
    # surrogatepass: a payload with half a surrogate pair is hashed too; its row is rejected, not a crash
    text = json.dumps(records, sort_keys=True, default=str, ensure_ascii=False)
    canonical = text.encode("utf-8", "surrogatepass")
    sha = hashlib.sha256(canonical).hexdigest()
    return run_import(lambda: read_payload(records, name), partner=partner, file_name=name, sha=sha,
                      engine=engine, submitted_by=submitted_by, expected_currency=expected_currency, now=now)


def run_import(
    open_source: Callable[[], Source],
    *,
    partner: str,
    file_name: str,
    sha: str,
    engine: Engine | None = None,
    submitted_by: str = "system",
    expected_currency: ExpectedCurrency | None = None,
    now: datetime | None = None,
    source_kind: str = "partner_report",
    batch_format: str | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> ImportResult:
    """Run one batch in one transaction; the reader is opened only when the file is new for the partner."""
    from pricewarden.settings import get_settings
    from store import session_scope
    from store.models import ReportBatch

    settings = get_settings()
    from store._types import utcnow

    now = now or utcnow()  # the one clock (the demo shifts it: a report by API is judged on the simulated day)
    resolver = expected_currency or default_expected_currency()
    writer: ReceiptWriter | None = None
    try:
        with session_scope(engine) as session:
            owner = _partner(session, partner)
            earlier = session.scalar(
                select(ReportBatch).where(ReportBatch.partner_id == owner.id, ReportBatch.file_sha256 == sha)
            )
            if earlier is not None:
                return _result_of(earlier, owner.code, duplicate=True)
            source = open_source()
            try:
                batch = ReportBatch(partner_id=owner.id, file_name=file_name[:500], file_sha256=sha,
                                    format=batch_format or source.format, encoding=source.encoding,
                                    received_at=now, submitted_by=submitted_by[:100])
                session.add(batch)
                session.flush()
                validator = RowValidator(
                    _partner_info(owner), _catalog(session), now=now, zone=settings.zone,
                    max_age_days=settings.reports.max_age_days,
                    future_skew=timedelta(minutes=settings.reports.future_skew_minutes),
                    max_cell_chars=settings.reports.max_cell_chars, expected_currency=resolver,
                    source=source_kind, notation=lambda: _notation(open_source),
                )
                if session.get_bind().dialect.name == "sqlite":
                    # A bigger page cache keeps the random obs_key index in memory during bulk insert.
                    session.execute(text("PRAGMA cache_size=-65536"))
                writer = ReceiptWriter(receipt_path(owner.code, batch.id, sha))
                sink = _BatchSink(session, batch.id, owner.id, source_kind, writer, now)
                chunk: list[Accepted | Rejected] = []
                stop = _RejectionLimit(file_name, settings.reports.max_rejected_rows)
                for row in source.rows:
                    judged = validator.check(row)
                    chunk.append(judged)
                    stop.count(judged)
                    if len(chunk) >= settings.reports.chunk_rows:
                        sink.flush(chunk)
                        validator.forget_seen()
                        chunk = []
                        if on_progress is not None:
                            on_progress(sink.accepted + sink.rejected, sink.rejected)
                sink.flush(chunk)
                if on_progress is not None:
                    on_progress(sink.accepted + sink.rejected, sink.rejected)
            finally:
                source.close()
            writer.close()
            del validator  # the duplicate-key memory is no longer needed before the receipt is read
            batch.rows_total = sink.accepted + sink.rejected
            batch.rows_accepted = sink.accepted
            batch.rows_rejected = sink.rejected
            batch.receipt_sha256 = _store_receipt(session, writer.path)
            from store import audit

            audit(session, actor=submitted_by, action="report.import", entity_type="report_batch",
                  entity_id=batch.id, after={"partner": owner.code, "file": file_name[:200], "sha256": sha,
                                             "accepted": sink.accepted, "rejected": sink.rejected})
            result = _result_of(batch, owner.code, duplicate=False)
            result.ignored_columns = source.ignored
            result.rejections = sink.kept
            return result
    except BaseException:
        # Nothing was committed, so the receipt on disk would describe a batch that does not exist.
        if writer is not None:
            writer.close()
            writer.path.unlink(missing_ok=True)
        raise


class _RejectionLimit:
    """Refuse a file once more than ``limit`` of its rows are rejected and fewer are accepted.

    Such a file is the wrong file or in the wrong format (a 68 KB workbook of a million junk rows
    would otherwise store a million rejections and a 44 MB receipt); a big file with a few percent
    of bad rows is imported as usual.
    """

    def __init__(self, name: str, limit: int) -> None:
        self.name = name
        self.limit = limit
        self.accepted = 0
        self.rejected = 0
        self.first: Rejected | None = None

    def count(self, judged: Accepted | Rejected) -> None:
        if isinstance(judged, Accepted):
            self.accepted += 1
            return
        self.rejected += 1
        self.first = self.first or judged
        if self.rejected > self.limit and self.rejected > self.accepted:
            first = self.first
            raise ReportImportError(
                f"more than {self.limit:,} rows rejected and fewer accepted, by row {judged.number:,}; nothing was "
                f"imported (reports.max_rejected_rows). The first: row {first.number}, {first.column or 'row'}: "
                f"{_printable(first.reason)[:200]}",
                file=self.name,
            )


def _notation(open_source: Callable[[], Source]) -> str | None:
    """The file's decimal notation from all its price texts, read again from the start (see ``decide_notation``)."""
    source = open_source()
    try:
        return decide_notation(row.cells.get("price") for row in source.rows)
    finally:
        source.close()


def _printable(text: str) -> str:
    """Text any database and file takes: NUL and broken surrogates replaced by U+FFFD."""
    if text.isascii() and "\x00" not in text:
        return text
    return text.replace("\x00", "\ufffd").encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def _store_receipt(session: Session, path: Path) -> str:
    from store.evidence import EvidenceStore

    return EvidenceStore.from_settings().put(session, path.read_bytes(), kind="receipt",
                                             content_type="text/csv; charset=utf-8")


def _partner_info(partner: Any) -> PartnerInfo:
    return PartnerInfo(
        partner.id, partner.code, partner.locale or "en",
        frozenset(str(s) for s in partner.authorised_skus or ()),
        frozenset(str(c).strip().lower() for c in partner.authorised_channels or ()),
        frozenset(str(d).strip().lower().removeprefix("www.") for d in partner.domains or ()),
    )


def _catalog(session: Session) -> Catalog:
    from store.models import Product

    rows = session.execute(select(Product.id, Product.sku, Product.category).where(Product.active.is_(True)))
    return Catalog.build([(pid, sku, category) for pid, sku, category in rows])


def _raw(cells: Mapping[str, Any]) -> dict[str, str]:
    return {column: _printable(cell_text(value)[:200]) for column, value in cells.items() if value is not None}


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


class _BatchSink:
    """Writes validated chunks: rows already stored by an earlier batch are rejected, the rest inserted."""

    def __init__(self, session: Session, batch_id: int, partner_id: int, source: str,
                 writer: ReceiptWriter, now: datetime) -> None:
        self.session = session
        self.batch_id = batch_id
        self.partner_id = partner_id
        self.source = source
        self.writer = writer
        self.now = now
        self.accepted = 0
        self.rejected = 0
        self.kept: list[dict[str, Any]] = []
        self._processors: dict[tuple[Any, ...], list[Any]] = {}

    def _earlier(self, keys: list[str]) -> dict[str, tuple[int | None, int | None]]:
        from store.models import Observation

        if not keys:
            return {}
        connection = self.session.connection()
        dialect = connection.dialect.name
        if dialect == "postgresql":
            # One array parameter instead of SQLAlchemy expanding ten thousand bound parameters.
            rows: Iterable[Any] = connection.exec_driver_sql(
                "SELECT obs_key, batch_id, row_number FROM observations WHERE obs_key = ANY(%s)", (keys,))
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

    def flush(self, chunk: list[Accepted | Rejected]) -> None:
        from store.models import Observation, ReportRejection

        earlier = self._earlier([r.obs_key for r in chunk if isinstance(r, Accepted)])
        observations: list[dict[str, Any]] = []
        rejections: list[dict[str, Any]] = []
        for result in chunk:
            if isinstance(result, Accepted) and result.obs_key in earlier:
                batch, number = earlier[result.obs_key]
                reason = (f"duplicate of row {number} (same sku, date and channel)" if batch == self.batch_id
                          else f"already reported in batch {batch} row {number}")
                result = Rejected(result.number, "sku", reason, result.cells)
            if isinstance(result, Accepted):
                observations.append(self._observation(result))
                self.writer.row(result.number, "accepted", None, "", result.cells)
            else:
                rejections.append({"batch_id": self.batch_id, "row_number": result.number,
                                   "column": result.column, "reason": result.reason, "raw": _raw(result.cells)})
                self.writer.row(result.number, "rejected", result.column, result.reason, result.cells)
                if len(self.kept) < KEEP_REJECTIONS:
                    self.kept.append({"row": result.number, "column": result.column, "reason": result.reason})
        if observations:
            self._insert(Observation.__table__, observations)
        if rejections:
            self._insert(ReportRejection.__table__, rejections)
        self.accepted += len(observations)
        self.rejected += len(rejections)

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
        preparer = connection.dialect.identifier_preparer
        statement = (f"COPY {preparer.format_table(table)} ("
                     + ", ".join(preparer.quote(name) for name in names) + ") FROM STDIN")
        cursor = connection.connection.driver_connection.cursor()
        try:
            with cursor.copy(statement) as copy:
                for values in _processed(rows, names, defaults, active):
                    copy.write_row(values)
        finally:
            cursor.close()

    def _observation(self, row: Accepted) -> dict[str, Any]:
        channel = row.channel
        details: dict[str, Any] = {"channel": channel} if channel else {}
        if row.quantity is not None:
            details["quantity"] = row.quantity
        extra = row.extra
        if "local_date" in extra:
            details["local_date"] = extra["local_date"]
            details["utc_offset"] = extra["utc_offset"]
        return {
            "obs_key": row.obs_key, "source": self.source, "product_id": row.product_id,
            "partner_id": self.partner_id, "url": channel if channel and "://" in channel else None,
            "observed_at": row.observed_at, "price": row.price, "currency": row.currency,
            "raw_text": row.raw_price, "list_price": extra.get("list_price"),
            "availability": extra.get("availability", "unknown"), "visibility": "visible",
            "method": self.source, "details": details, "batch_id": self.batch_id,
            "row_number": row.number, "created_at": self.now,
        }


def list_batches(*, partner: str | None = None, limit: int = 50, engine: Engine | None = None) -> list[dict[str, Any]]:
    """Report batches, newest first, with counts and receipt locations."""
    from store import session_scope
    from store.models import Partner, ReportBatch

    with session_scope(engine) as session:
        query = (select(ReportBatch, Partner.code).join(Partner, Partner.id == ReportBatch.partner_id)
                 .order_by(ReportBatch.received_at.desc(), ReportBatch.id.desc()).limit(limit))
        if partner is not None:
            query = query.where(Partner.code == partner)
        return [
            {"batch": b.id, "partner": code, "received_at": b.received_at, "file": b.file_name,
             "format": b.format, "encoding": b.encoding, "rows": b.rows_total, "accepted": b.rows_accepted,
             "rejected": b.rows_rejected, "receipt": str(receipt_path(code, b.id, b.file_sha256)),
             "receipt_sha256": b.receipt_sha256, "file_sha256": b.file_sha256}
            for b, code in session.execute(query)
        ]
