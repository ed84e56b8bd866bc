"""A crawl that cannot hang its caller: a crawl process that finishes nothing for ``crawl.stall_timeout`` is stopped.

Real crawl processes (from the fork server, settings through the environment) against real servers on
127.0.0.1: one that accepts connections and never answers, a shop that answers, a shop that answers each page
after a delay, and one whose pages answer once and then hang in Chromium. The stopped process is a failed
shard, its unread pages are ``stalled`` failures, the other processes' prices are stored, and no process
is left behind (Chromium included). Nothing here measures a duration.
"""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import select

from crawlers.health import site_health
from crawlers.run import run_crawl, warm_up_processes
from crawlers.targets import Target
from pricewarden.errors import ConfigError, CrawlError
from pricewarden.settings import get_settings
from store import CrawlFailure, CrawlRun, Observation, session_scope

AT = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
STALL = 10
PAGE = ('<!doctype html><html><head><meta charset="utf-8"><title>Acme {n}</title>'
        '<script type="application/ld+json">{{"@context":"https://schema.org","@type":"Product","name":"Acme {n}",'
        '"offers":{{"@type":"Offer","price":"{n}.99","priceCurrency":"USD"}}}}</script></head>'
        '<body><h1>Acme {n}</h1><span class="price">${n}.99</span><button>Add to cart</button></body></html>')
# A product page with no price in its HTML: the crawl renders it (crawl.render_fallback).
UNPRICED = ('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Acme AC-400 | Hang Shop</title>'
            '<meta property="og:type" content="product"><meta property="og:title" content="Acme AC-400"></head>'
            '<body><main><h1>Acme AC-400 Turntable</h1><div class="buybox"><span id="slot"></span>'
            '<button class="add-to-cart">Add to cart</button></div></main></body></html>')
MARK = "PW_STALL_TEST_MARK"  # in the environment of every process a crawl starts (Chromium's too)


