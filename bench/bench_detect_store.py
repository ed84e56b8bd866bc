"""Benchmark: ``pricewarden detect`` over a store of 1,000,000 observations (load, judge, lifecycle, write).

Builds a store (SQLite by default, or ``--database`` URL, e.g. a fresh PostgreSQL database) with the
sandbox world's catalog and both published policy versions, then ``--observations`` crawled
observations spread over every listing and 28 days, priced around each SKU's floor (about 1 in 12
below it: violations that open, persist and resolve). Then it runs detection as ``pricewarden
detect`` does, in this process, and prints the time of each phase: load (the observations frame),
judge (the vectorised rules), findings (records with evidence), lifecycle (episodes advanced and
written to the session), misreports, anomalies, stale listings and the commit. Run twice: the first
run opens every episode, the second finds nothing new (the steady state of a monitor).

    .venv/bin/python bench/bench_detect_store.py [--observations 1000000] [--products 500]
    .venv/bin/python bench/bench_detect_store.py --database postgresql+psycopg://postgres@127.0.0.1/pw_bench

Target (DESIGN.md, this 2-core machine): <= 10 s. The machine is shared: figures are noisy.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
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
    from sqlalchemy import insert, select

    from demo import World, write_workspace
    from policies import publish_policy
    from store import Listing, Observation, session_scope, upgrade
    from store.catalog import import_catalog

    upgrade()
    world = World(seed=7, products=products, day=1)
    write_workspace(workspace, world)
    import_catalog(workspace / "catalog", actor="bench")
    with session_scope() as session:
        for path in sorted((workspace / "policies").glob("*.yaml")):
            publish_policy(session, path, published_by="bench")
    by_sku = {p.sku: p for p in world.products}
    from store import Product

    with session_scope() as session:
        listings = session.execute(select(Listing.id, Listing.product_id, Listing.partner_id, Listing.url,
                                          Listing.region, Product.sku)
                                   .join(Product, Listing.product_id == Product.id).order_by(Listing.id)).all()
    rng = random.Random(7)
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
    per_listing_hours = max(1, int(28 * 24 * len(priced) / observations))
    chunk: list[dict[str, Any]] = []
    with session_scope() as session:
        for i in range(observations):
            listing_id, product_id, partner_id, url, base, currency = priced[i % len(priced)]
            at = START + timedelta(hours=per_listing_hours * (i // len(priced)), seconds=i % 3600)
            # Mostly at or above the floor; runs of a few observations below it (breaches that resolve).
            below = (i // len(priced) + listing_id) % 12 == 0
            factor = Decimal(rng.randint(86, 97) if below else rng.randint(100, 112)) / 100
            chunk.append({
                "obs_key": hashlib.sha256(f"bench {i}".encode()).hexdigest(), "source": "crawl",
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
    return len(priced)


def timed_detect() -> tuple[float, dict[str, float], Any]:
    """One ``detect`` over the whole store as the CLI runs it, with the seconds of each phase."""
    import detection.anomaly
    import detection.misreport
    import detection.run
    import detection.stale
    from store import session_scope

    phases: dict[str, float] = {}

    def wrap(module: Any, name: str, label: str) -> Callable[[], None]:
        original = getattr(module, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                phases[label] = phases.get(label, 0.0) + time.perf_counter() - started

        setattr(module, name, timed)
        return lambda: setattr(module, name, original)

    undo = [wrap(detection.run, "observations_frame", "load"), wrap(detection.run, "judge", "judge"),
            wrap(detection.run, "finding_records", "findings"), wrap(detection.run, "apply_findings", "lifecycle"),
            wrap(detection.misreport, "detect_misreports", "misreports"),
            wrap(detection.anomaly, "detect_anomalies", "anomalies"), wrap(detection.stale, "detect_stale", "stale")]
    started = time.perf_counter()
    try:
        with session_scope() as session:
            summary = detection.run.detect(session)
            commit_from = time.perf_counter()
        phases["commit"] = time.perf_counter() - commit_from
    finally:
        for restore in undo:
            restore()
    return time.perf_counter() - started, phases, summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--observations", type=int, default=1_000_000)
    parser.add_argument("--products", type=int, default=500, help="sandbox world products (each ~20 listings)")
    parser.add_argument("--database", default=None, help="an empty database's URL (default: SQLite in a temp folder)")
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="pw-bench-detect-"))
    os.environ["PRICEWARDEN_WORKSPACE"] = str(work / "workspace")
    if args.database:
        os.environ["PRICEWARDEN_DATABASE_URL"] = args.database
    from pricewarden.settings import get_settings

    get_settings.cache_clear()
    load = os.getloadavg()
    print(f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}; database "
          f"{get_settings().database.split('://')[0]}", flush=True)
    started = time.perf_counter()
    listings = build_store(args.observations, args.products, work / "workspace")
    print(f"store built: {args.observations} observations over {listings} listings in "
          f"{time.perf_counter() - started:.0f} s", flush=True)
    for run in range(args.runs):
        seconds, phases, summary = timed_detect()
        data = summary.as_dict()
        print(f"run {run + 1}: {seconds:.1f} s (" + ", ".join(f"{k} {v:.1f}" for k, v in phases.items()) +
              f"); {data['observations']} observations, {data['new_violations']} new, "
              f"{data['extended_violations']} extended, {data['resolved_violations']} resolved violations, "
              f"{data['new_deviations']} new deviations, {data['new_anomalies']} new anomalies", flush=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of this process: {peak:.0f} MB (store building included)")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
