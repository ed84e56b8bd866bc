"""Calibrated confidence: the confidence an extraction reports is the share of pages its method is right on.

Each step of the cascade scores its answer on its own scale (structured data a flat 0.9, the
heuristics a sum of signals). A logistic model per family of methods (structured data, embedded
state and heuristics; a site profile has its own when there are enough pages) maps that raw score,
and whether the visible page shows the chosen amount, to the rate of right answers. Two sets of
models are fitted offline (``python bench/score_realpages.py --fit``) and stored as data,
``calibration.json`` beside this module; nothing is fitted at run time:

- ``models``, on the development pages. The extraction rules were tuned on those pages, so they
  are right on nearly all of them: an upper bound, not an estimate (0.98 for nearly everything);
- ``blind``, on the **blind readings** (``tests/extract_pages/heldout*/blind.jsonl``, made by
  ``bench/blind_readings.py``): what the extractor of the day read on pages written blind, before it
  had ever seen them. That is the situation of every new shop, and there about one answer in seven
  was wrong, at the same raw scores as the right ones.

An answer's confidence is the lower of the two (:func:`calibrated`): never surer than the pages the
extractor was not tuned on say, nor than the development pages say. A family with too few development
pages uses their model of all families pooled (``"*"``); the blind models are fitted for every
family that has blind readings (:data:`BLIND_MIN`), and a family with none (a site profile, written
for its site) is not capped by them. With no table at all the raw score stands.

The blind readings' raw scores come from older extractors: the blind model says how often
an answer of that family, score and visibility was right on a new site, whatever rules produced it.
A structured price the page does not show is never surer than a shown one at the same raw score.

Logistic rather than isotonic: each set holds a handful of wrong answers per family, on which an
isotonic fit jumps between 0 and 1. Each kind of answer (shown on the page or not) carries a prior
of half a page right and half wrong (``PRIOR``, Jeffreys'), so a kind with few pages is never taken
as certain; a family never wrong on its pages gets (n + 0.5) / (n + 1) per kind whatever its score,
and never more than the rule of succession, (n + 1) / (n + 2), overall.

The threshold at or above which an answer is acted on without a person is the setting
``extract.auto_confidence`` (:func:`decided`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

__all__ = ["BLIND_MIN", "TABLE", "Model", "calibrated", "decided", "family", "features", "fit", "load", "load_blind",
           "save"]

TABLE = Path(__file__).with_name("calibration.json")
POOLED = "*"
# Pages a family needs in the development set before it gets a model of its own.
MIN_PAGES = 15
# Blind readings a family needs for a blind model of its own: any (its prior keeps a few from certainty).
BLIND_MIN = 1
# Pseudo-pages right and wrong that each kind of answer starts with (Jeffreys' prior, half a page each).
PRIOR = 0.5
_C = 10.0  # inverse L2 strength of the logistic fit (raw scores lie in [0, 1]: a steep curve needs room)
# Flags saying the visible page does not show the chosen amount where a shopper reads the price.
_UNSEEN = ("structured_not_visible", "structured_contradicted")
_FAMILIES = {"json-ld": "structured", "microdata": "structured", "rdfa": "structured", "opengraph": "structured",
             "embedded-json": "structured", "heuristic": "heuristic", "profile": "profile"}


def family(method: str) -> str:
    """The family a method is calibrated with (``json-ld`` → ``structured``)."""
    return _FAMILIES.get(method, method)


def features(raw: float, flags: Sequence[str] = ()) -> tuple[float, float]:
    """What the models read: the raw score, and 1.0 when the page does not show the amount as the price."""
    return raw, 1.0 if any(f in _UNSEEN for f in flags) else 0.0


@dataclass(frozen=True, slots=True)
class Model:
    """A logistic model of P(right) over :func:`features`, capped at ``ceiling``."""

    coef: tuple[float, ...]
    intercept: float
    ceiling: float
    pages: int  # development pages it was fitted on
    wrong: int  # of which the answer was wrong

    def __call__(self, x: Sequence[float]) -> float:
        """P(right) for features ``x``."""
        z = self.intercept + sum(c * v for c, v in zip(self.coef, x, strict=False))
        return min(self.ceiling, 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z)))))

    def as_dict(self) -> dict[str, Any]:
        """Plain data for the JSON table."""
        return {"coef": [round(c, 5) for c in self.coef], "intercept": round(self.intercept, 5),
                "ceiling": round(self.ceiling, 5), "pages": self.pages, "wrong": self.wrong}


def load(path: Path = TABLE, key: str = "models") -> dict[str, Model]:
    """The development pages' models stored at ``path`` by family (empty when there is no table)."""
    if not path.is_file():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return {name: Model(tuple(m["coef"]), float(m["intercept"]), float(m["ceiling"]), int(m["pages"]),
                        int(m["wrong"])) for name, m in data.get(key, {}).items()}


