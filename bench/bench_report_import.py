"""Benchmark: import a 1,000,000-row partner CSV with full validation; prints seconds and peak RSS.

Targets (DESIGN.md style, this 2-core machine): <= 60 s and <= 500 MB peak RSS.
Usage: .venv/bin/python bench/bench_report_import.py [ROWS] [--database URL]
Runs in a throw-away workspace with a SQLite database unless --database is given (it must be empty
of this bench's partner). About 2% of rows are bad on purpose (unknown SKU, bad price, duplicate).
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def make_csv(path: Path, rows: int, skus: list[str], now: datetime) -> None:
    """A realistic report: 10,000 SKUs, 30 days, 20 channels; ~2% bad rows."""
    rng = random.Random(7)
    days = [(now - timedelta(days=d)).date().isoformat() for d in range(30)]
    channels = [f"https://shop{i}.example.com/p" for i in range(20)]
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write("sku,price,currency,date,channel,quantity\n")
        for i in range(rows):
            sku = skus[i % len(skus)]
            day = days[(i // len(skus)) % len(days)]
            channel = channels[(i // (len(skus) * len(days))) % len(channels)]
            price = f"{rng.randint(1000, 99999) / 100:.2f}"
            roll = rng.random()
            if roll < 0.005:
                sku = sku + "X"
            elif roll < 0.01:
                price = "abc"
            elif roll < 0.015:
                price = "-1.00"
            handle.write(f"{sku},{price},USD,{day},{channel},{rng.randint(1, 50)}\n")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("rows", nargs="?", type=int, default=1_000_000)
    parser.add_argument("--database", help="SQLAlchemy URL (default: SQLite in a temp workspace)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="pw-bench-report-"))
    os.environ["PRICEWARDEN_WORKSPACE"] = str(work / "workspace")
    if args.database:
        os.environ["PRICEWARDEN_DATABASE_URL"] = args.database

    from crawlers.reports import import_file
    from store import get_engine, session_scope, upgrade
    from store.models import Partner, Product

    upgrade()
    skus = [f"SKU-{i:05d}" for i in range(10_000)]
    with session_scope() as session:
        session.add_all(Product(sku=sku, category="bench") for sku in skus)
        session.add(Partner(code="BENCH", name="Bench partner", locale="en"))
    now = datetime.now(UTC)
    path = work / "report.csv"
    started = time.perf_counter()
    make_csv(path, args.rows, skus, now)
    generated = time.perf_counter() - started
    print(f"generated {args.rows:,} rows ({path.stat().st_size / 1e6:.0f} MB) in {generated:.1f} s")

    started, cpu = time.perf_counter(), time.process_time()
    result = import_file(path, "BENCH", now=now)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"imported on {get_engine().dialect.name}: {result.rows_accepted:,} accepted, "
          f"{result.rows_rejected:,} rejected in {seconds:.1f} s wall, {cpu:.1f} s CPU "
          f"({args.rows / seconds:,.0f} rows/s); "
          f"peak RSS {peak_mb:.0f} MB")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; targets: <= 60 s, <= 500 MB "
          "(wall figures on a shared machine are noisy; CPU seconds are steadier)")
    from bench.record import record

    record("report_import", f"partner report: {args.rows:,}-row CSV imported with validation "
           f"({get_engine().dialect.name})", "<= 30 s, <= 500 MB",
           f"{seconds:.1f} s wall ({cpu:.1f} s CPU, {args.rows / seconds:,.0f} rows/s), peak RSS {peak_mb:.0f} MB",
           wall_s=round(seconds, 2), cpu_s=round(cpu, 2), peak_rss_mb=round(peak_mb))


if __name__ == "__main__":
    main()
