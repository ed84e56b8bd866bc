"""Prefect, imported once its environment is set (own home and database, analytics off, our server)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from flows._env import migrate_home, prepare

prepare()

from prefect import flow, serve, task  # noqa: E402 - Prefect reads its settings at import
from prefect.artifacts import create_markdown_artifact, create_table_artifact  # noqa: E402
from prefect.cache_policies import NO_CACHE  # noqa: E402
from prefect.context import FlowRunContext  # noqa: E402
from prefect.schedules import Cron  # noqa: E402

from flows._server import ensure_started, install  # noqa: E402

install()  # every ephemeral-server start of this process goes through flows._server

__all__ = [
    "NO_CACHE", "Cron", "WarmUp", "create_markdown_artifact", "create_table_artifact", "ensure_started", "flow",
    "in_flow_run", "serve", "task", "warm_up",
]


def in_flow_run() -> bool:
    """True inside a Prefect flow run (artifacts can be attached to it)."""
    return FlowRunContext.get() is not None


class WarmUp(threading.Thread):
    """Prefect's server starting in a thread; :meth:`join` raises what the start raised."""

    def __init__(self, workspace: Path | None = None) -> None:
        super().__init__(name="prefect-warm-up", daemon=True)
        self.workspace = workspace
        self.prepared: str | None = None  # what migrate_home did ("template", "migrated", "ready")
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            if self.workspace is not None:
                self.prepared = migrate_home(self.workspace)
            ensure_started()
        except BaseException as exc:  # handed to whoever joins
            self.error = exc

    def join(self, timeout: float | None = None) -> None:
        """Wait for the start; raise its error (an :class:`~pricewarden.errors.OrchestrationError`) if it failed."""
        super().join(timeout)
        if self.error is not None:
            raise self.error


def warm_up(workspace: Path | None = None) -> WarmUp | None:
    """Start Prefect's ephemeral server now (in a thread, while the caller does other work).

    With ``workspace`` (a new one), its Prefect database is migrated first (:func:`flows._env.migrate_home`).
    The first flow run of a process otherwise pays the start (2-8 s on a migrated home). A flow run
    started meanwhile waits for the same start (:mod:`flows._server`): there is one server per process.
    """
    if os.environ.get("PREFECT_API_URL"):
        return None
    thread = WarmUp(workspace)
    thread.start()
    return thread
