"""Whether Chromium can keep its sandbox here, decided once per process and said once in the log.

Chromium's sandbox needs either unprivileged user namespaces (Debian's Chromium has no setuid
helper) or a setuid ``chrome-sandbox``; as root, Chromium refuses to start with its sandbox at all.
So: no sandbox for root, and none where a user namespace cannot be created (containers whose
seccomp profile forbids it, kernels with ``user.max_user_namespaces = 0`` or AppArmor's
``apparmor_restrict_unprivileged_userns``); the sandbox everywhere else. The namespace is tried
for real in a short-lived child process, not guessed from settings files alone.
"""

from __future__ import annotations

import ctypes
import logging
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

__all__ = ["Sandbox", "chromium_sandbox"]

logger = logging.getLogger(__name__)

CLONE_NEWUSER = 0x10000000


@dataclass(frozen=True)
class Sandbox:
    """The decision: whether Chromium runs sandboxed, and why."""

    enabled: bool
    reason: str


def _read_int(path: str) -> int | None:
    try:
        return int(Path(path).read_text().strip())
    except (OSError, ValueError):
        return None


def user_namespaces() -> tuple[bool, str]:
    """Whether this process's user may create a user namespace (tried in a child process), and why not."""
    if _read_int("/proc/sys/user/max_user_namespaces") == 0:
        return False, "user namespaces are disabled (user.max_user_namespaces = 0)"
    if _read_int("/proc/sys/kernel/unprivileged_userns_clone") == 0:
        return False, "unprivileged user namespaces are disabled (kernel.unprivileged_userns_clone = 0)"
    if _read_int("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") == 1:
        return False, "AppArmor restricts unprivileged user namespaces"
    if not hasattr(os, "fork"):
        return False, "no fork() to try a user namespace"
    try:
        unshare = ctypes.CDLL(None, use_errno=True).unshare
    except (OSError, AttributeError):
        return False, "no unshare() to try a user namespace"
    pid = os.fork()
    if pid == 0:  # the child only tries, and leaves at once
        os._exit(0 if unshare(CLONE_NEWUSER) == 0 else 1)
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        return False, "a user namespace cannot be created here (a container's seccomp profile?)"
    return True, "user namespaces are available"


@lru_cache(maxsize=1)
def chromium_sandbox() -> Sandbox:
    """Whether Chromium keeps its sandbox in this process (decided, and logged, once)."""
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        decision = Sandbox(False, "running as root, where Chromium refuses its sandbox")
    else:
        available, why = user_namespaces()
        decision = Sandbox(available, why)
    if decision.enabled:
        logger.info("Chromium runs with its sandbox (%s)", decision.reason)
    else:
        logger.warning("Chromium runs without its sandbox: %s; see docs/security-network.md", decision.reason)
    return decision
