"""Prefect's environment: its own home (and database) under the workspace, analytics off.

Prefect must never share PriceWarden's database: it owns an ``alembic_version`` table of its own.
Unless the user set ``PREFECT_HOME`` (or points ``PREFECT_API_URL`` at a server), Prefect keeps its
state in ``<workspace>/.prefect``. This runs before ``prefect`` is first imported, because Prefect
reads its settings at import.

A new Prefect home costs ~7 s of database migrations at its first start. The demo, which makes a
fresh workspace every time, starts from a migrated template instead: ``python -m flows._env
--template`` (run by ``make demo``) migrates one per Prefect version under
``~/.cache/pricewarden/`` once per machine, and :func:`seed_from_template` copies it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

# Prefect gives its temporary server 20 s to answer; a busy 2-core machine (a crawl or a test suite
# running beside it) needed more: every flow of the demo failed at "Timed out while attempting to
# connect to ephemeral Prefect API server" at load average 10-26.
STARTUP_TIMEOUT_ENV = "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"
STARTUP_TIMEOUT = "120"


def prepare(workspace: Path | None = None) -> Path:
    """Set ``PREFECT_HOME`` (unless set) and turn analytics off; returns Prefect's home."""
    if workspace is None:
        workspace = Path(os.environ.get("PRICEWARDEN_WORKSPACE", "workspace"))
    os.environ.setdefault("PREFECT_HOME", str((workspace / ".prefect").resolve()))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    # The demo and CLI print their own summaries; Prefect's INFO lines would drown them.
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault(STARTUP_TIMEOUT_ENV, STARTUP_TIMEOUT)
    home = Path(os.environ["PREFECT_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    return home


def template_dir() -> Path:
    """Where the migrated Prefect home template of this Prefect version is kept."""
    from importlib.metadata import version

    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "pricewarden" / f"prefect-home-{version('prefect')}"


def make_template() -> Path:
    """Migrate a Prefect home once (in a child process with its own environment); returns its folder."""
    target = template_dir()
    if (target / "prefect.db").is_file():
        return target
    building = target.with_name(target.name + f".tmp-{os.getpid()}")
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    env = {STARTUP_TIMEOUT_ENV: STARTUP_TIMEOUT, **os.environ, "PREFECT_HOME": str(building),
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_LOGGING_LEVEL": "WARNING"}
    env.pop("PREFECT_API_URL", None)
    database = str(building / "prefect.db")
    code = ("from prefect.server.api.server import SubprocessASGIServer\n"
            "s = SubprocessASGIServer(); s.start(); s.stop()\n"
            f"import sqlite3; c = sqlite3.connect({database!r}); c.execute('PRAGMA wal_checkpoint(TRUNCATE)')\n"
            "c.close()\n")
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=300)
    try:
        building.rename(target)
    except OSError:  # another process made it meanwhile
        shutil.rmtree(building, ignore_errors=True)
    return target


def seed_from_template(home: Path) -> bool:
    """Copy the migrated template into an empty Prefect ``home``; False when there is no template."""
    source = template_dir()
    if not (source / "prefect.db").is_file() or (home / "prefect.db").exists():
        return False
    home.mkdir(parents=True, exist_ok=True)
    for item in source.iterdir():
        if item.is_file():
            shutil.copy2(item, home / item.name)
    return True


if __name__ == "__main__":
    if sys.argv[1:] == ["--template"]:
        print(f"prefect: migrated home template at {make_template()}")
    else:
        sys.exit("usage: python -m flows._env --template")
