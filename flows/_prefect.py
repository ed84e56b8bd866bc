"""Prefect, imported once its environment is set (own home and database, analytics off)."""

from __future__ import annotations

import os
import threading

from flows._env import prepare

prepare()

from prefect import flow, serve, task  # noqa: E402 - Prefect reads its settings at import
from prefect.artifacts import create_markdown_artifact, create_table_artifact  # noqa: E402
from prefect.cache_policies import NO_CACHE  # noqa: E402
from prefect.context import FlowRunContext  # noqa: E402
from prefect.schedules import Cron  # noqa: E402

__all__ = [
    "NO_CACHE", "Cron", "create_markdown_artifact", "create_table_artifact", "flow", "in_flow_run", "serve", "task",
]


def in_flow_run() -> bool:
    """True inside a Prefect flow run (artifacts can be attached to it)."""
    return FlowRunContext.get() is not None


def warm_up() -> threading.Thread | None:
    """Start Prefect's ephemeral server now (in a thread, while the caller does other work).

    The first flow run of a process otherwise pays the start (7-15 s, most of it migrating Prefect's
    own SQLite database on a fresh home).
    """
    if os.environ.get("PREFECT_API_URL"):
        return None

    def start() -> None:
        from prefect.server.api.server import SubprocessASGIServer

        try:
            SubprocessASGIServer().start()
        except Exception:
            return

    # Join the thread before the first flow run: a run started meanwhile would not wait for health.
    thread = threading.Thread(target=start, name="prefect-warm-up", daemon=True)
    thread.start()
    return thread
