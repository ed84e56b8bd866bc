"""Crawl a real local storefront through real crawl processes and check every row they store.

The server (``http.server`` in a thread, HTTP/1.1 keep-alive) serves the pages of
``tests/crawl_pages`` plus the misbehaviours a crawler meets: 404, 500 then 200, 429 with
Retry-After, a captcha answered with 200, a truncated body, a redirect loop, a login wall, a path
robots.txt forbids, and a page whose layout changes under its site profile.
"""

from __future__ import annotations

import gzip
import threading
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from crawlers.run import run_crawl
from crawlers.targets import Target, read_listing_file, resolve_ids
from store import CrawlFailure, CrawlRun, Evidence, Observation, Partner, Product, session_scope
from store.evidence import EvidenceStore, sha256_of

PAGES = Path(__file__).parent / "crawl_pages"
# The JSON-LD page with 2 MB of reviews after its buy box (every review different, as on a real page).
LARGE_PAGE = (PAGES / "jsonld.html").read_bytes().replace(b"</main>", b"".join(
    b'<div class="review"><p>Review %d: comfortable, %d hours of battery, would buy again.</p></div>' % (i, i % 40)
    for i in range(22000)) + b"</main>")

PROFILES = {
    "hidden": """
name: hidden
currency: USD
selectors: {title: "h1", hidden_price: ".hidden-price"}
cart: {url: "{origin}/cart?add={sku}", price: ".cart-total"}
""",
    "market": """
name: market
currency: USD
selectors: {title: "h1"}
offers:
  container: ".offer"
  price: ".offer-price"
  seller_name: ".seller"
  seller_id: {selector: ".seller", attr: "data-seller-id"}
""",
    "profileshop": """
name: profileshop
currency: USD
selectors: {price: ".pp-now", title: "h1"}
""",
    "scriptshop": """
name: scriptshop
currency: USD
render: true
browser_steps: [{wait_for_selector: "span.price"}]
selectors: {price: "span.price", title: "h1"}
""",
}


@dataclass
class Site:
    """The test storefront: its base URL and what it served."""

    base: str
    hits: Counter[str] = field(default_factory=Counter)
    changed: bool | str = False  # True: the changed layout; a file name: that changed page
    cut_cart: bool = False  # the cart page arrives as a gzip stream cut off before its end
    cut_robots: bool = False  # so does robots.txt (its first Disallow line inside the part that comes)

    def url(self, path: str) -> str:
        return self.base + path


def _cut_gzip(page: bytes, before: bytes) -> bytes:
    """A gzip stream of ``page`` that stops before ``before``: all it holds decodes, but it never ends."""
    deflate = zlib.compressobj(6, zlib.DEFLATED, 31)
    return deflate.compress(page[:page.index(before)]) + deflate.flush(zlib.Z_SYNC_FLUSH)


