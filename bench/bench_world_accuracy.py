"""How accurately the extractor reads the sandbox world: every page's price and currency against the truth.

    .venv/bin/python bench/bench_world_accuracy.py [--products 50] [--days 1,4,20] [--seed 7] [--no-browser]

Starts the world on free ports, writes its workspace (for the site profiles), and for each day fetches
every product and marketplace offer page over plain HTTP (urllib; transient 5xx/429 retried like the
spider does), runs ``extract()`` with the family's profile and again with no profile, and compares the
advertised price (``effective_price``: after a visible coupon) and currency with ``world.truth(day)``; on
marketplace offer pages every seller's offer too. The JS family shows its price only after a script
runs: fetched without a browser it must give no price (the spider then renders it); with Chromium
(``--no-browser`` to skip) its pages are also rendered and checked. Hidden-price pages (cart only) count
as correct when the page withholds the price and the cart page gives the truth's cart price.

Columns: pages; correct with the profile; correct without any profile; failure pages recognised (a
transport error, or ``failure`` set / no price); prices wrongly taken from failure pages (must be 0).
"""

from __future__ import annotations

import argparse
import http.client
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crawlers.extract import extract
from crawlers.extract.site import cart_url, read_cart_price
from crawlers.profiles import Profile, find_profile, load_profiles
from demo import World, serve, write_workspace

TRANSIENT = {429, 500, 502, 503}


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    max_redirections = 5


def fetch(url: str, tries: int = 4) -> tuple[int, bytes, str | None]:
    """(status, body, transport problem) for ``url``: transient statuses retried, redirects followed."""
    opener = urllib.request.build_opener(_NoRedirect())
    for attempt in range(tries):
        try:
            with opener.open(url, timeout=30) as response:
                try:
                    return response.status, response.read(), None
                except http.client.IncompleteRead as exc:
                    return response.status, exc.partial, "truncated"
        except urllib.error.HTTPError as exc:
            if exc.code in TRANSIENT and attempt + 1 < tries:
                continue
            if 300 <= exc.code < 400:
                return exc.code, b"", "redirect_loop"
            return exc.code, exc.read(), f"http_{exc.code}"
        except (urllib.error.URLError, http.client.HTTPException, ConnectionError) as exc:
            return 0, b"", type(exc).__name__
    return 0, b"", "gave_up"


@dataclass
class Row:
    """One family's tally."""

    pages: int = 0
    with_profile: int = 0
    without_profile: int = 0
    failures: int = 0
    failures_recognised: int = 0
    failure_prices: int = 0
    needs_browser: int = 0
    rendered_correct: int = 0
    rendered: int = 0
    layout_pages: int = 0
    layout_fallback: int = 0
    misses: list[str] = field(default_factory=list)


def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _offers_match(result: Any, truth: dict[str, Any]) -> bool:
    want = {(o["seller_id"], Decimal(o["price"])) for o in truth["offers"] or []}
    got = {(s.seller_id, s.price) for s in result.sellers}
    return want == got


def correct(result: Any, truth: dict[str, Any], body_for_cart: Any = None, *, offers: bool = True) -> bool:
    """The extraction gives the truth's advertised price and currency (and offers on marketplace pages)."""
    if truth["price_visibility"] == "cart":
        return result.price is None and result.price_visibility == "cart_only" and (
            body_for_cart is None or body_for_cart == _dec(truth["cart_price"]))
    if result.effective_price != _dec(truth["price"]) or result.currency != truth["currency"]:
        return False
    return not offers or truth["page_type"] != "offers" or _offers_match(result, truth)


def _cart_price(profile: Profile | None, url: str, sku: str) -> Decimal | None:
    target = cart_url(profile, url, sku) if profile is not None else None
    if target is None or profile is None:
        return None
    _status, body, _problem = fetch(target)
    cand = read_cart_price(body, target, profile)
    return cand.price if cand is not None else None


