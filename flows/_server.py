"""Prefect's ephemeral server, run by us: one per process, never left behind, a start failure in one line.

Prefect starts a server of its own (``SubprocessASGIServer``) the first time a flow needs its API
and no ``PREFECT_API_URL`` is set. As Prefect ships it, on a busy machine that went wrong three ways:
the server took longer than its 20 s to answer and the flow failed with a 50-line traceback; the
server that was too slow was not stopped, and the next caller started a second one, so that the
first was left running, orphaned, holding the terminal's output open; and a parent killed with
SIGKILL or SIGTERM left its server behind.

:class:`PrefectServer` takes the place of Prefect's default server (the ``None`` slot of
``SubprocessASGIServer._instances``, which Prefect's client looks up), so every start goes through
it:

- one start per process, behind a lock: callers that come while it starts wait for it; after a
  failure, every later call raises the same error instead of starting another server;
- the start-up limit is ``prefect.startup_timeout`` (``PRICEWARDEN_PREFECT__STARTUP_TIMEOUT``,
  120 s by default); running past it, the server is stopped and
  :class:`~pricewarden.errors.OrchestrationError` says in one line why and what to set;
- its listening socket is bound here and handed over (``--fd``): no other process can take the
  port between a check and the bind, and answer the health checks in its place;
- the server runs in a process group of its own, its output in ``<PREFECT_HOME>/server.log``
  (owner-only), never in the caller's terminal or pipes; :mod:`flows._watchdog` inside it ends the
  group when its parent is gone, however the parent ended; ``stop`` ends the group.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

import httpx
import prefect
from prefect.server.api.server import SubprocessASGIServer
from prefect.settings import PREFECT_API_URL, get_current_settings

from flows._env import startup_timeout
from pricewarden.errors import OrchestrationError
from pricewarden.files import FILE_MODE

__all__ = ["PrefectServer", "ensure_started", "install"]

_LOCK = threading.RLock()


def _log_tail(path: Path, since: int, limit: int = 300) -> str:
    """The last line the server wrote to its log after byte ``since`` (this start's, not an earlier run's)."""
    try:
        with path.open("rb") as handle:
            handle.seek(since)
            text = handle.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:limit] if lines else ""


class PrefectServer(SubprocessASGIServer):
    """The one ephemeral Prefect server of this process (see the module docstring)."""

    def __init__(self, port: int | None = None) -> None:
        if hasattr(self, "_initialized"):
            return
        super().__init__(port)
        self.failure: OrchestrationError | None = None
        self._log: IO[bytes] | None = None
        self._log_start = 0  # where this start's output begins in server.log

    @property
    def log_path(self) -> Path:
        """Where the server's own output goes (``<PREFECT_HOME>/server.log``)."""
        return Path(os.environ.get("PREFECT_HOME") or ".prefect") / "server.log"

    def start(self, timeout: int | float | None = None) -> None:
        """Start the server and wait until it answers; at most once per process, whoever calls."""
        with _LOCK:
            if self.running:
                return
            if self.failure is not None:
                raise self.failure
            limit = float(timeout or startup_timeout())
            try:
                self._start(limit)
            except OrchestrationError as exc:
                self.failure = exc
                self.stop()
                raise
            except BaseException:
                self.stop()
                raise

    def _start(self, limit: float) -> None:
        self.running = True
        atexit.register(self.stop)
        self.server_process = self._run_uvicorn_command()
        deadline = time.monotonic() + limit
        with httpx.Client(timeout=5.0) as client:
            while time.monotonic() < deadline:
                code = self.server_process.poll()
                if code is not None:
                    raise OrchestrationError(
                        f"Prefect's server exited with code {code} while starting: "
                        f"{_log_tail(self.log_path, self._log_start) or 'no output'} (its log: {self.log_path})")
                try:
                    if client.get(f"{self.api_url}/health").status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                time.sleep(0.2)
        raise OrchestrationError(
            f"Prefect's server did not start within {limit:g} s (the machine may be busy; last line of "
            f"{self.log_path}: {_log_tail(self.log_path, self._log_start) or 'none'}): set "
            "PRICEWARDEN_PREFECT__STARTUP_TIMEOUT higher, or PREFECT_API_URL to a running Prefect server")

    def _run_uvicorn_command(self) -> subprocess.Popen[Any]:
        """uvicorn under :mod:`flows._watchdog`, in its own process group, its output in ``server.log``.

        The listening socket is bound here and handed to uvicorn (``--fd``): no other process can
        take the port between a check and uvicorn's own bind, and answer our health checks instead.
        """
        if self._log is None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE)
            self._log_start = os.fstat(fd).st_size
            self._log = os.fdopen(fd, "ab")
        env = {**os.environ, "PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1",
               "PREFECT__SERVER_FINAL": "1", **get_current_settings().to_environment_variables(exclude_unset=True)}
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
            listener.bind(("127.0.0.1", self.port or 0))
            self.port = int(listener.getsockname()[1])
            command = [sys.executable, "-m", "flows._watchdog", str(os.getpid()), "--",
                       "--app-dir", str(prefect.__module_path__.parent), "--factory",
                       "prefect.server.api.server:create_app", "--fd", str(listener.fileno()),
                       "--log-level", "error", "--lifespan", "on"]
            return subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=self._log,
                                    stderr=subprocess.STDOUT, start_new_session=True, pass_fds=(listener.fileno(),))

    def stop(self) -> None:
        """Stop the server's whole process group (SIGTERM, then SIGKILL after 5 s)."""
        with _LOCK:
            process, self.server_process = self.server_process, None
            if process is not None and process.poll() is None:
                _signal_group(process, signal.SIGTERM)
                try:
                    process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    _signal_group(process, signal.SIGKILL)
                    process.wait()
            if self._log is not None:
                self._log.close()
                self._log = None
            self.running = False


def _signal_group(process: subprocess.Popen[Any], sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)


def install() -> PrefectServer | None:
    """Make :class:`PrefectServer` the server Prefect starts; None when another default is already there.

    A Prefect test harness that registered its own server keeps it (it also sets ``PREFECT_API_URL``).
    """
    with _LOCK:
        current = SubprocessASGIServer._instances.get(None)
        if isinstance(current, PrefectServer):
            return current
        if current is not None:
            return None
        server = object.__new__(PrefectServer)
        server.__init__()  # type: ignore[misc]  # object.__new__ skips __new__'s registry; init by hand
        SubprocessASGIServer._instances[None] = server
        return server


def ensure_started() -> None:
    """Start Prefect's ephemeral server now unless a Prefect API is configured; one-line error on failure."""
    if PREFECT_API_URL.value():
        return
    server = install()
    if server is not None:
        server.start()
