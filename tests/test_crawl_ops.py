"""Network failures, the ``pricewarden crawl`` command, crawl health, screenshots and discovery, on real servers."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from test_crawl_site import AT, Site, _listing_file, _targets
from test_crawl_site import site as site
from test_crawl_site import workspace as workspace
from typer.testing import CliRunner

from crawlers import capture_screenshots, discover, run_crawl, site_health
from crawlers.health import SiteHealth
from pricewarden.keys import digest_key
from store import CrawlFailure, CrawlRun, Evidence, Listing, Observation, Product, session_scope
from store.evidence import EvidenceStore


@pytest.fixture
def hanging() -> Iterator[str]:
    """A server that accepts requests and never answers (until the test ends)."""
    release = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            release.wait(30)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    release.set()
    server.shutdown()
    server.server_close()


def _closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    sock.close()
    return port


def test_network_failures_are_failures(db: Any, workspace: Path, hanging: str, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from pricewarden.settings import get_settings

    monkeypatch.setenv("PRICEWARDEN_CRAWL__DOWNLOAD_TIMEOUT", "1")
    monkeypatch.setenv("PRICEWARDEN_CRAWL__RETRIES", "0")
    monkeypatch.setenv("PRICEWARDEN_CRAWL__OBEY_ROBOTS_TXT", "false")
    get_settings.cache_clear()
    refused = f"http://127.0.0.1:{_closed_port()}/p/1"
    rows = [(hanging + "/p/slow", "AC-100", "", "", "", ""), (refused, "AC-100", "", "", "", ""),
            ("http://pricewarden-test.invalid/p/1", "AC-100", "", "", "", "")]
    run_crawl(_targets(db, _listing_file(tmp_path, rows)), shards=1, at=AT, browser=False)
    with session_scope(db) as session:
        kinds = {f.url: f.kind for f in session.scalars(select(CrawlFailure))}
        assert kinds == {hanging + "/p/slow": "timeout", refused: "connection",
                         "http://pricewarden-test.invalid/p/1": "dns"}
        assert session.scalars(select(Observation)).all() == []


def test_an_unreachable_robots_txt_is_one_warning_line(db: Any, workspace: Path, tmp_path: Path) -> None:
    """A site that is down: one warning names its robots.txt (no traceback); its page is a failure."""
    refused = f"http://127.0.0.1:{_closed_port()}/p/1"
    listing_file = _listing_file(tmp_path, [(refused, "AC-100", "", "", "", "")])
    env = {**os.environ, "PRICEWARDEN_CRAWL__OBEY_ROBOTS_TXT": "true", "PRICEWARDEN_CRAWL__RETRIES": "0"}
    # Its own process: the crawl processes' log lines go to the stderr of the process that started them.
    done = subprocess.run([str(Path(sys.executable).with_name("pricewarden")), "crawl", "--listing-file",
                           str(listing_file), "--shards", "1", "--no-browser"],
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    robots = refused.replace("/p/1", "/robots.txt")
    lines = [line for line in done.stderr.splitlines() if "robots.txt" in line]
    assert len(lines) == 1 and "WARNING" in lines[0] and robots in lines[0] and "refused" in lines[0], done.stderr
    assert "Traceback" not in done.stderr
    with session_scope(db) as session:
        assert [(f.url, f.kind) for f in session.scalars(select(CrawlFailure))] == [(refused, "connection")]


@pytest.fixture
def black_hole() -> Iterator[str]:
    """A proxy that accepts connections and never answers: egress that swallows traffic."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    server.close()


