"""Benchmark: the full demo (``pricewarden demo``), run N times; prints its time, stage by stage.

Each run is a fresh workspace, the sandbox storefronts, a local receiver and real Prefect flow
runs, exactly as ``make demo``. The figure to hold is the demo's elapsed time (≤ 60 s on the
2-core machine); the stage times show where it goes.

    .venv/bin/python bench/bench_demo.py [--runs 3] [--days 3] [--first-day 4]

The machine is shared: compare runs taken back to back, and quote the spread.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def one(days: int, first_day: int) -> None:
    """One demo in this (fresh) process; prints its result as one JSON line."""
    from flows.demo_run import run_demo

    ws = Path(tempfile.mkdtemp(prefix="pw-bench-demo-"))
    result = run_demo(days=days, first_day=first_day, workspace=ws, show=False)
    print(json.dumps({"elapsed": result.elapsed, "timings": result.timings, "days": result.days,
                      "pages": sum(r["crawl"]["listings"] for r in result.monitor_runs),
                      "sent": result.outbox.get("sent", 0), "received": result.received_unique,
                      "template": result.prefect_template,
                      "stages": {r["day"]: r.get("seconds") for r in result.monitor_runs}}))


def main() -> None:
    from flows._env import make_template
    from flows.demo_run import DEFAULT_DAYS, DEFAULT_FIRST_DAY

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--days", type=int, default=DEFAULT_DAYS)
    parser.add_argument("--first-day", type=int, default=DEFAULT_FIRST_DAY)
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        one(args.days, args.first_day)
        return
    make_template()  # as `make demo` does, once per machine
    elapsed = []
    for n in range(1, args.runs + 1):
        # Each run in a new process, as `make demo` runs it (Prefect's server starts with it).
        done = subprocess.run([sys.executable, __file__, "--one", "--days", str(args.days), "--first-day",
                               str(args.first_day)], capture_output=True, text=True, check=True)
        result = json.loads(done.stdout.strip().splitlines()[-1])
        elapsed.append(result["elapsed"])
        print(f"run {n}: {result['elapsed']:.1f} s for {len(result['days'])} days, {result['pages']} pages, "
              f"{result['sent']} alerts delivered ({result['received']} received); "
              f"Prefect template: {result['template']}")
        print(f"  phases (s): {result['timings']}")
        for day, stages in result["stages"].items():
            print(f"  day {day} monitor stages (s): {stages}")
    print(f"elapsed over {len(elapsed)} runs: median {statistics.median(elapsed):.1f} s, "
          f"min {min(elapsed):.1f} s, max {max(elapsed):.1f} s")


if __name__ == "__main__":
    main()
