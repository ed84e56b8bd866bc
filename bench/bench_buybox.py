"""The second reading before an accusation on the sandbox world: is the buy box read right, and what it costs.

    .venv/bin/python bench/bench_buybox.py [--products 20] [--seed 7] [--day 1] [--limit 0]

Serves the world, and reads every product and marketplace offer page that shows its price (no failure
planted, not cart-only) as ``detection.confirm.confirm_pending`` does: rendered in Chromium and the
amount at the buy box measured (``crawlers.buybox.read_buy_boxes``, one browser for all, the crawl's
browser concurrency and render budget). A reading is right when it is the page's price (after a coupon)
or the price shown before the coupon, in the page's currency; "none" when the reading took no amount.
Prints, per family, pages / right / wrong / none, and the wall and CPU time (this process and its
children: Chromium) per page.

    .venv/bin/python bench/bench_buybox.py --pages-from tests/extract_pages/heldout7 /work/shared/realpages

``--pages-from DIR [DIR ...]``: the pages of page-set folders instead (``truth.jsonl`` with ``<id>.html``
beside it, or the real set's ``pages/<id>.html.gz``; read by ``bench/score_realpages.py``'s loaders).
Each page is read twice, as a crawl and then ``detection.confirm.confirm_pending`` read it: first
``crawlers.extract.extract`` on its HTML and truth URL (the price a violation would judge, its method,
flags and calibrated confidence), then rendered in Chromium and its buy box measured
(``read_buy_boxes``: the first reading's currency, a site profile's locale, the crawl's browser
settings and render budget, ``detection.confirm_per_run`` pages a browser). The pages are served by
a local server that stands as the network policy's upstream proxy (``crawl.proxy``): Chromium asks for
the truth URL itself (``http://`` for ``https://``, so no TLS) and gets the saved page, so that the
reader sees the shop's host (its locale); everything else a page asks for (stylesheets, scripts,
images, any other host) is answered 404: saved pages render without their external resources, offline
(no host name is resolved either: :func:`_offline_names`). A page's own CSS (``<style>`` blocks and
``style`` attributes) is in its HTML and applies as in the shop, so the reader measures its font sizes and
weights; a linked stylesheet is not saved with the page and is not applied (the page falls back to
Chromium's defaults: ``<h1>``, ``<b>``, ``<del>``... keep their own size, weight and line-through). The
first lines say, per folder, how many pages carry CSS of their own and how many lost a stylesheet
(:func:`styles`). A host on Chromium's HSTS preload list
(amazon.com, etsy.com, target.com ...) is asked for over https whatever the URL says: such a page
cannot be rendered here and counts as a failed second reading.
The readings agree as ``confirm_pending`` settles them (``detection.confirm.agrees``): the same amount
(the judged price, or the advertised one before a coupon while the rendered page still shows that
coupon around it) in the same currency. Prints per folder and in total the first and second readings
against the truth, and what confirmation would do: of the agreed first readings (those that may reach
a partner) how many are right, how many right ones are held for a person, how many wrong ones are caught;
and the time and CPU (with Chromium) a page. Recorded as ``bench/results/buybox_pages.json``.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import re
import resource
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crawlers.buybox import BuyBoxReading, read_buy_boxes
from demo import World, serve
from detection.confirm import agrees


def _cpu() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


@dataclass
class Row:
    """One page's two readings, against its truth."""

    folder: str
    id: str
    url: str
    truth: frozenset[Decimal]
    truth_currency: str | None
    first: str  # right, wrong, undecided (the cascade abstained), none
    price: Decimal | None  # the price a violation judges (after a coupon)
    advertised: Decimal | None  # the price before a coupon
    currency: str | None
    method: str
    confidence: float
    needs_second: bool  # detection.confirm.needs_second: not acted on without a second reading
    reading: BuyBoxReading | None = None  # None: the page could not be rendered

    @property
    def second(self) -> str:
        """The second reading against the truth: right, wrong, none (no amount taken) or failed."""
        if self.reading is None:
            return "failed"
        if self.reading.price is None:
            return "none"
        return "right" if _right(self.reading.price, self.reading.currency, self) else "wrong"

    @property
    def agreed(self) -> bool:
        """Whether ``confirm_pending`` would settle the two readings ``agreed`` (``detection.confirm._settle``:
        the buy box's amount is the judged price, or the advertised one with the coupon shown again around it, in
        the first reading's currency)."""
        return agrees(self.reading, self.price, self.currency, advertised=self.advertised)


def _right(amount: Decimal | None, currency: str | None, row: Row) -> bool:
    """An amount is right when it is one of the truth's values, in the truth's currency (when it has one)."""
    return amount is not None and amount in row.truth and (row.truth_currency is None or currency == row.truth_currency)


