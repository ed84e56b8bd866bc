"""Benchmark the /api/v1 hot paths on a generated store (bench_web.py's), interleaved with the review app's
list page and with /healthz (no auth) as the plain alternatives:

- ``api list``: a cursor walk, 50 violations a page, with a brand integration's token;
- ``api violation``: one violation with its evidence links;
- ``api auth only``: the token's subscriptions (auth, rate-limit upsert, a tiny query): the per-request
  price of a token;
- ``review list``: the review app's first page of violations (a signed-in session);
- ``healthz``: one database round trip, no auth.

Also times checking a token as stored (SHA-256, lookup by prefix) against checking it as passwords are
stored (argon2id, ``store.secrets``): why API tokens get a fast hash.

    .venv/bin/python bench/bench_api.py [--db sqlite|postgresql+psycopg://...] [--violations 100000]
                                        [--observations 200000] [--requests 60]

Requests go through the whole app in this process. The machine is shared: compare runs, never trust one.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sqlalchemy import create_engine, text


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000


def measure(url: str, ws: Path, n_requests: int) -> dict[str, list[float]]:
    from fastapi.testclient import TestClient

    from pricewarden.settings import Settings
    from store import make_engine, session_scope, utcnow
    from store.models import User
    from web.api.tokens import create_token
    from web.app import create_app
    from web.auth import fingerprint
    from web.security import COOKIE, SessionMiddleware, secret_key

    engine = make_engine(url)
    os.environ["PRICEWARDEN_API__RATE_LIMIT_PER_MINUTE"] = "1000000"
    settings = Settings(workspace=ws, evidence_url=str(ws / "evidence"))
    app = create_app(settings, engine=engine)
    with session_scope(engine) as s:
        _row, token = create_token(s, name="bench", scopes=["violations:read"], created_by="bench", user="bianca")
        user = s.query(User).filter_by(username="bianca").one()
        cookie = SessionMiddleware(app, key=secret_key(settings), max_age=3600).dump(
            {"uid": user.id, "login_at": int(utcnow().timestamp()), "fp": fingerprint(user), "locale": "en"})
        ids = [r[0] for r in s.execute(text("SELECT id FROM violations ORDER BY id"))]
    api = TestClient(app, headers={"Authorization": f"Bearer {token}"})
    review = TestClient(app)
    review.cookies.set(COOKIE, cookie)
    plain = TestClient(app)
    review.get("/violations")
    api.get("/api/v1/violations?limit=50")
    times: dict[str, list[float]] = {}
    cursor = ""
    step = max(1, len(ids) // n_requests)

    def timed(name: str, client: TestClient, path: str) -> object:
        t = time.perf_counter()
        response = client.get(path)
        times.setdefault(name, []).append(time.perf_counter() - t)
        assert response.status_code == 200, (path, response.status_code, response.text[:200])
        return response.json() if "json" in response.headers["content-type"] else None

    for i in range(n_requests):  # interleaved: every kind sees the same machine load
        page = timed("api list (50, cursor)", api, "/api/v1/violations?limit=50" + (f"&cursor={cursor}" if cursor
                                                                                      else ""))
        cursor = page["next_cursor"] or ""  # type: ignore[index]
        timed("api violation", api, f"/api/v1/violations/{ids[(i * step) % len(ids)]}")
        timed("api auth only", api, "/api/v1/webhooks")
        timed("review list (50)", review, "/violations")
        timed("healthz (no auth)", plain, "/healthz")
    engine.dispose()
    return times


def token_checks(rounds: int = 20) -> tuple[float, float]:
    """Mean seconds to check one token: SHA-256 + constant-time compare, and argon2id verify."""
    import hashlib
    import hmac
    import secrets

    from store.secrets import hash_secret, verify_secret

    token = f"pwt_{secrets.token_hex(6)}_{secrets.token_urlsafe(32)}"
    stored_fast, stored_slow = hashlib.sha256(token.encode()).hexdigest(), hash_secret(token)
    t = time.perf_counter()
    for _ in range(rounds * 1000):
        hmac.compare_digest(stored_fast, hashlib.sha256(token.encode()).hexdigest())
    fast = (time.perf_counter() - t) / (rounds * 1000)
    t = time.perf_counter()
    for _ in range(rounds):
        verify_secret(stored_slow, token)
    return fast, (time.perf_counter() - t) / rounds


def main() -> None:
    from bench_web import build

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default="sqlite")
    parser.add_argument("--observations", type=int, default=200_000)
    parser.add_argument("--violations", type=int, default=100_000)
    parser.add_argument("--partners", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=60)
    args = parser.parse_args()
    ws = Path(tempfile.mkdtemp(prefix="pw-bench-api-"))
    os.environ["PRICEWARDEN_WORKSPACE"] = str(ws)
    admin = None
    if args.db == "sqlite":
        url = f"sqlite:///{ws / 'bench.db'}"
    else:
        name = f"pw_bench_api_{uuid.uuid4().hex[:8]}"
        admin = create_engine(args.db, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = args.db.rsplit("/", 1)[0] + "/" + name
    os.environ["PRICEWARDEN_DATABASE_URL"] = url
    try:
        started = time.perf_counter()
        build(url, ws, args.observations, args.violations, args.partners)
        print(f"store: {args.violations} violations, {args.observations} observations "
              f"({time.perf_counter() - started:.0f} s to build); load average {os.getloadavg()[0]:.1f}")
        times = measure(url, ws, args.requests)
        base = statistics.median(times["healthz (no auth)"])
        print(f"{'request':<24} {'n':>4} {'p50 ms':>8} {'p95 ms':>8} {'p50 / healthz':>14}")
        for name, values in times.items():
            print(f"{name:<24} {len(values):>4} {p(values, 0.5):>8.1f} {p(values, 0.95):>8.1f} "
                  f"{statistics.median(values) / base:>14.1f}")
        fast, slow = token_checks()
        print(f"token check: SHA-256 {fast * 1e6:.1f} us, argon2id {slow * 1000:.1f} ms ({slow / fast:,.0f}x)")
        print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    finally:
        shutil.rmtree(ws, ignore_errors=True)
        if admin is not None:
            from store.db import engine_for

            engine_for.cache_clear()
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
