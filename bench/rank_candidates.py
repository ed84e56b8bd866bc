"""Would a learned candidate ranker beat the hand-ordered heuristics? A by-site cross-validated comparison.

Usage: ``python bench/rank_candidates.py [--dir /work/shared/realpages]``

For every development page (the real set and ``tests/extract_pages``) the visible-page step collects
and scores its price candidates as it does in the cascade. Each candidate becomes a row of features
(role words nearby, distance to the title and to the buy button, price-labelled markup, a currency
sign, other products' blocks or page chrome, "from" wording, repetition on the page, agreement with
structured data); its label is whether it equals the page's true price. A scikit-learn model is
trained in a 5-fold split **by site** and picks, on each held-out page, its most likely candidate;
the hand rules pick theirs (the best score, outside other products' blocks, above the floor).
The script prints both page accuracies on the same held-out pages. The ranker is not part of the
cascade: it would replace the hand rules only if it beat them here.
"""

from __future__ import annotations

import argparse
import re
import sys
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from score_realpages import DEFAULT_DIR, load_pages, load_written

from crawlers.extract.heuristics import (
    _MIN_SCORE,
    _OTHER_BLOCK,
    _PRICE_ATTR,
    _PRICE_LABEL,
    _attrs,
    _collect,
    _score,
    title_ancestors,
)
from crawlers.extract.page import Page
from crawlers.extract.structured import read_structured

_FROM = re.compile(r"\bfrom|starting|as low|ab\b|desde|à partir", re.I)


def rows_of(html: bytes, url: str) -> list[tuple[list[float], Decimal, float, bool]]:
    """(features, amount, hand score, eligible for the hand rule) of each current-role candidate on a page."""
    page = Page.parse(html, url)
    structured = {c.price for c in read_structured(page).candidates if c.role == "current"}
    items, h1, button, _ = _collect(page, None, None)
    box = title_ancestors(page)
    cache: dict = {}
    for item in items:
        _score(item, h1, button, box, cache)
    current = [i for i in items if i.role == "current" and i.amount.amount > 0]
    counts: dict[Decimal, int] = {}
    for i in current:
        counts[i.amount.amount] = counts.get(i.amount.amount, 0) + 1
    out = []
    for i in current:
        d_title = (i.index - h1) / 300 if h1 is not None else 2.0
        d_button = abs(i.index - button) / 200 if button is not None else 2.0
        elsewhere = any(r.startswith(_OTHER_BLOCK) for r in i.reasons)
        features = [
            max(-2.0, min(2.0, d_title)), 1.0 if h1 is not None and i.index < h1 else 0.0,
            min(2.0, d_button), 1.0 if _PRICE_ATTR.search(_attrs(i.node)) else 0.0,
            1.0 if _PRICE_LABEL.search(i.before[-25:]) else 0.0, 1.0 if i.amount.currency else 0.0,
            1.0 if elsewhere else 0.0, 1.0 if any(r == "aside" for r in i.reasons) else 0.0,
            1.0 if _FROM.search(i.before[-20:]) or "from-price" in i.reasons else 0.0,
            1.0 if "weak-was" in i.reasons else 0.0, 1.0 if "buy-box" in i.reasons else 0.0,
            min(3.0, counts[i.amount.amount] - 1.0), 1.0 if i.amount.amount in structured else 0.0,
        ]
        out.append((features, i.amount.amount, i.score + min(1.5, 0.5 * (counts[i.amount.amount] - 1)),
                    not elsewhere and i.score >= _MIN_SCORE))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    args = parser.parse_args()
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold

    pages = []
    for truth, html in [*load_pages(args.dir), *load_written()]:
        want = {Decimal(p) for p in truth["price"]}
        rows = rows_of(html, truth.get("url") or "")
        if want and rows:  # a page with a true price and something visible to rank
            pages.append((truth.get("site") or truth["id"], want, rows))
    groups = [site for site, _, _ in pages]
    results = {"hand rules": 0, "logistic": 0, "gradient boosting": 0, "logistic, no structured": 0,
               "gradient boosting, no structured": 0}
    for train, test in GroupKFold(n_splits=5).split(pages, groups=groups):
        x = [f for i in train for f, amount, _, _ in pages[i][2]]
        y = [int(amount in pages[i][1]) for i in train for _, amount, _, _ in pages[i][2]]
        x_vis = [f[:-1] for f in x]  # (without agreement with structured data, which the hand rules do not read)
        models = {"logistic": (LogisticRegression(C=1.0, max_iter=1000).fit(x, y), None),
                  "gradient boosting": (GradientBoostingClassifier(n_estimators=100, max_depth=2,
                                                                   random_state=0).fit(x, y), None),
                  "logistic, no structured": (LogisticRegression(C=1.0, max_iter=1000).fit(x_vis, y), -1),
                  "gradient boosting, no structured": (GradientBoostingClassifier(
                      n_estimators=100, max_depth=2, random_state=0).fit(x_vis, y), -1)}
        for i in test:
            _, want, rows = pages[i]
            eligible = [r for r in rows if r[3]]
            hand = max(eligible, key=lambda r: r[2])[1] if eligible else None
            results["hand rules"] += hand in want
            for name, (model, cut) in models.items():
                probs = model.predict_proba([r[0][:cut] for r in rows])[:, 1]
                best = max(range(len(rows)), key=lambda k: probs[k])
                results[name] += rows[best][1] in want
    n = len(pages)
    print(f"pages with a true price and visible candidates: {n} ({len(set(groups))} sites); "
          "5-fold split by site, held-out page accuracy of the visible-page step alone:")
    for name, right in results.items():
        print(f"  {name:34s} {right:3d}/{n} = {right / n:.3f}")


if __name__ == "__main__":
    main()
