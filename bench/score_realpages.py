"""Price precision / recall / F1 of the extractor on the real-page development set and the written pages.

Usage: ``python bench/score_realpages.py [--dir /work/shared/realpages] [--threshold 0.9] [--fit] [-v]``

Two sets: the 77 real pages (``--dir``, mostly US shops) and the pages written for this project in
the style of shops from 77 countries (``tests/extract_pages``); and the **held-out** batches
(``tests/extract_pages/heldout*``): pages written blind, before the extractor was run on them, never in
the cross-validation nor the fit, scored with the shipped calibration table (a batch the extractor was
then fixed on gives training figures from then on). For each it prints:

- **as is**: every price the cascade returns counts (the scoring of the set's README: a page is right
  when the price equals one truth value numerically; no price where the truth has one is a miss; a
  wrong price is both a false positive and a miss; a price where the truth is empty is a false
  positive);
- **decided**: a price whose calibrated confidence is below ``extract.auto_confidence`` is
  *undecided* (a person picks), neither a false positive nor a hit: precision on decided pages,
  recall, F1 and the share undecided. These use **held-out** confidences: the calibration is fitted
  by a 5-fold cross-validation split by site (a site's pages are never in the fold that judges them),
  so the figures are not training figures;
- the **reliability table** of those held-out confidences (predicted against observed rate right),
  beside the raw scores';
- with ``--without-hand-rules``, the same figures with the cascade's two hand-set undecided rules off
  (two visible candidates within ``_UNDECIDED_TIE``, a visible candidate over ``_DISAGREES`` against
  structured data the page does not show), every decision left to the calibrated confidence: the
  by-site cross-validation that says whether those constants can go;
- with ``--fit``, the calibration fitted on all pages is written to ``crawlers/extract/calibration.json``
  (the table the package ships; nothing is fitted at run time).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import pairwise
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crawlers.extract import extract, structured_only
from crawlers.extract.calibration import BLIND_MIN, MIN_PAGES, Model, calibrated, family, fit, load, save
from crawlers.extract.calibration import load_blind as load_blind_models
from pricewarden.settings import ExtractSettings

ROOT = Path(__file__).resolve().parents[1]
WRITTEN = ROOT / "tests" / "extract_pages"
# Pages written blind (before the extractor was run on them): never in the cross-validation nor the fit,
# scored with the shipped calibration table, the estimate of how the extractor does on unseen shops.
HELDOUT = sorted(p for p in WRITTEN.glob("heldout*") if (p / "truth.jsonl").is_file())
# The shared development set: $PRICEWARDEN_REALPAGES, else ../shared/realpages beside the checkout,
# else the machine's /work/shared/realpages (a clone made elsewhere still finds it).
DEFAULT_DIR = next((p for p in (Path(os.environ.get("PRICEWARDEN_REALPAGES", "")),
                       Path(__file__).resolve().parents[2] / "shared" / "realpages",
                       Path("/work/shared/realpages")) if str(p) not in ("", ".") and (p / "truth.jsonl").is_file()),
                Path(__file__).resolve().parents[2] / "shared" / "realpages")
BINS = (0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 1.0001)


@dataclass
class Score:
    """Counts and the per-page misses."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    undecided: int = 0
    pages: int = 0
    misses: list[str] | None = field(default_factory=list)

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

    @property
    def undecided_share(self) -> float:
        return self.undecided / self.pages if self.pages else 0.0


@dataclass
class Reading:
    """One page's extraction: its set and site, what the cascade said and what the truth is."""

    set: str
    id: str
    site: str
    truth: frozenset[Decimal]
    price: Decimal | None
    method: str
    raw: float
    flags: tuple[str, ...]
    held_out: float = 0.0  # calibrated confidence from a fold that never saw this site
    undecided: bool = False  # the cascade itself left the page undecided (competing candidates)

    @property
    def right(self) -> bool:
        return self.price is not None and self.price in self.truth


def load_pages(folder: Path) -> list[tuple[dict, bytes]]:
    """(truth record, raw HTML bytes) for every page of the real set."""
    pages = []
    for line in (folder / "truth.jsonl").read_text().splitlines():
        if line.strip():
            truth = json.loads(line)
            pages.append((truth, gzip.decompress((folder / "pages" / f"{truth['id']}.html.gz").read_bytes())))
    return pages