def test_a_cookie_does_not_send_the_crawl_to_the_internet(db: Any, site: Site, workspace: Path, tmp_path: Path,
                                                          black_hole: str) -> None:
    """Scrapy's cookies middleware would download the Public Suffix List, with no timeout."""
    listing_file = _listing_file(tmp_path, [(site.url("/p/cookie"), "AC-100", "", "", "", "US")])
    env = {**os.environ, "TLDEXTRACT_CACHE": str(tmp_path / "tld-cache"), "HTTPS_PROXY": black_hole,
           "HTTP_PROXY": black_hole, "NO_PROXY": "127.0.0.1,localhost"}
    # Before the fix this crawl never ended (the timeout only keeps a regression from hanging CI).
    done = subprocess.run([str(Path(sys.executable).with_name("pricewarden")), "crawl", "--listing-file",
                           str(listing_file), "--shards", "1", "--no-browser"],
                          env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    with session_scope(db) as session:
        assert [o.price for o in session.scalars(select(Observation))] == [Decimal("179.99")]


def test_crawl_command_stores_and_prints_health_and_warnings(
    db: Any, site: Site, workspace: Path, tmp_path: Path
) -> None:
    from pricewarden.cli import app

    rows = [(site.url("/p/jsonld"), "AC-100", "", "", "", "US"), (site.url("/p/captcha"), "AC-100", "", "", "", "US")]
    listing_file = _listing_file(tmp_path, rows)
    result = CliRunner().invoke(app, ["crawl", "--listing-file", str(listing_file), "--shards", "1",
                                      "--no-browser", "--at", "2026-03-02T08:00:00+00:00", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    (health,) = report["sites"]
    host = site.base.split("//")[1]
    assert (health["site"], health["pages"], health["ok"], health["failed"]) == (host, 2, 1, 1)
    assert health["kinds"] == {"blocked": 1}
    assert health["failure_rate"] == 0.5
    with session_scope(db) as session:
        (obs,) = session.scalars(select(Observation)).all()
        assert obs.price == Decimal("179.99")

    human = CliRunner().invoke(app, ["crawl", "--listing-file", str(listing_file), "--shards", "1", "--no-browser"])
    assert human.exit_code == 0, human.output
    assert "Crawl health" in human.stdout and host in human.stdout
    assert "failure rate" in human.output


def test_site_health_compares_with_the_window_before(db: Any) -> None:
    now = datetime(2026, 3, 10, 12, tzinfo=UTC)
    with session_scope(db) as session:
        session.add_all([CrawlRun(run_key="r1", started_at=now - timedelta(hours=30)),
                         CrawlRun(run_key="r2", started_at=now - timedelta(hours=6))])
        session.flush()
        r1, r2 = session.scalars(select(CrawlRun.id).order_by(CrawlRun.id)).all()

        def obs(url: str, run: int, at: datetime) -> Observation:
            return Observation(obs_key=digest_key(f"{url}{run}"), source="crawl", url=url, observed_at=at,
                               crawl_run_id=run, price=Decimal("10.00"), currency="USD")

        def fail(url: str, run: int, at: datetime, kind: str) -> CrawlFailure:
            return CrawlFailure(failure_key=f"{url}{run}{kind}", site=url.split("/")[2], url=url, kind=kind,
                                crawl_run_id=run, occurred_at=at)

        before, recent = now - timedelta(hours=30), now - timedelta(hours=6)
        session.add_all([
            # shop-a: 4 pages yesterday all fine; today 2 of 4 blocked.
            *[obs(f"http://shop-a/p{i}", r1, before) for i in range(4)],
            obs("http://shop-a/p0", r2, recent), obs("http://shop-a/p1", r2, recent),
            fail("http://shop-a/p2", r2, recent, "blocked"), fail("http://shop-a/p3", r2, recent, "blocked"),
            # shop-b: fine, but its profile stopped matching (the price came from JSON-LD).
            obs("http://shop-b/p0", r2, recent), fail("http://shop-b/p0", r2, recent, "profile_broken"),
        ])
    with session_scope(db) as session:
        health = {h.site: h for h in site_health(session, now - timedelta(hours=24), now)}
    a, b = health["shop-a"], health["shop-b"]
    assert (a.pages, a.ok, a.failed, a.failure_rate, a.previous_rate) == (4, 2, 2, 0.5, 0.0)
    assert a.warnings == ["failure rate rose from 0% to 50%"]
    assert (b.pages, b.ok, b.failed, b.profile_broken) == (1, 1, 0, 1)
    assert b.warnings == ["profile stopped matching on 1 page(s)"]
    assert SiteHealth("quiet", pages=3, ok=3).warnings == []


@pytest.mark.browser
def test_capture_screenshots_of_observations_and_urls(db: Any, site: Site, workspace: Path,
                                                      tmp_path: Path) -> None:
    rows = [(site.url("/p/jsonld"), "AC-100", "", "", "", "US")]
    run_crawl(_targets(db, _listing_file(tmp_path, rows)), shards=1, at=AT, browser=False)
    with session_scope(db) as session:
        (obs,) = session.scalars(select(Observation)).all()
        assert obs.screenshot_sha256 is None  # crawled statically
        shots = capture_screenshots([obs.id, site.url("/p/market"), 999_999], session=session)
        assert set(shots) == {obs.id, site.url("/p/market")}
        assert obs.screenshot_sha256 == shots[obs.id]
        store = EvidenceStore.from_settings()
        for sha in shots.values():
            assert store.get(sha).startswith(b"\x89PNG")
            assert session.get(Evidence, sha).kind == "screenshot"


@pytest.mark.browser
def test_screenshots_and_second_readings_of_one_block_share_one_chromium(
    db: Any, site: Site, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from crawlers.screenshots import render_pages
    from crawlers.shared_browser import shared_browser
    from pricewarden.settings import get_settings

    with shared_browser() as shared:
        with session_scope(db) as session:
            first = capture_screenshots([site.url("/p/market")], session=session)
        # From here on, a Chromium launched by anyone else fails: what follows is drawn by the shared one.
        monkeypatch.setenv("PRICEWARDEN_BROWSER_PATH", "/bin/false")
        get_settings.cache_clear()
        with session_scope(db) as session:
            second = capture_screenshots([site.url("/p/jsonld")], session=session)
        pages = render_pages({1: site.url("/p/jsonld")})
        assert shared.launches == 1 and shared.browser.is_connected()
    assert shared.browser is None  # closed with the block
    assert set(first) == {site.url("/p/market")} and set(second) == {site.url("/p/jsonld")}
    assert b"AC-100" in pages[1]  # the rendered HTML of the page


@pytest.mark.browser
def test_a_shared_chromium_launched_early_serves_the_block_and_closes_with_it(
    db: Any, site: Site, workspace: Path
) -> None:
    from crawlers.shared_browser import shared_browser

    with shared_browser() as shared:
        shared.start_soon()  # in a thread: the caller goes on
        shared.start_soon()  # (once)
        with session_scope(db) as session:
            shots = capture_screenshots([site.url("/p/market")], session=session)
        assert shared.launches == 1 and set(shots) == {site.url("/p/market")}
    assert shared.browser is None
    # A block that ends while its browser is still launching closes it once launched: none is left behind.
    with shared_browser() as early:
        early.start_soon()
    assert early.browser is None and early.launches == 1


def test_discovery_matches_catalog_and_records_unknown_listings(
    db: Any, site: Site, workspace: Path, tmp_path: Path
) -> None:
    with session_scope(db) as session:
        product = session.scalar(select(Product).where(Product.sku == "AC-100"))
        assert product is not None
        session.add(Listing(url=site.url("/p/jsonld"), site=site.base.split("//")[1], product_id=product.id))
    found = discover([site.url("/p/search")], min_confidence=0.6, profile="market")
    by_url = {f.url: f for f in found}
    assert set(by_url) == {site.url("/p/jsonld"), site.url("/p/market"), site.url("/p/shop")}
    assert (by_url[site.url("/p/jsonld")].method, by_url[site.url("/p/jsonld")].new) == ("gtin", False)
    market = by_url[site.url("/p/market")]
    assert (market.sku, market.method, market.new) == ("AC-100", "title", True)
    assert {s["seller_id"] for s in market.sellers} == {"S-GOOD", "S-CHEAP", "S-GREY"}
    assert by_url[site.url("/p/shop")].sku == "AC-300"
    assert site.hits["/cart"] == 0  # cart links are not followed
    with session_scope(db) as session:
        listing = session.scalar(select(Listing).where(Listing.url == site.url("/p/market")))
        assert listing is not None and listing.discovered and listing.active
        assert listing.match_method == "title" and 0.6 <= (listing.match_confidence or 0) <= 1
    again = discover([site.url("/p/market")], min_confidence=0.6)
    assert again == [] or all(not f.new for f in again)


def test_discovery_skips_a_page_that_arrived_cut_off(db: Any, site: Site, workspace: Path) -> None:
    found = discover([site.url("/p/found-cut")], min_confidence=0.6)
    # /p/cutgzip's first half carries the product's GTIN: it would match if it were read.
    assert [(f.url, f.method) for f in found] == [(site.url("/p/gzip"), "gtin")]
    assert site.hits["/p/cutgzip"] == 3  # tried, then retried twice


def test_requests_go_through_the_proxy_with_the_user_agent(db: Any, workspace: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from test_crawl_site import PAGES

    from pricewarden.settings import get_settings

    seen: list[tuple[str, str]] = []

    class Proxy(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            seen.append((self.path, self.headers.get("User-Agent", "")))
            body = (PAGES / "jsonld.html").read_bytes() if self.path.endswith("/p/item") else b""
            self.send_response(200 if body else 404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("PRICEWARDEN_CRAWL__PROXY", f"http://127.0.0.1:{server.server_address[1]}")
        monkeypatch.setenv("PRICEWARDEN_CRAWL__USER_AGENT", "PriceWardenTest/1.0")
        get_settings.cache_clear()
        # The host does not resolve: only a proxy can fetch it.
        rows = [("http://shop.pricewarden-test.invalid/p/item", "AC-100", "", "", "", "US")]
        run_crawl(_targets(db, _listing_file(tmp_path, rows)), shards=1, at=AT, browser=False)
    finally:
        server.shutdown()
        server.server_close()
    assert ("http://shop.pricewarden-test.invalid/p/item", "PriceWardenTest/1.0") in seen
    assert ("http://shop.pricewarden-test.invalid/robots.txt", "PriceWardenTest/1.0") in seen
    with session_scope(db) as session:
        (obs,) = session.scalars(select(Observation)).all()
        assert obs.price == Decimal("179.99")


def test_crawl_command_reads_the_store_listings_of_one_site(db: Any, site: Site, workspace: Path) -> None:
    from pricewarden.cli import app

    host = site.base.split("//")[1]
    with session_scope(db) as session:
        product = session.scalar(select(Product).where(Product.sku == "AC-100"))
        assert product is not None
        session.add_all([
            Listing(url=site.url("/p/jsonld"), site=host, product_id=product.id, region="US"),
            Listing(url=site.url("/p/flaky"), site=host, product_id=product.id, active=False),
            Listing(url="http://other.example/p/1", site="other.example", product_id=product.id),
        ])
    result = CliRunner().invoke(app, ["crawl", "--site", host, "--shards", "1", "--no-browser", "--json"])
    assert result.exit_code == 0, result.output
    with session_scope(db) as session:
        (obs,) = session.scalars(select(Observation)).all()
        listing = session.scalar(select(Listing).where(Listing.url == site.url("/p/jsonld")))
        assert listing is not None
        assert (obs.listing_id, obs.product_id, obs.price) == (listing.id, listing.product_id, Decimal("179.99"))
        assert listing.last_seen_at == obs.observed_at
    assert site.hits["/p/flaky"] == 0  # inactive listings are not crawled
