"""CPU of ``extract()`` from two checkouts in one process, alternating page by page, as the crawl calls it.

Usage: ``python bench/ab_extract.py BASE_CHECKOUT [--rounds 5] [--dir ../shared/realpages]``: the base (e.g.
``/work/main``) and this checkout each import their own ``crawlers`` package into the same process; every page
of the development set is read by one, then the other (which goes first alternates), with the charset the
crawl's server declares and the crawl's ``undecided_below``. On a shared machine whose load moves the CPU a
page costs by 20-40% between runs, two fresh processes taken one after the other rarely agree on a few per
cent; read page by page in one process, both sides see the same load (only ``crawlers`` is taken from each
checkout; ``pricewarden`` and the rest are imported once: it compares changes to ``crawlers``). The patterns'
caches are warm after the first round (both sides alike): figures are a little under a crawl's, where the pages
differ.
"""

from __future__ import annotations

import argparse
import gzip
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HERE))

from bench.dump_extractions import _served_encoding  # noqa: E402
from bench.score_realpages import DEFAULT_DIR  # noqa: E402


def _extract_of(root: Path) -> Callable[..., Any]:
    """``crawlers.extract.extract`` as ``root``'s checkout defines it (its own modules, imported afresh)."""
    for name in [m for m in sys.modules if m == "crawlers" or m.startswith("crawlers.")]:
        del sys.modules[name]
    sys.path.insert(0, str(root))
    try:
        import crawlers.extract

        return crawlers.extract.extract
    finally:
        sys.path.remove(str(root))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base", type=Path, help="the other checkout (its crawlers package is compared)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, as one crawl process gets
    sys.path.remove(str(HERE))
    base, this = _extract_of(args.base.resolve()), _extract_of(HERE)
    if base.__code__.co_filename == this.__code__.co_filename:
        raise SystemExit("the base is this checkout")
    from pricewarden.settings import get_settings

    below = get_settings().crawl.undecided_below
    pages = [gzip.decompress(p.read_bytes()) for p in sorted((args.dir / "pages").glob("*.html.gz"))]
    encodings = [_served_encoding(body) for body in pages]
    url = "https://shop.example.com/p"
    for fn in (base, this):  # (imports, locale data and the patterns' first compiles, outside the figures)
        for body, encoding in zip(pages, encodings, strict=True):
            fn(body, url, encoding=encoding, undecided_below=below)
    clock = time.process_time
    per_base: list[float] = []
    per_this: list[float] = []
    for r in range(args.rounds):
        spent = {base: 0.0, this: 0.0}
        for i, (body, encoding) in enumerate(zip(pages, encodings, strict=True)):
            for fn in ((base, this) if (i + r) % 2 == 0 else (this, base)):
                start = clock()
                fn(body, url, encoding=encoding, undecided_below=below)
                spent[fn] += clock() - start
        per_base.append(spent[base] / len(pages) * 1000)
        per_this.append(spent[this] / len(pages) * 1000)
        print(f"round {r + 1}: base {per_base[-1]:.2f}, this {per_this[-1]:.2f} ms a page "
              f"(this / base {per_this[-1] / per_base[-1]:.3f}), load {os.getloadavg()[0]:.1f}")
    print(f"{len(pages)} pages, {args.rounds} rounds: base {statistics.median(per_base):.2f} ms a page, this "
          f"{statistics.median(per_this):.2f} (medians); this / base, total CPU {sum(per_this) / sum(per_base):.3f}")


if __name__ == "__main__":
    main()
