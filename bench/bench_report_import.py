"""Benchmark: import a 1,000,000-row partner CSV with full validation; prints wall, CPU, rows/s and peak RSS.

Target (issue 23, this 2-core machine): <= 30 s and <= 500 MB peak RSS.
Usage: .venv/bin/python bench/bench_report_import.py [ROWS] [--database URL] [--against REV --pairs N]

Each import runs in its own process (peak RSS is the import's own: its process's and, for a file read in a
second process, that one's added; CPU seconds are both processes'; on PostgreSQL the server's backend CPU
seconds for the import's connections too, read from /proc when the server runs on this machine, and the
WAL it wrote) with a throw-away workspace and a
SQLite database, or with ``--database postgresql+psycopg://.../any``: a fresh database on that server
per run, dropped afterwards. ``--against REV`` runs the importer of git revision REV (e.g. ``main``)
on the same file, interleaved (this tree, REV, this tree, ...), and prints the ratio of each pair.
About 1.5% of rows are bad on purpose (unknown SKU, bad price, negative price).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SKUS = [f"SKU-{i:05d}" for i in range(10_000)]
# The line every version of this bench prints after an import (older ones print only this).
RESULT = re.compile(r"imported on (\w+): ([\d,]+) accepted, ([\d,]+) rejected in ([\d.]+) s wall, ([\d.]+) s CPU"
                    r".*peak RSS (\d+) MB")
INDEXES = re.compile(r"indexes: obs_key ([\d.]+) MB, all of observations' ([\d.]+) MB(?:; ([\d,]+) blocks)?")
SERVER = re.compile(r"server: ([\d.]+) s backend CPU, ([\d.]+) MB WAL \(the import's backend ([\d.]+) s, its parallel "
                    r"workers ([\d.]+) s.*; (-?\d+) scans of observations read (-?\d+) rows")


def make_csv(path: Path, rows: int, skus: list[str], now: datetime) -> None:
    """A realistic report: 10,000 SKUs, 30 days, 20 channels; ~1.5% bad rows."""
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


def backend_cpu(engine: object) -> tuple[dict[int, float], int, tuple[int, int]] | None:
    """PostgreSQL: CPU seconds so far of each client backend of this database, the WAL position (bytes), and
    the sequential scans of observations and the rows they read.

    ``None`` on SQLite, or when the server's processes are not readable here (another machine).
    """
    from sqlalchemy import text

    if engine.dialect.name != "postgresql":  # type: ignore[attr-defined]
        return None
    with engine.connect() as conn:  # type: ignore[attr-defined]
        pids = conn.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                                 "AND backend_type = 'client backend'")).scalars().all()
        wal = conn.execute(text("SELECT pg_current_wal_lsn() - '0/0'")).scalar_one()
        # sequential scans of observations so far (the statistics collector's, flushed at each commit)
        scans = conn.execute(text("SELECT seq_scan, seq_tup_read FROM pg_stat_user_tables "
                                  "WHERE relname = 'observations'")).one()
    seconds = {}
    for pid in pids:
        spent = _cpu_seconds(pid)
        if spent is None:
            return None
        seconds[pid] = spent
    return seconds, int(wal), (int(scans[0]), int(scans[1]))


def index_sizes(engine: object) -> str:
    """The sizes of observations' obs_key index and of all its indexes (MB); on PostgreSQL also the obs_key index's
    blocks read from outside the buffer pool (a fresh database: the import's, written out and read back)."""
    from sqlalchemy import text

    key_index = "uq_observations_obs_key"
    with engine.connect() as conn:  # type: ignore[attr-defined]
        if engine.dialect.name == "postgresql":  # type: ignore[attr-defined]
            key, every = conn.execute(text("SELECT pg_relation_size(:i), pg_indexes_size('observations')"),
                                      {"i": key_index}).one()
            read = conn.execute(text("SELECT idx_blks_read FROM pg_statio_user_indexes WHERE indexrelname = :i"),
                                {"i": key_index}).scalar_one()
            return f"indexes: obs_key {key / 1e6:.1f} MB, all of observations' {every / 1e6:.1f} MB; " \
                   f"{read:,} blocks of the obs_key index read in"
        sizes = dict(conn.execute(text("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name")).all())
        indexes = conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'index' "
                                    "AND tbl_name = 'observations'")).scalars().all()
    every = sum(sizes.get(name, 0) for name in indexes)
    key = sizes.get(key_index) or sizes.get("sqlite_autoindex_observations_1", 0)
    return f"indexes: obs_key {key / 1e6:.1f} MB, all of observations' {every / 1e6:.1f} MB"