def load_written(folder: Path = WRITTEN) -> list[tuple[dict, bytes]]:
    """(truth record, HTML bytes) for every page written for the project (``tests/extract_pages``)."""
    pages = []
    for line in (folder / "truth.jsonl").read_text().splitlines():
        if line.strip():
            truth = json.loads(line)
            truth.setdefault("site", truth["url"].split("/")[2])
            pages.append((truth, (folder / f"{truth['id']}.html").read_bytes()))
    return pages


def read(label: str, pages: Iterable[tuple[dict, bytes]]) -> list[Reading]:
    """Run the cascade (raw, uncalibrated scores) over ``pages``."""
    out = []
    for truth, html in pages:
        ext = extract(html, truth.get("url") or "", calibrate=False)
        out.append(Reading(label, truth["id"], truth.get("site") or truth["id"],
                           frozenset(Decimal(p) for p in truth["price"]), ext.price, ext.method, ext.confidence,
                           tuple(ext.flags), undecided=ext.undecided is not None))
    return out


def score(readings: Iterable[Reading], confidence: Callable[[Reading], float] | None = None,
          threshold: float = 0.0) -> Score:
    """Count hits, false positives, misses and undecided pages; below ``threshold`` a price is undecided."""
    result = Score()
    for r in readings:
        result.pages += 1
        got = r.price
        if r.undecided or (got is not None and confidence is not None and confidence(r) < threshold):
            result.undecided += 1  # (the cascade's own abstention, or a confidence under the threshold)
            got = None
        if got is not None and got in r.truth:
            result.tp += 1
            continue
        if got is not None:
            result.fp += 1
        if r.truth:
            result.fn += 1
        if got is not None or r.truth:
            assert result.misses is not None
            result.misses.append(f"{r.id}: got {r.price} ({r.method} {r.flags}) conf "
                                 f"{confidence(r) if confidence else r.raw:.2f} want {sorted(map(str, r.truth))}")
    return result


def load_blind(folders: Iterable[Path] = HELDOUT) -> list[Reading]:
    """The blind readings of the held-out batches (``blind.jsonl``, written by ``bench/blind_readings.py``)."""
    out = []
    for folder in folders:
        path = folder / "blind.jsonl"
        for line in path.read_text(encoding="utf-8").splitlines() if path.is_file() else []:
            if line.strip():
                r = json.loads(line)
                out.append(Reading(folder.name, r["id"], r["id"], frozenset(Decimal(p) for p in r["truth"]),
                                   None if r["price"] is None else Decimal(r["price"]), r["method"], r["raw"],
                                   tuple(r["flags"]), undecided=r["outcome"] == "undecided"))
    return out


def fit_readings(readings: Iterable[Reading], min_pages: int = MIN_PAGES) -> dict[str, Model]:
    """Calibration models fitted on the readings that got a price."""
    return fit(((r.method, r.raw, r.flags, r.right) for r in readings if r.price is not None), min_pages=min_pages)


def leave_one_batch_out(blind: list[Reading], dev: dict[str, Model]) -> None:
    """Fill ``held_out`` of each blind reading: the development models with blind models fitted without its batch."""
    for batch in sorted({r.set for r in blind}):
        others = fit_readings((r for r in blind if r.set != batch), BLIND_MIN)
        for r in blind:
            if r.set == batch and r.price is not None:
                r.held_out = calibrated(r.method, r.raw, r.flags, dev, others)


def reliability_by_family(readings: list[Reading], confidence: Callable[[Reading], float],
                          threshold: float) -> list[str]:
    """Per family: mean confidence against the share right, the bins, and the answers at or above ``threshold``."""
    rows = []
    priced = [r for r in readings if r.price is not None]
    for name in [*sorted({family(r.method) for r in priced}), "all"]:
        subset = [r for r in priced if name in {"all", family(r.method)}]
        above = [r for r in subset if confidence(r) >= threshold]
        below = [r for r in subset if confidence(r) < threshold]
        hits, waits = sum(r.right for r in above), sum(r.right for r in below)
        predicted = sum(map(confidence, subset)) / len(subset)
        rows.append(f" {name:10s} answers {len(subset):3d}  predicted {predicted:.3f}  "
                    f"observed {sum(r.right for r in subset) / len(subset):.3f} | >= {threshold}: right {hits:2d} "
                    f"wrong {len(above) - hits} precision {hits / len(above) if above else 1.0:.3f} | below: "
                    f"right {waits:2d} wrong {len(below) - waits}")
        if name != "all":
            rows += reliability(subset, confidence)
    return rows


