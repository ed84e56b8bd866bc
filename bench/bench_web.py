"""Benchmark the review app's two hot pages on a generated store: the violations list under many filters,
and a violation page (numbers, explain chain, evidence verified, timeline).

Store: ``--observations`` (1,000,000), ``--violations`` (100,000), ``--partners`` (1,000) with their
listings, 1,000 SKUs, a published policy with a rule per SKU, and evidence blobs (a ~400 KB page and a
screenshot) that every violation page reads back and verifies. Requests go through the whole app in
this process (routing, session, access rule, queries, templates): that is the server-side time the
target speaks of (p95 <= 150 ms). Prints p50 and p95 per page, and on PostgreSQL the list query's plan.

    .venv/bin/python bench/bench_web.py [--db sqlite|postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
                                        [--observations 1000000] [--violations 100000] [--partners 1000]
                                        [--requests 30] [--keep]

The machine is shared: figures are noisy; compare runs, never trust one.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, insert, text

T0 = datetime(2026, 1, 1, tzinfo=UTC)
SKUS = 1000
CHUNK = 20_000


def policy_text() -> str:
    lines = ["policy: Bench policy", "effective_from: 2025-12-01T00:00", "timezone: UTC", "currency: USD",
             'tolerance: "0.00"', "scopes:", "  - name: us", "    regions: [US]", "    mode: map",
             "    currency: USD", "    escalation:", "      window_days: 90", "      steps:",
             "        - {name: warning, after: 1}", "        - {name: formal_notice, after: 2, notify_partner: true}",
             "rules:"]
    lines += [f'  - {{sku: SKU-{i:04d}, scope: us, map: "{100 + i % 400}.00"}}' for i in range(SKUS)]
    return "\n".join(lines) + "\n"


def build(url: str, ws: Path, n_obs: int, n_viol: int, n_partners: int) -> None:
    from argon2 import PasswordHasher

    from policies import publish_text
    from store import EvidenceStore, make_engine, session_scope, upgrade
    from store.models import Listing, Observation, Partner, Product, User, Violation

    engine = make_engine(url)
    upgrade(engine)
    rng = random.Random(7)
    hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    started = time.perf_counter()
    with session_scope(engine) as s:
        html = ("<html><body>" + "<div class='x'>filler text " * 16_000 + "<p class=price>$99.00</p></body></html>")
        evidence = EvidenceStore(str(ws / "evidence"))
        html_sha = evidence.put(s, html.encode(), kind="html", content_type="text/html")
        shot_sha = evidence.put(s, os.urandom(300_000), kind="screenshot", content_type="image/png", compress=False)
        publish_text(s, policy_text(), file="bench-policy.yaml")
        s.add_all([User(username="bianca", role="brand_manager", password_hash=hasher.hash("x"), regions=["US"]),
                   User(username="carl", role="channel_manager", password_hash=hasher.hash("x"), regions=["US"])])
    with engine.begin() as conn:
        conn.execute(insert(Product), [{"sku": f"SKU-{i:04d}", "title": f"Bench product {i}", "category": "bench"}
                                       for i in range(SKUS)])
        carl = conn.execute(text("SELECT id FROM users WHERE username = 'carl'")).scalar_one()
        conn.execute(insert(Partner), [
            {"code": f"P{i:04d}", "name": f"Partner {i}", "tier": "ABC"[i % 3], "regions": ["US"],
             "channel_manager_id": carl if i < 10 else None, "notice_urls": []} for i in range(n_partners)])
        partner_ids = [r[0] for r in conn.execute(text("SELECT id FROM partners ORDER BY id"))]
        product_ids = [r[0] for r in conn.execute(text("SELECT id FROM products ORDER BY id"))]
        listings = []
        for i, pid in enumerate(partner_ids):
            for k in range(20):
                listings.append({"url": f"http://127.0.0.1:9/{i}/{k}", "site": f"shop{i}.example",
                                 "product_id": product_ids[(i * 20 + k) % SKUS], "partner_id": pid, "region": "US"})
        conn.execute(insert(Listing), listings)
        rows = conn.execute(text("SELECT id, product_id, partner_id FROM listings ORDER BY id")).all()
    print(f"catalog: {len(rows)} listings ({time.perf_counter() - started:.1f} s)", flush=True)
    per_listing = max(1, n_obs // len(rows))
    obs_rows: list[dict[str, Any]] = []
    written = 0
    with engine.begin() as conn:
        for index, (lid, prod, part) in enumerate(rows):
            for k in range(per_listing):
                at = T0 + timedelta(hours=6 * k + index % 6)
                price = Decimal(80 + (index * 7 + k * 13) % 400)
                obs_rows.append({"obs_key": hashlib.sha256(f"{lid}|{k}".encode()).hexdigest(), "source": "crawl",
                                 "listing_id": lid, "product_id": prod, "partner_id": part,
                                 "url": f"http://127.0.0.1:9/{lid}", "observed_at": at, "price": price,
                                 "currency": "USD", "raw_text": f"${price}.00", "details": {},
                                 "html_sha256": html_sha, "screenshot_sha256": shot_sha})
                if len(obs_rows) >= CHUNK:
                    conn.execute(insert(Observation), obs_rows)
                    written += len(obs_rows)
                    obs_rows.clear()
        if obs_rows:
            conn.execute(insert(Observation), obs_rows)
            written += len(obs_rows)
    print(f"observations: {written} ({time.perf_counter() - started:.1f} s)", flush=True)
    rules = ["below_map", "hidden_price", "unauthorised_seller", "partner_misreport"]
    statuses = ["open", "open", "acknowledged", "resolved", "dismissed"]
    with engine.begin() as conn:
        batch: list[dict[str, Any]] = []
        for i in range(n_viol):
            lid, prod, part = rows[rng.randrange(len(rows))]
            first = T0 + timedelta(days=rng.randrange(0, 60), hours=rng.randrange(24))
            observed = Decimal(rng.randrange(50, 99))
            status = statuses[i % len(statuses)]
            batch.append({
                "key": hashlib.sha256(f"v{i}".encode()).hexdigest(), "kind": "violation", "rule": rules[i % 4],
                "mode": "map", "status": status, "severity": ["low", "medium", "high", "critical"][i % 4],
                "product_id": prod, "partner_id": part, "listing_id": lid, "region": "US",
                "observed_price": observed, "allowed_price": Decimal(100), "currency": "USD",
                "gap": Decimal(100) - observed, "gap_pct": Decimal(100) - observed, "policy_version": 1,
                "rule_ref": "v1 us sku", "first_seen_at": first, "last_seen_at": first + timedelta(days=2),
                "resolved_at": first + timedelta(days=3) if status == "resolved" else None,
                "escalation_step": "warning" if i % 3 else "formal_notice", "url": f"http://127.0.0.1:9/{lid}",
                "raw_text": f"${observed}.00", "html_sha256": html_sha, "screenshot_sha256": shot_sha,
                "details": {}, "occurrences": 2, "repeat_number": 1 + i % 3,
                "seller_name": f"Partner seller {i % 997}"})
            if len(batch) >= CHUNK:
                conn.execute(insert(Violation), batch)
                batch.clear()
        if batch:
            conn.execute(insert(Violation), batch)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    print(f"violations: {n_viol} ({time.perf_counter() - started:.1f} s)", flush=True)
    engine.dispose()


LIST_QUERIES = [
    "", "?status=open", "?status=open&status=acknowledged&kind=violation", "?partner=P0500", "?rule=below_map&tier=A",
    "?severity=critical&step=formal_notice", "?q=SKU-0042", "?sort=-gap", "?sort=severity&page=40",
    "?seen_from=2026-02-01&seen_to=2026-02-07", "?sku=SKU-0100&status=open", "?seller=Partner+seller+5",
]


def measure(url: str, ws: Path, n_requests: int) -> dict[str, list[float]]:
    from fastapi.testclient import TestClient

    from pricewarden.settings import Settings
    from store import make_engine, session_scope, utcnow
    from store.models import User
    from web.app import create_app
    from web.auth import fingerprint
    from web.security import COOKIE, SessionMiddleware, secret_key

    engine = make_engine(url)
    settings = Settings(workspace=ws, evidence_url=str(ws / "evidence"))
    app = create_app(settings, engine=engine)
    clients = {}
    with session_scope(engine) as s:
        for name in ("bianca", "carl"):
            user = s.query(User).filter_by(username=name).one()
            cookie = SessionMiddleware(app, key=secret_key(settings), max_age=3600).dump(
                {"uid": user.id, "login_at": int(utcnow().timestamp()), "fp": fingerprint(user), "locale": "en"})
            client = TestClient(app)
            client.cookies.set(COOKIE, cookie)
            clients[name] = client
        ids = [r[0] for r in s.execute(text("SELECT id FROM violations ORDER BY id"))]
    rng = random.Random(11)
    times: dict[str, list[float]] = {}
    for name, client in clients.items():
        client.get("/violations")  # warm: templates compiled, policy parsed
        for _round in range(max(1, n_requests // len(LIST_QUERIES))):
            for query in LIST_QUERIES:
                t = time.perf_counter()
                response = client.get("/violations" + query)
                times.setdefault(f"list ({name})", []).append(time.perf_counter() - t)
                assert response.status_code == 200, (query, response.status_code)
    client = clients["bianca"]
    for _ in range(n_requests):
        vid = rng.choice(ids)
        t = time.perf_counter()
        response = client.get(f"/violations/{vid}")
        times.setdefault("violation page", []).append(time.perf_counter() - t)
        assert response.status_code == 200 and "verified" in response.text
    if engine.dialect.name == "postgresql":
        from detection.review import filtered, parse_query

        with session_scope(engine) as s:
            user = s.query(User).filter_by(username="bianca").one()
            query, _problems = parse_query(s, user, {"status": ["open"], "rule": ["below_map"]})
            stmt = filtered(s, user, query).order_by(text("violations.last_seen_at DESC")).limit(50)
            compiled = stmt.compile(engine, compile_kwargs={"literal_binds": True})
            plan = s.execute(text(f"EXPLAIN ANALYZE {compiled}")).scalars().all()
        print("EXPLAIN ANALYZE of the list query (status=open, rule=below_map, newest first, 50 rows):")
        print("\n".join("  " + line for line in plan))
    engine.dispose()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default="sqlite")
    parser.add_argument("--observations", type=int, default=1_000_000)
    parser.add_argument("--violations", type=int, default=100_000)
    parser.add_argument("--partners", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=36)
    parser.add_argument("--keep", action="store_true", help="Keep the workspace (and PostgreSQL database).")
    args = parser.parse_args()
    ws = Path(tempfile.mkdtemp(prefix="pw-bench-web-"))
    os.environ["PRICEWARDEN_WORKSPACE"] = str(ws)
    admin = None
    if args.db == "sqlite":
        url = f"sqlite:///{ws / 'bench.db'}"
    else:
        name = f"pw_bench_web_{uuid.uuid4().hex[:8]}"
        admin = create_engine(args.db, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = args.db.rsplit("/", 1)[0] + "/" + name
    os.environ["PRICEWARDEN_DATABASE_URL"] = url
    try:
        build(url, ws, args.observations, args.violations, args.partners)
        times = measure(url, ws, args.requests)
        print(f"{'page':<22} {'n':>4} {'p50 ms':>8} {'p95 ms':>8}")
        for page, values in times.items():
            ordered = sorted(values)
            p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
            print(f"{page:<22} {len(values):>4} {statistics.median(values) * 1000:>8.1f} {p95 * 1000:>8.1f}")
    finally:
        if not args.keep:
            shutil.rmtree(ws, ignore_errors=True)
            if admin is not None:
                from store.db import engine_for

                engine_for.cache_clear()
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
        else:
            print(f"kept: {ws} {url}")


if __name__ == "__main__":
    main()
