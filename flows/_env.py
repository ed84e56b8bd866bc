"""Prefect's environment: its own home (and database) under the workspace, analytics off.

Prefect must never share PriceWarden's database: it owns an ``alembic_version`` table of its own.
Unless the user set ``PREFECT_HOME`` (or points ``PREFECT_API_URL`` at a server), Prefect keeps its
state in ``<workspace>/.prefect``. This runs before ``prefect`` is first imported, because Prefect
reads its settings at import.
"""

from __future__ import annotations

import os
from pathlib import Path


def prepare(workspace: Path | None = None) -> Path:
    """Set ``PREFECT_HOME`` (unless set) and turn analytics off; returns Prefect's home."""
    if workspace is None:
        workspace = Path(os.environ.get("PRICEWARDEN_WORKSPACE", "workspace"))
    os.environ.setdefault("PREFECT_HOME", str((workspace / ".prefect").resolve()))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    # The demo and CLI print their own summaries; Prefect's INFO lines would drown them.
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    home = Path(os.environ["PREFECT_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    return home