def _handler(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None,
                  content_type: str = "text/html; charset=utf-8") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def _page(self, name: str, status: int = 200, headers: dict[str, str] | None = None) -> None:
            self._send(status, (PAGES / name).read_bytes(), headers)

        def do_GET(self) -> None:
            path = self.path.split("?")[0]
            site.hits[path] += 1
            hits = site.hits[path]
            if path == "/robots.txt" and site.cut_robots:
                self._send(200, _cut_gzip(b"User-agent: *\nDisallow: /private/\nDisallow: /tmp/\n", b"Disallow: /tmp/"),
                           {"Content-Encoding": "gzip"}, content_type="text/plain")
            elif path == "/robots.txt":
                self._send(200, b"User-agent: *\nDisallow: /private/\n", content_type="text/plain")
            elif path == "/p/jsonld":
                self._page("jsonld.html")
            elif path in ("/p/closed-early", "/p/closed-whole"):
                # No Content-Length, no chunks: the body ends when the server closes the connection.
                page = (PAGES / "jsonld.html").read_bytes()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write(page[:page.index(b"<p>Wireless")] if path == "/p/closed-early" else page)
                self.close_connection = True
            elif path == "/p/range":  # 206 for a request that asked for no range: part of the page
                page = (PAGES / "jsonld.html").read_bytes()
                part = page[:page.index(b"<p>Wireless")]
                self._send(206, part, {"Content-Range": f"bytes 0-{len(part) - 1}/{len(page)}"})
            elif path == "/p/refreshing":  # reloads itself every 30 s, as some shops' pages do
                self._send(200, (PAGES / "jsonld.html").read_bytes().replace(
                    b"<title>", b'<meta http-equiv="refresh" content="30; url=/p/refreshing"><title>'))
            elif path == "/p/csp":  # a 20 KB Content-Security-Policy header line
                policy = "default-src 'self' " + " ".join(f"https://cdn{i}.example.com" for i in range(800))
                self._page("jsonld.html", headers={"Content-Security-Policy": policy})
            elif path == "/p/nocontent":
                self._send(204, b"")
            elif path == "/p/retired":  # a discontinued product's address now leads to its category
                self._send(301, b"", {"Location": site.base + "/c/headphones"})
            elif path == "/p/renamed":  # a product moved to a new address (its page has product data)
                self._send(301, b"", {"Location": site.base + "/p/jsonld?from=old"})
            elif path == "/c/headphones":
                self._send(200, b'<html><head><title>Headphones | Plain Shop</title></head><body><h1>Headphones</h1>'
                                + b"".join(b'<div class="card"><h3>Acme AC-%d</h3><span class="price">$%d.00</span>'
                                           b'<button class="add-to-cart">Add to cart</button></div>' % (n, n)
                                           for n in (99, 129, 49)) + b"</body></html>")
            elif path == "/p/cookie":  # a shop that sets a session cookie with its page
                self._page("jsonld.html", headers={"Set-Cookie": "session=abc123; Path=/"})
            elif path == "/p/cart":
                self._page("cart.html")
            elif path == "/cart" and site.cut_cart:
                self._send(200, _cut_gzip((PAGES / "cart-page.html").read_bytes(), b"</body>"),
                           {"Content-Encoding": "gzip"})
            elif path == "/cart":
                self._page("cart-page.html")
            elif path == "/p/market":
                self._page("market.html")
            elif path == "/p/member":
                self._page("member.html")
            elif path == "/p/search":
                self._page("search.html")
            elif path == "/p/gone":
                self._send(404, b"<html><head><title>Not found</title></head><body>Gone</body></html>")
            elif path == "/p/flaky":
                if hits == 1:
                    self._send(500, b"<html><body>Internal error</body></html>")
                else:
                    self._page("jsonld.html")
            elif path == "/p/busy":
                if hits == 1:
                    self._send(429, b"<html><body>Slow down</body></html>", {"Retry-After": "1"})
                else:
                    self._page("jsonld.html")
            elif path == "/p/down":
                self._send(503, b"<html><body>Down</body></html>")
            elif path == "/p/captcha":
                self._page("captcha.html")
            elif path == "/p/login":
                self._page("login.html")
            elif path == "/p/truncated":
                body = (PAGES / "jsonld.html").read_bytes()
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body) + 5000))
                self.end_headers()
                self.wfile.write(body[:300])
                self.wfile.flush()
                self.close_connection = True
            elif path in ("/p/loop", "/p/loop2"):
                target = "/p/loop2" if path == "/p/loop" else "/p/loop"
                self._send(302, b"", {"Location": site.base + target})
            elif path == "/p/shop":
                self._page(site.changed if isinstance(site.changed, str)
                           else "shop-changed.html" if site.changed else "shop.html")
            elif path == "/p/moved":
                # A meta refresh (upper case, as old shops write it) to the product's new address.
                self._send(200, b'<html><head><META HTTP-EQUIV="Refresh" CONTENT="0; URL=/p/jsonld"></head>'
                                b"<body>This product has moved.</body></html>")
            elif path == "/p/large":
                # A 2 MB page written in 16 KB pieces: the crawler reads it in dozens of chunks.
                body = LARGE_PAGE
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                for start in range(0, len(body), 16384):
                    self.wfile.write(body[start:start + 16384])
                    self.wfile.flush()
            elif path in ("/p/gzip", "/p/br"):
                # How real shops send pages: compressed (Scrapy asks for gzip, deflate, br, zstd).
                import brotli

                page = (PAGES / "jsonld.html").read_bytes()
                body = gzip.compress(page) if path == "/p/gzip" else brotli.compress(page)
                self._send(200, body, {"Content-Encoding": path[3:]})
            elif path == "/p/cutgzip":
                # A gzip stream that stops after the buy box, Content-Length matching what is sent (an
                # origin that died behind its proxy): the part received holds a price, but it is not
                # the whole page.
                self._send(200, _cut_gzip((PAGES / "jsonld.html").read_bytes(), b"<p>Wireless"),
                           {"Content-Encoding": "gzip"})
            elif path == "/p/found-cut":
                self._send(200, b'<html><body><h1>Results</h1><a href="/p/gzip">Acme AC-100</a> '
                                b'<a href="/p/cutgzip">Acme AC-100 (other listing)</a></body></html>')
            elif path == "/p/busy-cut":
                self._send(429, _cut_gzip((PAGES / "captcha.html").read_bytes(), b"<form"),
                           {"Content-Encoding": "gzip", "Retry-After": "3600"})
            elif path == "/p/captcha-cut":
                self._send(403, _cut_gzip((PAGES / "captcha.html").read_bytes(), b"<form"),
                           {"Content-Encoding": "gzip"})
            elif path == "/p/notgzip":
                self._send(200, (PAGES / "jsonld.html").read_bytes(), {"Content-Encoding": "gzip"})
            elif path == "/p/js":
                self._page("js.html")
            elif path == "/p/js-state":
                self._page("js-state.html")
            elif path.startswith("/private/"):
                self._page("jsonld.html")
            else:
                self._send(404, b"<html><body>Not found</body></html>")

    return Handler


