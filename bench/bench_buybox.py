"""The second reading before an accusation on the sandbox world: is the buy box read right, and what it costs.

    .venv/bin/python bench/bench_buybox.py [--products 20] [--seed 7] [--day 1] [--limit 0]

Serves the world, and reads every product and marketplace offer page that shows its price (no failure
planted, not cart-only) as ``detection.confirm.confirm_pending`` does: rendered in Chromium and the
amount at the buy box measured (``crawlers.buybox.read_buy_boxes``, one browser for all, the crawl's
browser concurrency and render budget). A reading is right when it is the page's price (after a coupon)
or the price shown before the coupon, in the page's currency; "none" when the reading took no amount.
Prints, per family, pages / right / wrong / none, and the wall and CPU time (this process and its
children: Chromium) per page.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crawlers.buybox import read_buy_boxes
from demo import World, serve


def _cpu() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--day", type=int, default=1)
    parser.add_argument("--limit", type=int, default=0, help="read only this many pages (0: all)")
    parser.add_argument("-v", "--verbose", action="store_true", help="every wrong or empty reading")
    args = parser.parse_args()
    world = World(seed=args.seed, products=args.products)
    with serve(world, base_port=0) as running:
        running.set_day(args.day)
        truth = world.truth(args.day, running.origins)
        pages = [p for p in truth["pages"] if p["page_type"] in {"product", "offers"} and not p["failure"]
                 and p["price_visibility"] in {"page", "xhr"}]
        if args.limit:
            pages = pages[:args.limit]
        urls = {i: p["url"] for i, p in enumerate(pages)}
        currencies = {i: p["currency"] for i, p in enumerate(pages)}
        cpu, wall = _cpu(), time.perf_counter()
        readings = read_buy_boxes(urls, currencies=currencies)
        cpu, wall = _cpu() - cpu, time.perf_counter() - wall
    tally: dict[str, Counter[str]] = defaultdict(Counter)
    for i, page in enumerate(pages):
        reading = readings.get(i)
        accepted = {Decimal(p) for p in (page["price"], page.get("sale_price")) if p}
        outcome = ("failed" if reading is None else "none" if reading.price is None else
                   "right" if reading.price in accepted and reading.currency == page["currency"] else "wrong")
        tally[page["family"]][outcome] += 1
        if args.verbose and outcome != "right":
            print(f"  {outcome:6s} {page['family']:11s} want {page['price']} {page['currency']} got "
                  f"{getattr(reading, 'price', None)} {getattr(reading, 'currency', None)} "
                  f"({getattr(reading, 'problem', None)}) {page['url']}")
    print(f"{'family':12s} {'pages':>5s} {'right':>5s} {'wrong':>5s} {'none':>5s} {'failed':>6s}")
    total: Counter[str] = Counter()
    for family in sorted(tally):
        t = tally[family]
        total.update(t)
        print(f"{family:12s} {t.total():5d} {t['right']:5d} {t['wrong']:5d} {t['none']:5d} {t['failed']:6d}")
    print(f"{'all':12s} {total.total():5d} {total['right']:5d} {total['wrong']:5d} {total['none']:5d} "
          f"{total['failed']:6d}")
    n = max(1, len(pages))
    print(f"{len(pages)} pages in {wall:.1f} s wall, {cpu:.1f} s CPU (with Chromium): "
          f"{wall / n * 1000:.0f} ms wall, {cpu / n * 1000:.0f} ms CPU a page")


if __name__ == "__main__":
    main()
