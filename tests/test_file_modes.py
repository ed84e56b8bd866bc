"""Everything PriceWarden creates is owner-only: 0700 folders, 0600 files, whatever the caller's umask.

The database and evidence folders were world-readable. Now every entry point sets the umask to 077
(``pricewarden.files.private_umask``) and the places that create the workspace, the database, the
evidence store and Prefect's home set the modes themselves; checked here by ``stat`` with the
umask a normal shell has (022).
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def shell_umask() -> Iterator[None]:
    """The umask of a normal shell (022) for the duration of the test."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def exposed(root: Path) -> list[str]:
    """Every file or folder under ``root`` (itself included) that its group or others may read, write or enter."""
    found = []
    for path in [root, *root.rglob("*")]:
        mode = path.lstat().st_mode
        if stat.S_ISLNK(mode):
            continue
        if stat.S_IMODE(mode) & 0o077:
            found.append(f"{path.relative_to(root.parent)} {stat.filemode(mode)}")
    return found


def test_library_calls_create_owner_only_files_under_any_umask(tmp_path: Path, shell_umask: None) -> None:
    from sqlalchemy import text

    from pricewarden.files import make_private_dir
    from store import make_engine
    from store.evidence import EvidenceStore

    probe = tmp_path / "probe.txt"
    probe.write_text("x")
    assert stat.S_IMODE(probe.stat().st_mode) == 0o644  # the umask really is a shell's

    made = make_private_dir(tmp_path / "ws" / "a" / "b")
    assert made.is_dir()
    store = EvidenceStore(str(tmp_path / "ws" / "evidence"))
    sha = store.write(b"<html>evidence</html>")
    store.write(b"\x89PNG screenshot", compress=False)
    engine = make_engine(f"sqlite:///{tmp_path / 'ws' / 'db' / 'pricewarden.db'}")
    with engine.begin() as conn:
        conn.execute(text("create table t (x integer)"))
        conn.execute(text("insert into t values (1)"))
    assert (tmp_path / "ws" / "db" / "pricewarden.db-wal").exists()
    assert store.get(sha) == b"<html>evidence</html>"
    assert exposed(tmp_path / "ws") == []
    engine.dispose()


def test_a_workspace_made_by_init_is_owner_only(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PRICEWARDEN_", "PREFECT_"))}
    env["PRICEWARDEN_WORKSPACE"] = str(tmp_path / "ws")
    done = subprocess.run([str(Path(sys.executable).parent / "pricewarden"), "init", str(tmp_path / "ws")], env=env,
                          capture_output=True, text=True, timeout=900, check=False,
                          preexec_fn=lambda: os.umask(0o022))  # a shell's umask
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "ws" / ".prefect" / "prefect.db").is_file()
    assert exposed(tmp_path / "ws") == []