def cross_validate(readings: list[Reading], folds: int = 5, blind: dict[str, Model] | None = None) -> None:
    """Fill ``held_out`` of each reading from a calibration fitted on the other sites' pages (and ``blind``)."""
    from sklearn.model_selection import GroupKFold

    decided = [r for r in readings if r.price is not None]
    groups = [r.site for r in decided]
    for train, test in GroupKFold(n_splits=folds).split(decided, groups=groups):
        models: dict[str, Model] = fit((decided[i].method, decided[i].raw, decided[i].flags, decided[i].right)
                                       for i in train)
        for i in test:
            decided[i].held_out = calibrated(decided[i].method, decided[i].raw, decided[i].flags, models, blind)


def reliability(readings: list[Reading], confidence: Callable[[Reading], float]) -> list[str]:
    """Rows of a reliability table: pages per confidence bin, mean confidence, observed share right."""
    rows = []
    decided = [r for r in readings if r.price is not None]
    for lo, hi in pairwise(BINS):
        inside = [r for r in decided if lo <= confidence(r) < hi]
        if not inside:
            continue
        mean = sum(confidence(r) for r in inside) / len(inside)
        right = sum(r.right for r in inside) / len(inside)
        rows.append(f"  [{lo:.2f}, {min(hi, 1.0):.2f})  pages {len(inside):3d}  predicted {mean:.3f}  "
                    f"observed {right:.3f}  gap {right - mean:+.3f}")
    return rows


def compare_hand_rules(readings: list[Reading], real: list[tuple[dict, bytes]], written: list[tuple[dict, bytes]],
                       threshold: float) -> None:
    """Held-out decided figures with the cascade's hand-set tie/disagreement rules, and without them."""
    from crawlers.extract import cascade

    saved = cascade._UNDECIDED_TIE, cascade._DISAGREES
    cascade._UNDECIDED_TIE, cascade._DISAGREES = float("-inf"), float("inf")  # never a tie, never a disagreement
    try:
        without = read("real", real) + read("written", written)
    finally:
        cascade._UNDECIDED_TIE, cascade._DISAGREES = saved
    cross_validate(without)
    changed = [f"{a.id}: {a.price if not a.undecided else 'undecided'} -> {b.price if not b.undecided else 'undecided'}"
               for a, b in zip(readings, without, strict=True) if (a.price, a.undecided) != (b.price, b.undecided)]
    print(f"\nhand rules (_UNDECIDED_TIE={saved[0]}, _DISAGREES={saved[1]}) against calibrated confidence alone "
          f"(held-out by site); pages whose answer changes: {len(changed)}")
    for line in changed:
        print("   ", line)
    for label in ("real", "written", "both"):
        for name, subset in (("with hand rules", readings), ("calibrated only", without)):
            pages = [r for r in subset if label in {"both", r.set}]
            print(_line(f"{label}: {name}", score(pages, lambda r: r.held_out, threshold)))


