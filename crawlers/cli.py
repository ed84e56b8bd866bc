"""``pricewarden crawl``: crawl the active listings (or a listing file) and report crawl health."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

from pricewarden.console import console, emit_json, err_console, print_table


def register(app: typer.Typer) -> None:
    """Add ``crawl`` and ``crawl-health`` to the root app."""
    app.command("crawl")(crawl)
    app.command("crawl-health")(crawl_health)
    app.command("discover")(discover)


def _instant(value: str | None) -> datetime | None:
    from pricewarden.errors import ConfigError

    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"--at {value!r} is not an ISO 8601 instant") from None
    if moment.tzinfo is None:
        raise ConfigError(f"--at {value!r} needs a UTC offset, e.g. 2026-03-01T08:00+00:00")
    return moment


def crawl(
    site: Annotated[str | None, typer.Option("--site", help="Only listings of this site (host[:port]).")] = None,
    listing_file: Annotated[
        Path | None, typer.Option("--listing-file", help="CSV of url,sku,partner,seller_id,profile,region to crawl "
                                  "instead of the store's active listings.")
    ] = None,
    shards: Annotated[int | None, typer.Option("--shards", min=1, help="Crawl processes in parallel "
                                               "(default crawl.processes, 0 = one per core).")] = None,
    at: Annotated[str | None, typer.Option("--at", help="The run's slot instant (ISO 8601 with offset); "
                                           "crawling the same slot again stores nothing twice.")] = None,
    browser: Annotated[bool | None, typer.Option("--browser/--no-browser", help="Allow rendering in Chromium "
                                                 "(default: when a profile renders or render_fallback is on).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the health table as JSON.")] = False,
) -> None:
    """Crawl listing pages, store prices, failures and evidence, and print crawl health per site."""
    from crawlers.health import browser_line, browser_summary, site_health
    from crawlers.run import run_crawl
    from crawlers.targets import active_listings, read_listing_file, resolve_ids
    from store.db import require_schema, session_scope

    require_schema()
    with session_scope() as session:
        if listing_file is not None:
            targets = resolve_ids(session, read_listing_file(listing_file))
            if site:
                targets = [t for t in targets if t.site == site.lower()]
        else:
            targets = active_listings(session, site)
    if not targets:
        err_console.print("nothing to crawl: no active listings" + (f" for {site}" if site else ""))
        raise typer.Exit(0)
    from pricewarden.progress import progress

    with progress("crawl", len(targets), enabled=not as_json) as bar:
        if not as_json and not bar.showing:
            console.print(f"crawling {len(targets)} page(s)...")
        result = run_crawl(targets, shards=shards, at=_instant(at), browser=browser,
                           on_progress=bar.update if bar.showing else None)
    with session_scope() as session:
        health = site_health(session, result.started_at - timedelta(seconds=1), result.finished_at)
        rendering = browser_summary(session, result.run_keys)
    _print_health(health, as_json=as_json, extra={"run_keys": result.run_keys, "pages": result.pages,
                                                  "failed_shards": result.failed_shards, "browser": rendering})
    if rendering is not None and not as_json:
        console.print(browser_line(rendering), highlight=False, markup=False)


def crawl_health(
    hours: Annotated[float, typer.Option("--hours", help="Window to report (compared with the one before it).")]
    = 24.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """Per-site crawl health over the last hours: pages, failures by kind, failure rate and warnings."""
    from crawlers.health import site_health
    from store._types import utcnow
    from store.db import require_schema, session_scope

    require_schema()
    with session_scope() as session:
        health = site_health(session, utcnow() - timedelta(hours=hours))
    _print_health(health, as_json=as_json)


def _print_health(health: list[Any], *, as_json: bool, extra: dict[str, Any] | None = None) -> None:
    if as_json:
        emit_json({**(extra or {}), "sites": [h.as_dict() for h in health]})
        return
    # The undecided column only when a site has undecided pages (a narrow terminal keeps the site whole).
    undecided = any(h.undecided for h in health)
    rows = [
        (h.site, h.pages, h.ok, h.failed, *((h.undecided,) if undecided else ()), f"{h.failure_rate:.0%}",
         "" if h.previous_rate is None else f"{h.previous_rate:.0%}",
         ", ".join(f"{k} {v}" for k, v in sorted(h.kinds.items())))
        for h in health
    ]
    print_table("Crawl health", ["site", "pages", "ok", "failed", *(["undecided"] if undecided else []),
                                 "failure rate", "before", "failures"], rows)
    for h in health:
        for note in h.warnings:
            err_console.print(f"warning: {h.site}: {note}", style="yellow", highlight=False, markup=False)
    if extra and extra.get("failed_shards"):
        err_console.print(f"warning: crawl shards {extra['failed_shards']} did not finish", style="yellow")


def discover(
    urls: Annotated[list[str], typer.Argument(help="Marketplace search or category page URLs.")],
    min_confidence: Annotated[float, typer.Option("--min-confidence", help="Title similarity needed to match.")]
    = 0.6,
    profile: Annotated[str | None, typer.Option("--profile", help="Site profile of the product pages "
                                                "(default: matched by domain).")] = None,
    max_pages: Annotated[int, typer.Option("--max-pages", help="Links followed per start page.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """Crawl search/category pages, match found items to the catalog, record unknown sellers' listings."""
    from crawlers.discovery import discover as run_discovery
    from pricewarden.console import show
    from pricewarden.progress import progress
    from store.db import require_schema

    require_schema()
    with progress("discover", None, enabled=not as_json) as bar:
        found = run_discovery(urls, min_confidence=min_confidence, profile=profile, max_pages=max_pages,
                              on_progress=bar.update if bar.showing else None)
    show([f.as_dict() for f in found], ["url", "sku", "seller", "method", "confidence", "new"], as_json=as_json,
         title="Discovered listings")
