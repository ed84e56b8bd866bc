"""Prefect flows and deployments: the monitor (crawl → detect → evidence → alerts), partner-report import,
digests and the weekly report; their schedules; scale-out by shard; and the end-to-end demo.

Public API (imported lazily: ``import flows`` does not import Prefect)::

    monitor(at=, shard=, shards=)          the monitor flow (one run slot, optionally one shard)
    run_monitor(at, ...)                   the same wiring calling the task functions directly
    import_partner_reports(now=)           files in <workspace>/inbox/<partner>/ and feeds.yaml
    digest(now=) / weekly_report(until=)   daily digests; the weekly HTML report in <workspace>/reports/
    serve_schedules()                      `pricewarden schedule`: serve every deployment on its cron
    run_demo(days=, seed=) -> DemoResult   the whole demo on one machine
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "monitor": "flows.monitor", "run_monitor": "flows.monitor",
    "import_partner_reports": "flows.ops", "digest": "flows.ops", "weekly_report": "flows.ops",
    "serve_schedules": "flows.schedule", "deployments": "flows.schedule",
    "run_demo": "flows.demo_run", "DemoResult": "flows.demo_run",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'flows' has no attribute {name!r}")