def _cpu_seconds(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


class ParallelWorkers:
    """PostgreSQL: CPU of the parallel workers that the import's queries start, read every 0.1 s while they live.

    A worker lives for one query and its time is not its leader's: without this a plan that scans the table
    in parallel would look cheap. A worker's last tenth of a second can be missed.
    """

    def __init__(self, engine: object) -> None:
        import threading

        from sqlalchemy import create_engine
        from sqlalchemy.pool import NullPool

        # its own connection, closed when done: not one of the import's (whose CPU is counted after)
        self.engine = create_engine(engine.url.render_as_string(hide_password=False),  # type: ignore[attr-defined]
                                    poolclass=NullPool)
        self.seen: dict[int, float] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._poll, daemon=True)

    def __enter__(self) -> ParallelWorkers:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()

    def _poll(self) -> None:
        from sqlalchemy import text

        with self.engine.connect() as conn:  # type: ignore[attr-defined]
            query = text("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                         "AND backend_type = 'parallel worker'")
            while not self.stop.wait(0.1):
                for pid in conn.execute(query).scalars():
                    spent = _cpu_seconds(pid)
                    if spent is not None:
                        self.seen[pid] = max(spent, self.seen.get(pid, 0.0))
                conn.rollback()

    @property
    def seconds(self) -> float:
        return sum(self.seen.values())


def import_once(path: Path, now: datetime, work: Path, database: str | None) -> None:
    """The child: seed the catalog and the partner, import ``path``, print the result line."""
    os.environ["PRICEWARDEN_WORKSPACE"] = str(work / "workspace")
    if database:
        os.environ["PRICEWARDEN_DATABASE_URL"] = database

    from crawlers.reports import import_file
    from store import get_engine, session_scope, upgrade
    from store.models import Partner, Product

    upgrade()
    with session_scope() as session:
        session.add_all(Product(sku=sku, category="bench") for sku in SKUS)
        session.add(Partner(code="BENCH", name="Bench partner", locale="en"))
    rows = sum(1 for _ in path.open("rb")) - 1
    server_before = backend_cpu(get_engine())
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    workers = ParallelWorkers(get_engine()) if server_before is not None else contextlib.nullcontext()
    with workers:
        started, cpu, started_at = time.perf_counter(), time.process_time(), time.time()
        chunks: list[float] = []  # each chunk's end (time.time()), for bench/timeline_report_import.py
        result = import_file(path, "BENCH", now=now, on_progress=lambda *_: chunks.append(time.time()))
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    if server_before is not None:
        time.sleep(1.5)  # a backend reports its table statistics at most once a second
    server_after = backend_cpu(get_engine())  # the pool keeps the import's connection open
    # The process that reads and judges rows beside the importer (reports.parallel_min_mb) counts too:
    # its CPU, and its peak added to the importer's (pages they share are counted twice).
    worker = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu += worker.ru_utime + worker.ru_stime - children.ru_utime - children.ru_stime
    own_mb, worker_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, worker.ru_maxrss / 1024
    print(f"imported on {get_engine().dialect.name}: {result.rows_accepted:,} accepted, "
          f"{result.rows_rejected:,} rejected in {seconds:.1f} s wall, {cpu:.1f} s CPU "
          f"({rows / seconds:,.0f} rows/s); peak RSS {own_mb + worker_mb:.0f} MB "
          f"(importer {own_mb:.0f} MB, worker {worker_mb:.0f} MB)", flush=True)
    if server_before is not None and server_after is not None:
        (before, wal_before, scans_before), (after, wal_after, scans_after) = server_before, server_after
        backend = sum(spent - before.get(pid, 0.0) for pid, spent in after.items())
        assert isinstance(workers, ParallelWorkers)
        print(f"server: {backend + workers.seconds:.1f} s backend CPU, {(wal_after - wal_before) / 1e6:.0f} MB WAL "
              f"(the import's backend {backend:.1f} s, its parallel workers {workers.seconds:.1f} s; the WAL is the "
              f"whole server's); {scans_after[0] - scans_before[0]} scans of observations read "
              f"{scans_after[1] - scans_before[1]} rows", flush=True)
    print(index_sizes(get_engine()), flush=True)
    if os.environ.get("PW_BENCH_CHUNKS"):
        Path(os.environ["PW_BENCH_CHUNKS"]).write_text(json.dumps([started_at, *chunks]))


class Databases:
    """A fresh database per run: a SQLite file in the run's workspace, or a new one on a PostgreSQL server."""

    def __init__(self, server: str | None) -> None:
        self.server = server
        self.made: list[str] = []

    def fresh(self) -> str | None:
        if not self.server:
            return None
        from sqlalchemy import create_engine, text

        given = self.server.rpartition("/")[2].split("?")[0]  # pw_NAME_...: the runs' databases named after it
        name = f"{given if given.startswith('pw_') else 'pw_bench'}_{uuid.uuid4().hex[:10]}"
        admin = create_engine(self.server, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        self.made.append(name)
        return f"{self.server.rpartition('/')[0]}/{name}"

    def drop(self) -> None:
        if not self.server:
            return
        from sqlalchemy import create_engine, text

        admin = create_engine(self.server, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for name in self.made:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def checkout(revision: str, into: Path) -> Path:
    """The tree of ``revision`` (git archive) in ``into``: its importer and its bench."""
    archive = into / "tree.tar"
    subprocess.run(["git", "-C", str(ROOT), "archive", "-o", str(archive), revision], check=True)
    tree = into / "tree"
    with tarfile.open(archive) as tar:
        tar.extractall(tree, filter="data")
    return tree


def run(tree: Path, rows: int, database: str | None, work: Path, report: Path, now: datetime) -> dict[str, float]:
    """One import in a child process of ``tree``'s code; its figures."""
    work.mkdir(parents=True)
    if tree == ROOT or "--child" in (tree / "bench" / "bench_report_import.py").read_text(encoding="utf-8"):
        # this bench's child (its server figures), importing with ``tree``'s code
        command = [sys.executable, str(ROOT / "bench" / "bench_report_import.py"), "--child", str(report),
                   "--now", now.isoformat(), "--work", str(work), "--tree", str(tree)]
    else:  # an older bench generates its own file (the same rows: same seed) and imports it
        command = [sys.executable, str(tree / "bench" / "bench_report_import.py"), str(rows)]
    if database:
        command += ["--database", database]
    env = {**os.environ, "PYTHONPATH": str(tree), "PRICEWARDEN_WORKSPACE": str(work / "workspace"),
           "TMPDIR": str(work)}  # an older bench's own scratch files go where ours are removed
    done = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True, check=False)
    found = RESULT.search(done.stdout)
    if done.returncode or not found:
        sys.exit(f"import failed in {tree}:\n{done.stdout}\n{done.stderr[-3000:]}")
    dialect, accepted, rejected, wall, cpu, rss = found.groups()
    server = SERVER.search(done.stdout)
    indexes = INDEXES.search(done.stdout)
    sizes: dict[str, float] = {}
    if indexes:  # this bench's child (the line is new)
        key_mb, every_mb, read = indexes.groups()
        sizes = {"obs_key_index_mb": float(key_mb), "indexes_mb": float(every_mb),
                 **({"obs_key_blocks_read": int(read.replace(",", ""))} if read else {})}
    return {"dialect": dialect, "accepted": int(accepted.replace(",", "")),  # type: ignore[dict-item]
            "rejected": int(rejected.replace(",", "")), "wall": float(wall), "cpu": float(cpu), "rss": float(rss),
            **({"backend_cpu": float(server.group(1)), "wal_mb": float(server.group(2)),
                "import_backend_cpu": float(server.group(3)), "parallel_workers_cpu": float(server.group(4)),
                "observation_scans": int(server.group(5)), "rows_scanned": int(server.group(6))}
               if server else {}), **sizes}


def line(label: str, rows: int, figures: dict[str, float]) -> str:
    server = (f", server {figures['backend_cpu']:5.1f} s backend CPU ({figures['parallel_workers_cpu']:.1f} s of it "
              f"parallel workers; {figures['observation_scans']} scans of observations, "
              f"{figures['rows_scanned']:,} rows), {figures['wal_mb']:4.0f} MB WAL" if "backend_cpu" in figures else "")
    if "obs_key_index_mb" in figures:
        server += (f", obs_key index {figures['obs_key_index_mb']:.1f} MB of {figures['indexes_mb']:.1f} MB"
                   + (f" ({figures['obs_key_blocks_read']:,} blocks read in)" if "obs_key_blocks_read" in figures
                      else ""))
    return (f"{label:>8}: {figures['wall']:6.1f} s wall, {figures['cpu']:6.1f} s CPU{server}, "
            f"{rows / figures['wall']:8,.0f} rows/s ({rows / figures['cpu']:8,.0f} per CPU s), "
            f"peak RSS {figures['rss']:4.0f} MB; {figures['accepted']:,} accepted, {figures['rejected']:,} rejected")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("rows", nargs="?", type=int, default=1_000_000)
    parser.add_argument("--database", help="a PostgreSQL server URL (a fresh database per run); default SQLite")
    parser.add_argument("--against", metavar="REV", help="git revision whose importer runs interleaved with this one")
    parser.add_argument("--pairs", type=int, default=2, help="interleaved pairs with --against")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--now", help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--tree", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        if args.tree:
            sys.path.insert(0, str(args.tree))  # that tree's importer and store, ahead of this one
        import_once(args.child, datetime.fromisoformat(args.now), args.work, args.database)
        return

    scratch = Path(tempfile.mkdtemp(prefix="pw-bench-report-"))
    now = datetime.now(UTC)
    report = scratch / "report.csv"
    started = time.perf_counter()
    make_csv(report, args.rows, SKUS, now)
    size = report.stat().st_size / 1e6
    print(f"generated {args.rows:,} rows ({size:.0f} MB) in {time.perf_counter() - started:.1f} s")
    trees = [("this", ROOT)]
    if args.against:
        trees.append((args.against, checkout(args.against, scratch)))
    databases = Databases(args.database)
    results: dict[str, list[dict[str, float]]] = {label: [] for label, _ in trees}
    loads = []
    try:
        for round_ in range(args.pairs if args.against else 1):
            for label, tree in trees:  # interleaved: this, REV, this, REV, ...
                loads.append(os.getloadavg()[0])
                figures = run(tree, args.rows, databases.fresh(), scratch / f"{label}-{round_}", report, now)
                results[label].append(figures)
                print(line(label, args.rows, figures), f"(load {loads[-1]:.1f})", flush=True)
    finally:
        databases.drop()
        shutil.rmtree(scratch, ignore_errors=True)
    mine = results["this"]
    dialect = str(mine[0]["dialect"])
    best = min(mine, key=lambda f: f["cpu"])
    print(f"load average {statistics.mean(loads):.1f} on {os.cpu_count()} cores (1-min, at each run's start); "
          "targets: <= 30 s, <= 500 MB (wall figures on a shared machine are noisy; CPU seconds are steadier)")
    extra: dict[str, object] = {}
    if args.against:
        old = results[args.against]
        cpu_ratios = [o["cpu"] / m["cpu"] for m, o in zip(mine, old, strict=True)]
        wall_ratios = [o["wall"] / m["wall"] for m, o in zip(mine, old, strict=True)]
        print(f"speed-up vs {args.against} per pair: CPU " + ", ".join(f"{r:.2f}x" for r in cpu_ratios)
              + "; wall " + ", ".join(f"{r:.2f}x" for r in wall_ratios))
        extra = {"against": args.against, "cpu_ratio": round(statistics.median(cpu_ratios), 2),
                 "wall_ratio": round(statistics.median(wall_ratios), 2), "against_wall_s": [o["wall"] for o in old],
                 "against_cpu_s": [o["cpu"] for o in old], "against_peak_rss_mb": max(o["rss"] for o in old)}
        if all("backend_cpu" in f for f in (*mine, *old)):
            backend_ratios = [o["backend_cpu"] / m["backend_cpu"] for m, o in zip(mine, old, strict=True)]
            print(f"server backend CPU vs {args.against} per pair: " + ", ".join(f"{r:.2f}x" for r in backend_ratios))
            extra.update(backend_cpu_ratio=round(statistics.median(backend_ratios), 2),
                         against_backend_cpu_s=[o["backend_cpu"] for o in old],
                         against_wal_mb=[o["wal_mb"] for o in old])
    from bench.record import record

    vs = f"; {extra['cpu_ratio']}x less CPU than {args.against}" if extra else ""
    record("report_import" if dialect == "sqlite" else f"report_import_{dialect}",
           f"partner report: {args.rows:,}-row CSV imported with validation ({dialect})", "<= 30 s, <= 500 MB",
           f"{best['wall']:.1f} s wall ({best['cpu']:.1f} s CPU, {args.rows / best['wall']:,.0f} rows/s), "
           f"peak RSS {best['rss']:.0f} MB{vs}",
           rows=args.rows, wall_s=[m["wall"] for m in mine], cpu_s=[m["cpu"] for m in mine],
           peak_rss_mb=max(m["rss"] for m in mine),
           **({"backend_cpu_s": [m["backend_cpu"] for m in mine], "wal_mb": [m["wal_mb"] for m in mine]}
              if all("backend_cpu" in m for m in mine) else {}), **extra)
    print(json.dumps({"this": mine, **({args.against: results[args.against]} if args.against else {})}))


if __name__ == "__main__":
    main()
