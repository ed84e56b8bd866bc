"""Benchmark: browser-rendered product pages with a full-page screenshot each; prints pages/s.

A local server (own process, several ports = several sites) serves product pages whose price a
script draws 200 ms after load. A site profile says ``render: true`` with
``browser_steps: [{wait_for_selector: "span.price"}]``, so each page is fetched, rendered in
Chromium, read and photographed, then stored with its HTML and PNG as evidence.

    .venv/bin/python bench/bench_render.py --pages 200

The machine is shared: figures are noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Acme Render {i}</title>
<meta property="og:type" content="product"></head><body><header><nav>{menu}</nav></header>
<main><h1>Acme Render {i}</h1><div class="buybox"><span id="slot"></span>
<button class="add-to-cart">Add to cart</button>
</div><section class="reviews">{reviews}</section></main>
<script>setTimeout(function () {{ var s = document.createElement("span"); s.className = "price";
s.textContent = "${price}"; document.getElementById("slot").appendChild(s); }}, 200);</script></body></html>"""


class _Page(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while b"\r\n\r\n" in self.buffer:
            head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
            path = head.split(b" ", 2)[1].decode()
            if path.startswith("/p/"):
                i = int(path[3:])
                body = PAGE.format(i=i, price=f"{100 + i % 900}.99",
                                   menu="".join(f'<a href="/c/{n}">Category {n}</a> ' for n in range(200)),
                                   reviews="".join(f"<p>Review {n}: good sound, fair price.</p>" for n in range(150)))
                data = body.encode()
                self.transport.write(  # type: ignore[attr-defined]
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: %d\r\n\r\n%s"
                    % (len(data), data))
            else:
                self.transport.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")  # type: ignore[attr-defined]


def serve(ports_out: multiprocessing.Queue, sites: int) -> None:  # type: ignore[type-arg]
    """Serve the script pages on ``sites`` ports until terminated."""
    async def main() -> None:
        loop = asyncio.get_running_loop()
        servers = [await loop.create_server(_Page, "127.0.0.1", 0) for _ in range(sites)]
        ports_out.put([s.sockets[0].getsockname()[1] for s in servers])
        await asyncio.Event().wait()

    asyncio.run(main())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=120)
    parser.add_argument("--sites", type=int, default=8)
    parser.add_argument("--shards", type=int, default=0, help="crawl processes (default: one per core)")
    parser.add_argument("--keep", action="store_true", help="keep the workspace (database, evidence, screenshots)")
    args = parser.parse_args()

    workspace = Path(tempfile.mkdtemp(prefix="pw-bench-render-"))
    os.environ["PRICEWARDEN_WORKSPACE"] = str(workspace)
    # The page servers run on this machine: allowed by the network policy's setting, the policy stays on.
    os.environ.setdefault("PRICEWARDEN_NETWORK__ALLOW", "127.0.0.1")
    from sqlalchemy import func, select

    from crawlers import Target, run_crawl
    from crawlers.run import default_shards
    from pricewarden.settings import get_settings
    from store import CrawlRun, Evidence, Observation, session_scope, upgrade

    get_settings.cache_clear()
    upgrade()
    ctx = multiprocessing.get_context("spawn")
    queue: multiprocessing.Queue = ctx.Queue()  # type: ignore[type-arg]
    server = ctx.Process(target=serve, args=(queue, args.sites), daemon=True)
    server.start()
    ports = queue.get(timeout=60)
    (workspace / "profiles").mkdir(parents=True, exist_ok=True)
    domains = ", ".join(f'"127.0.0.1:{p}"' for p in ports)
    (workspace / "profiles" / "render.yaml").write_text(
        f"name: render\ndomains: [{domains}]\ncurrency: USD\nrender: true\n"
        'browser_steps: [{wait_for_selector: "span.price"}]\nselectors: {price: "span.price", title: "h1"}\n',
        encoding="utf-8")
    shards = args.shards or default_shards()
    targets = [Target(url=f"http://127.0.0.1:{ports[i % len(ports)]}/p/{i}") for i in range(args.pages)]
    print(f"{args.pages} rendered pages with full-page screenshots, {shards} shard(s), "
          f"browser concurrency {get_settings().crawl.browser_concurrency} per shard", flush=True)
    started = time.perf_counter()
    run_crawl(targets, shards=shards, browser=True, log_level="ERROR")
    elapsed = time.perf_counter() - started
    server.terminate()
    server.join()
    with session_scope() as session:
        priced = session.scalar(select(func.count()).select_from(Observation).where(Observation.price.is_not(None)))
        shots = session.scalar(select(func.count()).select_from(Evidence).where(Evidence.kind == "screenshot"))
        peaks = [r.stats.get("peak_rss_mb") or 0 for r in session.scalars(select(CrawlRun))]
    print(f"stored: {priced} prices, {shots} screenshots")
    print(f"wall: {elapsed:.1f} s including process and browser start -> {args.pages / elapsed:.2f} pages/s")
    peak = max([*peaks, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024])
    print(f"peak RSS of the largest crawl process: {peak:.0f} MB (Chromium's own processes not included)")
    if args.keep:
        print(f"workspace kept: {workspace}")
    else:
        shutil.rmtree(workspace, ignore_errors=True)


if __name__ == "__main__":
    main()
