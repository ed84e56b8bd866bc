"""Scale-out: a Prefect server, a process work pool, two workers, one deployment run per shard, one PostgreSQL.

Every listing is crawled exactly once (by the shard that owns its site), and nothing is stored or sent
twice. Needs ``PRICEWARDEN_TEST_POSTGRES`` (a server where the test may create a database).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select, text

from flows.receiver import Receiver

# db: it runs in the PostgreSQL pass of the suite (PRICEWARDEN_TEST_ONLY_DB), where it is not skipped.
pytestmark = [pytest.mark.slow, pytest.mark.db]
REPO = Path(__file__).resolve().parents[1]
PREFECT = str(Path(sys.executable).with_name("prefect"))
FAMILIES = ("jsonld", "opengraph", "microdata", "rdfa", "plain", "eushop")
SHARDS = 2


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def pg_url() -> Iterator[str]:
    server = os.environ.get("PRICEWARDEN_TEST_POSTGRES")
    if not server:
        pytest.skip("scale-out needs PostgreSQL: set PRICEWARDEN_TEST_POSTGRES=postgresql+psycopg://user@host/db")
    name = f"pw_scale_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield f"{server.rpartition('/')[0]}/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _stop(proc: subprocess.Popen[Any]) -> None:
    # SIGINT: a process worker ignores SIGTERM while the server is down.
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def _wait_for_line(proc: subprocess.Popen[str], marker: str) -> None:
    assert proc.stdout is not None
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if marker in line:
            # Keep draining, or the server blocks on a full pipe.
            threading.Thread(target=proc.stdout.read, daemon=True).start()
            return
    raise AssertionError(f"process ended before printing {marker!r}: {''.join(seen)[-2000:]}")


def _wait_healthy(api: str) -> None:
    """The banner comes before uvicorn binds; wait for /health with a connect timeout (no fixed sleeps)."""
    import httpx

    with httpx.Client(transport=httpx.HTTPTransport(retries=60)) as client:
        for _ in range(120):
            try:
                if client.get(f"{api}/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                threading.Event().wait(0.5)
    raise AssertionError("the Prefect server did not become healthy")


def test_shards_run_on_two_workers_crawl_each_listing_once_and_store_nothing_twice(
    pg_url: str, tmp_path: Path,
) -> None:
    from demo import World, serve, write_workspace
    from policies import publish_policy
    from store import upgrade
    from store.catalog import import_catalog
    from store.db import make_engine, session_scope
    from store.models import AlertDelivery, CrawlFailure, CrawlRun, Listing, Observation, User, Violation

    ws = tmp_path / "ws"
    world = World(seed=7, products=20, day=4)
    processes: list[subprocess.Popen[Any]] = []
    with serve(world) as running, Receiver() as receiver:
        running.set_day(4)
        write_workspace(ws, world, running.origins)
        engine = make_engine(pg_url)
        upgrade(engine)
        import_catalog(ws / "catalog", actor="test", engine=engine)
        with session_scope(engine) as session:
            for path in sorted((ws / "policies").glob("*.yaml")):
                publish_policy(session, path, published_by="test")
            origins = [running.origins[f] for f in FAMILIES]
            kept: list[int] = []
            for listing in session.scalars(select(Listing).order_by(Listing.id)):
                mine = [o for o in origins if listing.url.startswith(o + "/")]
                listing.active = bool(mine) and sum(1 for _ in kept) < 60 and listing.id % 3 == 0
                if listing.active:
                    kept.append(listing.id)
            for user in session.scalars(select(User).where(User.role != "partner")):
                user.notification_urls = [receiver.json_url(f"user/{user.username}")]
        assert kept

        port = _free_port()
        api = f"http://127.0.0.1:{port}/api"
        base = {k: v for k, v in os.environ.items() if not k.startswith(("PRICEWARDEN_", "PREFECT_"))}
        env = {**base, "PREFECT_HOME": str(tmp_path / "prefect"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
               "PREFECT_API_URL": api, "PRICEWARDEN_WORKSPACE": str(ws), "PRICEWARDEN_DATABASE_URL": pg_url,
               "PRICEWARDEN_CRAWL__RENDER_FALLBACK": "false", "PRICEWARDEN_CRAWL__AUTOTHROTTLE": "false",
               "PRICEWARDEN_CRAWL__RETRIES": "0", "PRICEWARDEN_CRAWL__PROCESSES": "1",
               "PRICEWARDEN_ALERTS__IMMEDIATE_SEVERITY": "low", "PRICEWARDEN_NETWORK__ALLOW": "127.0.0.1",
               "PYTHONUNBUFFERED": "1"}
        try:
            server = subprocess.Popen([PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                                      env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            processes.append(server)
            _wait_for_line(server, "Check out the dashboard")
            _wait_healthy(api)
            made = subprocess.run([PREFECT, "work-pool", "create", "pw-test", "--type", "process"], env=env,
                                  capture_output=True, text=True, timeout=120)
            assert made.returncode == 0, made.stdout[-2000:] + made.stderr[-2000:]
            deploy = (f"from prefect import flow; flow.from_source(source={str(REPO)!r}, "
                      "entrypoint='flows/monitor.py:monitor').deploy(name='shard', work_pool_name='pw-test')")
            done = subprocess.run([sys.executable, "-c", deploy], env=env, capture_output=True, text=True,
                                  timeout=120, cwd=REPO)
            assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
            for i in range(2):
                processes.append(subprocess.Popen([PREFECT, "worker", "start", "--pool", "pw-test", "--name",
                                                   f"machine-{i}", "--limit", "1"], env=env,
                                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            at = "2026-11-23T10:00:00+00:00"
            runs = [subprocess.Popen([PREFECT, "deployment", "run", "monitor/shard", "-p", f"shard={s}",
                                      "-p", f"shards={SHARDS}", "-p", f"at={at}", "-p", "capture=false", "--watch"],
                                     env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                    for s in range(SHARDS)]
            outputs = [r.communicate(timeout=240)[0] for r in runs]
            for run, out in zip(runs, outputs, strict=True):
                assert run.returncode == 0, out[-3000:]
        finally:
            for proc in reversed(processes):
                _stop(proc)

        with engine.connect() as conn:
            # Each listing ends as observations or as a crawl failure (the world plants faults); either
            # way exactly one crawl run, of one shard, handled it.
            handled = conn.execute(
                select(Observation.listing_id, Observation.crawl_run_id).where(Observation.listing_id.is_not(None))
                .union(select(CrawlFailure.listing_id, CrawlFailure.crawl_run_id)
                       .where(CrawlFailure.listing_id.is_not(None)))).all()
            shards = conn.scalars(select(CrawlRun.shard)).all()
            obs = conn.scalar(select(func.count()).select_from(Observation))
            obs_keys = conn.scalar(select(func.count(func.distinct(Observation.obs_key))))
            open_keys = conn.execute(select(Violation.key, func.count()).where(Violation.status == "open")
                                     .group_by(Violation.key).having(func.count() > 1)).all()
            sent = conn.scalar(select(func.count()).select_from(AlertDelivery).where(AlertDelivery.status == "sent"))
        engine.dispose()
    runs_of: dict[int, set[int]] = {}
    for listing_id, run_id in handled:
        runs_of.setdefault(listing_id, set()).add(run_id)
    assert set(runs_of) == set(kept), "every listing is crawled"
    assert all(len(r) == 1 for r in runs_of.values()), "a listing was crawled by two shards"
    assert sorted(shards) == sorted(set(shards)) and len(shards) <= SHARDS, "each shard ran once"
    assert obs == obs_keys
    assert open_keys == []
    keys = [m.key for m in receiver.messages]
    assert len(keys) == len(set(keys)) == sent
