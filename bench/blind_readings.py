"""Blind readings: what the extractor did on each held-out batch before it had ever seen it.

Usage: ``python bench/blind_readings.py [batch ...]`` (default: every ``tests/extract_pages/heldout*``)

A held-out batch is scored blind once; after that the extractor may be fixed on it and its figures
are training figures. This script recovers the blind scoring as data. For each batch it finds the
commit that added its ``truth.jsonl`` and follows the batch's later commits while the extraction
code (``crawlers/extract``) stays as it was (a batch written over several commits); it checks the
last such commit out in a temporary detached worktree, runs *that* commit's ``extract`` on the
batch's pages as they were then (raw scores, ``calibrate=False``, in a subprocess with that worktree
first on the path; the pages are read by this tree's loader) and writes
``tests/extract_pages/<batch>/blind.jsonl``: per page its id, method, raw score, flags, the price
read, the outcome against the truth (``right``, ``wrong``, ``undecided``: the cascade abstained,
``none``: no price) and the commit. The calibration is fitted on these readings
(:mod:`crawlers.extract.calibration`); they are kept because they cannot be made again once the
extractor has learnt the batch, except by this script from the history.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import subprocess
import sys
import tempfile
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.score_realpages import HELDOUT, ROOT, load_written

EXTRACT = "crawlers/extract"
# Run in the old commit's tree: one page a line in (id, url, base64 HTML), one reading a line out.
_CHILD = """
import base64, json, sys
from crawlers.extract import extract
for line in sys.stdin:
    page = json.loads(line)
    ext = extract(base64.b64decode(page["html"]), page["url"], calibrate=False)
    print(json.dumps({"id": page["id"], "price": None if ext.price is None else str(ext.price),
                      "method": ext.method, "raw": ext.confidence, "flags": list(ext.flags),
                      "undecided": ext.undecided is not None}), flush=True)
"""


def _git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(ROOT), *args], check=True, capture_output=True, text=True).stdout


def blind_commit(batch: str) -> str:
    """The last commit of ``batch``'s writing before any extraction code changed (full hash)."""
    folder = f"tests/extract_pages/{batch}"
    added = _git("log", "--diff-filter=A", "--format=%H", "--", f"{folder}/truth.jsonl").split()[-1]
    chosen = added
    # commits that changed what the extractor reads (pages, truth), not a README or these readings
    pages = (f"{folder}/truth.jsonl", f"{folder}/*.html")
    for commit in _git("log", "--reverse", "--ancestry-path", "--format=%H", f"{added}..HEAD", "--", *pages).split():
        if _git("diff", "--name-only", added, commit, "--", EXTRACT).strip():
            break  # the extractor changed: from here on the batch is no longer blind
        chosen = commit
    return chosen


def outcome(price: str | None, undecided: bool, truth: list[str]) -> str:
    """``right``, ``wrong``, ``undecided`` or ``none`` for one reading against the page's true prices."""
    if undecided:
        return "undecided"
    if price is None:
        return "none"
    return "right" if Decimal(price) in {Decimal(p) for p in truth} else "wrong"


def read_blind(batch: str) -> list[dict]:
    """Readings of ``batch`` by the extractor of its blind commit (a temporary worktree, removed after)."""
    commit = blind_commit(batch)
    truth = {t["id"]: t for t, _ in load_written(ROOT / "tests" / "extract_pages" / batch)}
    with tempfile.TemporaryDirectory(prefix=f"pw-blind-{batch}-") as tmp:
        tree = Path(tmp) / "tree"
        _git("worktree", "add", "--detach", str(tree), commit)
        try:
            pages = load_written(tree / "tests" / "extract_pages" / batch)
            lines = "".join(json.dumps({"id": t["id"], "url": t.get("url") or "",
                                        "html": base64.b64encode(html).decode()}) + "\n" for t, html in pages)
            out = subprocess.run([sys.executable, "-c", _CHILD], input=lines, capture_output=True, text=True,
                                 check=True, cwd=tree, env={**os.environ, "PYTHONPATH": str(tree)}).stdout
        finally:
            _git("worktree", "remove", "--force", str(tree))
    readings = []
    for line in out.splitlines():
        r = json.loads(line)
        want = truth[r["id"]]["price"]
        readings.append({"id": r["id"], "method": r["method"], "raw": round(r["raw"], 4), "flags": r["flags"],
                         "price": r["price"], "truth": want, "outcome": outcome(r["price"], r["undecided"], want),
                         "commit": commit[:12]})
    return readings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("batches", nargs="*", default=[p.name for p in HELDOUT])
    args = parser.parse_args()
    for batch in args.batches:
        readings = read_blind(batch)
        path = ROOT / "tests" / "extract_pages" / batch / "blind.jsonl"
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in readings), encoding="utf-8")
        counts = {k: sum(r["outcome"] == k for r in readings) for k in ("right", "wrong", "undecided", "none")}
        decided = counts["right"] + counts["wrong"]
        print(f"{batch}: commit {readings[0]['commit']} pages {len(readings)} {counts} "
              f"P {counts['right'] / decided if decided else 1.0:.3f}")


if __name__ == "__main__":
    main()
