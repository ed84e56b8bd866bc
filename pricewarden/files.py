"""Owner-only files: what PriceWarden writes (database, evidence, receipts, reports, Prefect's home) is nobody else's.

Two layers. Every entry point (the ``pricewarden`` command, every flow process through
:func:`flows._env.prepare`) sets the process umask to ``0o077`` with :func:`private_umask`, so that
any file or folder created by PriceWarden, by a library it calls or by a child process it starts
(crawl processes, Prefect's server) is ``0600`` / ``0700``. And the places that create the
workspace, the database, the evidence store and Prefect's home set those modes explicitly, so that
they are owner-only even when a caller (a test, a notebook) never went through an entry point.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["DIR_MODE", "FILE_MODE", "PRIVATE_UMASK", "make_private_dir", "private_umask", "touch_private"]

PRIVATE_UMASK = 0o077
DIR_MODE = 0o700
FILE_MODE = 0o600


def private_umask() -> int:
    """Make every file and folder this process (and its children) creates owner-only; returns the old umask."""
    return os.umask(PRIVATE_UMASK)


def make_private_dir(path: Path | str) -> Path:
    """Create ``path`` and any missing parents as ``0700`` folders; folders that exist are left as they are."""
    folder = Path(path)
    missing: list[Path] = []
    probe = folder
    while not probe.exists() and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    for item in reversed(missing):
        try:
            item.mkdir(mode=DIR_MODE)
        except FileExistsError:  # made meanwhile by another process
            continue
        os.chmod(item, DIR_MODE)  # mkdir's mode is filtered by the umask; this is not
    return folder


def touch_private(path: Path | str) -> Path:
    """Create an empty ``0600`` file at ``path`` unless it exists (so that what writes it later keeps the mode)."""
    file = Path(path)
    make_private_dir(file.parent)
    try:
        os.close(os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    except FileExistsError:
        return file
    os.chmod(file, FILE_MODE)
    return file
