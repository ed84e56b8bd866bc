"""Pages per second of ``extract()`` on one core: the real-page set, and large synthetic pages.

Usage: ``python bench/bench_extract.py [--rounds 3] [--synthetic 200]``. Figures on a shared,
noisy machine vary by a factor of two between runs: compare runs taken back to back.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crawlers.extract import extract
from crawlers.extract.page import Page

# The shared development set: $PRICEWARDEN_REALPAGES, else ../shared/realpages beside the checkout,
# else the machine's /work/shared/realpages (a clone made elsewhere still finds it).
REALPAGES = next((p for p in (Path(os.environ.get("PRICEWARDEN_REALPAGES", "")),
                       Path(__file__).resolve().parents[2] / "shared" / "realpages",
                       Path("/work/shared/realpages")) if str(p) not in ("", ".") and (p / "truth.jsonl").is_file()),
                Path(__file__).resolve().parents[2] / "shared" / "realpages")


def synthetic(i: int, *, structured: bool) -> str:
    """A ~430 KB product page: menus, scripts, description, reviews, related products, one buy box."""
    menu = "".join(f'<li><a href="/c/{k}">Category {k}</a></li>' for k in range(400))
    script = "<script>var analytics = " + json.dumps({"k": ["x" * 60] * 1500}) + ";</script>"
    reviews = "".join(f'<div class="review"><span class="stars">{k % 5 + 1} stars</span><p>'
                      + "Great sound and comfortable. " * 20 + "</p></div>" for k in range(250))
    related = "".join(f'<div class="product-tile"><a>Item {k}</a><span class="price">${k + 10}.99</span></div>'
                      for k in range(60))
    ld = ('<script type="application/ld+json">{"@type":"Product","name":"Acme","offers":{"@type":"Offer",'
          f'"price":"{100 + i % 50}.00","priceCurrency":"USD"}}}}</script>') if structured else ""
    return (f"<html lang='en'><head><title>Acme {i}</title>{ld}</head><body><nav><ul>{menu}</ul></nav>"
            f"{script}<main><h1>Acme AC-{i}</h1><div class='buybox'><del>$199.00</del>"
            f"<span class='price'>${100 + i % 50}.00</span><button class='add-to-cart'>Add to cart</button></div>"
            f"<section class='reviews'>{reviews}</section><section class='related'>{related}</section></main>"
            "<footer>Free shipping over $50</footer></body></html>")


def rate(pages: list[bytes | str], rounds: int, fn) -> tuple[float, float]:
    """Median and best pages/s over ``rounds`` passes."""
    rates = []
    for _ in range(rounds):
        start = time.perf_counter()
        for html in pages:
            fn(html)
        rates.append(len(pages) / (time.perf_counter() - start))
    return statistics.median(rates), max(rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--synthetic", type=int, default=200, help="synthetic pages per kind")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, as one crawl process gets
    sets: list[tuple[str, list[bytes | str]]] = []
    if (REALPAGES / "truth.jsonl").is_file():
        real = [gzip.decompress(p.read_bytes()) for p in sorted((REALPAGES / "pages").glob("*.html.gz"))]
        sets.append((f"realpages ({len(real)} pages, mean {sum(map(len, real)) // len(real) // 1024} KB)", real))
    for structured in (True, False):
        pages: list[bytes | str] = [synthetic(i, structured=structured) for i in range(args.synthetic)]
        kind = "JSON-LD + visible" if structured else "visible only (heuristics)"
        size = sum(len(p) for p in pages) // len(pages) // 1024
        sets.append((f"synthetic {kind} ({len(pages)} pages, {size} KB)", pages))
    print(f"extract() on one core, {args.rounds} rounds; machine is shared and noisy")
    for label, pages in sets:
        parse_med, _ = rate(pages, args.rounds, lambda h: Page.parse(h, "https://x/"))
        med, best = rate(pages, args.rounds, lambda h: extract(h, "https://x/"))
        print(f"  {label:55s} extract {med:7.1f} pages/s (best {best:7.1f}); parse only {parse_med:7.1f}")


if __name__ == "__main__":
    main()
