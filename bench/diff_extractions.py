"""Compare two dumps of ``bench/dump_extractions.py``: every field of every page must be the same, except that
the candidates the cascade did not choose may be fewer after (never other, never more, never reordered).

Usage: ``python bench/diff_extractions.py BEFORE.json AFTER.json [--show 20]``. Prints how many pages and
readings were compared, how many are identical byte for byte, how many differ only by candidates left out
(the visible scan confined to the product's block finds fewer of the page's other amounts), and every other
difference, field by field; exits 1 when there is one.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def _fewer(before: list[Any], after: list[Any]) -> bool:
    """Whether ``after`` is ``before`` with some items left out (a subsequence, items equal)."""
    rest = iter(before)
    return all(any(item == kept for kept in rest) for item in after)


def compare(before: dict[str, Any], after: dict[str, Any]) -> tuple[int, int, list[str], list[str]]:
    """(readings compared, identical, readings with fewer candidates, differences as lines)."""
    compared = identical = 0
    fewer: list[str] = []
    diffs: list[str] = []
    for key in sorted(set(before) | set(after)):
        if key not in before or key not in after:
            diffs.append(f"{key}: only in {'before' if key in before else 'after'}")
            continue
        for way in sorted(set(before[key]) | set(after[key])):
            old, new = before[key].get(way), after[key].get(way)
            compared += 1
            if old == new:
                identical += 1
                continue
            if old is None or new is None:
                diffs.append(f"{key} [{way}]: reading only {'before' if new is None else 'after'}")
                continue
            for field in sorted(set(old) | set(new)):
                if old.get(field) == new.get(field):
                    continue
                if field == "candidates" and _fewer(old[field], new[field]):
                    fewer.append(f"{key} [{way}]: {len(old[field])} -> {len(new[field])} candidates")
                    continue
                diffs.append(f"{key} [{way}] {field}: {json.dumps(old.get(field), ensure_ascii=False)[:300]} -> "
                             f"{json.dumps(new.get(field), ensure_ascii=False)[:300]}")
    return compared, identical, fewer, diffs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--show", type=int, default=20, help="lines of each kind to print")
    args = parser.parse_args()
    before = json.loads(args.before.read_text(encoding="utf-8"))
    after = json.loads(args.after.read_text(encoding="utf-8"))
    compared, identical, fewer, diffs = compare(before, after)
    print(f"{len(before)} pages, {compared} readings: {identical} identical, {len(fewer)} with fewer candidates "
          f"only, {len(diffs)} other differences")
    for line in fewer[:args.show]:
        print("  fewer:", line)
    for line in diffs[:args.show]:
        print("  DIFF:", line)
    sys.exit(1 if diffs else 0)


if __name__ == "__main__":
    main()