def tally(rows: Iterable[Row]) -> Counter[str]:
    """The counts of a set of pages: both readings against the truth, and what confirmation does to the first.

    ``agreed_*`` / ``held_*``: first readings with a price (right or wrong) that the second reading
    confirms / leaves to a person; ``alone_*``: those that need no second reading (they stand alone);
    ``partner_*``: what may reach a partner (standing alone, or needing a second reading and agreed).
    """
    t: Counter[str] = Counter()
    for row in rows:
        t["pages"] += 1
        t["truth_priced"] += bool(row.truth)
        t[f"first_{row.first}"] += 1
        t[f"second_{row.second}"] += 1
        if row.first not in ("right", "wrong"):
            continue
        t[f"{'agreed' if row.agreed else 'held'}_{row.first}"] += 1
        t[f"{'needs' if row.needs_second else 'alone'}_{row.first}"] += 1
        if not row.needs_second or row.agreed:
            t[f"partner_{row.first}"] += 1
    return t


def _page_key(url: str, host: str | None = None) -> str:
    """A page's address as the server looks it up: host, path and query (the scheme aside)."""
    parts = urlsplit(url)
    return f"{(parts.hostname or host or '').lower()}{parts.path or '/'}{'?' + parts.query if parts.query else ''}"


def _serve_pages(pages: dict[str, bytes], port_out: Any) -> None:
    """Answer proxied requests (``GET http://host/path``) with the page saved under that address, else 404."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            body = pages.get(_page_key(self.path, self.headers.get("Host")))
            if body is None:
                self.send_error(404)
                return
            try:
                body.decode("utf-8")
                content_type = "text/html; charset=utf-8"
            except UnicodeDecodeError:  # (as bench_crawl.py serves real pages: the page names its charset)
                content_type = "text/html"
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    class Server(ThreadingHTTPServer):
        request_queue_size = 1024  # (a page asks for dozens of resources at once; the default backlog is 5)

    server = Server(("127.0.0.1", 0), Handler)
    port_out.put(server.server_address[1])
    server.serve_forever()


def _offline_names() -> None:
    """Resolve no host name in this process: the bench is offline, every page comes from its own server.

    The filtering proxy resolves each name a page asks for before it passes the request to the upstream
    proxy (which then answers it); this machine's resolver drops a query now and then (a 5 s stall each,
    dozens of names a page), which would be measured as the reader's. Addresses still work (the proxy
    reaches the pages' server at 127.0.0.1).
    """
    import ipaddress
    import socket

    resolve = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if name:
            try:
                ipaddress.ip_address(name.strip("[]"))
            except ValueError:
                raise socket.gaierror(socket.EAI_NONAME, f"{name}: not resolved (offline bench)") from None
        return resolve(host, *args, **kwargs)

    socket.getaddrinfo = getaddrinfo


_STYLE_BLOCK = re.compile(rb"<style[\s>]|\sstyle\s*=", re.I)
_STYLESHEET = re.compile(rb"<link\b[^>]*\brel\s*=\s*[\"']?stylesheet", re.I)


def styles(html: bytes) -> tuple[bool, bool]:
    """Whether a saved page carries CSS of its own (a ``<style>`` block or ``style`` attribute: applied when it is
    rendered here) and whether it links a stylesheet (not saved with it, answered 404: not applied)."""
    return bool(_STYLE_BLOCK.search(html)), bool(_STYLESHEET.search(html))


def _load(folder: Path) -> list[tuple[dict[str, Any], bytes]]:
    """(truth record, HTML) of every page of a page-set folder, by the scoring's own loaders."""
    from bench.score_realpages import load_pages, load_written

    return load_pages(folder) if (folder / "pages").is_dir() else load_written(folder)


def _first_reading(folder: str, truth: dict[str, Any], html: bytes) -> Row:
    """The crawl's reading of a page (``extract``, calibrated) as a violation would carry it."""
    from crawlers.extract import extract
    from detection.confirm import needs_second

    ext = extract(html, truth["url"])
    judged = ext.effective_price if ext.effective_price is not None else ext.price
    if ext.price_visibility != "visible":
        judged = None  # (hidden pricing is stored without a price: crawlers.persist)
    row = Row(folder, truth["id"], truth["url"], frozenset(Decimal(p) for p in truth["price"]), truth.get("currency"),
              "none", judged, ext.price if judged is not None and ext.price != judged else None, ext.currency,
              ext.method, ext.confidence, False)
    if ext.undecided is not None:
        row.first = "undecided"
    elif judged is not None:
        row.first = "right" if _right(judged, ext.currency, row) else "wrong"
        observation = SimpleNamespace(method=ext.method, details={"flags": list(ext.flags)}, confidence=ext.confidence,
                                      price=judged, source="crawl")
        row.needs_second = needs_second(observation) is not None  # type: ignore[arg-type]
    return row


