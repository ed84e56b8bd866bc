"""Prefect's environment: its own home (and database) under the workspace, analytics off, files owner-only.

Prefect must never share PriceWarden's database: it owns an ``alembic_version`` table of its own.
Unless the user set ``PREFECT_HOME`` (or points ``PREFECT_API_URL`` at a server), Prefect keeps its
state in ``<workspace>/.prefect``. This runs before ``prefect`` is first imported, because Prefect
reads its settings at import.

A new Prefect home costs ~7 s of database migrations; on a busy machine, more than the 20 s Prefect
gives its ephemeral server to start. So the migrations run when the workspace is created
(``pricewarden init``, the demo's workspace: :func:`migrate_home`), not at the first flow run, and
the server's start-up limit is ``prefect.startup_timeout`` (:mod:`flows._server`). The demo, which
makes a fresh workspace every time, copies a migrated template instead: ``python -m flows._env
--template`` (run by ``make demo``) migrates one per Prefect version under ``~/.cache/pricewarden/``
once per machine.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from pricewarden.files import FILE_MODE, make_private_dir, private_umask

# Run in a child process with the workspace's PREFECT_HOME: Prefect's own migrations, nothing else.
_MIGRATE = ("import asyncio\n"
            "from prefect.server.database import provide_database_interface\n"
            "asyncio.run(provide_database_interface().create_db())\n")


def prepare(workspace: Path | None = None) -> Path:
    """Set ``PREFECT_HOME`` (unless set), analytics off, the server's start-up limit; returns Prefect's home.

    Also makes this process's files owner-only (:func:`pricewarden.files.private_umask`): every flow
    run, wherever a worker starts it, comes through here.
    """
    private_umask()
    if workspace is None:
        workspace = Path(os.environ.get("PRICEWARDEN_WORKSPACE", "workspace"))
    os.environ.setdefault("PREFECT_HOME", str((workspace / ".prefect").resolve()))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    # The demo and CLI print their own summaries; Prefect's INFO lines would drown them.
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"] = str(int(startup_timeout() + 0.5))
    home = Path(os.environ["PREFECT_HOME"])
    make_private_dir(home)
    return home


def startup_timeout() -> float:
    """Seconds Prefect's server may take to start (``PRICEWARDEN_PREFECT__STARTUP_TIMEOUT``)."""
    from pricewarden.settings import get_settings

    return get_settings().prefect.startup_timeout


def uses_own_server() -> bool:
    """False when ``PREFECT_API_URL`` points at a Prefect server someone else runs."""
    return not os.environ.get("PREFECT_API_URL")


def migrate_home(workspace: Path) -> str:
    """Bring the Prefect database of ``workspace`` up to date, now rather than at the first flow run.

    Copies the machine's migrated template when there is one (instant), else runs Prefect's
    migrations in a child process. Returns what it did: ``"template"``, ``"migrated"``, ``"ready"``
    (already there) or ``"external"`` (``PREFECT_API_URL`` names a server: nothing to do here).
    Raises :class:`~pricewarden.errors.ConfigError` with one line when the migrations fail.
    """
    from pricewarden.errors import ConfigError

    if not uses_own_server():
        return "external"
    home = Path(os.environ.get("PREFECT_HOME") or (workspace / ".prefect")).resolve()
    make_private_dir(home)
    if (home / "prefect.db").is_file():
        return "ready"
    if not os.environ.get("PREFECT_API_DATABASE_CONNECTION_URL") and seed_from_template(home):
        return "template"
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
           "PREFECT_LOGGING_LEVEL": "WARNING"}
    limit = max(300.0, 3 * startup_timeout())
    try:
        done = subprocess.run([sys.executable, "-c", _MIGRATE], env=env, capture_output=True, text=True,
                              timeout=limit, check=False)
    except subprocess.TimeoutExpired:
        raise ConfigError(f"Prefect's database in {home} was not migrated within {limit:g} s; the machine is very "
                          "busy: run `pricewarden init` again later") from None
    if done.returncode != 0:
        lines = [line for line in (done.stderr or done.stdout).splitlines() if line.strip()]
        raise ConfigError(f"Prefect's database in {home} could not be migrated: "
                          f"{lines[-1].strip() if lines else f'exit code {done.returncode}'}")
    return "migrated"


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
    make_private_dir(building)
    env = {**os.environ, "PREFECT_HOME": str(building), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
           "PREFECT_LOGGING_LEVEL": "WARNING"}
    env.pop("PREFECT_API_URL", None)
    env.pop("PREFECT_API_DATABASE_CONNECTION_URL", None)
    database = str(building / "prefect.db")
    code = (_MIGRATE + f"import sqlite3; c = sqlite3.connect({database!r})\n"
            "c.execute('PRAGMA wal_checkpoint(TRUNCATE)'); c.close()\n")
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=300)
    try:
        building.rename(target)
    except OSError:  # another process made it meanwhile
        shutil.rmtree(building, ignore_errors=True)
    return target


def seed_from_template(home: Path) -> bool:
    """Copy the migrated template into an empty Prefect ``home`` (files owner-only); False when there is none."""
    source = template_dir()
    if not (source / "prefect.db").is_file() or (home / "prefect.db").exists():
        return False
    make_private_dir(home)
    for item in source.iterdir():
        if item.is_file():
            shutil.copyfile(item, home / item.name)  # not copy2: the template's modes are not the workspace's
            os.chmod(home / item.name, FILE_MODE)
    return True


if __name__ == "__main__":
    if sys.argv[1:] == ["--template"]:
        print(f"prefect: migrated home template at {make_template()}")
    else:
        sys.exit("usage: python -m flows._env --template")
