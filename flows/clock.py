"""The simulated clock of the demo: simulated day N is a fixed calendar date, shifted into "now".

PriceWarden reads the time through one function, ``store._types.utcnow``. The demo replays days of
a sandbox market (day 1 is ``demo.catalog.DAY_ONE``, 2026-03-01, in the sandbox's time zone), and
every instant it records must fall on that simulated day: policy versions, promotion windows and
exemptions are dated, and partner reports older than ``reports.max_age_days`` are refused. So the
demo runs with the clock shifted by a fixed offset: the real time plus
``PRICEWARDEN_CLOCK_OFFSET`` seconds, which ``utcnow`` adds itself. Day N starts at
:data:`DAY_HOUR` local time on ``DAY_ONE + (N - 1)`` and runs in real time from there (a 20-second
crawl takes 20 seconds). Crawl processes get the offset with the rest of the environment.
Production never sets the variable.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from store._types import CLOCK_OFFSET_ENV as OFFSET_ENV
from store._types import utcnow

DAY_HOUR = time(10, 0)  # a simulated day's monitor run starts at 10:00 local time


def now() -> datetime:
    """The (possibly simulated) current instant, aware UTC."""
    return utcnow()


def install(seconds: float) -> None:
    """Shift the clock of this process, and of the children it starts, by ``seconds``."""
    os.environ[OFFSET_ENV] = repr(float(seconds))


def uninstall() -> None:
    """Put the real clock back."""
    os.environ.pop(OFFSET_ENV, None)


def day_instant(day: int, zone: str | None = None) -> datetime:
    """The instant (aware UTC) at which simulated ``day`` starts: DAY_ONE + (day - 1) at DAY_HOUR local."""
    from demo.catalog import DAY_ONE, TIMEZONE

    local = datetime.combine(DAY_ONE + timedelta(days=day - 1), DAY_HOUR, tzinfo=ZoneInfo(zone or TIMEZONE))
    return local.astimezone(UTC)


def go_to_day(day: int) -> datetime:
    """Set the clock to the start of simulated ``day``; returns that instant."""
    start = day_instant(day)
    install((start - datetime.now(UTC)).total_seconds())
    return start