def load_blind(path: Path = TABLE) -> dict[str, Model]:
    """The blind readings' models stored at ``path`` by family (empty when there are none)."""
    return load(path, "blind")


@lru_cache(maxsize=1)
def _table() -> tuple[dict[str, Model], dict[str, Model]]:
    return load(), load_blind()


def calibrated(method: str, raw: float, flags: Sequence[str] = (), models: dict[str, Model] | None = None,
               blind: dict[str, Model] | None = None) -> float:
    """The probability that an answer of ``method`` with raw score ``raw`` (and ``flags``) is right.

    The lower of what the development pages' ``models`` and the blind readings' ``blind`` say; without
    arguments, the package's table (both); with ``models`` alone, those models only.
    """
    if models is None and blind is None:
        models, blind = _table()
    chosen = [m for m in ((models or {}).get(family(method)) or (models or {}).get(POOLED),
                          (blind or {}).get(family(method))) if m is not None]
    x = features(raw, flags)
    # A structured price the page does not show is never surer than one it shows at the same score (five
    # such blind answers, all right, would say so; the first readings of ten on development pages had three wrong).
    xs = [x, (raw, 0.0)] if x[1] and family(method) == "structured" else [x]
    return raw if not chosen else round(min(m(v) for m in chosen for v in xs), 4)


def decided(confidence: float, threshold: float) -> bool:
    """Whether an answer this sure is acted on without a person (``extract.auto_confidence``)."""
    return confidence >= threshold


def _logit(rate: float) -> float:
    return math.log(rate / (1 - rate))


def _fit_one(xs: list[tuple[float, float]], right: list[bool]) -> Model:
    n, hits = len(xs), sum(right)
    # n pages never make anything surer than n right out of n would (the rule of succession)
    ceiling = (n + 1) / (n + 2)
    # Pages the visible page confirms and pages it does not are two kinds of evidence: each is as sure
    # as its own pages say with PRIOR pages right and wrong added. Four unseen answers, all right,
    # make (4 + 0.5) / (4 + 1) = 0.9, not the 0.99 of the sixty shown ones beside them.
    cells = {level: [r for x, r in zip(xs, right, strict=True) if x[1] == level] for level in (0.0, 1.0)}
    if hits in (0, n):
        shown, unseen = ((sum(c) + PRIOR) / (len(c) + 2 * PRIOR) for c in cells.values())
        return Model((0.0, _logit(unseen) - _logit(shown)), _logit(shown), ceiling, n, n - hits)
    from sklearn.linear_model import LogisticRegression

    # The same prior for the logistic fit: PRIOR right and PRIOR wrong pseudo-pages of each kind, at
    # the kind's mean score (a kind never wrong on a handful of pages is not taken as certain).
    prior = [(sum(x[0] for x in level_xs) / len(level_xs), level) for level in (0.0, 1.0)
             if (level_xs := [x for x in xs if x[1] == level])]
    model = LogisticRegression(C=_C)
    model.fit([list(x) for x in [*xs, *prior, *prior]],
              [1 if r else 0 for r in right] + [1] * len(prior) + [0] * len(prior),
              sample_weight=[1.0] * len(xs) + [PRIOR] * 2 * len(prior))
    return Model(tuple(float(c) for c in model.coef_[0]), float(model.intercept_[0]), ceiling, n, n - hits)


def fit(records: Iterable[tuple[str, float, Sequence[str], bool]], *, min_pages: int = MIN_PAGES) -> dict[str, Model]:
    """Models per family from ``(method, raw score, flags, right)`` of the pages that got a price (one set).

    Families with fewer than ``min_pages`` pages get none (they use the pooled ``"*"`` model).
    """
    by_family: dict[str, tuple[list[tuple[float, float]], list[bool]]] = {}
    pooled: tuple[list[tuple[float, float]], list[bool]] = ([], [])
    for method, raw, flags, right in records:
        x = features(raw, flags)
        for xs, ys in (by_family.setdefault(family(method), ([], [])), pooled):
            xs.append(x)
            ys.append(right)
    models = {name: _fit_one(xs, ys) for name, (xs, ys) in by_family.items() if len(xs) >= min_pages}
    if pooled[0]:
        models[POOLED] = _fit_one(*pooled)
    return models


def save(models: dict[str, Model], path: Path = TABLE, *, note: str = "",
         blind: dict[str, Model] | None = None) -> None:
    """Write the development pages' ``models`` and the blind readings' ``blind`` as the package's table."""
    data = {"fitted_by": "bench/score_realpages.py --fit", "note": note, "features": ["raw score", "unseen"],
            "models": {name: m.as_dict() for name, m in sorted(models.items())},
            "blind": {name: m.as_dict() for name, m in sorted((blind or {}).items())}}
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
