"""Benchmark: ``pricewarden detect`` over a store of 1,000,000 observations (load, judge, lifecycle, write).

Builds a store (SQLite by default, or ``--database`` URL, e.g. a fresh PostgreSQL database) with the
sandbox world's catalog and both published policy versions, then ``--observations`` crawled
observations spread over every listing and 28 days, priced around each SKU's floor (about 1 in 12
below it: violations that open, persist and resolve). Then it runs detection as ``pricewarden
detect`` does, in this process, and prints the time of each phase: load (the observations frame),
judge (the vectorised rules), findings (records with evidence), lifecycle (episodes advanced and
written to the session), misreports, anomalies, stale listings and the commit. Three runs: ``cold``
(the whole history judged for the first time, every episode opened), ``day`` (one more day of
observations added, what a daily monitor run judges) and ``again`` (nothing new).

    .venv/bin/python bench/bench_detect_store.py [--observations 1000000] [--products 500]
    .venv/bin/python bench/bench_detect_store.py --database postgresql+psycopg://postgres@127.0.0.1/pw_bench

``--store DIR`` keeps the built store (SQLite: the database file and workspace; PostgreSQL: a template
database named in DIR) and reuses it on the next call with the same sizes, so that two versions of
the code run over the same observations; ``--dump DIR`` writes the violations, the detection's
audit entries and the per-day rollups after each run (ids aside) for ``diff -r``.

Target (DESIGN.md, this 2-core machine): <= 10 s. The machine is shared: figures are noisy.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

START = datetime(2026, 3, 1, 15, tzinfo=UTC)


def build_store(observations: int, products: int, workspace: Path) -> int:
    """Catalog, policies and ``observations`` rows in the configured database; returns the listing count."""
    from demo import World, write_workspace
    from policies import publish_policy
    from store import session_scope, upgrade
    from store.catalog import import_catalog

    upgrade()
    world = World(seed=7, products=products, day=1)
    write_workspace(workspace, world)
    import_catalog(workspace / "catalog", actor="bench")
    with session_scope() as session:
        for path in sorted((workspace / "policies").glob("*.yaml")):
            publish_policy(session, path, published_by="bench")
    priced = _priced_listings(products)
    insert_observations(priced, 0, observations, observations)
    return len(priced)


def _priced_listings(products: int) -> list[tuple[int, int, int | None, str, Decimal, str]]:
    """(listing id, product id, partner id, URL, base price, currency) of every listing with a price."""
    from sqlalchemy import select

    from demo import World
    from store import Listing, Product, session_scope

    world = World(seed=7, products=products, day=1)
    by_sku = {p.sku: p for p in world.products}
    with session_scope() as session:
        listings = session.execute(select(Listing.id, Listing.product_id, Listing.partner_id, Listing.url,
                                          Listing.region, Product.sku)
                                   .join(Product, Listing.product_id == Product.id).order_by(Listing.id)).all()
    priced = []
    for listing_id, product_id, partner_id, url, region, sku in listings:
        product = by_sku.get(sku)
        if product is None:
            continue
        base, currency = {"EU": (product.rrp_eur, "EUR"), "CN": (product.cap_cny, "CNY")}.get(
            region or "US", (product.map_v1, "USD"))
        if base is None:
            continue
        priced.append((listing_id, product_id, partner_id, url, Decimal(str(base)), currency))
    return priced


def _hours(observations: int, listings: int) -> int:
    return max(1, int(28 * 24 * listings / observations))


def insert_observations(priced: list[Any], first: int, end: int, observations: int) -> None:
    """Observations number ``first`` to ``end`` (exclusive) of the pattern of a ``observations`` store."""
    from sqlalchemy import insert

    from pricewarden.keys import digest_key
    from store import Observation, session_scope

    per_listing_hours = _hours(observations, len(priced))
    # Each observation's price is a function of its number: the same row whichever batch makes it.
    chunk: list[dict[str, Any]] = []
    with session_scope() as session:
        for i in range(first, end):
            spread = (i * 2654435761 >> 8) % 1000
            listing_id, product_id, partner_id, url, base, currency = priced[i % len(priced)]
            at = START + timedelta(hours=per_listing_hours * (i // len(priced)), seconds=i % 3600)
            # Mostly at or above the floor; runs of a few observations below it (breaches that resolve).
            below = (i // len(priced) + listing_id) % 12 == 0
            factor = Decimal(86 + spread % 12 if below else 100 + spread % 13) / 100
            chunk.append({
                "obs_key": digest_key(f"bench {i}"), "source": "crawl",
                "listing_id": listing_id, "product_id": product_id, "partner_id": partner_id, "url": url,
                "observed_at": at, "price": (base * factor).quantize(Decimal("0.01")), "currency": currency,
                "availability": "in_stock", "visibility": "visible", "method": "json_ld", "confidence": 0.95,
                "raw_text": f"{(base * factor).quantize(Decimal('0.01'))}", "details": {},
            })
            if len(chunk) == 20_000:
                session.execute(insert(Observation), chunk)
                chunk.clear()
        if chunk:
            session.execute(insert(Observation), chunk)


def next_day(observations: int, products: int) -> int:
    """Add the store's next day of observations (every listing, as often as before); returns how many."""
    priced = _priced_listings(products)
    rounds = max(1, 24 // _hours(observations, len(priced)))
    end = (observations // len(priced) + rounds) * len(priced)
    insert_observations(priced, observations, end, observations)
    return end - observations


def dump(folder: Path) -> None:
    """The violations, detection's audit entries and the per-day rollups as sorted text, database ids replaced
    by keys."""
    import json

    from sqlalchemy import select

    from store import AuditLog, ComplianceDay, CrawlDay, Violation, session_scope

    folder.mkdir(parents=True, exist_ok=True)
    skip = {"id", "created_at", "updated_at"}
    with session_scope() as session:
        rows = session.scalars(select(Violation)).all()
        ref = {v.id: f"{v.key}#{v.repeat_number}" for v in rows}
        lines = sorted(json.dumps({c.name: getattr(v, c.key) for c in Violation.__table__.columns
                                   if c.name not in skip}, sort_keys=True, default=str) for v in rows)
        (folder / "violations.txt").write_text("\n".join(lines) + "\n")
        entries = session.scalars(select(AuditLog).where(AuditLog.actor == "detection")).all()
        lines = sorted(json.dumps({"action": a.action, "violation": ref.get(int(a.entity_id)), "before": a.before,
                                   "after": a.after, "reason": a.reason}, sort_keys=True, default=str)
                       for a in entries)
        (folder / "audit.txt").write_text("\n".join(lines) + "\n")
        # The review app's per-day rollups that the run rebuilt.
        for model in (ComplianceDay, CrawlDay):
            lines = sorted(json.dumps({c.name: getattr(r, c.key) for c in model.__table__.columns
                                       if c.name not in skip}, sort_keys=True, default=str)
                           for r in session.scalars(select(model)))
            (folder / f"{model.__tablename__}.txt").write_text("\n".join(lines) + "\n")


def timed_detect() -> tuple[float, dict[str, float], Any]:
    """One ``detect`` over the whole store as the CLI runs it, with the seconds of each phase."""
    import detection.anomaly
    import detection.misreport
    import detection.rollups
    import detection.run
    import detection.stale
    from store import session_scope

    phases: dict[str, float] = {}
    cpu_phases: dict[str, float] = {}  # this process's CPU seconds in each phase

    def wrap(module: Any, name: str, label: str) -> Callable[[], None]:
        original = getattr(module, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            started, cpu = time.perf_counter(), time.process_time()
            try:
                return original(*args, **kwargs)
            finally:
                phases[label] = phases.get(label, 0.0) + time.perf_counter() - started
                cpu_phases[label] = cpu_phases.get(label, 0.0) + time.process_time() - cpu

        setattr(module, name, timed)
        return lambda: setattr(module, name, original)

    undo = [wrap(detection.run, "observations_frame", "load"), wrap(detection.run, "judge", "judge"),
            wrap(detection.run, "finding_records", "findings"), wrap(detection.run, "apply_findings", "lifecycle"),
            wrap(detection.misreport, "detect_misreports", "misreports"),
            wrap(detection.anomaly, "detect_anomalies", "anomalies"), wrap(detection.stale, "detect_stale", "stale"),
            wrap(detection.rollups, "refresh", "rollups")]
    started, cpu = time.perf_counter(), time.process_time()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)  # the anomaly models' forked child, once reaped
    mine = _scheduled(os.getpid())
    server: tuple[int, tuple[float, float]] | None = None
    try:
        with session_scope() as session:
            if session.get_bind().dialect.name == "postgresql":
                from sqlalchemy import text

                backend = int(session.execute(text("SELECT pg_backend_pid()")).scalar_one())
                server = backend, _scheduled(backend)
            summary = detection.run.detect(session)
            commit_from = time.perf_counter()
        phases["commit"] = time.perf_counter() - commit_from
    finally:
        for restore in undo:
            restore()
    phases["cpu"] = time.process_time() - cpu  # this process's CPU seconds (the database server's aside)
    reaped = resource.getrusage(resource.RUSAGE_CHILDREN)
    phases["child_cpu"] = (reaped.ru_utime - children.ru_utime) + (reaped.ru_stime - children.ru_stime)
    # Where the wall went: on a core, waiting for one (the run queue), or neither (disk, the server, locks).
    on_cpu, queued = (b - a for a, b in zip(mine, _scheduled(os.getpid()), strict=True))
    phases["queued"] = queued
    if server is not None:
        backend_cpu, backend_queued = (b - a for a, b in zip(server[1], _scheduled(server[0]), strict=True))
        phases["server_cpu"], phases["server_queued"] = backend_cpu, backend_queued
    seconds = time.perf_counter() - started
    phases["off_cpu"] = max(0.0, seconds - on_cpu - queued)
    print("  CPU by phase: " + ", ".join(f"{k} {v:.1f}" for k, v in cpu_phases.items()), flush=True)
    return seconds, phases, summary


def _scheduled(pid: int) -> tuple[float, float]:
    """Seconds that process ``pid`` (all its threads) spent on a core and waiting in the run queue
    (``/proc/PID/task/*/schedstat``; zeros where the kernel does not give them)."""
    on_cpu = queued = 0
    for task in Path(f"/proc/{pid}/task").glob("*/schedstat"):
        try:
            ran, waited, _ = task.read_text().split()
        except (OSError, ValueError):
            continue
        on_cpu, queued = on_cpu + int(ran), queued + int(waited)
    return on_cpu / 1e9, queued / 1e9


def _reuse(store: Path | None, key: str, workspace: Path, database: str | None) -> bool:
    """Copy a kept store for ``key`` into place (``True``), or say it must be built."""
    if store is None or not (store / key / "built").exists():
        return False
    if database:
        _pg(database, f'CREATE DATABASE "{_db_name(database)}" TEMPLATE "{(store / key / "built").read_text()}"')
    shutil.copytree(store / key / "workspace", workspace)
    return True


def _keep(store: Path | None, key: str, workspace: Path, database: str | None) -> None:
    """Keep the store just built under ``store/key`` (PostgreSQL: as a template database)."""
    if store is None:
        return
    from store import get_engine

    get_engine().dispose()
    (store / key).mkdir(parents=True, exist_ok=True)
    shutil.copytree(workspace, store / key / "workspace", dirs_exist_ok=True)
    template = ""
    if database:
        template = f"{_db_name(database)}_tpl_{key}"
        _pg(database, f'CREATE DATABASE "{template}" TEMPLATE "{_db_name(database)}"')
    (store / key / "built").write_text(template)


def _catch_up_schema() -> None:
    """A kept store brought to this code's schema: the tables, columns and indexes added since."""
    from sqlalchemy import inspect, text

    from store import Base, get_engine

    engine = get_engine()
    Base.metadata.create_all(engine)
    found = inspect(engine)
    # Every index by name (the inspector leaves out the expression indexes on SQLite).
    listed = "SELECT name FROM sqlite_master WHERE type = 'index'" if engine.dialect.name == "sqlite" \
        else "SELECT indexname FROM pg_indexes"
    with engine.begin() as conn:
        indexes = set(conn.execute(text(listed)).scalars())
        for table in Base.metadata.sorted_tables:
            have = {c["name"] for c in found.get_columns(table.name)}
            for column in table.columns:
                if column.name not in have:
                    kind = column.type.compile(dialect=engine.dialect)
                    conn.execute(text(f'ALTER TABLE "{table.name}" ADD COLUMN "{column.name}" {kind}'))
            for index in table.indexes:
                if index.name not in indexes:
                    index.create(conn)


def _db_name(url: str) -> str:
    return url.rsplit("/", 1)[1].split("?", 1)[0]


def _pg(url: str, statement: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(statement))
    admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--observations", type=int, default=1_000_000)
    parser.add_argument("--products", type=int, default=500, help="sandbox world products (each ~20 listings)")
    parser.add_argument("--database", default=None,
                        help="a database URL that does not exist yet (made here; default: SQLite in a temp folder)")
    parser.add_argument("--store", type=Path, default=None, help="keep the built store here and reuse it")
    parser.add_argument("--dump", type=Path, default=None, help="write violations and audit entries here")
    parser.add_argument("--profile", type=Path, default=None, help="write a cProfile of each run here")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="pw-bench-detect-"))
    workspace = work / "workspace"
    os.environ["PRICEWARDEN_WORKSPACE"] = str(workspace)
    if args.database:
        os.environ["PRICEWARDEN_DATABASE_URL"] = args.database
    from pricewarden.settings import get_settings

    get_settings.cache_clear()
    load = os.getloadavg()
    print(f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}; database "
          f"{get_settings().database.split('://')[0]}", flush=True)
    key = f"{args.observations}-{args.products}"
    started = time.perf_counter()
    try:
        if _reuse(args.store, key, workspace, args.database):
            _catch_up_schema()
            print(f"store reused: {args.store / key}", flush=True)
        else:
            if args.database:
                _pg(args.database, f'CREATE DATABASE "{_db_name(args.database)}"')
            listings = build_store(args.observations, args.products, workspace)
            print(f"store built: {args.observations} observations over {listings} listings in "
                  f"{time.perf_counter() - started:.0f} s", flush=True)
            _keep(args.store, key, workspace, args.database)
        runs: dict[str, dict[str, Any]] = {}
        for run in ("cold", "day", "again"):
            if run == "day":
                added = next_day(args.observations, args.products)
                print(f"added the next day: {added} observations", flush=True)
            profiler = None
            if args.profile:
                import cProfile

                profiler = cProfile.Profile()
                profiler.enable()
            seconds, phases, summary = timed_detect()
            if profiler is not None:
                profiler.disable()
                args.profile.mkdir(parents=True, exist_ok=True)
                profiler.dump_stats(args.profile / f"{run}.prof")
            data = summary.as_dict()
            load = os.getloadavg()
            print(f"{run}: {seconds:.1f} s (" + ", ".join(f"{k} {v:.1f}" for k, v in phases.items()) +
                  f"); {data['observations']} observations judged, {data['new_violations']} new, "
                  f"{data['extended_violations']} extended, {data['resolved_violations']} resolved violations, "
                  f"{data['new_deviations']} new deviations, {data['new_anomalies']} new anomalies; "
                  f"load {load[0]:.1f}", flush=True)
            runs[run] = {"s": round(seconds, 1), **{k: round(v, 1) for k, v in phases.items()},
                         "observations": data["observations"], "load_average": round(load[0], 1)}
            if args.dump:
                dump(args.dump / run)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak RSS of this process: {peak:.0f} MB (store building included when it was built here)")
        if args.profile is None:
            from bench.record import record

            dialect = get_settings().database.split("://")[0].split("+")[0]
            record(f"detect_store_{dialect}",
                   f"pricewarden detect over a {dialect} store of {args.observations:,} observations: the first "
                   "run (cold), after one more day (day), with nothing new (again)",
                   "<= 10 s", "; ".join(f"{run} {r['s']} s (CPU {r['cpu']} s)" for run, r in runs.items())
                   + f"; peak RSS {peak:.0f} MB", runs=runs, peak_rss_mb=round(peak))
    finally:
        from store import get_engine

        get_engine().dispose()
        if args.database:
            _pg(args.database, f'DROP DATABASE IF EXISTS "{_db_name(args.database)}"')
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
