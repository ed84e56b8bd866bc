"""The CPU of each phase of a report import on PostgreSQL, the importer's and the server's, and what runs at once.

Usage: .venv/bin/python bench/phases_report_import.py [ROWS] --database URL

One import in this process (a fresh database on the server, dropped afterwards) with probes around the steps
of :class:`crawlers.reports._sink.BatchSink`: for each step, the importer's CPU (``time.thread_time``) and
the server's (its backend's ``/proc/PID/schedstat``, the server on this machine). CPU seconds, unlike the wall,
do not grow with the machine's load, so the sum of the steps that cannot overlap tells the wall of a quiet
machine: while the importer judges a chunk and writes its ``COPY`` text, the server inserts the previous one
(the two at once); the wait for that ``INSERT``, the finished chunk's rejections and receipt lines and the next
chunk's ``COPY`` into the staging table run one after the other.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_report_import import SKUS, Databases, make_csv  # noqa: E402


class Probe:
    """Importer and server CPU (and wall) spent inside named steps; nested steps are not subtracted."""

    def __init__(self) -> None:
        self.backend: int | None = None
        self.totals: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0])

    def server(self) -> float:
        if self.backend is None:
            return 0.0
        return int(Path(f"/proc/{self.backend}/schedstat").read_text().split()[0]) / 1e9

    def wrap(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def probed(*args: Any, **kwargs: Any) -> Any:
            client, server, wall = time.thread_time(), self.server(), time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                total = self.totals[name]
                total[0] += time.thread_time() - client
                total[1] += self.server() - server
                total[2] += time.perf_counter() - wall
                total[3] += 1

        return probed

    def chunks(self, chunks: Iterator[Any]) -> Iterator[Any]:
        """The judged chunks, the time to judge each one counted as 'judge'."""
        judge = self.wrap("judge", lambda: next(chunks, None))
        while (chunk := judge()) is not None:
            yield chunk


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("rows", nargs="?", type=int, default=1_000_000)
    parser.add_argument("--database", required=True, help="a PostgreSQL server URL (a fresh database)")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="pw-phases-"))
    databases = Databases(args.database)
    try:
        report = scratch / "report.csv"
        now = datetime.now(UTC)
        make_csv(report, args.rows, SKUS, now)
        os.environ["PRICEWARDEN_WORKSPACE"] = str(scratch / "workspace")
        os.environ["PRICEWARDEN_DATABASE_URL"] = str(databases.fresh())
        run(report, now)
    finally:
        from store import get_engine

        get_engine().dispose()
        databases.drop()
        shutil.rmtree(scratch, ignore_errors=True)


def run(report: Path, now: datetime) -> None:
    from crawlers.reports import _importer, _sink, import_file
    from store import session_scope, upgrade
    from store.models import Partner, Product

    upgrade()
    with session_scope() as session:
        session.add_all(Product(sku=sku, category="bench") for sku in SKUS)
        session.add(Partner(code="BENCH", name="Bench partner", locale="en"))
    probe = Probe()
    sink = _sink.BatchSink
    judge = _importer.judge_source
    start = sink.__init__

    def started(self: Any, session: Any, *args: Any, **kwargs: Any) -> None:
        probe.backend = session.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar()
        start(self, session, *args, **kwargs)

    patches = [(sink, "__init__", started), (_importer, "judge_source", lambda *a: probe.chunks(judge(*a))),
               (_sink, "copy_text", probe.wrap("copy text", _sink.copy_text))]
    if hasattr(_sink, "copy_binary"):
        patches.append((_sink, "copy_binary", probe.wrap("copy binary", _sink.copy_binary)))
    for name, label in (("flush", "flush"), ("finish", "wait for the INSERT (finish)"),
                        ("_account", "rejections, receipt (account)"), ("_hold_products", "products"),
                        ("_stage", "COPY into staging"), ("_stored_before", "earlier keys")):
        patches.append((sink, name, probe.wrap(label, getattr(sink, name))))
    saved = [(owner, name, getattr(owner, name)) for owner, name, _ in patches]
    for owner, name, value in patches:
        setattr(owner, name, value)
    try:
        wall, cpu = time.perf_counter(), time.process_time()
        load = os.getloadavg()[0]
        result = import_file(report, "BENCH", now=now)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    finally:
        for owner, name, value in saved:
            setattr(owner, name, value)
    totals = probe.totals
    print(f"{result.rows_accepted:,} accepted, {result.rows_rejected:,} rejected: {wall:.1f} s wall, importer "
          f"{cpu:.1f} s CPU (load {load:.1f} at the start)")
    print(f"{'step':34} {'calls':>5} {'importer CPU s':>15} {'server CPU s':>13} {'wall s':>8}")
    for name, (client, server, seconds, calls) in totals.items():
        print(f"{name:34} {calls:5d} {client:15.2f} {server:13.2f} {seconds:8.2f}")
    flush = totals["flush"]
    judged = totals["judge"]
    account, stage = totals["rejections, receipt (account)"], totals["COPY into staging"]
    # flush() holds everything but judging; finish() inside it holds the INSERT's wait and the finished chunk's
    # account; the server's CPU outside those (judging, copy text) is the INSERT running beside the importer.
    server_total = judged[1] + flush[1]
    serial_client = account[0] + stage[0] + totals["products"][0]
    serial_server = account[1] + stage[1] + totals["products"][1]
    overlapped_client = judged[0] + totals["copy text"][0] + totals["copy binary"][0]
    overlapped_server = server_total - serial_server
    print(f"server CPU in all: {server_total:.1f} s; one after the other (account, products, COPY): importer "
          f"{serial_client:.1f} s + server {serial_server:.1f} s; at once: importer {overlapped_client:.1f} s "
          f"(judging, COPY data) beside the server's INSERTs {overlapped_server:.1f} s; the rest of the importer "
          f"{cpu - serial_client - overlapped_client:.1f} s")
    quiet = max(overlapped_client, overlapped_server) + serial_client + serial_server
    print(f"a quiet 2-core machine's wall, at best: {quiet:.1f} s (the larger of the two at once, plus the rest)")


if __name__ == "__main__":
    main()
