"""Benchmark: crawl, extract and store product pages, against a plain Scrapy spider in interleaved runs.

A keep-alive server (its own process, asyncio, several ports = several sites so that shards share
the work; its CPU is charged to neither side) serves either synthetic product pages of ~430 KB
(inline scripts, a mega menu, the buy box with JSON-LD, 260 reviews, related products with their
prices) or, with ``--pages-from DIR``, the real pages of a folder (``*.html``, ``*.html.gz``), each
under many URLs with a mark that makes every URL a new page (a new evidence blob).

Each pair of runs crawls fresh URLs twice: first as ``pricewarden crawl`` does (``crawlers.run_crawl``:
extraction cascade, evidence compressed and stored, observations and failures written to a fresh
SQLite database or ``--db``), then with ``bench/plain_spider.py`` (one Scrapy process, extruct +
price-parser, a JSON lines feed). It prints pages/s, CPU per page (user + system of the crawl
processes / of the plain spider's process) and peak RSS of each run, then the medians and the ratio
of each pair. ``--world`` crawls the sandbox world's listings instead (repeated up to ``--pages``).

    .venv/bin/python bench/bench_crawl.py --pages-from ../shared/realpages --pages 2000
    .venv/bin/python bench/bench_crawl.py --pages 5000                      # synthetic pages
    .venv/bin/python bench/bench_crawl.py --pages 100000 --pairs 0          # memory must stay flat

The machine is shared: figures are noisy; read the ratios of the pairs and CPU per page.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import multiprocessing
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

_VOCABULARY = ("acoustic bass driver comfort wireless battery hours noise cancelling premium sound stage "
         "travel case cable charging quick fold ear cushion memory foam bluetooth codec latency gaming "
         "studio monitor reference tuned warm bright detailed crisp deep punchy clear balanced review "
         "great value would buy again returned shipping fast packaging quality build plastic metal "
         "hinge headband adjust fit glasses hours commute office gym running sweat resistant")
WORDS = _VOCABULARY.split()


def _text(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def page_parts(seed: int) -> tuple[bytes, bytes, bytes]:
    """A ~430 KB product page split around its unique part (id, title, price)."""
    rng = random.Random(seed)
    script = "".join(f"var m{i}=function(a,b){{return a*{i}+b['{_text(rng, 2)}']}};" for i in range(3000))
    menu = "".join(f'<li><a href="/c/{i}/{rng.choice(WORDS)}">{_text(rng, 3)}</a></li>' for i in range(1300))
    reviews = "".join(
        f'<div class="review" itemprop="review"><span class="stars">{rng.randint(1, 5)}/5</span>'
        f"<h4>{_text(rng, 5)}</h4><p>{_text(rng, 70)}</p></div>" for _ in range(260))
    related = "".join(
        f'<div class="tile related"><a href="/p/r{i}">{_text(rng, 4)}</a>'
        f'<span class="price">${rng.randint(20, 900)}.{rng.randint(0, 99):02d}</span></div>' for i in range(24))
    head = (f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Product | Bench Shop</title>"
            f"<script>{script}</script></head><body><header><nav><ul>{menu}</ul></nav></header><main>")
    tail = (f"<section class=\"reviews\">{reviews}</section><aside class=\"carousel\">{related}</aside>"
            f"</main><footer>{_text(rng, 400)}</footer></body></html>")
    return head.encode(), b"", tail.encode()


def unique_part(page_id: int) -> bytes:
    """The buy box and JSON-LD of page ``page_id``: a price that differs per page."""
    cents = 10_000 + (page_id * 7919) % 90_000
    price = f"{cents // 100}.{cents % 100:02d}"
    return (
        f'<script type="application/ld+json">{{"@context":"https://schema.org","@type":"Product",'
        f'"name":"Acme Bench {page_id}","sku":"B-{page_id}","offers":{{"@type":"Offer","price":"{price}",'
        f'"priceCurrency":"USD","availability":"https://schema.org/InStock"}}}}</script>'
        f'<h1>Acme Bench {page_id}</h1><div class="buybox"><span class="price-now">${price}</span>'
        f'<button class="add-to-cart">Add to cart</button></div>'
    ).encode()


class _Page(asyncio.Protocol):
    """``/p/<i>``: synthetic page ``i``. ``/r/<run>/<i>``: real page ``i % n`` with a mark unique to the URL."""

    parts: tuple[bytes, bytes, bytes] = (b"", b"", b"")
    files: ClassVar[list[tuple[bytes, bytes]]] = []  # (Content-Type header value, body)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.buffer = b""

    def _send(self, content_type: bytes, *chunks: bytes) -> None:
        self.transport.writelines([  # type: ignore[attr-defined]
            b"HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %d\r\nConnection: keep-alive\r\n\r\n"
            % (content_type, sum(map(len, chunks))), *chunks])

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while b"\r\n\r\n" in self.buffer:
            head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
            path = head.split(b" ", 2)[1].decode()
            if path.startswith("/p/") and not self.files:
                self._send(b"text/html; charset=utf-8", self.parts[0], unique_part(int(path[3:])), self.parts[2])
            elif path.startswith("/r/") and self.files:
                number = int(path.rsplit("/", 1)[1])
                content_type, body = self.files[number % len(self.files)]
                # Every URL is a new page to the crawl (its own evidence blob), as it would be on a real shop.
                self._send(content_type, body, b"\n<!-- %s -->\n" % path.encode())
            else:
                self.transport.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")  # type: ignore[attr-defined]


def read_pages(folder: Path) -> list[tuple[bytes, bytes]]:
    """Every ``*.html`` / ``*.html.gz`` / ``*.htm`` under ``folder`` as (Content-Type, body), sorted by path.

    Bodies that are valid UTF-8 are served as ``text/html; charset=utf-8`` (as most shops do); others
    as bare ``text/html``, so that the crawl finds their charset in the page itself.
    """
    found = []
    for path in sorted(folder.rglob("*")):
        name = path.name.lower()
        if not path.is_file() or not name.endswith((".html", ".htm", ".html.gz", ".htm.gz")):
            continue
        body = gzip.decompress(path.read_bytes()) if name.endswith(".gz") else path.read_bytes()
        try:
            body.decode("utf-8")
            content_type = b"text/html; charset=utf-8"
        except UnicodeDecodeError:
            content_type = b"text/html"
        found.append((content_type, body))
    return found


def serve(ports_out: multiprocessing.Queue, sites: int, folder: str | None = None) -> None:  # type: ignore[type-arg]
    """Serve the synthetic pages (or the pages of ``folder``) on ``sites`` ports until terminated."""
    if folder:
        _Page.files = read_pages(Path(folder))
    else:
        _Page.parts = page_parts(1)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        servers = [await loop.create_server(_Page, "127.0.0.1", 0, backlog=1024) for _ in range(sites)]
        ports_out.put([s.sockets[0].getsockname()[1] for s in servers])
        await asyncio.Event().wait()

    asyncio.run(main())


def balanced_ports(ports: list[int], shards: int) -> list[int]:
    """Ports whose sites split evenly over the shards (so both processes get work)."""
    from crawlers.targets import shard_of

    by_shard: dict[int, list[int]] = {}
    for port in ports:
        by_shard.setdefault(shard_of(f"127.0.0.1:{port}", shards), []).append(port)
    if len(by_shard) < shards:
        return ports
    per = min(len(v) for v in by_shard.values())
    return [p for v in by_shard.values() for p in v[:per]]


@dataclass
class Run:
    """One measured crawl: which side, pages, wall seconds, CPU seconds, peak RSS (MB) and what it found."""

    side: str
    pages: int
    wall: float
    cpu: float
    rss: float
    found: str

    @property
    def rate(self) -> float:
        return self.pages / self.wall

    @property
    def ms(self) -> float:
        return self.cpu / self.pages * 1000


def run_pricewarden(urls: list[str], shards: int, browser: bool, at: datetime) -> Run:
    """Crawl ``urls`` as ``pricewarden crawl`` does (extraction, evidence, database) and measure it."""
    from sqlalchemy import func, select

    from crawlers import Target, run_crawl
    from store import CrawlFailure, CrawlRun, Observation, session_scope

    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    result = run_crawl([Target(url=u) for u in urls], shards=shards, browser=browser, log_level="ERROR", at=at)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    with session_scope() as session:
        runs = session.scalars(select(CrawlRun).where(CrawlRun.run_key.in_(result.run_keys))).all()
        ids = [r.id for r in runs]
        priced = session.scalar(select(func.count(func.distinct(Observation.url)))
                                .where(Observation.crawl_run_id.in_(ids), Observation.price.is_not(None)))
        failed = session.scalar(select(func.count()).select_from(CrawlFailure)
                                .where(CrawlFailure.crawl_run_id.in_(ids)))
        rendered = sum(r.stats.get("rendered") or 0 for r in runs)
        # Each crawl process records its own CPU and peak RSS (they are forked from a server, not our children).
        cpu = sum(r.stats.get("cpu_s") or 0 for r in runs)
        rss = max([r.stats.get("peak_rss_mb") or 0 for r in runs], default=0)
        inside = [r.stats.get("pages_per_s") for r in runs]
    cpu += (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)  # the caller's share
    found = (f"{priced} pages priced, {failed} failures, {rendered} rendered; per process {inside} pages/s"
             + (f"; FAILED shards {result.failed_shards}" if result.failed_shards else ""))
    return Run("pricewarden", len(urls), wall, cpu, rss, found)


def run_plain(urls: list[str], workdir: Path, tag: str) -> Run:
    """The plain Scrapy + extruct + price-parser spider (``bench/plain_spider.py``) over ``urls``, measured."""
    url_file = workdir / f"plain-{tag}.txt"
    url_file.write_text("\n".join(urls), encoding="utf-8")
    feed = workdir / f"plain-{tag}.jsonl"
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, str(Path(__file__).with_name("plain_spider.py")), str(url_file),
                             str(feed)])
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"the plain spider exited with {proc.returncode}")
    items = [json.loads(line) for line in feed.read_text(encoding="utf-8").splitlines() if line.strip()]
    priced = sum(1 for item in items if item.get("price") is not None)
    return Run("plain", len(urls), wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024,
               f"{len(items)} items, {priced} priced")


def _spread(values: list[float], fmt: str = "{:.2f}") -> str:
    values = sorted(values)
    middle = statistics.median(values)
    return fmt.format(middle) + (f" ({fmt.format(values[0])}-{fmt.format(values[-1])})" if len(values) > 1 else "")


def report(runs: list[Run]) -> None:
    """The table of both sides and the ratios of each interleaved pair."""
    ours = [r for r in runs if r.side == "pricewarden"]
    plain = [r for r in runs if r.side == "plain"]
    print("\n| side | pages/s | CPU ms per page | peak RSS MB |\n|---|---|---|---|")
    for name, side in (("PriceWarden (crawl, extract, evidence, database)", ours),
                       ("plain Scrapy + extruct + price-parser", plain)):
        if side:
            print(f"| {name} | {_spread([r.rate for r in side], '{:.0f}')} | {_spread([r.ms for r in side])} | "
                  f"{_spread([r.rss for r in side], '{:.0f}')} |")
    if ours and plain:
        pairs = list(zip(ours, plain, strict=False))
        print(f"ratio PriceWarden / plain, pages/s (higher is better): "
              f"{_spread([a.rate / b.rate for a, b in pairs])}")
        print(f"ratio plain / PriceWarden, CPU per page (higher is better): "
              f"{_spread([b.ms / a.ms for a, b in pairs])}")


def _figures(runs: list[Run], load: tuple[float, float, float]) -> dict[str, Any]:
    """The raw figures of one invocation: each side's medians and every pair's ratios."""
    ours = [r for r in runs if r.side == "pricewarden"]
    plain = [r for r in runs if r.side == "plain"]
    pairs = list(zip(ours, plain, strict=False))

    def side(group: list[Run]) -> dict[str, Any]:
        return {"pages_per_s": [round(r.rate, 1) for r in group], "cpu_ms_per_page": [round(r.ms, 2) for r in group],
                "peak_rss_mb": [round(r.rss) for r in group], "found": [r.found for r in group]}

    return {"pages": ours[0].pages if ours else 0, "load_average_start": [round(x, 1) for x in load],
            "pricewarden": side(ours), "plain": side(plain),
            "ratio_pages_per_s": [round(a.rate / b.rate, 2) for a, b in pairs],
            "ratio_cpu_per_page": [round(b.ms / a.ms, 2) for a, b in pairs]}


def save(mode: str, what: str, runs: list[Run], load: tuple[float, float, float]) -> None:
    """Record this run under ``mode`` in ``bench/results/crawl.json``, keeping the other modes' last figures.

    One file holds the real-page, synthetic and sandbox runs (``real_pages``, ``synthetic``,
    ``world``): each invocation measures one of them and replaces only its own.
    """
    from bench.record import RESULTS, record

    path = RESULTS / "crawl.json"
    old = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    figures = dict(old.get("figures") or {})
    if not figures and old.get("measured"):  # the hand-transcribed synthetic figures, kept until measured again
        figures["synthetic"] = {"measured": old["measured"], "date": old.get("date"), "command": old.get("command")}
    from store._types import utcnow

    figures[mode] = {"what": what, "date": utcnow().strftime("%Y-%m-%d %H:%M UTC"), **_figures(runs, load)}
    ours = [r for r in runs if r.side == "pricewarden"]
    plain = [r for r in runs if r.side == "plain"]
    pairs = list(zip(ours, plain, strict=False))
    own = (f"{mode}: PriceWarden {_spread([r.rate for r in ours], '{:.0f}')} pages/s, "
           f"{_spread([r.ms for r in ours])} ms CPU a page, peak RSS {_spread([r.rss for r in ours], '{:.0f}')} MB")
    if pairs:
        own += (f"; plain Scrapy + extruct + price-parser {_spread([r.rate for r in plain], '{:.0f}')} pages/s, "
                f"{_spread([r.ms for r in plain])} ms CPU a page; ratio plain / PriceWarden CPU a page "
                f"{_spread([b.ms / a.ms for a, b in pairs])}, PriceWarden / plain pages/s "
                f"{_spread([a.rate / b.rate for a, b in pairs])} ({len(pairs)} interleaved pairs)")
    figures[mode]["measured"] = own
    measured = " | ".join([own, *(f"{data['measured']} (earlier run, {data.get('date')})"
                                  for other, data in figures.items() if other != mode and data.get("measured"))])
    record("crawl", "pages crawled, extracted and stored (evidence, database) against a plain Scrapy spider",
           ">= 2x the plain spider's CPU per page on real pages (on the way to 4x); >= 250 pages/s synthetic",
           measured, **figures)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=3000)
    parser.add_argument("--pages-from", type=Path, default=None, metavar="DIR",
                        help="serve the pages of DIR (*.html, *.html.gz) under --pages URLs instead of synthetic ones")
    parser.add_argument("--pairs", type=int, default=3,
                        help="interleaved runs: PriceWarden, plain spider, PriceWarden, ... (0: PriceWarden once)")
    parser.add_argument("--sites", type=int, default=16, help="ports opened (sites); balanced over shards")
    parser.add_argument("--shards", type=int, default=0, help="crawl processes (default: as the crawl chooses)")
    parser.add_argument("--browser", action="store_true",
                        help="allow the render fallback (Chromium) as the monitor does; "
                        "off: static only, like the plain spider")
    parser.add_argument("--db", default=None, help="database URL (default: a fresh SQLite file)")
    parser.add_argument("--world", action="store_true", help="crawl the sandbox world's pages instead")
    parser.add_argument("--keep", action="store_true",
                        help="keep the workspace (database, evidence) instead of deleting it (100,000 pages: ~8 GB)")
    args = parser.parse_args()

    workspace = Path(tempfile.mkdtemp(prefix="pw-bench-"))
    os.environ["PRICEWARDEN_WORKSPACE"] = str(workspace)
    os.environ.setdefault("PRICEWARDEN_LOG_LEVEL", "WARNING")
    # The page servers run on this machine: allowed by the network policy's setting, the policy stays on.
    os.environ.setdefault("PRICEWARDEN_NETWORK__ALLOW", "127.0.0.1")
    if args.db:
        os.environ["PRICEWARDEN_DATABASE_URL"] = args.db
    from crawlers.run import default_shards, warm_up_processes
    from pricewarden.settings import get_settings
    from store import upgrade

    get_settings.cache_clear()
    upgrade()
    shards = args.shards or default_shards()
    ctx = multiprocessing.get_context("spawn")
    server = None
    world_cm = None
    if args.world:
        from demo import World, write_workspace
        from demo import serve as serve_world

        world = World(seed=7, products=200, day=1)
        world_cm = serve_world(world)
        running = world_cm.__enter__()
        write_workspace(workspace, world, running.origins)
        from crawlers import read_listing_file

        listings = read_listing_file(workspace / "catalog" / "listings.csv")
        listings = [t for t in listings if "jsshop" not in t.url]

        def urls_of(_tag: int) -> list[str]:
            return [listings[i % len(listings)].url for i in range(args.pages)]
        what = "sandbox world pages"
    else:
        queue: multiprocessing.Queue = ctx.Queue()  # type: ignore[type-arg]
        folder = str(args.pages_from.resolve()) if args.pages_from else None
        server = ctx.Process(target=serve, args=(queue, args.sites, folder), daemon=True)
        server.start()
        ports = balanced_ports(queue.get(timeout=120), shards)
        if folder:
            files = read_pages(Path(folder))
            if not files:
                raise SystemExit(f"{folder}: no *.html or *.html.gz pages")
            mean_kb = sum(len(body) for _t, body in files) / len(files) / 1024
            what = f"{len(files)} real pages from {folder} (mean {mean_kb:.0f} KB) under as many URLs"

            def urls_of(tag: int) -> list[str]:
                return [f"http://127.0.0.1:{ports[i % len(ports)]}/r/{tag}/{i}" for i in range(args.pages)]
        else:
            what = f"~{len(b''.join(page_parts(1))) // 1024} KB synthetic pages"
            # Synthetic pages carry their id in the page: each run crawls fresh ids (new evidence).

            def urls_of(tag: int) -> list[str]:
                return [f"http://127.0.0.1:{ports[i % len(ports)]}/p/{tag * args.pages + i}"
                        for i in range(args.pages)]
    warm_up_processes()
    load = os.getloadavg()
    print(f"{args.pages} URLs of {what}; {len(ports) if server else 'world'} sites, PriceWarden with {shards} "
          f"crawl process(es), render fallback {'on' if args.browser else 'off'}, database "
          f"{get_settings().database.split('://')[0]}; {os.cpu_count()} cores, load average "
          f"{load[0]:.1f} {load[1]:.1f} {load[2]:.1f}", flush=True)
    runs: list[Run] = []
    slot = datetime(2026, 1, 1, tzinfo=UTC)
    for pair in range(max(args.pairs, 1)):
        for side in ("pricewarden", "plain") if args.pairs else ("pricewarden",):
            tag = len(runs)
            urls = urls_of(tag)
            if side == "pricewarden":
                run = run_pricewarden(urls, shards, args.browser, slot + timedelta(minutes=tag))
            else:
                run = run_plain(urls, workspace, str(tag))
            runs.append(run)
            print(f"pair {pair + 1} {side:>11}: {run.rate:6.0f} pages/s, {run.ms:6.2f} ms CPU per page, "
                  f"peak RSS {run.rss:4.0f} MB, {run.wall:5.1f} s wall; {run.found}", flush=True)
    if server is not None:
        server.terminate()
        server.join()
        # Children that have ended and been waited for: the page server and the plain spiders.
        served = resource.getrusage(resource.RUSAGE_CHILDREN)
        plain_cpu = sum(r.cpu for r in runs if r.side == "plain")
        print(f"page server CPU: {served.ru_utime + served.ru_stime - plain_cpu:.1f} s (its own process, "
              "charged to neither side)")
    if world_cm is not None:
        world_cm.__exit__(None, None, None)
    report(runs)
    save("world" if args.world else "real_pages" if args.pages_from else "synthetic", what, runs, load)
    load = os.getloadavg()
    print(f"load average at the end: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}. CPU per page moves less with the "
          "machine's load than pages/s; the plain spider's CPU includes its start-up (~1-2 s of imports), "
          "PriceWarden's crawl processes are forked from a preloaded server.")
    if args.keep:
        print(f"workspace kept: {workspace}")
    else:
        shutil.rmtree(workspace, ignore_errors=True)


if __name__ == "__main__":
    main()
