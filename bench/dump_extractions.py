"""Every page's extraction as JSON, to diff before and after a change that must not change any result.

Usage: ``python bench/dump_extractions.py OUT.json [--dir /work/shared/realpages] [--sandbox CACHE_DIR]``

Reads the real-page development set, the written pages (``tests/extract_pages``, held-out batches
included) and the sandbox world's product and offer pages (fetched once over HTTP into
``CACHE_DIR``, then read from there so that every dump sees the same bytes at the same URLs), and
writes, for each page and each way the crawl and the tools call the cascade (bytes with no
encoding, as ``pricewarden extract`` and the scorer do; bytes with the charset a server declares
and the crawl's ``undecided_below``, as the spider does; with the site's profile for sandbox
pages), the whole of :meth:`Extraction.to_schema` plus the competing candidates' context.

    python bench/dump_extractions.py /tmp/before.json && ...change... &&
    python bench/dump_extractions.py /tmp/after.json && diff /tmp/before.json /tmp/after.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.score_realpages import DEFAULT_DIR, HELDOUT, load_pages, load_written
from crawlers.extract import Extraction, extract


def _served_encoding(body: bytes) -> str | None:
    """The charset ``bench_crawl.py``'s server declares: UTF-8 for bytes that decode as such, else none."""
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return "utf-8"


def _doc(ex: Extraction) -> dict[str, Any]:
    doc = ex.to_schema()
    doc["competingContext"] = [c.context for c in ex.competing]
    doc["sellers"] = [o.as_dict() for o in ex.sellers]
    return doc


def sandbox_pages(cache: Path) -> list[tuple[str, str, bytes]]:
    """(family, url, body) of the sandbox's product and offer pages on day 1, fetched once into ``cache``."""
    index = cache / "index.json"
    if not index.is_file():
        from bench.bench_world_accuracy import fetch
        from demo import World, serve, write_workspace

        cache.mkdir(parents=True, exist_ok=True)
        world = World(seed=7, products=20)
        rows = []
        with serve(world, base_port=0) as running:
            write_workspace(cache / "workspace", world, running.origins)  # the profiles, for these URLs
            running.set_day(1)
            truth = world.truth(1, running.origins)
            for i, page in enumerate(p for p in truth["pages"] if p["page_type"] in {"product", "offers"}):
                _status, body, _problem = fetch(page["url"])
                if body:
                    (cache / f"{i}.html").write_bytes(body)
                    rows.append({"file": f"{i}.html", "family": page["family"], "url": page["url"]})
        index.write_text(json.dumps(rows), encoding="utf-8")
    return [(r["family"], r["url"], (cache / r["file"]).read_bytes())
            for r in json.loads(index.read_text(encoding="utf-8"))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--sandbox", type=Path, default=Path("/tmp/pw-dump-sandbox"),
                        help="where the sandbox pages are kept between dumps")
    args = parser.parse_args()
    from crawlers.profiles import find_profile, load_profiles
    from pricewarden.settings import get_settings

    below = get_settings().crawl.undecided_below
    out: dict[str, Any] = {}
    sets = [("real", load_pages(args.dir)), ("written", load_written())]
    sets += [(f"heldout:{folder.name}", load_written(folder)) for folder in HELDOUT]
    for label, pages in sets:
        for truth, body in pages:
            url = truth.get("url") or ""
            key = f"{label}:{truth['id']}"
            out[key] = {"plain": _doc(extract(body, url)),
                        "crawl": _doc(extract(body, url, encoding=_served_encoding(body), undecided_below=below))}
    sandbox = sandbox_pages(args.sandbox)
    if sandbox:
        profiles = load_profiles(args.sandbox / "workspace" / "profiles")
        for i, (family, url, body) in enumerate(sandbox):
            profile = find_profile(profiles, url)
            out[f"sandbox:{i}:{family}"] = {
                "plain": _doc(extract(body, url)),
                "profile": _doc(extract(body, url, profile=profile, encoding=_served_encoding(body),
                                        undecided_below=below)),
            }
    args.out.write_text(json.dumps(out, indent=1, sort_keys=True, ensure_ascii=False), encoding="utf-8")
    print(f"{len(out)} pages written to {args.out}")


if __name__ == "__main__":
    main()
