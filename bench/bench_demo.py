"""Benchmark: the full demo (``pricewarden demo``), run N times; prints its time, stage by stage.

Each run is a fresh workspace, the sandbox storefronts, a local receiver and real Prefect flow
runs, exactly as ``make demo``. The figure to hold is the demo's elapsed time (≤ 60 s on the
2-core machine); the stage times show where it goes.

    .venv/bin/python bench/bench_demo.py [--runs 3] [--days 3] [--first-day 4]

The machine is shared: compare runs taken back to back, and quote the spread.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    from flows._env import make_template
    from flows.demo_run import DEFAULT_DAYS, DEFAULT_FIRST_DAY, run_demo

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--days", type=int, default=DEFAULT_DAYS)
    parser.add_argument("--first-day", type=int, default=DEFAULT_FIRST_DAY)
    args = parser.parse_args()
    make_template()  # as `make demo` does, once per machine
    elapsed = []
    for n in range(1, args.runs + 1):
        ws = Path(tempfile.mkdtemp(prefix="pw-bench-demo-"))
        result = run_demo(days=args.days, first_day=args.first_day, workspace=ws, show=False)
        elapsed.append(result.elapsed)
        pages = sum(r["crawl"]["listings"] for r in result.monitor_runs)
        sent = result.outbox.get("sent", 0)
        print(f"run {n}: {result.elapsed:.1f} s for {len(result.days)} days, {pages} pages, {sent} alerts delivered "
              f"({result.received_unique} received); Prefect template: {result.prefect_template}")
        print(f"  phases (s): {result.timings}")
        for run in result.monitor_runs:
            print(f"  day {run['day']} monitor stages (s): {run.get('seconds')}")
    print(f"elapsed over {len(elapsed)} runs: median {statistics.median(elapsed):.1f} s, "
          f"min {min(elapsed):.1f} s, max {max(elapsed):.1f} s")


if __name__ == "__main__":
    main()
