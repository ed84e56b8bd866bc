"""Where a benchmark keeps what it measured: ``bench/results/<name>.json``, read by ``bench/figures.py``.

A benchmark calls :func:`record` after it prints its figures; ``make docs`` turns every result into
the dated figures page (``docs/figures.md``). One file per benchmark: the newest run replaces the last.
"""

from __future__ import annotations

import json
import os
import platform
import shlex
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def record(name: str, what: str, target: str, measured: str, *, note: str = "", **figures: Any) -> Path:
    """Write this run's result for ``name``: what was measured, against which target, the figure as a
    sentence, the raw figures, and when, how (the command) and on how busy a machine; ``note``, when given,
    is shown under the figures table (a query plan, say)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    data = {
        "name": name, "what": what, "target": target, "measured": measured, "figures": figures,
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": "python " + " ".join(shlex.quote(a) for a in [f"bench/{Path(sys.argv[0]).name}", *sys.argv[1:]]),
        "load_average": round(os.getloadavg()[0], 1), "cores": os.cpu_count(), "python": platform.python_version(),
    }
    if note:
        data["note"] = note
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
