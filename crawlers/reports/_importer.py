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
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from crawlers.reports._read import Source, file_sha256, open_report, read_payload
from crawlers.reports._receipt import ReceiptWriter
from crawlers.reports._sink import BatchSink, Row, RowShape, printable
from crawlers.reports._validate import Catalog, ExpectedCurrency, PartnerInfo, Rejected, RowValidator
from crawlers.reports._values import decide_notation
from crawlers.reports._worker import Worker, can_fork, held_collector, judge_source
from pricewarden.errors import NotFoundError, ReportImportError
from pricewarden.identifiers import check_partner_code

SQLITE_IMPORT_CACHE_KB = 131_072  # SQLite's page cache during an import (its memory: see run_import)


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
    """The partner with ``code``, locked against deletion until the batch commits.

    ``observations.partner_id`` has no foreign key (a check per row): this one lock (FOR KEY SHARE, which
    the key's check would take on every row; edits to the partner's other columns go on) keeps the batch's
    rows from naming a partner that a concurrent transaction deletes (the batch's own key to the partner
    takes it too; this one does not rely on that). SQLite locks no rows: its one writer at a time does the same.
    """
    from store.models import Partner

    check_partner_code(code)
    partner = session.scalar(select(Partner).where(Partner.code == code).with_for_update(key_share=True))
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
    parallel = can_fork() and file.stat().st_size >= get_settings().reports.parallel_min_mb << 20
    return run_import(lambda: open_report(file), partner=partner, file_name=file.name, sha=sha, engine=engine,
                      submitted_by=submitted_by, expected_currency=expected_currency, now=now,
                      on_progress=on_progress, parallel=parallel)


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
    parallel: bool = False,
) -> ImportResult:
    """Run one batch in one transaction; the reader is opened only when the file is new for the partner.

    ``parallel``: the rows are read and judged in a second process (:mod:`crawlers.reports._worker`)
    while this one writes; the outcome is the same row for row.
    """
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
            validator = RowValidator(
                _partner_info(owner), _catalog(session), now=now, zone=settings.zone,
                max_age_days=settings.reports.max_age_days,
                future_skew=timedelta(minutes=settings.reports.future_skew_minutes),
                max_cell_chars=settings.reports.max_cell_chars, expected_currency=resolver,
                source=source_kind, notation=lambda: _notation(open_source),
                currency_per_sku=expected_currency is not None,  # the policy's answers per scope, not per SKU
            )
            dialect = session.get_bind().dialect
            shape = RowShape(dialect, source_kind)
            chunk_rows = settings.reports.chunk_rows
            worker = Worker(open_source, validator, shape, chunk_rows, file_name) if parallel else None
            source = worker.source if worker is not None else open_source()
            sqlite: Any = None  # SQLite's own connection, and its page cache size before the import
            cache_size = None
            try:
                batch = ReportBatch(partner_id=owner.id, file_name=file_name[:500], file_sha256=sha,
                                    format=batch_format or source.format, encoding=source.encoding,
                                    received_at=now, submitted_by=submitted_by[:100])
                session.add(batch)
                session.flush()
                if dialect.name == "sqlite":
                    # The obs_key and (product, instant) indexes take the batch's rows at random places: with a
                    # page cache smaller than them (observations' indexes ~160 MB at a million rows, obs_key's 27 MB
                    # of it) SQLite writes pages out and reads them back over and over. Set back once the rows are in
                    # (clean pages freed).
                    sqlite = session.connection().connection.driver_connection
                    cache_size = sqlite.execute("PRAGMA cache_size").fetchone()[0]
                    sqlite.execute(f"PRAGMA cache_size=-{SQLITE_IMPORT_CACHE_KB}")
                writer = ReceiptWriter(receipt_path(owner.code, batch.id, sha))
                sink = BatchSink(session, batch.id, owner.id, source_kind, writer, now)
                if on_progress is not None:  # told as each chunk is stored (on PostgreSQL, as the next is judged)
                    tell = on_progress
                    sink.on_stored = lambda: tell(sink.accepted + sink.rejected, sink.rejected)
                stop = _RejectionLimit(file_name, settings.reports.max_rejected_rows)
                chunks = (worker.chunks() if worker is not None
                          else judge_source(source, validator, shape, chunk_rows))
                try:
                    with held_collector() as after_chunk:
                        for chunk in chunks:
                            stop.count_chunk(chunk)
                            sink.flush(chunk)
                            after_chunk(len(chunk))
                            del chunk
                        sink.finish()
                except BaseException:
                    sink.abandon()  # the chunk still in flight, if any: the batch rolls back below
                    raise
            finally:
                source.close()
                if cache_size is not None:
                    sqlite.execute(f"PRAGMA cache_size={int(cache_size)}")
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

    def count_chunk(self, chunk: list[Row | Rejected]) -> None:
        """Count a chunk's rows; row by row only when its rejections could pass the limit."""
        rejected = sum(1 for judged in chunk if type(judged) is Rejected)
        if self.rejected + rejected <= self.limit:
            self.first = self.first or next((judged for judged in chunk if type(judged) is Rejected), None)
            self.rejected += rejected
            self.accepted += len(chunk) - rejected
            return
        for judged in chunk:
            self.count(judged)

    def count(self, judged: Row | Rejected) -> None:
        if type(judged) is not Rejected:
            self.accepted += 1
            return
        self.rejected += 1
        self.first = self.first or judged
        if self.rejected > self.limit and self.rejected > self.accepted:
            first = self.first
            raise ReportImportError(
                f"more than {self.limit:,} rows rejected and fewer accepted, by row {judged.number:,}; nothing was "
                f"imported (reports.max_rejected_rows). The first: row {first.number}, {first.column or 'row'}: "
                f"{printable(first.reason)[:200]}",
                file=self.name,
            )


def _notation(open_source: Callable[[], Source]) -> str | None:
    """The file's decimal notation from all its price texts, read again from the start (see ``decide_notation``)."""
    source = open_source()
    try:
        return decide_notation(row.cells.get("price") for row in source.rows)
    finally:
        source.close()


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
