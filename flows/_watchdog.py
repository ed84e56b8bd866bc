"""The body of Prefect's ephemeral server process: uvicorn, and a watchdog that ends it with its parent.

``python -m flows._watchdog PARENT_PID -- UVICORN_ARGS...`` (started by :mod:`flows._server`, in a
process group of its own). A thread checks every half second that the process that started it is
still its parent; when the parent is gone (it exited, crashed, was killed with SIGKILL or SIGTERM
before it could stop the server) the whole process group is terminated, so no server is ever left
behind. Parent-death signals (``PR_SET_PDEATHSIG``) are no substitute: they fire when the *thread*
that started the child ends, and the server is started from a warm-up thread.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

POLL_SECONDS = 0.5
GRACE_SECONDS = 5.0


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(POLL_SECONDS)
    # Orphaned: ask uvicorn (and anything in the group) to stop, then make sure.
    try:
        os.killpg(os.getpgid(0), signal.SIGTERM)
    except OSError:
        os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(GRACE_SECONDS)
    try:
        os.killpg(os.getpgid(0), signal.SIGKILL)
    finally:
        os._exit(1)


def main(argv: list[str]) -> None:
    """Watch the parent named first in ``argv``, then run uvicorn with the arguments after ``--``."""
    parent = int(argv[0])
    if os.getppid() != parent:  # the parent died before we even started
        sys.exit(1)
    threading.Thread(target=_watch, args=(parent,), name="parent-watchdog", daemon=True).start()
    from uvicorn.main import main as uvicorn_main

    uvicorn_main(argv[argv.index("--") + 1:], prog_name="uvicorn")


if __name__ == "__main__":
    main(sys.argv[1:])
