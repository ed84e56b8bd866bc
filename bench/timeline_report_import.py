"""Where the wall of a report import goes: the importer's and the server's time, running or waiting, from /proc.

Usage: .venv/bin/python bench/timeline_report_import.py [ROWS] [--database URL] [--interval S] [--tree PATH]
       [--set NAME=VALUE ...]

Runs one import (``bench_report_import.py``'s child, a fresh database per run, dropped afterwards) and samples
every ``--interval`` seconds, from outside it, ``/proc/PID/task/TID/schedstat`` of each thread of the importer's
process and of its children (the process that judges rows, ``reports.parallel_min_mb``) and of the server's
processes for the run's database (PostgreSQL on this machine: each backend's title names its database). For
each it prints the seconds spent on a core (running), on a run queue (runnable, waiting for a core) and the
rest (sleeping: waiting for the other side, a lock, the disk); then how much of the wall each side was running
alone, both at once, or neither; and the same per chunk (the importer's progress calls). ``--set`` passes
``PRICEWARDEN_*`` settings to the import (``--set REPORTS__PARALLEL_MIN_MB=0``). The import runs in a session
of its own (the kernel shares the cores between sessions first: this sampler takes none of its share). The states
sampled (running, or asleep and where in the kernel) are only a hint: a sample is taken when the sampler gets a
core, which is not at random; the schedstat seconds are exact.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_report_import import SKUS, Databases, make_csv  # noqa: E402


def _threads(pid: int) -> list[int]:
    try:
        return [int(t) for t in os.listdir(f"/proc/{pid}/task")]
    except OSError:
        return []


def _schedstat(pid: int, tid: int) -> tuple[int, int] | None:
    """Nanoseconds on a core and waiting on a run queue, so far, of one thread."""
    try:
        run, wait, _ = Path(f"/proc/{pid}/task/{tid}/schedstat").read_text().split()
    except (OSError, ValueError):
        return None
    return int(run), int(wait)


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry))
    return found


def _backends(database: str) -> list[int]:
    """The server's processes working for ``database`` (their titles: ``postgres: USER DATABASE HOST ...``)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                title = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if title.startswith("postgres: ") and f" {database} " in title:
                found.append(int(entry))
    return found


class Sampler:
    """Per side ('importer', 'worker', 'server') and sample: seconds running and waiting since the last sample."""

    def __init__(self, importer: int, database: str | None) -> None:
        self.importer = importer
        self.database = database
        self.last: dict[tuple[str, int, int], tuple[int, int]] = {}
        self.samples: list[tuple[float, dict[str, tuple[float, float]]]] = []
        self.threads: dict[str, tuple[float, float]] = {}  # per side and thread: its totals
        self._found_at = 0.0
        self.states: dict[str, int] = {}  # "side state wchan": samples
        self._workers: list[int] = []
        self._backends: list[int] = []

    def sample(self) -> None:
        now = time.time()
        if now - self._found_at > 0.5:  # new processes are rare: looked for twice a second
            self._workers = _children(self.importer)
            if self.database:
                self._backends = _backends(self.database)
            self._found_at = now
        sides: dict[str, list[float]] = {"importer": [0.0, 0.0], "worker": [0.0, 0.0], "server": [0.0, 0.0]}
        for side, pids in (("importer", [self.importer]), ("worker", self._workers), ("server", self._backends)):
            for pid in pids:
                for tid in _threads(pid):
                    stat = _schedstat(pid, tid)
                    if stat is None:
                        continue
                    key = (side, pid, tid)
                    before = self.last.get(key)
                    self.last[key] = stat
                    if before is None:
                        continue
                    run, wait = (stat[0] - before[0]) / 1e9, (stat[1] - before[1]) / 1e9
                    sides[side][0] += run
                    sides[side][1] += wait
                    name = f"{side} {'main' if tid == pid else 'thread'} {tid}"
                    total = self.threads.get(name, (0.0, 0.0))
                    self.threads[name] = (total[0] + run, total[1] + wait)
        self.samples.append((now, {side: (run, wait) for side, (run, wait) in sides.items()}))
        for side, pids in (("importer", [self.importer]), ("server", self._backends[:1])):
            for pid in pids:  # what the side's main thread is doing now: its state and, asleep, where in the kernel
                try:
                    state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
                    where = Path(f"/proc/{pid}/wchan").read_text() if state in "SD" else ""
                except (OSError, IndexError):
                    continue
                key = f"{side} {state} {where}".strip()
                self.states[key] = self.states.get(key, 0) + 1


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("rows", nargs="?", type=int, default=1_000_000)
    parser.add_argument("--database", help="a PostgreSQL server URL (a fresh database per run); default SQLite")
    parser.add_argument("--interval", type=float, default=0.05)
    parser.add_argument("--tree", type=Path, default=ROOT, help="the tree whose importer runs")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="pw-timeline-"))
    databases = Databases(args.database)
    try:
        report = scratch / "report.csv"
        now = datetime.now(UTC)
        make_csv(report, args.rows, SKUS, now)
        url = databases.fresh()
        work = scratch / "work"
        work.mkdir()
        chunks_file = scratch / "chunks.json"
        command = [sys.executable, str(ROOT / "bench" / "bench_report_import.py"), "--child", str(report),
                   "--now", now.isoformat(), "--work", str(work), "--tree", str(args.tree)]
        if url:
            command += ["--database", url]
        env = {**os.environ, "PYTHONPATH": str(args.tree), "PRICEWARDEN_WORKSPACE": str(work / "workspace"),
               "TMPDIR": str(work), "PW_BENCH_CHUNKS": str(chunks_file),
               **{f"PRICEWARDEN_{name}": value for name, _, value in (s.partition("=") for s in args.set)}}
        load = os.getloadavg()[0]
        child = subprocess.Popen(command, cwd=args.tree, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True, start_new_session=True)  # its own share of the cores, not ours
        sampler = Sampler(child.pid, url.rpartition("/")[2] if url else None)
        while child.poll() is None:
            sampler.sample()
            time.sleep(args.interval)
        out, err = child.communicate()
        if child.returncode:
            sys.exit(f"import failed:\n{out}\n{err[-3000:]}")
        print(out.strip())
        report_timeline(sampler, json.loads(chunks_file.read_text()), load)
    finally:
        databases.drop()
        shutil.rmtree(scratch, ignore_errors=True)


