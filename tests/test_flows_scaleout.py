"""Scale-out by itself: a Prefect server, a process work pool, two workers, one PostgreSQL.

One run of the ``monitor`` deployment fans its crawl out over the pool: it crawls shard 0 itself and
submits shard 1 as a ``monitor-shard`` run, which the other worker takes. That shard's first run is
killed mid-way (after its crawl, before it reports: ``os._exit(137)``, as a killed worker); the
monitor submits it again, and the retry stores nothing twice. Then the monitor detects and alerts
once. Every listing is crawled by exactly one shard. Needs ``PRICEWARDEN_TEST_POSTGRES``.
"""

from __future__ import annotations

import json
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


# Run in a subprocess against the test's Prefect server: what each flow run did and which worker ran it.
_RUNS = """
import json, re
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
with get_client(sync_client=True) as client:
    names = {d.id: d.name for d in client.read_deployments()}
    out = []
    for run in client.read_flow_runs():
        logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run.id])))
        workers = sorted({m.group(1) for log in logs
                          for m in [re.search(r"Worker '([^']+)' submitting", log.message)] if m})
        out.append({"deployment": names.get(run.deployment_id), "state": run.state.type.value,
                    "shard": run.parameters.get("shard"), "workers": workers})
print(json.dumps(out))
"""
_ONLINE = """
import sys, time
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import WorkerFilter, WorkerFilterStatus
with get_client(sync_client=True) as client:
    for _ in range(240):
        online = client.read_workers_for_work_pool(
            "pw-test", worker_filter=WorkerFilter(status=WorkerFilterStatus(any_=["ONLINE"])))
        if len(online) >= int(sys.argv[1]):
            sys.exit(0)
        time.sleep(0.5)
sys.exit(1)
"""


