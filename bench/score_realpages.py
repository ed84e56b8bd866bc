"""Price precision / recall / F1 of the extractor on the real-page development set.

Usage: ``python bench/score_realpages.py [--structured-only] [--dir /work/shared/realpages] [-v]``

Scoring (the set's README): a page is right when the extracted price equals one truth value
numerically; no price where the truth has one is a miss; a wrong price is both a false positive
and a miss; a price on a page whose truth is empty is a false positive.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crawlers.extract import extract, structured_only

# The shared development set: $PRICEWARDEN_REALPAGES, else ../shared/realpages beside the checkout,
# else the machine's /work/shared/realpages (a clone made elsewhere still finds it).
DEFAULT_DIR = next((p for p in (Path(os.environ.get("PRICEWARDEN_REALPAGES", "")),
                       Path(__file__).resolve().parents[2] / "shared" / "realpages",
                       Path("/work/shared/realpages")) if str(p) not in ("", ".") and (p / "truth.jsonl").is_file()),
                Path(__file__).resolve().parents[2] / "shared" / "realpages")


@dataclass
class Score:
    """Counts and the per-page misses."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    misses: list[str] | None = None

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def load_pages(folder: Path) -> list[tuple[dict, bytes]]:
    """(truth record, raw HTML bytes) for every page of the set."""
    pages = []
    for line in (folder / "truth.jsonl").read_text().splitlines():
        if line.strip():
            truth = json.loads(line)
            pages.append((truth, gzip.decompress((folder / "pages" / f"{truth['id']}.html.gz").read_bytes())))
    return pages


def score(pages: list[tuple[dict, bytes]], *, structured: bool = False) -> Score:
    """Score the cascade (or its structured-data step alone) on ``pages``."""
    result = Score(misses=[])
    for truth, html in pages:
        expected = {Decimal(p) for p in truth["price"]}
        if structured:
            cand = structured_only(html, truth.get("url") or "")
            got, how = (cand.price, cand.method) if cand else (None, "none")
        else:
            ext = extract(html, truth.get("url") or "")
            got, how = ext.price, f"{ext.method} {','.join(ext.flags)}"
        if got is not None and got in expected:
            result.tp += 1
            continue
        if got is not None:
            result.fp += 1
        if expected:
            result.fn += 1
        if got is not None or expected:
            result.misses.append(f"{truth['id']}: got {got} ({how}) want {sorted(map(str, expected))}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--structured-only", action="store_true", help="score step 1 (schema.org data) alone")
    parser.add_argument("-v", "--verbose", action="store_true", help="list every miss")
    args = parser.parse_args()
    pages = load_pages(args.dir)
    for label, only in (("structured data only", True), ("full cascade", False)):
        if args.structured_only and not only:
            continue
        s = score(pages, structured=only)
        print(f"{label:22s} pages={len(pages)} tp={s.tp} fp={s.fp} fn={s.fn} "
              f"precision={s.precision:.3f} recall={s.recall:.3f} F1={s.f1:.3f}")
        if args.verbose or not only:
            for miss in s.misses or []:
                print("   miss", miss)


if __name__ == "__main__":
    main()