def report_timeline(sampler: Sampler, marks: list[float], load: float) -> None:
    """Totals per side and thread, the overlap of the two sides over the import, and per chunk."""
    started, ends = marks[0], marks[1:]
    window = [(t, s) for t, s in sampler.samples if started <= t <= ends[-1] + 0.2]
    wall = ends[-1] - started
    print(f"\nload {load:.1f} at the start; import {wall:.1f} s from its start to its last chunk")
    for name, (run, wait) in sorted(sampler.threads.items()):
        if run + wait > 0.05:
            print(f"  {name:28}: {run:6.1f} s running, {wait:6.1f} s waiting for a core")

    client = alone_c = alone_s = both = 0.0
    totals = {"client run": 0.0, "client wait": 0.0, "server run": 0.0, "server wait": 0.0}
    previous = started
    for at, s in window:
        step = max(at - previous, 1e-9)
        previous = at
        c_run = s["importer"][0] + s["worker"][0]
        c_wait = s["importer"][1] + s["worker"][1]
        s_run, s_wait = s["server"]
        totals["client run"] += c_run
        totals["client wait"] += c_wait
        totals["server run"] += s_run
        totals["server wait"] += s_wait
        c, v = min(c_run / step, 1.0), min(s_run / step, 1.0)  # fraction of the step each side was on a core
        both += min(c, v) * step
        alone_c += max(c - v, 0.0) * step
        alone_s += max(v - c, 0.0) * step
        client += c_run
    neither = wall - both - alone_c - alone_s
    print(f"  client (importer and worker) {totals['client run']:.1f} s running, {totals['client wait']:.1f} s "
          f"waiting for a core; server {totals['server run']:.1f} s running, {totals['server wait']:.1f} s waiting")
    for side in ("importer", "worker", "server"):
        mains = [(run, wait) for name, (run, wait) in sampler.threads.items() if name.startswith(f"{side} main")]
        if mains:  # the busiest process of the side: on a core, on a run queue, or asleep (waiting for the other)
            run, wait = max(mains)
            print(f"  {side}'s busiest process: {run:.1f} s running, {wait:.1f} s waiting for a core, "
                  f"{wall - run - wait:.1f} s asleep")
    for side in ("importer", "server"):
        seen = {key: n for key, n in sampler.states.items() if key.startswith(side)}
        total = sum(seen.values()) or 1
        common = sorted(seen.items(), key=lambda item: -item[1])[:6]
        print(f"  {side}'s main thread sampled: "
              + ", ".join(f"{key.removeprefix(side).strip()} {n / total:.0%}" for key, n in common))
    print(f"  of the wall: both sides running {both:.1f} s, the client alone {alone_c:.1f} s, the server alone "
          f"{alone_s:.1f} s, neither {neither:.1f} s; cores busy on average "
          f"{(totals['client run'] + totals['server run']) / wall:.2f}")
    rows = []
    bounds = [started, *ends]
    for first, last in itertools.pairwise(bounds):
        inside = [s for t, s in sampler.samples if first < t <= last]
        sums = {side: (sum(s[side][0] for s in inside), sum(s[side][1] for s in inside))
                for side in ("importer", "worker", "server")}
        rows.append((last - first, sums))
    print("  per chunk (median over chunks): wall, then running / waiting s of importer, worker, server")
    med = statistics.median
    print(f"    {med(r[0] for r in rows):.3f} s; importer {med(r[1]['importer'][0] for r in rows):.3f} / "
          f"{med(r[1]['importer'][1] for r in rows):.3f}; worker {med(r[1]['worker'][0] for r in rows):.3f} / "
          f"{med(r[1]['worker'][1] for r in rows):.3f}; server {med(r[1]['server'][0] for r in rows):.3f} / "
          f"{med(r[1]['server'][1] for r in rows):.3f}")
    for n in (1, len(rows) // 2, len(rows) - 1):
        if 0 <= n < len(rows):
            duration, sums = rows[n]
            print(f"    chunk {n + 1}: {duration:.3f} s; " + "; ".join(
                f"{side} {run:.3f} / {wait:.3f}" for side, (run, wait) in sums.items()))


if __name__ == "__main__":
    main()
