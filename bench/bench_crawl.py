"""Benchmark: crawl, extract and store heavy product pages; prints pages/s and peak RSS.

A keep-alive server (its own process, asyncio, several ports = several sites so that shards share
the work) serves N synthetic product pages of ~430 KB each, like real ones: inline scripts, a mega
menu, the buy box with JSON-LD, 150 reviews, related products with their prices. Every page is
unique (its id and price differ), so every page is a new evidence blob. The crawl runs through
``crawlers.run_crawl`` exactly as ``pricewarden crawl`` does, into a fresh SQLite database (or
``--db``). ``--world`` crawls the sandbox world's listings instead (repeated up to ``--pages``).

    .venv/bin/python bench/bench_crawl.py --pages 5000
    .venv/bin/python bench/bench_crawl.py --pages 100000        # memory must stay flat

The machine is shared: figures are noisy; compare runs taken back to back.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import random
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

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
    parts: tuple[bytes, bytes, bytes] = (b"", b"", b"")

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while b"\r\n\r\n" in self.buffer:
            head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
            path = head.split(b" ", 2)[1].decode()
            if path.startswith("/p/"):
                middle = unique_part(int(path[3:]))
                body_len = len(self.parts[0]) + len(middle) + len(self.parts[2])
                self.transport.writelines([  # type: ignore[attr-defined]
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: %d\r\n"
                    b"Connection: keep-alive\r\n\r\n" % body_len, self.parts[0], middle, self.parts[2]])
            else:
                self.transport.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")  # type: ignore[attr-defined]


def serve(ports_out: multiprocessing.Queue, sites: int) -> None:  # type: ignore[type-arg]
    """Serve the synthetic pages on ``sites`` ports until terminated."""
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=3000)
    parser.add_argument("--sites", type=int, default=16, help="ports opened (sites); balanced over shards")
    parser.add_argument("--shards", type=int, default=0, help="crawl processes (default: one per core)")
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
    from sqlalchemy import func, select

    from crawlers import Target, run_crawl
    from crawlers.run import default_shards
    from pricewarden.settings import get_settings
    from store import CrawlFailure, CrawlRun, Evidence, Observation, session_scope, upgrade

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
        targets = [Target(url=listings[i % len(listings)].url) for i in range(args.pages)]
    else:
        queue: multiprocessing.Queue = ctx.Queue()  # type: ignore[type-arg]
        server = ctx.Process(target=serve, args=(queue, args.sites), daemon=True)
        server.start()
        ports = balanced_ports(queue.get(timeout=60), shards)
        targets = [Target(url=f"http://127.0.0.1:{ports[i % len(ports)]}/p/{i}") for i in range(args.pages)]
    page_kb = len(b"".join(page_parts(1))) // 1024
    print(f"{args.pages} pages ({'world' if args.world else f'~{page_kb} KB synthetic'}), "
          f"{shards} shard(s), database {get_settings().database.split('://')[0]}", flush=True)
    started = time.perf_counter()
    result = run_crawl(targets, shards=shards, browser=False, log_level="ERROR")
    elapsed = time.perf_counter() - started
    if server is not None:
        server.terminate()
        server.join()
        # Children that have ended and been waited for: only the page server (the fork server runs on).
        served = resource.getrusage(resource.RUSAGE_CHILDREN)
        print(f"page server CPU: {served.ru_utime + served.ru_stime:.1f} s (it is not what limits the crawl)")
    if world_cm is not None:
        world_cm.__exit__(None, None, None)
    with session_scope() as session:
        observations = session.scalar(select(func.count()).select_from(Observation))
        failures = session.scalar(select(func.count()).select_from(CrawlFailure))
        evidence = session.scalar(select(func.count()).select_from(Evidence))
        runs = session.scalars(select(CrawlRun)).all()
        in_process = [r.stats.get("pages_per_s") for r in runs]
        # Each crawl process records its own peak RSS (they are forked from a server, not our children).
        peaks = [r.stats.get("peak_rss_mb") or 0 for r in runs]
        cpu = sum(r.stats.get("cpu_s") or 0 for r in runs)
    peak_children = max([*peaks, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024])
    peak_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"stored: {observations} observations, {failures} failures, {evidence} evidence blobs; "
          f"failed shards: {result.failed_shards or 'none'}")
    print(f"wall: {elapsed:.1f} s including process start -> {args.pages / elapsed:.0f} pages/s")
    print(f"per shard, inside the crawl: {in_process} pages/s")
    print(f"CPU of the crawl processes: {cpu:.1f} s = {cpu / args.pages * 1000:.2f} ms per page "
          f"(less noisy than pages/s; {os.cpu_count()} cores)")
    print(f"peak RSS: largest crawl process {peak_children:.0f} MB; this process {peak_self:.0f} MB")
    if args.keep:
        print(f"workspace kept: {workspace}")
    else:
        shutil.rmtree(workspace, ignore_errors=True)


if __name__ == "__main__":
    main()