class _Server:
    """Serves ``/p/<n>`` (a priced page, after ``hold`` seconds); with ``hang_after_first``, a page asked for a
    second time (by Chromium) is never answered. Everything else is 404 at once."""

    def __init__(self, *, hold: float = 0.0, unpriced: bool = False, hang_after_first: bool = False) -> None:
        self.release = threading.Event()
        self.lock = threading.Lock()
        self.seen: dict[str, int] = {}
        self.held = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                with server.lock:
                    server.seen[self.path] = times = server.seen.get(self.path, 0) + 1
                if not self.path.startswith("/p/"):
                    self._send(404, b"")
                    return
                if hang_after_first and times > 1:
                    with server.lock:
                        server.held += 1
                    server.release.wait()
                    return
                if hold:
                    server.release.wait(hold)
                n = int(self.path[3:]) + 10
                self._send(200, (UNPRICED if unpriced else PAGE.format(n=n)).encode())

            def _send(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.origin = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


class _Silent:
    """A TCP server that accepts every connection and never sends a byte."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.origin = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.accepted: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted.append(conn)  # held open, never read nor answered

    def close(self) -> None:
        self.sock.close()
        for conn in self.accepted:
            conn.close()


@pytest.fixture
def silent() -> Iterator[_Silent]:
    server = _Silent()
    yield server
    server.close()


@pytest.fixture
def shop() -> Iterator[_Server]:
    server = _Server()
    yield server
    server.close()


@pytest.fixture
def marked(db: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Settings for a site that never answers (a request would wait 10 minutes), and a mark in the environment of
    every process the crawl starts; yields the mark's value."""
    warm_up_processes()  # the fork server, started without the mark
    token = uuid.uuid4().hex
    monkeypatch.setenv(MARK, token)
    monkeypatch.setenv("PRICEWARDEN_CRAWL__DOWNLOAD_TIMEOUT", "600")
    monkeypatch.setenv("PRICEWARDEN_CRAWL__RETRIES", "0")
    monkeypatch.setenv("PRICEWARDEN_CRAWL__STALL_TIMEOUT", str(STALL))
    get_settings.cache_clear()
    yield token
    get_settings.cache_clear()


def _left_behind(token: str) -> list[str]:
    """The processes still running with ``token`` in their environment (this one and the fork server aside)."""
    from multiprocessing import forkserver

    mine = {os.getpid(), getattr(forkserver._forkserver, "_forkserver_pid", None)}
    needle = f"{MARK}={token}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) in mine:
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as handle:
                environ = handle.read()
            with open(f"/proc/{entry}/stat", "rb") as handle:
                zombie = handle.read().rpartition(b")")[2].split()[0] == b"Z"
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                command = handle.read().replace(b"\0", b" ")[:200].decode("utf-8", "replace")
        except OSError:
            continue
        if needle in environ.split(b"\0") and not zombie:
            found.append(f"{entry}: {command}")
    return found


def _stored(db: Any) -> tuple[dict[int, str], list[CrawlFailure], list[Observation]]:
    with session_scope(db) as session:
        runs = {run.id: run.shard for run in session.scalars(select(CrawlRun))}
        failures = list(session.scalars(select(CrawlFailure)))
        observations = list(session.scalars(select(Observation)))
        session.expunge_all()
    return runs, failures, observations


def test_a_shard_whose_site_never_answers_is_stopped_and_the_other_shards_prices_are_kept(
    db: Any, marked: str, silent: _Silent, shop: _Server
) -> None:
    hanging = [f"{silent.origin}/p/{n}" for n in range(3)]
    answering = [f"{shop.origin}/p/{n}" for n in range(3)]
    result = run_crawl([Target(url=u) for u in hanging + answering], shards=2, at=AT, browser=False)

    runs, failures, observations = _stored(db)
    # The answering shop's prices are stored.
    assert sorted((o.url, o.price) for o in observations) == [(u, Decimal(f"{n + 10}.99"))
                                                              for n, u in enumerate(answering)]
    # Every page of the stopped shard is a stalled failure naming the shard and the limit; none is gone.
    assert sorted(f.url for f in failures) == hanging
    assert {f.kind for f in failures} == {"stalled"}
    (shard,) = {runs[f.crawl_run_id] for f in failures if f.crawl_run_id is not None}
    assert len(failures) == 3 and all(f.crawl_run_id is not None for f in failures)
    assert result.failed_shards == [shard]
    for failure in failures:
        assert f"crawl shard {shard} finished nothing for" in failure.detail
        assert f"(crawl.stall_timeout {STALL} s) and was stopped" in failure.detail
    assert silent.accepted  # the crawl did connect to it
    assert _left_behind(marked) == []
    # Crawl health counts the unread pages as failed and says why.
    with session_scope(db) as session:
        health = {h.site: h for h in site_health(session, result.started_at - timedelta(seconds=1))}
    stalled = health[silent.origin.split("//")[1]]
    assert (stalled.pages, stalled.failed, stalled.kinds) == (3, 3, {"stalled": 3})
    assert "3 page(s) not read: their crawl process finished nothing" in "; ".join(stalled.warnings)
    assert health[shop.origin.split("//")[1]].ok == 3


def test_a_slow_shard_that_keeps_finishing_pages_is_not_stopped(
    db: Any, marked: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each page takes a fifth of the stall limit, one at a time: the whole shard takes longer than the limit.
    monkeypatch.setenv("PRICEWARDEN_CRAWL__PER_DOMAIN_CONCURRENCY", "1")
    monkeypatch.setenv("PRICEWARDEN_CRAWL__AUTOTHROTTLE", "false")
    get_settings.cache_clear()
    slow = _Server(hold=STALL / 5)
    pages = 8
    try:
        result = run_crawl([Target(url=f"{slow.origin}/p/{n}") for n in range(pages)], shards=1, at=AT,
                           browser=False)
    finally:
        slow.close()
    _runs, failures, observations = _stored(db)
    assert result.failed_shards == []
    assert failures == []
    assert len(observations) == pages
    assert _left_behind(marked) == []


def test_the_time_limit_holds_from_the_start_while_a_progress_bar_is_shown(
    db: Any, marked: str, silent: _Silent, shop: _Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PRICEWARDEN_CRAWL__STALL_TIMEOUT", "0")  # the watchdog off: the time limit stops it
    get_settings.cache_clear()
    limit = 20
    shown: list[tuple[int, int]] = []
    hanging = [f"{silent.origin}/p/{n}" for n in range(2)]
    answering = [f"{shop.origin}/p/{n}" for n in range(2)]
    result = run_crawl([Target(url=u) for u in hanging + answering], shards=2, at=AT, browser=False,
                       on_progress=lambda done, failed: shown.append((done, failed)), timeout=limit)

    runs, failures, observations = _stored(db)
    assert sorted(o.url for o in observations) == answering
    assert sorted(f.url for f in failures) == hanging
    assert {f.kind for f in failures} == {"timeout"}
    (shard,) = {runs[f.crawl_run_id] for f in failures if f.crawl_run_id is not None}
    assert result.failed_shards == [shard]
    assert all(f"crawl shard {shard} was still running at the crawl's time limit ({limit} s)" in f.detail
               for f in failures)
    assert shown and shown[-1] == (2, 0)  # the bar went on, and shows the answering shop's pages
    assert _left_behind(marked) == []


@pytest.mark.browser
def test_a_shard_hung_in_chromium_is_stopped_with_its_browser(db: Any, marked: str,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    # A render may wait ten minutes for its page; the watchdog gives the browser room to start on a busy machine.
    stall = 2 * STALL
    monkeypatch.setenv("PRICEWARDEN_CRAWL__RENDER_BUDGET", "600")
    monkeypatch.setenv("PRICEWARDEN_CRAWL__STALL_TIMEOUT", str(stall))
    get_settings.cache_clear()
    server = _Server(unpriced=True, hang_after_first=True)
    urls = [f"{server.origin}/p/{n}" for n in range(2)]
    try:
        with pytest.raises(CrawlError, match=r"every crawl process failed .*; stopped: 0/1 \(stalled\)"):
            run_crawl([Target(url=u) for u in urls], shards=1, at=AT, browser=True)
        held = server.held
    finally:
        server.close()
    _runs, failures, observations = _stored(db)
    assert observations == []
    assert sorted(f.url for f in failures) == urls
    assert {f.kind for f in failures} == {"stalled"}
    assert all(f"(crawl.stall_timeout {stall} s)" in f.detail for f in failures)
    assert held >= 1  # Chromium was running: it asked for a page again
    # Chromium, its helpers and Playwright's driver went with the crawl process.
    assert _left_behind(marked) == []


def test_the_stall_limit_is_worked_out_from_the_other_settings(monkeypatch: pytest.MonkeyPatch,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    from crawlers.watchdog import quiet_bound, stall_limit

    get_settings.cache_clear()
    crawl = get_settings().crawl
    # One Retry-After (300) and AutoThrottle's longest delay (60), one attempt (30) and a render (8), 60 to spare.
    assert crawl.stall_timeout is None and stall_limit(crawl) == quiet_bound(crawl) == 458
    monkeypatch.setenv("PRICEWARDEN_CRAWL__MAX_RETRY_AFTER", "0")  # a retry's backoff still waits up to 60 s
    monkeypatch.setenv("PRICEWARDEN_CRAWL__DOWNLOAD_TIMEOUT", "90")
    get_settings.cache_clear()
    assert stall_limit(get_settings().crawl) == 60 + 60 + 90 + 8 + 60
    monkeypatch.setenv("PRICEWARDEN_CRAWL__STALL_TIMEOUT", "0")
    get_settings.cache_clear()
    assert stall_limit(get_settings().crawl) is None  # off
    monkeypatch.setenv("PRICEWARDEN_CRAWL__STALL_TIMEOUT", "30")
    get_settings.cache_clear()
    with caplog.at_level("WARNING", logger="crawlers.watchdog"):
        assert stall_limit(get_settings().crawl) == 30
    assert "shorter than a healthy crawl process may go without finishing anything (278 s" in caplog.text
    monkeypatch.setenv("PRICEWARDEN_CRAWL__STALL_TIMEOUT", "-1")
    get_settings.cache_clear()
    with pytest.raises(ConfigError, match="stall_timeout"):
        get_settings()
    get_settings.cache_clear()
