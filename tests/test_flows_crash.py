"""Crash safety: a monitor run killed at any stage and run again ends exactly like a run never killed.

Each run is a real process (``python -m flows.monitor --direct``) over a small slice of the sandbox
world on simulated day 4 (P003 breaks MAP on AC-100). Every crashed run starts from a copy of the same
prepared database; after the crash it is run again for the same slot, and the database counts and
what the local receiver got (distinct by idempotency key) must equal the uncrashed run's.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select

from flows import clock, steps
from flows.receiver import Receiver

pytestmark = [pytest.mark.slow, pytest.mark.browser]
FAMILIES = ("jsonld", "opengraph", "microdata")  # static pages: no browser needed to crawl them
KEEP = 10


@pytest.fixture(scope="module")
def world_slice(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A prepared workspace (catalog, policies, a few listings), the served world and a receiver."""
    from demo import World, serve, write_workspace
    from policies import publish_policy
    from store import upgrade
    from store.catalog import import_catalog
    from store.db import make_engine, session_scope
    from store.models import Listing, Partner, User

    root = tmp_path_factory.mktemp("crash")
    ws = root / "ws"
    saved = {k: os.environ.get(k) for k in ("PRICEWARDEN_WORKSPACE", "PRICEWARDEN_DATABASE_URL")}
    world = World(seed=7, products=20, day=4)
    with serve(world) as running, Receiver() as receiver:
        running.set_day(4)
        write_workspace(ws, world, running.origins)
        template = root / "template.db"
        url = f"sqlite:///{template}"
        os.environ["PRICEWARDEN_WORKSPACE"] = str(ws)
        os.environ["PRICEWARDEN_DATABASE_URL"] = url
        from pricewarden.settings import get_settings

        get_settings.cache_clear()
        engine = make_engine(url)
        upgrade(engine)
        import_catalog(ws / "catalog", actor="test", engine=engine)
        with session_scope(engine) as session:
            for path in sorted((ws / "policies").glob("*.yaml")):
                publish_policy(session, path, published_by="test")
            origins = {running.origins[f] for f in FAMILIES}
            listings = list(session.scalars(select(Listing).order_by(Listing.id)))
            keep = [x for x in listings if any(x.url.startswith(o) for o in origins)]
            p003 = session.scalar(select(Partner.id).where(Partner.code == "P003"))
            keep = sorted(keep, key=lambda x: (x.partner_id != p003, x.id))[:KEEP]
            for listing in listings:
                listing.active = listing in keep
            for user in session.scalars(select(User).where(User.role != "partner")):
                user.notification_urls = [receiver.json_url(f"user/{user.username}")]
        engine.dispose()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        get_settings.cache_clear()
        yield {"root": root, "ws": ws, "template": template, "receiver": receiver}


def _run(slice_: dict[str, Any], db: Path, crash: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRICEWARDEN_") or k.startswith("PRICEWARDEN_TEST")}
    env.update({
        "PRICEWARDEN_WORKSPACE": str(slice_["ws"]), "PRICEWARDEN_DATABASE_URL": f"sqlite:///{db}",
        "PRICEWARDEN_CRAWL__RENDER_FALLBACK": "false", "PRICEWARDEN_CRAWL__AUTOTHROTTLE": "false",
        "PRICEWARDEN_CRAWL__RETRIES": "0", "PRICEWARDEN_CRAWL__PROCESSES": "1",
        "PRICEWARDEN_ALERTS__IMMEDIATE_SEVERITY": "low", "PRICEWARDEN_NETWORK__ALLOW": "127.0.0.1",
        # A crashed sender's message is due again at once (the real lease is minutes).
        "PRICEWARDEN_ALERTS__SENDING_LEASE_SECONDS": "0.001",
        clock.OFFSET_ENV: os.environ[clock.OFFSET_ENV],
    })
    env.pop(steps.CRASH_ENV, None)
    if crash:
        env[steps.CRASH_ENV] = crash
    at = clock.day_instant(4).isoformat()
    return subprocess.run([sys.executable, "-m", "flows.monitor", "--direct", "--at", at], env=env,
                          capture_output=True, text=True, timeout=600)  # a hang still fails; a busy machine took >180 s


def _state(db: Path, receiver: Receiver) -> dict[str, Any]:
    from store.models import AlertDelivery, CrawlFailure, Observation, Violation

    engine = create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        counts = {
            "observations": conn.scalar(select(func.count()).select_from(Observation)),
            "failures": conn.scalar(select(func.count()).select_from(CrawlFailure)),
            "violations": sorted(conn.execute(select(Violation.key, Violation.status, Violation.occurrences)).all()),
            "screenshots": conn.scalar(select(func.count()).select_from(Violation)
                                       .where(Violation.screenshot_sha256.is_not(None))),
            "outbox": dict(Counter(s for (s,) in conn.execute(select(AlertDelivery.status)))),
            "outbox_keys": conn.scalar(select(func.count(func.distinct(AlertDelivery.idempotency_key)))),
        }
    engine.dispose()
    counts["received"] = sorted((m.path, m.title) for m in receiver.unique())
    return counts


@pytest.fixture(scope="module")
def baseline(world_slice: dict[str, Any]) -> Iterator[dict[str, Any]]:
    clock.go_to_day(4)
    try:
        db = world_slice["root"] / "baseline.db"
        shutil.copy(world_slice["template"], db)
        world_slice["receiver"].messages.clear()
        done = _run(world_slice, db, None)
        assert done.returncode == 0, done.stderr[-3000:]
        yield _state(db, world_slice["receiver"])
    finally:
        clock.uninstall()


def test_the_uncrashed_run_found_and_alerted_something(baseline: dict[str, Any]) -> None:
    assert baseline["observations"] > 0
    assert any(status == "open" for _k, status, _n in baseline["violations"])
    assert baseline["received"], "no alert reached the receiver"


@pytest.mark.parametrize("stage", ["crawl", "detect", "evidence", "enqueue", "delivery"])
def test_a_run_killed_at_a_stage_and_run_again_ends_like_the_uncrashed_run(
    world_slice: dict[str, Any], baseline: dict[str, Any], stage: str,
) -> None:
    clock.go_to_day(4)
    try:
        db = world_slice["root"] / f"crash-{stage}.db"
        shutil.copy(world_slice["template"], db)
        receiver = world_slice["receiver"]
        receiver.messages.clear()
        crashed = _run(world_slice, db, stage)
        assert crashed.returncode in (137, -9), crashed.stderr[-3000:]
        again = _run(world_slice, db, None)
        assert again.returncode == 0, again.stderr[-3000:]
        assert _state(db, receiver) == baseline
    finally:
        clock.uninstall()