def evaluate(world: World, running: Any, days: list[int], profiles: list[Profile], *,
             render: Any = None, families: set[str] | None = None) -> dict[str, Row]:
    """Tally every product/offer page of ``days``; ``render(url) -> html`` renders the JS family."""
    rows: dict[str, Row] = defaultdict(Row)
    for day in days:
        running.set_day(day)
        truth = world.truth(day, running.origins)
        pages = [p for p in truth["pages"] if p["page_type"] in {"product", "offers"}
                 and (families is None or p["family"] in families)]
        with ThreadPoolExecutor(4) as pool:
            fetched = list(pool.map(lambda p: fetch(p["url"]), pages))
        for page, (_status, body, problem) in zip(pages, fetched, strict=True):
            row = rows[page["family"]]
            row.pages += 1
            profile = find_profile(profiles, page["url"])
            failure = page["failure"]
            if failure and failure["kind"] == "layout_changed":
                # The page is fine; the site's profile no longer matches it. With the profile the
                # extraction must say so (profile_missing:price: the spider records PROFILE_BROKEN);
                # without one it is an ordinary page whose price must be right.
                row.failures += 1
                result = extract(body, page["url"], profile=profile)
                row.failures_recognised += any(f.startswith("profile_missing") for f in result.flags)
                row.layout_fallback += result.price is not None
                plain = extract(body, page["url"])
                row.without_profile += correct(plain, page, offers=False)
                row.layout_pages += 1
                continue
            if failure and failure["persistent"]:
                row.failures += 1
                recognised = problem is not None
                for prof in (profile, None):
                    result = extract(body, page["url"], profile=prof) if body else None
                    if result is not None and result.price is not None and problem is None:
                        row.failure_prices += 1
                        row.misses.append(f"day {day} {failure['kind']} price {result.price} {page['url']}")
                    if result is not None and (result.failure is not None or result.price is None):
                        recognised = True
                row.failures_recognised += recognised
                continue
            if problem is not None:
                row.misses.append(f"day {day} fetch {problem} {page['url']}")
                continue
            for prof, attr in ((profile, "with_profile"), (None, "without_profile")):
                result = extract(body, page["url"], profile=prof)
                if page["price_visibility"] == "xhr":
                    # Without a browser the price is not on the page yet: no price is the right answer.
                    if result.price is not None:
                        row.failure_prices += 1
                        row.misses.append(f"day {day} js-unrendered price {result.price} {page['url']}")
                    continue
                cart = _cart_price(profile, page["url"], page["sku"]) if (
                    page["price_visibility"] == "cart" and prof is not None) else None
                ok = correct(result, page, cart, offers=prof is not None)
                setattr(row, attr, getattr(row, attr) + ok)
                if not ok:
                    row.misses.append(f"day {day} {attr}: got {result.effective_price} {result.currency} "
                                      f"({result.method}) want {page['price']} {page['currency']} {page['url']}")
            if page["price_visibility"] == "xhr":
                row.needs_browser += 1
                if render is not None:
                    html = render(page["url"], profile)
                    row.rendered += 1
                    result = extract(html, page["url"], profile=profile)
                    ok = correct(result, page)
                    row.rendered_correct += ok
                    if not ok:
                        row.misses.append(f"day {day} rendered: got {result.price} want {page['price']}")
    return dict(rows)


class Browser:
    """Chromium through Playwright: renders a page and waits for the profile's browser steps."""

    def __init__(self) -> None:
        from playwright.sync_api import sync_playwright

        from pricewarden.settings import get_settings

        self._pw = sync_playwright().start()
        self._browser = self._pw.chromium.launch(executable_path=get_settings().chromium())
        self._page = self._browser.new_page()

    def __call__(self, url: str, profile: Profile | None) -> str:
        self._page.goto(url, wait_until="load")
        for step in (profile.browser_steps if profile is not None else []) or []:
            for name, arg in step.items():
                getattr(self._page, name)(arg)
        return self._page.content()

    def close(self) -> None:
        self._browser.close()
        self._pw.stop()


def table(rows: dict[str, Row], profiled: set[str]) -> list[str]:
    """The per-family table as text lines."""
    out = [f"{'family':12} {'pages':>5} {'w/ profile':>11} {'no profile':>11} {'failures ok':>11} "
           f"{'fail-prices':>11}  note"]
    total = Row()
    for family in sorted(rows):
        r = rows[family]
        priced = r.pages - r.failures - r.needs_browser
        note = "" if family in profiled else "(no profile: both columns the same)"
        if family == "marketplace":
            note = "with profile: price + every seller's offer; without: buy-box price only"
        if r.layout_pages:
            note = (f"{r.layout_pages} layout_changed pages: profile break flagged, price read from the visible "
                    f"page on {r.layout_fallback} (no-profile column counts them as ordinary pages)")
        if r.needs_browser:
            note = (f"{r.needs_browser} need a browser: no price over HTTP (right); rendered "
                    f"{r.rendered_correct}/{r.rendered}")
        out.append(f"{family:12} {r.pages:5d} {r.with_profile:5d}/{priced:<5d} {r.without_profile:5d}/"
                   f"{priced + r.layout_pages:<5d} "
                   f"{r.failures_recognised:5d}/{r.failures:<5d} {r.failure_prices:11d}  {note}")
        for name in ("pages", "with_profile", "without_profile", "failures", "failures_recognised",
                     "failure_prices", "needs_browser", "layout_pages"):
            setattr(total, name, getattr(total, name) + getattr(r, name))
    priced = total.pages - total.failures - total.needs_browser
    out.append(f"{'all':12} {total.pages:5d} {total.with_profile:5d}/{priced:<5d} {total.without_profile:5d}/"
               f"{priced + total.layout_pages:<5d} {total.failures_recognised:5d}/{total.failures:<5d} "
               f"{total.failure_prices:11d}  (browser-rendered pages not included)")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=50)
    parser.add_argument("--days", default="1,4,20")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--misses", type=int, default=10, help="print this many wrong pages per family")
    args = parser.parse_args()
    world = World(seed=args.seed, products=args.products)
    days = [int(d) for d in args.days.split(",")]
    started = time.perf_counter()
    with serve(world, base_port=0) as running, tempfile.TemporaryDirectory() as tmp:
        root = write_workspace(tmp, world, running.origins)
        profiles = load_profiles(Path(root) / "profiles")
        browser = None if args.no_browser else Browser()
        try:
            rows = evaluate(world, running, days, profiles, render=browser)
        finally:
            if browser is not None:
                browser.close()
    profiled = {f for f in rows if any(p.matches(_origin(world, f, running)) for p in profiles)}
    print(f"seed {args.seed}, {args.products} products, days {days}; {time.perf_counter() - started:.0f} s")
    for line in table(rows, profiled):
        print(line)
    for family in sorted(rows):
        for miss in rows[family].misses[:args.misses]:
            print(f"  {family}: {miss}")


def _origin(world: World, family: str, running: Any) -> str:
    return str(running.origins[family]) + "/"




if __name__ == "__main__":
    main()