@pytest.fixture
def site() -> Iterator[Site]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(Site("")))
    state = Site(f"http://127.0.0.1:{server.server_address[1]}")
    server.RequestHandlerClass = _handler(state)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def workspace(db: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A workspace with the test profiles, a fast retry backoff, and a partner that owns seller S-GOOD."""
    from pricewarden.settings import get_settings

    root = get_settings().workspace
    (root / "profiles").mkdir(parents=True, exist_ok=True)
    for name, text in PROFILES.items():
        (root / "profiles" / f"{name}.yaml").write_text(text, encoding="utf-8")
    monkeypatch.setenv("PRICEWARDEN_CRAWL__RETRY_BACKOFF", "0.05")
    monkeypatch.setenv("PRICEWARDEN_CRAWL__RETRIES", "2")
    monkeypatch.setenv("PRICEWARDEN_CRAWL__DOWNLOAD_TIMEOUT", "10")
    get_settings.cache_clear()
    with session_scope(db) as session:
        session.add_all([
            Product(sku="AC-100", title="Acme AC-100 Headphones", gtin="4006381333931"),
            Product(sku="AC-200", title="Acme AC-200 Speaker"),
            Product(sku="AC-300", title="Acme AC-300 Amplifier"),
            Partner(code="P001", name="Good Audio", seller_ids=["S-GOOD"]),
        ])
    return root


def _listing_file(tmp_path: Path, rows: list[tuple[str, ...]]) -> Path:
    path = tmp_path / "listings.csv"
    lines = ["url,sku,partner,seller_id,profile,region"] + [",".join(r) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _targets(db: Any, path: Path) -> list[Target]:
    with session_scope(db) as session:
        return resolve_ids(session, read_listing_file(path))


AT = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)

# path, sku, profile -> the failure kind it must record (and no observation)
FAILURES = [
    ("/p/gone", "AC-100", "", "not_found"),
    ("/p/down", "AC-100", "", "server_error"),
    ("/p/captcha", "AC-100", "", "blocked"),
    ("/p/login", "AC-100", "", "login_wall"),
    ("/p/truncated", "AC-100", "", "truncated"),
    ("/p/loop", "AC-100", "", "redirect_loop"),
    ("/private/item", "AC-100", "", "robots"),
    ("/private/other", "AC-100", "", "robots"),  # concurrent waiters on one robots.txt
]


def _counts(db: Any) -> dict[str, int]:
    with session_scope(db) as session:
        return {
            "observations": session.scalar(select(func.count()).select_from(Observation)) or 0,
            "failures": session.scalar(select(func.count()).select_from(CrawlFailure)) or 0,
            "evidence": session.scalar(select(func.count()).select_from(Evidence)) or 0,
        }


def test_crawl_stores_prices_offers_hidden_prices_failures_and_evidence(
    db: Any, site: Site, workspace: Path, tmp_path: Path
) -> None:
    rows = [
        (site.url("/p/jsonld"), "AC-100", "P001", "", "", "US"),
        (site.url("/p/cart"), "AC-200", "P001", "", "hidden", "US"),
        (site.url("/p/member"), "AC-100", "P001", "", "", "US"),
        (site.url("/p/market"), "AC-100", "", "", "market", "US"),
        (site.url("/p/flaky"), "AC-100", "", "", "", "US"),
        (site.url("/p/busy"), "AC-100", "", "", "", "US"),
    ] + [(site.url(path), sku, "", "", profile, "US") for path, sku, profile, _ in FAILURES]
    targets = _targets(db, _listing_file(tmp_path, rows))
    result = run_crawl(targets, shards=1, at=AT, browser=False)
    assert result.failed_shards == []

    with session_scope(db) as session:
        obs = session.scalars(select(Observation)).all()
        by_url: dict[str, list[Observation]] = {}
        for o in obs:
            by_url.setdefault(o.url or "", []).append(o)

        page = by_url[site.url("/p/jsonld")]
        assert [(o.price, o.currency, o.visibility) for o in page] == [(Decimal("179.99"), "USD", "visible")]
        assert page[0].list_price == Decimal("249.00")
        ac100 = session.scalar(select(Product.id).where(Product.sku == "AC-100"))
        p001 = session.scalar(select(Partner.id).where(Partner.code == "P001"))
        assert page[0].product_id == ac100 and page[0].partner_id == p001
        assert page[0].observed_at.tzinfo is not None

        # Hidden pricing: no price, visibility cart_only, the cart's price kept in details only.
        hidden = by_url[site.url("/p/cart")]
        assert [(o.price, o.visibility) for o in hidden] == [(None, "cart_only")]
        assert hidden[0].details["cart"]["price"] == "149.00"
        member = by_url[site.url("/p/member")]
        assert [(o.price, o.visibility) for o in member] == [(None, "login_only")]

        # Marketplace: one observation per seller, with its ID; S-GOOD is partner P001.
        offers = sorted((o.seller_id, o.seller_name, o.price, o.currency, o.partner_id)
                        for o in by_url[site.url("/p/market")])
        assert offers == [
            ("S-CHEAP", "Cheap Deals 4U", Decimal("149.50"), "USD", None),
            ("S-GOOD", "Good Audio Ltd", Decimal("199.00"), "USD", p001),
            ("S-GREY", "Grey Import Co", Decimal("1099.00"), "USD", None),
        ]

        # Retried pages end as prices: 500 then 200, and 429 (Retry-After: 1) then 200.
        for path in ("/p/flaky", "/p/busy"):
            assert [o.price for o in by_url[site.url(path)]] == [Decimal("179.99")]
        assert site.hits["/p/flaky"] == 2 and site.hits["/p/busy"] == 2

        failures = {f.url: f for f in session.scalars(select(CrawlFailure))}
        for path, _, _, kind in FAILURES:
            url = site.url(path)
            assert url in failures, (path, sorted((f.url, f.kind) for f in failures.values()))
            assert failures[url].kind == kind, (path, failures[url].detail)
            assert url not in by_url, f"{path} is a failure and must never be a price"
        assert failures[site.url("/p/gone")].status == 404
        assert failures[site.url("/p/down")].status == 503
        assert site.hits["/p/down"] == 3  # first try + 2 retries
        assert set(failures) == {site.url(p) for p, *_ in FAILURES}
        # The captcha page is kept as evidence of the failure.
        assert failures[site.url("/p/captcha")].html_sha256 is not None

        # Evidence: every observation has an HTML snapshot whose bytes match its SHA-256.
        store = EvidenceStore.from_settings()
        shas = {o.html_sha256 for o in obs} | {f.html_sha256 for f in failures.values() if f.html_sha256}
        assert None not in shas
        for sha in shas:
            assert sha256_of(store.get(sha)) == sha
            assert session.get(Evidence, sha) is not None
        assert store.get(page[0].html_sha256) == (PAGES / "jsonld.html").read_bytes()
        # Identical pages are stored once: jsonld, flaky and busy served the same bytes.
        assert len({o.html_sha256 for u in ("/p/jsonld", "/p/flaky", "/p/busy") for o in by_url[site.url(u)]}) == 1

        run = session.scalars(select(CrawlRun)).one()
        assert run.finished_at is not None and run.stats["pages"] == len(rows)

    before = _counts(db)
    assert before["observations"] == 1 + 1 + 1 + 3 + 1 + 1
    run_crawl(targets, shards=1, at=AT, browser=False)
    assert _counts(db) == before  # the same slot crawled again stores nothing twice


def test_compressed_pages_are_read_and_a_corrupt_one_is_a_failure(
    db: Any, site: Site, workspace: Path, tmp_path: Path
) -> None:
    site.cut_cart = site.cut_robots = True
    paths = ("/p/gzip", "/p/br", "/p/cutgzip", "/p/notgzip", "/p/busy-cut", "/p/captcha-cut", "/private/item")
    rows = [(site.url(p), "AC-100", "", "", "", "US") for p in paths]
    rows.append((site.url("/p/cart"), "AC-200", "", "", "hidden", "US"))
    run_crawl(_targets(db, _listing_file(tmp_path, rows)), shards=1, at=AT, browser=False)
    with session_scope(db) as session:
        observations = {o.url: o for o in session.scalars(select(Observation))}
        hidden = observations.pop(site.url("/p/cart"))
        prices = {url: (o.price, o.currency) for url, o in observations.items()}
        assert prices == {site.url(p): (Decimal("179.99"), "USD") for p in ("/p/gzip", "/p/br")}
        # The evidence is the page as a shopper's browser shows it, not the compressed stream.
        store = EvidenceStore.from_settings()
        for o in observations.values():
            assert store.get(o.html_sha256) == (PAGES / "jsonld.html").read_bytes()
        # A hidden price whose cart page arrives cut off: still hidden pricing, with no cart price.
        assert (hidden.price, hidden.visibility) == (None, "cart_only")
        assert hidden.details["cart"] == {"url": site.url("/cart?add=AC-200"), "error": "truncated"}, hidden.details
        failures = {f.url: f for f in session.scalars(select(CrawlFailure))}
        assert set(failures) == {site.url(p) for p in paths[2:]}
        # Cut off: retried (first try + 2), then truncated, never the price its first half shows.
        cut = failures[site.url("/p/cutgzip")]
        assert (cut.kind, cut.html_sha256) == ("truncated", None) and "gzip" in cut.detail, cut.detail
        assert site.hits["/p/cutgzip"] == 3
        # Not gzip at all although it says so: an error naming the encoding.
        wrong = failures[site.url("/p/notgzip")]
        assert wrong.kind == "error" and "not gzip data" in wrong.detail, wrong.detail
        # Error pages and robots.txt cut off are read as far as they go, as Scrapy reads them: the
        # 429's Retry-After (an hour) still means give up at once, the 403's captcha title still
        # means blocked, and robots.txt's Disallow line that arrived is still obeyed.
        kinds = {p: failures[site.url(p)].kind for p in ("/p/busy-cut", "/p/captcha-cut", "/private/item")}
        assert kinds == {"/p/busy-cut": "rate_limited", "/p/captcha-cut": "blocked", "/private/item": "robots"}
        assert site.hits["/p/busy-cut"] == 1


def test_meta_refresh_is_followed_to_the_page_with_the_price(
    db: Any, site: Site, workspace: Path, tmp_path: Path
) -> None:
    targets = _targets(db, _listing_file(tmp_path, [(site.url("/p/moved"), "AC-100", "P001", "", "", "US")]))
    run_crawl(targets, shards=1, at=AT, browser=False)
    with session_scope(db) as session:
        obs = session.scalars(select(Observation)).all()
        assert [(o.url, o.price) for o in obs] == [(site.url("/p/moved"), Decimal("179.99"))]
        assert obs[0].details["final_url"] == site.url("/p/jsonld")
        assert session.scalar(select(func.count()).select_from(CrawlFailure)) == 0
    assert site.hits["/p/moved"] == 1 and site.hits["/p/jsonld"] == 1


def test_odd_but_real_responses(db: Any, site: Site, workspace: Path, tmp_path: Path) -> None:
    paths = ("/p/closed-early", "/p/closed-whole", "/p/range", "/p/refreshing", "/p/csp", "/p/nocontent")
    rows = [(site.url(p), "AC-100", "P001", "", "", "US") for p in paths]
    run_crawl(_targets(db, _listing_file(tmp_path, rows)), shards=1, at=AT, browser=False)
    with session_scope(db) as session:
        prices = {o.url: o.price for o in session.scalars(select(Observation))}
        failures = {f.url: (f.kind, f.status, f.detail) for f in session.scalars(select(CrawlFailure))}
    # Whole pages: closed after </html>; reloading itself; with a long header line.
    assert prices == {site.url(p): Decimal("179.99") for p in ("/p/closed-whole", "/p/refreshing", "/p/csp")}
    # Part of a page is never read, even with its price in the part that came.
    assert failures[site.url("/p/closed-early")][:2] == ("truncated", 200)
    assert failures[site.url("/p/range")][:2] == ("truncated", 206)
    assert failures[site.url("/p/nocontent")] == ("not_product", 204, "204 No Content: the server sent no page")
    assert len(failures) == 3


def test_a_listing_redirected_to_another_page_is_not_given_that_pages_price(
    db: Any, site: Site, workspace: Path, tmp_path: Path
) -> None:
    rows = [(site.url(p), "AC-100", "P001", "", "", "US") for p in ("/p/retired", "/p/renamed")]
    run_crawl(_targets(db, _listing_file(tmp_path, rows)), shards=1, at=AT, browser=False)
    with session_scope(db) as session:
        # The category's first card ($99.00) is not the retired product's price: a failure says where it led.
        (failure,) = session.scalars(select(CrawlFailure)).all()
        assert (failure.url, failure.kind) == (site.url("/p/retired"), "not_product")
        assert site.url("/c/headphones") in failure.detail and "$99.00" in failure.detail
        # A page with product data at the new address is read, and the move is said.
        (obs,) = session.scalars(select(Observation)).all()
        assert (obs.url, obs.price) == (site.url("/p/renamed"), Decimal("179.99"))
        assert "redirected" in obs.details["flags"] and obs.details["final_url"].endswith("/p/jsonld?from=old")


def test_a_large_page_arrives_whole_in_many_chunks(db: Any, site: Site, workspace: Path, tmp_path: Path) -> None:
    assert len(LARGE_PAGE) > 2_000_000
    targets = _targets(db, _listing_file(tmp_path, [(site.url("/p/large"), "AC-100", "P001", "", "", "US")]))
    run_crawl(targets, shards=1, at=AT, browser=False)
    with session_scope(db) as session:
        obs = session.scalars(select(Observation)).one()
        assert (obs.price, obs.currency) == (Decimal("179.99"), "USD")
        assert EvidenceStore.from_settings().get(obs.html_sha256) == LARGE_PAGE


@pytest.mark.parametrize("changed", [True, "shop-changed-priced.html"], ids=["no-price", "price-elsewhere"])
def test_profile_that_stops_matching_is_a_broken_profile_not_a_price(
    db: Any, site: Site, workspace: Path, tmp_path: Path, changed: bool | str
) -> None:
    targets = _targets(db, _listing_file(tmp_path, [(site.url("/p/shop"), "AC-300", "", "", "profileshop", "US")]))
    run_crawl(targets, shards=1, at=AT, browser=False)
    # Either the new layout shows no price, or it shows one the profile no longer finds: both
    # are a layout change, a crawl failure, never a price (DESIGN).
    site.changed = changed
    run_crawl(targets, shards=1, at=datetime(2026, 3, 2, 12, 0, tzinfo=UTC), browser=False)
    with session_scope(db) as session:
        obs = session.scalars(select(Observation)).all()
        assert [(o.price, o.method) for o in obs] == [(Decimal("89.00"), "profile")]
        kinds = [f.kind for f in session.scalars(select(CrawlFailure))]
        assert kinds == ["profile_broken"]


def test_shards_split_sites_and_store_everything(db: Any, workspace: Path, tmp_path: Path) -> None:
    servers = []
    sites = []
    for _ in range(3):
        server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
        state = Site(f"http://127.0.0.1:{server.server_address[1]}")
        server.RequestHandlerClass = _handler(state)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        sites.append(state)
    try:
        rows = [(s.url(f"/p/jsonld?i={i}"), "AC-100", "", "", "", "US") for s in sites for i in range(4)]
        targets = _targets(db, _listing_file(tmp_path, rows))
        result = run_crawl(targets, shards=2, browser=False)
        with session_scope(db) as session:
            assert session.scalar(select(func.count()).select_from(Observation)) == 12
            runs = session.scalars(select(CrawlRun)).all()
            assert len(runs) == result.shards
            # One site's pages all went through one process (its politeness stays in one place).
            for s in sites:
                shards = {r.shard for r in runs if s.base.split("//")[1] in r.stats.get("sites", {})}
                assert len(shards) == 1
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


@pytest.mark.browser
def test_js_page_is_rendered_with_a_full_page_screenshot(
    db: Any, site: Site, workspace: Path, tmp_path: Path
) -> None:
    rows = [(site.url("/p/js"), "AC-100", "", "", "scriptshop", "US")]
    run_crawl(_targets(db, _listing_file(tmp_path, rows)), shards=1, at=AT, browser=True)
    with session_scope(db) as session:
        (obs,) = session.scalars(select(Observation)).all()
        assert (obs.price, obs.currency) == (Decimal("329.00"), "USD")
        assert obs.details["rendered"] is True
        assert obs.screenshot_sha256 is not None
        png = EvidenceStore.from_settings().get(obs.screenshot_sha256)
        assert png.startswith(b"\x89PNG")
        assert session.get(Evidence, obs.screenshot_sha256).kind == "screenshot"


@pytest.mark.browser
def test_render_fallback_reads_a_js_price_the_static_html_lacks(
    db: Any, site: Site, workspace: Path, tmp_path: Path
) -> None:
    # No profile: the static page looks like a product page but has no price, so it is rendered.
    rows = [(site.url("/p/js"), "AC-100", "", "", "", "US")]
    run_crawl(_targets(db, _listing_file(tmp_path, rows)), shards=1, at=AT, browser=True)
    with session_scope(db) as session:
        (obs,) = session.scalars(select(Observation)).all()
        assert obs.price == Decimal("329.00")
        assert obs.details["rendered"] is True


@pytest.mark.browser
def test_a_price_only_in_the_script_state_of_an_empty_slot_is_read_from_the_rendered_page(
    db: Any, site: Site, workspace: Path, tmp_path: Path
) -> None:
    # Statically the cascade reads the state's 249.00 (flagged price_placeholder: the buy box's slot is empty);
    # the crawl renders the page and stores what the browser shows.
    rows = [(site.url("/p/js-state"), "AC-500", "", "", "", "US")]
    run_crawl(_targets(db, _listing_file(tmp_path, rows)), shards=1, at=AT, browser=True)
    with session_scope(db) as session:
        (obs,) = session.scalars(select(Observation)).all()
        assert obs.price == Decimal("249.00")
        assert obs.details["rendered"] is True
        assert "price_placeholder" not in obs.details.get("flags", [])
