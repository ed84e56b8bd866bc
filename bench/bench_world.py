"""How fast the sandbox world serves real-weight product pages (pages/s), measured with wrk.

    .venv/bin/python bench/bench_world.py [--products 50] [--pages 400] [--seconds 10] [--connections 32]

Starts the world on free ports, warms its page cache with ``--pages`` healthy product pages spread over
every family, then runs one ``wrk`` per origin at once (wrk talks to one host:port; a Lua script picks a
random path from that origin's list for every request) and sums their pages/s and MB/s. Without wrk
(``apt-get install -y wrk``) it says so and uses a Python keep-alive load generator instead, which is
itself the bottleneck. ``--lazy-check`` also times rendering pages that are not cached yet (a big world
renders on demand with an LRU cache). Figures on a shared 2-core machine are noisy.
"""

from __future__ import annotations

import argparse
import http.client
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from demo import World, serve

LUA = """
local paths = {}
for line in io.lines("%s") do paths[#paths + 1] = line end
math.randomseed(%d)
request = function()
  return wrk.format("GET", paths[math.random(#paths)])
end
"""


def _units(text: str) -> float:
    number, unit = re.match(r"([\d.]+)(\w*)", text).groups()  # type: ignore[union-attr]
    return float(number) * {"": 1, "k": 1e3, "K": 1e3, "M": 1e6, "KB": 1e3, "MB": 1e6, "GB": 1e9}.get(unit, 1)


def run_wrk(groups: dict[str, list[str]], seconds: int, connections: int) -> tuple[float, float, int]:
    """One wrk per origin, all at once; returns (pages/s, MB/s, non-2xx responses) summed over them."""
    tmp = Path(tempfile.mkdtemp(prefix="bench-world-"))
    procs = []
    per = max(1, connections // len(groups))
    for i, (origin, paths) in enumerate(groups.items()):
        (tmp / f"{i}.txt").write_text("\n".join(paths) + "\n")
        (tmp / f"{i}.lua").write_text(LUA % (tmp / f"{i}.txt", i + 1))
        procs.append(subprocess.Popen(["wrk", "-t1", f"-c{per}", f"-d{seconds}s", "-s", str(tmp / f"{i}.lua"),
                                       origin + "/"], stdout=subprocess.PIPE, text=True))
    rate = mb = 0.0
    bad = 0
    for proc in procs:
        out, _ = proc.communicate()
        rate += float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
        mb += _units(re.search(r"Transfer/sec:\s+(\S+)", out).group(1)) / 1e6  # type: ignore[union-attr]
        m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        bad += int(m.group(1)) if m else 0
    shutil.rmtree(tmp)
    return rate, mb, bad


def run_python(urls: list[str], seconds: int, connections: int) -> tuple[float, float, int]:
    """Fallback: keep-alive clients in threads (the client, not the world, is the bottleneck)."""
    stop = time.monotonic() + seconds
    counts = [0, 0, 0]
    lock = threading.Lock()

    def worker(seed: int) -> None:
        r = random.Random(seed)
        conns: dict[str, http.client.HTTPConnection] = {}
        n = size = bad = 0
        while time.monotonic() < stop:
            parts = urlsplit(r.choice(urls))
            conn = conns.get(parts.netloc) or http.client.HTTPConnection(parts.netloc)
            conns[parts.netloc] = conn
            conn.request("GET", parts.path + (f"?{parts.query}" if parts.query else ""))
            resp = conn.getresponse()
            size += len(resp.read())
            n += 1
            bad += resp.status >= 400
        with lock:
            counts[0] += n
            counts[1] += size
            counts[2] += bad

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(min(connections, 8))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return counts[0] / seconds, counts[1] / seconds / 1e6, counts[2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=50)
    parser.add_argument("--pages", type=int, default=400, help="distinct healthy pages in the URL list")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--lazy-check", action="store_true", help="also time first (uncached) renders")
    args = parser.parse_args()

    t0 = time.perf_counter()
    world = World(seed=args.seed, products=args.products, day=1)
    built = time.perf_counter() - t0
    with serve(world, cache_bytes=1024 * 1024 * 1024) as running:
        truth = world.truth(1, running.origins)
        healthy = [p["url"] for p in truth["pages"] if p["failure"] is None and p["page_type"] == "product"]
        urls = random.Random(1).sample(healthy, k=min(args.pages, len(healthy)))
        print(f"world: {len(world.products)} products, {len(world.listings)} product pages "
              f"({truth['summary']['pages']} pages with marketplace lists), built in {built:.2f} s")
        t0 = time.perf_counter()
        total = 0
        conns: dict[str, http.client.HTTPConnection] = {}
        for url in urls:  # warm the cache; this is also the lazy (first) render time
            parts = urlsplit(url)
            conn = conns.setdefault(parts.netloc, http.client.HTTPConnection(parts.netloc))
            conn.request("GET", parts.path + (f"?{parts.query}" if parts.query else ""))
            total += len(conn.getresponse().read())
        warm = time.perf_counter() - t0
        print(f"first render of {len(urls)} pages: {len(urls) / warm:.0f} pages/s "
              f"(average page {total / len(urls) / 1024:.0f} KB)")
        groups: dict[str, list[str]] = defaultdict(list)
        for url in urls:
            parts = urlsplit(url)
            groups[f"{parts.scheme}://{parts.netloc}"].append(parts.path + (f"?{parts.query}" if parts.query else ""))
        if shutil.which("wrk"):
            rate, mb, bad = run_wrk(groups, args.seconds, args.connections)
            tool = f"wrk ({len(groups)} processes, {args.connections} connections in all)"
        else:
            print("wrk not found (apt-get install -y wrk): using the Python keep-alive load generator, "
                  "which is slower than the world")
            rate, mb, bad = run_python(urls, args.seconds, args.connections)
            tool = "python http.client threads"
        print(f"served: {rate:,.0f} pages/s, {mb:,.0f} MB/s, {bad} non-2xx, over {args.seconds} s with {tool}")


if __name__ == "__main__":
    main()