def _line(label: str, s: Score) -> str:
    return (f"{label:34s} pages={s.pages:3d} tp={s.tp:3d} fp={s.fp} fn={s.fn:2d} undecided={s.undecided_share:.3f} "
            f"precision={s.precision:.3f} recall={s.recall:.3f} F1={s.f1:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--threshold", type=float, default=ExtractSettings().auto_confidence,
                        help="extract.auto_confidence: below it a price is undecided")
    parser.add_argument("--fit", action="store_true", help="fit the calibration on all pages and store it")
    parser.add_argument("--without-hand-rules", action="store_true",
                        help="also score with the tie/disagreement constants off (calibrated confidence decides)")
    parser.add_argument("-v", "--verbose", action="store_true", help="every miss, and a line per site")
    args = parser.parse_args()
    real, written = load_pages(args.dir), load_written()
    structured = Score()
    for truth, html in real:
        cand = structured_only(html, truth.get("url") or "")
        structured.pages += 1
        want = {Decimal(p) for p in truth["price"]}
        structured.tp += bool(cand and cand.price in want)
        structured.fp += bool(cand and cand.price not in want)
        structured.fn += bool(want and not (cand and cand.price in want))
    print(_line("real: structured data only", structured))
    readings = read("real", real) + read("written", written)
    blind = load_blind()
    # the blind readings are of other pages than the development ones: their model is held out for these
    blind_models = fit_readings(blind, BLIND_MIN) if args.fit else load_blind_models()
    cross_validate(readings, blind=blind_models)
    stored = lambda r: calibrated(r.method, r.raw, r.flags)  # noqa: E731 (the package's table)
    heldout = [r for folder in HELDOUT for r in read(folder.name, load_written(folder))]
    held = lambda r: r.held_out  # noqa: E731
    print(f"\nextract.auto_confidence = {args.threshold}; 'decided' uses held-out confidences "
          "(5-fold cross-validation split by site)")
    for label in ("real", "written", "both"):
        subset = [r for r in readings if label in {"both", r.set}]
        print(_line(f"{label}: as is", score(subset)))
        s = score(subset, held, args.threshold)
        print(_line(f"{label}: decided (held-out)", s))
        if args.verbose or label != "both":
            for miss in s.misses or []:
                print("   miss", miss)
    print(_line("both: decided (stored, training)", score(readings, stored, args.threshold)))
    print("\nheld-out batches read by today's extractor, which was fixed on them and whose blind model saw them: "
          "training figures")
    for folder in HELDOUT:
        batch = [r for r in heldout if r.set == folder.name]
        print(_line(f"{folder.name}: as is", score(batch)))
        s = score(batch, stored, args.threshold)
        print(_line(f"{folder.name}: decided (stored, training)", s))
        for miss in s.misses or []:
            print("   miss", miss)
    dev_models = fit_readings(readings) if args.fit else load()
    leave_one_batch_out(blind, dev_models)
    print("\nblind readings (blind.jsonl: each batch read by its own commit's extractor, before it had seen the "
          "batch); leave-one-batch-out: batch k is judged by blind models fitted without batch k, not training "
          "figures")
    for folder in HELDOUT:
        batch = [r for r in blind if r.set == folder.name]
        if batch:
            print(_line(f"{folder.name}: blind as is", score(batch)))
            print(_line(f"{folder.name}: blind decided", score(batch, held, args.threshold)))
    print("reliability on the blind readings, development models only (the calibration before blind readings)")
    print("\n".join(reliability_by_family(blind, lambda r: calibrated(r.method, r.raw, r.flags, dev_models),
                                         args.threshold)))
    print("reliability on the blind readings, lower of development and blind models, leave-one-batch-out")
    print("\n".join(reliability_by_family(blind, held, args.threshold)))
    print("the same with the blind models fitted on every batch (what ships; training figures)")
    print("\n".join(reliability_by_family(
        blind, lambda r: calibrated(r.method, r.raw, r.flags, dev_models, blind_models), args.threshold)))
    print("\nreliability, raw scores (all pages with a price)")
    print("\n".join(reliability(readings, lambda r: r.raw)))
    print("reliability, calibrated held-out by site")
    print("\n".join(reliability(readings, held)))
    if args.verbose:
        print("\nper site (held-out): site, set, right/decided/undecided")
        for r in sorted(readings, key=lambda r: r.site) + heldout:
            r.held_out = stored(r) if r.set.startswith("heldout") and r.price is not None else r.held_out
            state = ("undecided" if r.undecided or (r.price is not None and r.held_out < args.threshold) else
                     "none" if r.price is None else "right" if r.right else "WRONG")
            print(f"  {r.site:40s} {r.set:8s} {state:9s} {r.method:14s} raw {r.raw:.2f} held-out {r.held_out:.2f}")
    if args.without_hand_rules:
        compare_hand_rules(readings, real, written, args.threshold)
    if args.fit:
        save(dev_models, blind=blind_models, note=f"models: {len(real)} real pages + {len(written)} written pages; "
             f"blind: {len(blind)} blind readings of {len({r.set for r in blind})} held-out batches")
        print("\nstored", {m: f"{c.pages} pages, {c.wrong} wrong" for m, c in dev_models.items()},
              "blind", {m: f"{c.pages} answers, {c.wrong} wrong" for m, c in blind_models.items()})


if __name__ == "__main__":
    main()