def _share(part: int, whole: int) -> str:
    return f"{part}/{whole} ({part / whole:.1%})" if whole else f"{part}/0"


def report(label: str, t: Counter[str]) -> str:
    """One folder's (or the total's) line of the table."""
    agreed = t["agreed_right"] + t["agreed_wrong"]
    return (f"{label:10s} {t['pages']:5d} {t['truth_priced']:6d} | {t['first_right']:5d} {t['first_wrong']:5d} "
            f"{t['first_undecided']:5d} {t['first_none']:4d} {t['needs_right'] + t['needs_wrong']:5d} | "
            f"{t['second_right']:5d} {t['second_wrong']:5d} {t['second_none'] + t['second_failed']:4d} | "
            f"{agreed:6d} {t['agreed_right']:5d} {t['agreed_wrong']:5d} "
            f"{t['agreed_right'] / agreed if agreed else 1.0:9.3f} | {_share(t['held_right'], t['first_right']):>14s} "
            f"{_share(t['held_wrong'], t['first_wrong']):>11s}")


def pages_from(folders: list[Path], verbose: bool) -> None:
    """Both readings of every page of ``folders`` (see the module's docstring)."""
    workspace = tempfile.mkdtemp(prefix="pw-buybench-")
    os.environ["PRICEWARDEN_WORKSPACE"] = workspace  # (no site profiles: none are found by their locale)
    sets = {folder: _load(folder) for folder in folders}
    served = {_page_key(truth["url"]): html for pages in sets.values() for truth, html in pages}
    context = multiprocessing.get_context("spawn")
    port_out = context.Queue()
    server = context.Process(target=_serve_pages, args=(served, port_out), daemon=True)
    server.start()
    # The pages' server is the network policy's upstream proxy: Chromium asks for the shop's own address.
    os.environ["PRICEWARDEN_CRAWL__PROXY"] = f"http://127.0.0.1:{port_out.get(timeout=120)}"
    from crawlers.profiles import find_profile, load_profiles
    from pricewarden.settings import get_settings

    get_settings.cache_clear()
    settings = get_settings()
    _offline_names()
    load = os.getloadavg()
    rows: dict[str, list[Row]] = {}
    costs: dict[str, tuple[float, float, float, float]] = {}  # first CPU, second wall, second CPU, pages
    for folder, pages in sets.items():
        cpu = _cpu()
        found = [_first_reading(folder.name, truth, html) for truth, html in pages]
        first_cpu = _cpu() - cpu
        # As confirm_pending reads them: http:// for https:// (the server speaks no TLS), the first reading's
        # currency, a site profile's locale, detection.confirm_per_run pages a browser.
        urls = {i: "http://" + _page_key(row.url) for i, row in enumerate(found)}
        profiles = load_profiles()
        locales = {i: getattr(find_profile(profiles, url), "locale", None) for i, url in urls.items()}
        cpu, wall = _cpu(), time.perf_counter()
        keys = list(urls)
        for start in range(0, len(keys), settings.detection.confirm_per_run):
            chunk = keys[start:start + settings.detection.confirm_per_run]
            readings = read_buy_boxes({i: urls[i] for i in chunk}, currencies={i: found[i].currency for i in chunk},
                                      locales={i: locales[i] for i in chunk})
            for i in chunk:
                found[i].reading = readings.get(i)
        costs[folder.name] = (first_cpu, time.perf_counter() - wall, _cpu() - cpu, len(found))
        rows[folder.name] = found
    server.terminate()
    server.join()
    print(f"{sum(map(len, rows.values()))} pages; {os.cpu_count()} cores, load average {load[0]:.1f} {load[1]:.1f} "
          f"{load[2]:.1f} at the start; browser concurrency {settings.crawl.browser_concurrency}, render budget "
          f"{settings.crawl.render_budget:g} s, extract.auto_confidence {settings.extract.auto_confidence}")
    for folder, pages in sets.items():
        shown = [styles(html) for _truth, html in pages]
        print(f"{folder.name:10s} {len(pages)} pages: {sum(own for own, _ in shown)} with CSS of their own (applied), "
              f"{sum(linked for _, linked in shown)} linking a stylesheet (not saved: not applied), "
              f"{sum(not own for own, _ in shown)} with no CSS applied")
    print(f"{'':10s} {'':5s} {'truth':>6s} | {'first reading':^29s} | {'second':^16s} | "
          f"{'first readings agreed (may reach a partner)':^34s} | {'held: right':>14s} {'wrong caught':>11s}")
    print(f"{'folder':10s} {'pages':>5s} {'priced':>6s} | {'right':>5s} {'wrong':>5s} {'undec':>5s} {'none':>4s} "
          f"{'needs':>5s} | {'right':>5s} {'wrong':>5s} {'none':>4s} | {'agreed':>6s} {'right':>5s} {'wrong':>5s} "
          f"{'precision':>9s} | {'(the cost)':>14s} {'(held)':>11s}")
    total: Counter[str] = Counter()
    for name, found in rows.items():
        t = tally(found)
        total.update(t)
        print(report(name, t))
    print(report("all", total))
    partner = total["partner_right"] + total["partner_wrong"]
    print(f"first readings that stand alone (no second reading needed): {total['alone_right']} right, "
          f"{total['alone_wrong']} wrong; what may reach a partner in all (standing alone, or agreed): "
          f"{total['partner_right']} right, {total['partner_wrong']} wrong, precision "
          f"{total['partner_right'] / partner if partner else 1.0:.3f}; second readings that failed to render: "
          f"{total['second_failed']}")
    for name, (first_cpu, wall, cpu, n) in costs.items():
        print(f"{name:10s} first reading {first_cpu / n * 1000:5.0f} ms CPU a page; second reading {n / wall:4.1f} "
              f"pages/s, {wall / n * 1000:5.0f} ms wall, {cpu / n * 1000:5.0f} ms CPU a page (with Chromium)")
    n = sum(c[3] for c in costs.values())
    wall, cpu = sum(c[1] for c in costs.values()), sum(c[2] for c in costs.values())
    first_cpu = sum(c[0] for c in costs.values())
    print(f"{'all':10s} first reading {first_cpu / n * 1000:5.0f} ms CPU a page; second reading {n / wall:4.1f} "
          f"pages/s, {wall / n * 1000:5.0f} ms wall, {cpu / n * 1000:5.0f} ms CPU a page (with Chromium)")
    end = os.getloadavg()
    print(f"load average at the end: {end[0]:.1f} {end[1]:.1f} {end[2]:.1f}")
    for found in rows.values():
        for row in found:
            if row.second == "wrong" or (verbose and (row.second != "right" or row.first != "right")):
                r = row.reading
                why = f"{'agreed' if row.agreed else 'held'}{': ' + r.problem if r is not None and r.problem else ''}"
                print(f"  {row.folder}/{row.id}: first {row.first} {row.price} {row.currency} ({row.method} "
                      f"{row.confidence:.2f}{', needs a second' if row.needs_second else ''}); second {row.second} "
                      f"{getattr(r, 'price', None)} {getattr(r, 'currency', None)} {getattr(r, 'raw_text', None)!r} "
                      f"({why}); want "
                      f"{sorted(map(str, row.truth))} {row.truth_currency}")
    from bench.record import record

    agreed = total["agreed_right"] + total["agreed_wrong"]
    record("buybox_pages", "the second reading before an accusation (the buy box rendered in Chromium) on page sets "
           f"({', '.join(rows)}): of the first readings it confirms, the share right",
           "no wrong first reading confirmed (precision 1.000 of what may reach a partner); few right ones held",
           f"{agreed} first readings confirmed of {total['first_right'] + total['first_wrong']} priced "
           f"({total['pages']} pages): {total['agreed_right']} right, {total['agreed_wrong']} wrong (precision "
           f"{total['agreed_right'] / agreed if agreed else 1.0:.3f}); right ones held "
           f"{_share(total['held_right'], total['first_right'])}; wrong ones caught "
           f"{_share(total['held_wrong'], total['first_wrong'])}; {cpu / n * 1000:.0f} ms CPU a page with Chromium, "
           f"{n / wall:.1f} pages/s",
           folders={name: dict(tally(found)) for name, found in rows.items()}, total=dict(total),
           cost_ms_cpu_per_page={name: round(c[2] / c[3] * 1000) for name, c in costs.items()},
           load_average_start=[round(x, 1) for x in load])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--day", type=int, default=1)
    parser.add_argument("--limit", type=int, default=0, help="read only this many pages (0: all)")
    parser.add_argument("--pages-from", type=Path, nargs="+", metavar="DIR",
                        help="page-set folders (truth.jsonl and their pages) instead of the sandbox world")
    parser.add_argument("-v", "--verbose", action="store_true", help="every wrong or empty reading")
    args = parser.parse_args()
    if args.pages_from:
        pages_from(args.pages_from, args.verbose)
        return
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
