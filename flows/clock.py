"""The simulated clock of the demo: simulated day N is a fixed calendar date, shifted into "now".

PriceWarden reads the time through one function, ``store._types.utcnow``. The demo replays days of
a sandbox market (day 1 is ``demo.catalog.DAY_ONE``, 2026-03-01, in the sandbox's time zone), and
every instant it records must fall on that simulated day: policy versions, promotion windows and
exemptions are dated, and partner reports older than ``reports.max_age_days`` are refused. So the
demo runs with the clock shifted by a fixed offset: the real time plus
``PRICEWARDEN_CLOCK_OFFSET`` seconds. Day N starts at :data:`DAY_HOUR` local time on
``DAY_ONE + (N - 1)`` and runs in real time from there (a 20-second crawl takes 20 seconds).

Like freezegun, :func:`install` replaces ``utcnow`` in every module that already imported it.
Crawls run in ``spawn``-ed child processes; they inherit the environment, and the
``sitecustomize`` in :data:`SITE_DIR` (put on ``PYTHONPATH``) installs the same offset there
before anything else is imported. Production never sets the variable.
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

OFFSET_ENV = "PRICEWARDEN_CLOCK_OFFSET"
SITE_DIR = Path(__file__).resolve().parent / "_simclock"
DAY_HOUR = time(10, 0)  # a simulated day's monitor run starts at 10:00 local time

_real_utcnow: Any = None


def _real() -> datetime:
    return datetime.now(UTC)


def offset() -> float:
    """The current offset in seconds (0 when the clock is real)."""
    try:
        return float(os.environ.get(OFFSET_ENV, "0") or 0)
    except ValueError:
        return 0.0


def now() -> datetime:
    """The (possibly simulated) current instant, aware UTC."""
    return _real() + timedelta(seconds=offset())


def _shifted() -> datetime:
    """Replacement for ``store._types.utcnow``: reads the offset on every call, so it can move."""
    return _real() + timedelta(seconds=offset())


def install(seconds: float | None = None) -> None:
    """Shift the clock of this process (and of children started later) by ``seconds``.

    ``None`` keeps the offset already in the environment (used by ``sitecustomize`` in children).
    """
    global _real_utcnow
    if seconds is not None:
        os.environ[OFFSET_ENV] = repr(float(seconds))
    import store._types as types

    if _real_utcnow is None:
        _real_utcnow = types.utcnow
    for module in list(sys.modules.values()):
        if module is not None and getattr(module, "utcnow", None) is _real_utcnow:
            module.utcnow = _shifted  # type: ignore[attr-defined]
    path = os.environ.get("PYTHONPATH", "")
    if str(SITE_DIR) not in path.split(os.pathsep):
        os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(SITE_DIR), path) if p)


def uninstall() -> None:
    """Put the real clock back (the offset variable is removed)."""
    os.environ.pop(OFFSET_ENV, None)
    if _real_utcnow is None:
        return
    for module in list(sys.modules.values()):
        if module is not None and getattr(module, "utcnow", None) is _shifted:
            module.utcnow = _real_utcnow  # type: ignore[attr-defined]
    path = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p and p != str(SITE_DIR)]
    if path:
        os.environ["PYTHONPATH"] = os.pathsep.join(path)
    else:
        os.environ.pop("PYTHONPATH", None)


def day_instant(day: int, zone: str | None = None) -> datetime:
    """The instant (aware UTC) at which simulated ``day`` starts: DAY_ONE + (day - 1) at DAY_HOUR local."""
    from demo.catalog import DAY_ONE, TIMEZONE

    local = datetime.combine(DAY_ONE + timedelta(days=day - 1), DAY_HOUR, tzinfo=ZoneInfo(zone or TIMEZONE))
    return local.astimezone(UTC)


def go_to_day(day: int) -> datetime:
    """Set the clock to the start of simulated ``day``; returns that instant."""
    start = day_instant(day)
    install((start - _real()).total_seconds())
    return start
