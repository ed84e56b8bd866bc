"""A render fallback that cannot stall a crawl: a page that never finishes loading costs at most its budget.

A real server on 127.0.0.1 serves product pages whose price is drawn by a script; each page also
asks for an image the server never answers (it holds the connection open), so the page's ``load``
event never fires and its network never goes idle. Served under many URLs, every page is rendered
within ``crawl.render_budget``, the site's breaker renders it less often once its renders keep
failing, and the crawl finishes. Real Chromium, real crawl processes, real database.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from crawlers.rendering import RenderBreaker
from crawlers.run import run_crawl
from crawlers.targets import Target
from store import CrawlFailure, CrawlRun, Observation, session_scope

AT = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
BUDGET = 3.0
# A product page with no price in its HTML: the crawl renders it. ``{price}`` is drawn 200 ms after the
# DOM is ready, or never (empty); the image never arrives either way.
PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Acme AC-400 | Hang Shop</title>
<meta property="og:type" content="product"><meta property="og:title" content="Acme AC-400 Turntable"></head>
<body><main><h1>Acme AC-400 Turntable</h1><img src="/hang/{n}.png" alt="">
<div class="buybox"><span id="slot"></span><button class="add-to-cart">Add to cart</button></div>
<script>var p = "{price}"; if (p) setTimeout(function () {{
  var s = document.createElement("span"); s.className = "price"; s.textContent = p;
  document.getElementById("slot").appendChild(s); }}, 200);</script></main></body></html>"""


class _Server:
    """``/priced/<n>``: the price appears; ``/never/<n>``: it never does. ``/hang/*`` is never answered."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.held = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                if self.path.startswith("/hang/"):
                    server.held += 1
                    server.release.wait()  # holds the subresource open until the test ends
                    return
                kind, _, n = self.path.strip("/").partition("/")
                if kind not in ("priced", "never"):
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = PAGE.format(n=n, price="$329.00" if kind == "priced" else "").encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.origin = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def hanging() -> Iterator[_Server]:
    server = _Server()
    thread = threading.Thread(target=server.httpd.serve_forever, daemon=True)
    thread.start()
    yield server
    server.close()


@pytest.fixture
def settings(db: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from pricewarden.settings import get_settings

    monkeypatch.setenv("PRICEWARDEN_CRAWL__RENDER_BUDGET", str(BUDGET))
    monkeypatch.setenv("PRICEWARDEN_CRAWL__RETRIES", "0")
    monkeypatch.setenv("PRICEWARDEN_CRAWL__BROWSER_CONCURRENCY", "4")
    get_settings.cache_clear()


def _stats(db: Any) -> dict[str, Any]:
    with session_scope(db) as session:
        (run,) = session.scalars(select(CrawlRun)).all()
        return dict(run.stats)


@pytest.mark.browser
def test_a_page_that_never_finishes_loading_costs_at_most_the_budget_and_the_crawl_finishes(
    db: Any, hanging: _Server, settings: None, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from pricewarden.cli import app

    pages = 40
    listing_file = tmp_path / "listings.csv"
    listing_file.write_text("url\n" + "".join(f"{hanging.origin}/never/{n}\n" for n in range(pages)), encoding="utf-8")
    result = CliRunner().invoke(app, ["crawl", "--listing-file", str(listing_file), "--shards", "1", "--browser"])
    assert result.exit_code == 0, result.output

    browser = _stats(db)["browser"]
    # The crawl prints what the browser did, and warns about the site.
    assert f"browser: {browser['rendered']} page(s) rendered at " in result.stdout
    assert f"{browser['skipped']} not rendered" in result.stdout
    assert "renders keep failing" in result.output
    with session_scope(db) as session:
        failures = session.scalars(select(CrawlFailure)).all()
        assert session.scalars(select(Observation)).all() == []
    # Every page is accounted for: rendered and found without a price, or not rendered at all.
    kinds = Counter(f.kind for f in failures)
    assert sum(kinds.values()) == pages, kinds
    assert set(kinds) == {"no_price", "render_skipped"}, kinds
    # No render outlived its budget (some slack for a busy machine); before,
    # each waited for the "load" event, which never came, until the 30 s navigation timeout.
    assert browser["rendered"] >= 3 and browser["longest_s"] <= BUDGET + 2.0, browser
    # The site kept failing: most of its pages were not rendered, and the run says so.
    assert browser["skipped"] == kinds["render_skipped"] >= pages // 2, browser
    assert browser["rendered"] + browser["skipped"] == pages, browser
    assert browser["sites_rendered_less"] == [hanging.origin.split("//")[1]]
    assert hanging.held >= browser["rendered"]  # each render did ask for the image that never came
    skipped = next(f for f in failures if f.kind == "render_skipped")
    assert "renders of" in skipped.detail and "in a row failed" in skipped.detail


@pytest.mark.browser
def test_a_price_drawn_by_a_script_is_read_without_waiting_for_the_page_to_finish_loading(
    db: Any, hanging: _Server, settings: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pricewarden.settings import get_settings

    # Room for the screenshots of four pages at once on a busy machine; still far below the 30 s
    # that waiting for "load" (which never comes here) cost before.
    monkeypatch.setenv("PRICEWARDEN_CRAWL__RENDER_BUDGET", "10")
    get_settings.cache_clear()
    targets = [Target(url=f"{hanging.origin}/priced/{n}") for n in range(6)]
    run_crawl(targets, shards=1, at=AT, browser=True)

    browser = _stats(db)["browser"]
    with session_scope(db) as session:
        observations = session.scalars(select(Observation)).all()
        assert session.scalars(select(CrawlFailure)).all() == []
    assert len(observations) == 6
    assert all(o.price == Decimal("329.00") and o.details["rendered"] for o in observations)
    assert all(o.screenshot_sha256 for o in observations), browser
    assert browser["rendered"] == 6 and browser["failed"] == 0 and browser["skipped"] == 0
    assert browser["longest_s"] <= 10 + 2.0, browser


def test_the_breaker_renders_a_failing_site_one_page_in_n_until_a_render_succeeds() -> None:
    breaker = RenderBreaker(after=3, every=4)
    assert all(breaker.allow("a") for _ in range(5))
    for _ in range(3):
        breaker.record("a", ok=False)
    assert breaker.is_open("a") and breaker.open_sites() == ["a"]
    assert [breaker.allow("a") for _ in range(8)] == [False, False, False, True] * 2
    assert breaker.allow("b")  # other sites are not held back
    breaker.record("a", ok=True)
    assert not breaker.is_open("a") and breaker.allow("a")

