"""Prefect's ephemeral server: one per process, none left behind, a start that fails says why in one line.

On a busy machine Prefect's server took longer than its 20 s to answer: ``flow run monitor`` failed
with a 50-line traceback, and ``pricewarden demo`` started a second server while the first was still
starting, which was left running with the test's pipes open (``tests/test_demo_run.py`` hung for
600 s). Here the start-up limit is made impossibly short to fail a start on any machine, and parents
are killed with SIGKILL and SIGTERM; every server process is found by its command line (the watchdog
names the parent's pid), and its end is awaited with a pidfd, not a sleep.
"""

from __future__ import annotations

import os
import select
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

PRICEWARDEN = str(Path(sys.executable).parent / "pricewarden")


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PRICEWARDEN_", "PREFECT_"))}
    env.update(PRICEWARDEN_WORKSPACE=str(tmp_path / "ws"), PREFECT_SERVER_ANALYTICS_ENABLED="false", COLUMNS="200",
               **extra)
    return env


def servers_of(parent: int) -> list[int]:
    """Pids of the Prefect server processes started by process ``parent`` (flows._watchdog PARENT -- ...)."""
    found = []
    marker = f"flows._watchdog\0{parent}\0".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if marker in (entry / "cmdline").read_bytes() and _alive(int(entry.name)):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _group(pgid: int) -> list[int]:
    """Live processes of process group ``pgid``."""
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                members.append(int(entry.name))
    return members


def _wait_gone(pid: int, timeout: float) -> bool:
    """Wait for process ``pid`` (not our child) to end: its pidfd becomes readable when it does."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        ready, _, _ = select.select([fd], [], [], timeout)
        return bool(ready) or not _alive(pid)
    finally:
        os.close(fd)


def _one_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in text, text[-3000:]
    return lines[0]


def test_a_server_too_slow_to_start_is_one_line_and_is_stopped(tmp_path: Path) -> None:
    from store import make_engine, upgrade

    (tmp_path / "ws").mkdir()  # a workspace with its database: the flow gets past the store check to Prefect
    upgrade(make_engine(f"sqlite:///{tmp_path / 'ws' / 'pricewarden.db'}"))
    command = [PRICEWARDEN, "flow", "run", "digest"]
    proc = subprocess.Popen(command, env=_env(tmp_path, PRICEWARDEN_PREFECT__STARTUP_TIMEOUT="0.2"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate(timeout=600)  # returns only once nobody holds the pipes: no server left
    assert proc.returncode == 1, out + err
    line = _one_line(err)
    assert line.startswith("error: Prefect's server did not start within 0.2 s"), line
    assert "PRICEWARDEN_PREFECT__STARTUP_TIMEOUT" in line and "PREFECT_API_URL" in line
    assert servers_of(proc.pid) == []


def test_the_demo_whose_server_does_not_start_says_so_and_leaves_nothing(tmp_path: Path) -> None:
    command = [PRICEWARDEN, "demo", "--days", "1", "--workspace", str(tmp_path / "demo")]
    proc = subprocess.Popen(command, env=_env(tmp_path, PRICEWARDEN_PREFECT__STARTUP_TIMEOUT="0.2"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 1, out[-2000:] + err[-2000:]
    assert _one_line(err).startswith("error: Prefect's server did not start within 0.2 s"), err
    assert servers_of(proc.pid) == []


# The child: Prefect's server started from a warm-up thread and, at the same time, from the main
# thread (as the demo does), then it waits to be killed.
CHILD = """
import sys, threading
from flows._prefect import ensure_started, warm_up
thread = warm_up()
ensure_started()
thread.join()
print("ready", flush=True)
sys.stdin.read()
"""


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_a_killed_parent_leaves_no_server_and_there_was_only_one(tmp_path: Path, sig: int) -> None:
    child = subprocess.Popen([sys.executable, "-c", CHILD], env=_env(tmp_path), stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        assert line.strip() == "ready", child.stderr.read() if child.stderr else ""
        [server] = servers_of(child.pid)  # two callers at once, one server
        group = os.getpgid(server)
        assert group == server != os.getpgid(child.pid)  # its own process group
        os.kill(child.pid, sig)
        child.wait(timeout=60)
        assert _wait_gone(server, timeout=60), f"server {server} outlived its parent"
        for member in _group(group):  # nothing of its group is left either
            assert _wait_gone(member, timeout=30), f"process {member} of the server's group outlived it"
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def test_init_migrates_prefects_database_with_the_workspace(tmp_path: Path) -> None:
    env = _env(tmp_path, XDG_CACHE_HOME=str(tmp_path / "no-template"))  # no template: the real migrations
    done = subprocess.run([PRICEWARDEN, "init", str(tmp_path / "ws")], env=env, capture_output=True, text=True,
                          timeout=900, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "prefect: database migrated" in done.stdout
    with sqlite3.connect(tmp_path / "ws" / ".prefect" / "prefect.db") as db:
        tables = {name for (name,) in db.execute("select name from sqlite_master where type = 'table'")}
        assert {"alembic_version", "flow_run", "deployment"} <= tables
        assert db.execute("select count(*) from alembic_version").fetchone()[0] == 1
