"""The anomaly models' work in a forked child process, while the parent does the rules' lifecycle.

A whole-store run over a large frame spends seconds of CPU on the anomaly features, importing
scikit-learn, fitting the forest and scoring (``detection.anomaly.score_frame``), none of which needs the
database once the frame, the partner reports and the stored model are read. On a machine with a second
core that work runs beside the rules pass's episodes and writes: :func:`start` forks once the rules have
judged the frame (the child shares the parent's memory copy-on-write, nothing is serialised on the way
in), and the anomaly step takes the child's result (:meth:`Pending.result`): the anomalies found, the rows
judged and the model fitted (its pickled artifact), which the parent stores as the in-process path
does. The results are the in-process path's (``tests/test_detection_forked.py``).

The child never touches the parent's database connections (it computes and writes its result to a file)
and leaves with ``os._exit``, so no finaliser closes a connection the parent still uses. Forked only
where it is safe and pays: ``os.fork`` exists, this is the process's only thread (another thread may hold
a lock the child would wait on forever), and the frame holds at least :data:`FORK_FROM` rows (below that
the fork and the result's round trip cost more than the overlap gains). A child that fails, is killed or
leaves no result is not an error: the parent does the work itself.
"""

from __future__ import annotations

import logging
import os
import pickle
import signal
import tempfile
import threading
from collections.abc import Callable
from contextlib import suppress
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from detection.anomaly import AnomalyParams, Scored, score_frame

FORK_FROM = 500_000  # rows of the frame from which the models run in a child process (a first run, not a day)

log = logging.getLogger(__name__)


class Pending:
    """A child process computing :func:`detection.anomaly.score_frame`; :meth:`result` waits for it."""

    def __init__(self, pid: int, path: Path) -> None:
        self.pid, self.path = pid, path
        self.rusage: Any = None  # the child's resource usage once reaped (CPU seconds for benchmarks)

    def result(self, fallback: Callable[[], Scored | None]) -> Scored | None:
        """The child's result; ``fallback()`` (the work in this process) if it failed."""
        try:
            status = self._reap()
            if status == 0:
                with self.path.open("rb") as handle:
                    # Written by our own forked child a moment ago, in a private temporary file.
                    return pickle.load(handle)  # type: ignore[no-any-return]  # noqa: S301
            log.warning("anomaly models: the child process ended with status %s; scoring here", status)
        except (OSError, EOFError, pickle.UnpicklingError) as exc:
            log.warning("anomaly models: no result from the child process (%s); scoring here", exc)
        finally:
            self.path.unlink(missing_ok=True)
        return fallback()

    def cancel(self) -> None:
        """Stop the child if it still runs (the run failed before it needed the result)."""
        if self.pid:
            with suppress(OSError):
                os.kill(self.pid, signal.SIGKILL)
            with suppress(OSError):
                self._reap()
        self.path.unlink(missing_ok=True)

    def _reap(self) -> int:
        pid, self.pid = self.pid, 0
        if not pid:
            return -1
        _, status, self.rusage = os.wait4(pid, 0)
        return os.waitstatus_to_exitcode(status)


def can_fork(rows: int) -> bool:
    """Whether the models of a frame of ``rows`` run in a child process (see the module's notes)."""
    return hasattr(os, "fork") and rows >= FORK_FROM and threading.active_count() == 1


def start(obs: pd.DataFrame, params: AnomalyParams, reports: pd.DataFrame | None, stored: bytes | None,
          judge_from: datetime | None) -> Pending:
    """Fork a child that runs ``score_frame(obs, params, reports, stored, judge_from)`` and writes its result."""
    handle, name = tempfile.mkstemp(prefix="pricewarden-anomaly-", suffix=".pickle")
    os.close(handle)
    path = Path(name)
    pid = os.fork()
    if pid == 0:  # the child: compute, write, leave without running the parent's finalisers
        code = 1
        try:
            outcome = score_frame(obs, params, reports, stored, judge_from)
            with path.open("wb") as out:
                pickle.dump(outcome, out, protocol=pickle.HIGHEST_PROTOCOL)
            code = 0
        except BaseException:  # any failure: the parent does the work itself
            code = 1
        finally:
            os._exit(code)
    return Pending(pid, path)