def test_the_monitor_fans_out_over_two_workers_retries_a_killed_shard_and_stores_nothing_twice(
    pg_url: str, tmp_path: Path,
) -> None:
    from demo import World, serve, write_workspace
    from policies import publish_policy
    from store import upgrade
    from store.catalog import import_catalog
    from store.db import make_engine, session_scope
    from store.models import AlertDelivery, CrawlFailure, CrawlRun, Listing, Observation, User, Violation

    ws = tmp_path / "ws"
    marker = tmp_path / "killed-once"
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
            per_site: dict[str, int] = {}
            for listing in session.scalars(select(Listing).order_by(Listing.id)):
                mine = [o for o in origins if listing.url.startswith(o + "/")]
                # Up to ten listings of every family, so that every site (and so both shards) has work.
                listing.active = bool(mine) and per_site.get(mine[0], 0) < 10 and listing.id % 3 == 0
                if listing.active:
                    per_site[mine[0]] = per_site.get(mine[0], 0) + 1
                    kept.append(listing.id)
            for user in session.scalars(select(User).where(User.role != "partner")):
                user.notification_urls = [receiver.json_url(f"user/{user.username}")]
        # (the sites are on free ports, so their hashes may put all six in one shard: the monitor's placement
        # still gives both shards work, crawlers.targets.place_sites)
        assert len(per_site) == len(FAMILIES), per_site

        port = _free_port()
        api = f"http://127.0.0.1:{port}/api"
        base = {k: v for k, v in os.environ.items() if not k.startswith(("PRICEWARDEN_", "PREFECT_"))}
        env = {**base, "PREFECT_HOME": str(tmp_path / "prefect"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
               "PREFECT_API_URL": api, "PRICEWARDEN_WORKSPACE": str(ws), "PRICEWARDEN_DATABASE_URL": pg_url,
               "PRICEWARDEN_CRAWL__RENDER_FALLBACK": "false", "PRICEWARDEN_CRAWL__AUTOTHROTTLE": "false",
               "PRICEWARDEN_CRAWL__RETRIES": "0", "PRICEWARDEN_CRAWL__PROCESSES": "1",
               "PRICEWARDEN_ALERTS__IMMEDIATE_SEVERITY": "low", "PRICEWARDEN_NETWORK__ALLOW": "127.0.0.1",
               "PYTHONUNBUFFERED": "1",
               # A worker that lost a race for a run asks again soon (the default is every 10 s).
               "PREFECT_WORKER_QUERY_SECONDS": "2"}
        try:
            server = subprocess.Popen([PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                                      env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            processes.append(server)
            _wait_for_line(server, "Check out the dashboard")
            _wait_healthy(api)
            made = subprocess.run([PREFECT, "work-pool", "create", "pw-test", "--type", "process"], env=env,
                                  capture_output=True, text=True, timeout=120)
            assert made.returncode == 0, made.stdout[-2000:] + made.stderr[-2000:]
            deploy = (f"from prefect import flow\nsource = flow.from_source(source={str(REPO)!r}, "
                      "entrypoint='flows/monitor.py:monitor')\n"
                      "source.deploy(name='monitor', work_pool_name='pw-test')\n"
                      "source.deploy(name='monitor-shard', work_pool_name='pw-test', "
                      "parameters={'crawl_only': True})\n")
            done = subprocess.run([sys.executable, "-c", deploy], env=env, capture_output=True, text=True,
                                  timeout=180, cwd=REPO)
            assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
            # The shard run that first reaches the end of its crawl dies there, like a killed worker.
            workers_env = {**env, "PRICEWARDEN_TEST_CRASH_AT": "crawl", "PRICEWARDEN_TEST_CRASH_ONCE": str(marker)}
            for i in range(2):
                processes.append(subprocess.Popen([PREFECT, "worker", "start", "--pool", "pw-test", "--name",
                                                   f"machine-{i}", "--limit", "1"], env=workers_env,
                                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            online = subprocess.run([sys.executable, "-c", _ONLINE, "2"], env=env, timeout=180)
            assert online.returncode == 0, "the two workers did not come online"
            at = "2026-11-23T10:00:00+00:00"
            run = subprocess.run([PREFECT, "deployment", "run", "monitor/monitor", "-p", f"at={at}",
                                  "-p", "capture=false", "--watch"], env=env, capture_output=True, text=True,
                                 timeout=600)
            assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
            listed = subprocess.run([sys.executable, "-c", _RUNS], env=env, capture_output=True, text=True,
                                    timeout=120)
            assert listed.returncode == 0, listed.stderr[-2000:]
            flow_runs = json.loads(listed.stdout.strip().splitlines()[-1])
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
    # Two shards, each one crawl run (the retried shard reused its run: same slot, same key).
    assert sorted(s.split(":")[0] for s in shards) == ["0of2", "1of2"], shards
    assert obs == obs_keys and obs > 0
    assert open_keys == []
    keys = [m.key for m in receiver.messages]
    assert len(keys) == len(set(keys)) == sent and sent > 0

    # One monitor run; shard 1 killed once, then done on a retry; shard 0 in the monitor's own run.
    assert marker.exists()
    (parent,) = [r for r in flow_runs if r["deployment"] == "monitor"]
    shard_runs = [r for r in flow_runs if r["deployment"] == "monitor-shard"]
    assert parent["state"] == "COMPLETED"
    assert sorted(r["state"] for r in shard_runs) == ["COMPLETED", "CRASHED"], shard_runs
    assert {r["shard"] for r in shard_runs} == {1}
    # The two shards ran on the two workers: the monitor's on one, shard 1 on the other.
    shard_workers = {w for r in shard_runs for w in r["workers"]}
    if len(parent["workers"]) == 1:
        (monitor_worker,) = parent["workers"]
        assert shard_workers and monitor_worker not in shard_workers, (parent, shard_runs)
    else:
        # Both workers claimed the monitor's run (Prefect's server aborts the second claim; the run's
        # logs do not say which one won): both workers took work, and the shard ran once.
        assert set(parent["workers"]) == {"machine-0", "machine-1"} and shard_workers, (parent, shard_runs)
