"""The network policy (crawlers.network) against real servers: a shop on 127.0.0.1, allowed as the tests
allow it (``network.allow = 127.0.0.1``), and an internal service on 127.0.0.2, never allowed.

The internal service counts every request it gets: each test that reaches for it asserts that it
got none, and that nothing of what it would have answered is stored or shown. DNS is the one
thing substituted (it lies outside the machine); the refusals come from the real connect paths.

Rendered pages: a shop page embeds an iframe and fetches data from the internal service, which
paints itself magenta. Through the render fallback's browser and the screenshot capture, the
internal service gets no request and no magenta pixel reaches the stored screenshot; with the
internal address allowed (the control), both appear, so the checks can fail. Chromium keeps its
sandbox where the system allows it.
"""

from __future__ import annotations

import json
import os
import socket
import struct
import subprocess
import sys
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import func, select

from crawlers.run import run_crawl
from crawlers.targets import read_listing_file, resolve_ids
from pricewarden.cli import main
from pricewarden.errors import ConfigError, ReportImportError
from pricewarden.settings import get_settings
from store import CrawlFailure, Observation, Partner, Product, ReportBatch, session_scope
from store.evidence import EvidenceStore

AT = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
SECRET = "INTERNAL-SECRET-7f3a"
FEED = (b'<?xml version="1.0"?><rss version="2.0" xmlns:g="http://base.google.com/ns/1.0"><channel>'
        b"<item><g:id>AC-100</g:id><g:price>1999.00 USD</g:price></item></channel></rss>")
PRODUCT = """<html><head><title>Acme AC-100</title><script type="application/ld+json">{"@context":"https://schema.org",
"@type":"Product","name":"Acme AC-100 Headphones","sku":"AC-100","offers":{"@type":"Offer","price":"179.99",
"priceCurrency":"USD"}}</script></head><body><h1>Acme AC-100 Headphones</h1>%s</body></html>"""


@dataclass
class Server:
    """A real HTTP server in a thread: its base URL, the paths it was asked for, its routes."""

    host: str
    routes: dict[str, Callable[[BaseHTTPRequestHandler], None]]
    hits: Counter[str] = field(default_factory=Counter)
    port: int = 0
    httpd: ThreadingHTTPServer | None = None

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, port: int = 0) -> Server:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                server.hits[path] += 1
                route = server.routes.get(path)
                if route is None:
                    send(self, 404, b"missing")
                else:
                    route(self)

        self.httpd = ThreadingHTTPServer((self.host, port), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()

    @property
    def total(self) -> int:
        return sum(self.hits.values())


def send(handler: BaseHTTPRequestHandler, status: int, body: bytes, headers: dict[str, str] | None = None,
         content_type: str = "text/html; charset=utf-8") -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(body)


def redirect(location: str) -> Callable[[BaseHTTPRequestHandler], None]:
    return lambda h: send(h, 302, b"", {"Location": location})


def _internal_routes() -> dict[str, Callable[[BaseHTTPRequestHandler], None]]:
    page = f'<html><body style="margin:0;background:#ff00ff"><h1>{SECRET}</h1></body></html>'.encode()
    feed = (f'<?xml version="1.0"?><rss version="2.0" xmlns:g="http://base.google.com/ns/1.0"><channel>'
            f"<item><g:id>{SECRET}</g:id><g:price>1.00 USD</g:price></item></channel></rss>").encode()
    return {
        "/secret": lambda h: send(h, 200, PRODUCT.encode() % SECRET.encode()),
        "/frame": lambda h: send(h, 200, page),
        "/data": lambda h: send(h, 200, SECRET.encode(), {"Access-Control-Allow-Origin": "*"}, "text/plain"),
        "/feed.xml": lambda h: send(h, 200, feed, content_type="application/xml"),
    }


@pytest.fixture
def net() -> Iterator[tuple[Server, Server]]:
    """The shop (127.0.0.1:P, allowed) and the internal service (127.0.0.2:P, the same port, refused)."""
    for _attempt in range(20):
        shop = Server("127.0.0.1", {}).start()
        internal = Server("127.0.0.2", _internal_routes())
        try:
            internal.start(shop.port)
            break
        except OSError:  # that port is taken on 127.0.0.2: try another
            shop.stop()
    else:
        pytest.skip("no port free on both 127.0.0.1 and 127.0.0.2")
    inside = f"127.0.0.2:{shop.port}"
    shop.routes.update({
        "/robots.txt": lambda h: send(h, 200, b"User-agent: *\nAllow: /\n", content_type="text/plain"),
        "/p/ok": lambda h: send(h, 200, PRODUCT.encode() % b""),
        "/p/redirect": redirect(f"http://{inside}/secret"),
        # 2130706434 is 127.0.0.2 written as one number: a host name to a URL check, an address to the resolver.
        "/p/redirect-number": redirect(f"http://2130706434:{shop.port}/secret"),
        "/p/refresh": lambda h: send(h, 200, (f'<html><head><meta http-equiv="refresh" content="0; url=http://{inside}'
                                              f'/secret"></head><body>moved</body></html>').encode()),
        "/feed.xml": lambda h: send(h, 200, FEED, content_type="application/xml"),
        "/feed/redirect": redirect(f"http://{inside}/feed.xml"),
        "/feed/ftp": redirect(f"ftp://127.0.0.1:{shop.port}/feed.xml"),
        "/feed/file": redirect("file:///etc/passwd"),
    })
    yield shop, internal
    shop.stop()
    internal.stop()


# Crawl ---------------------------------------------------------------------------------------------

@pytest.fixture
def catalog(db: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("PRICEWARDEN_CRAWL__RETRY_BACKOFF", "0.05")
    monkeypatch.setenv("PRICEWARDEN_CRAWL__RETRIES", "1")
    monkeypatch.setenv("PRICEWARDEN_CRAWL__DOWNLOAD_TIMEOUT", "10")
    get_settings.cache_clear()
    with session_scope(db) as session:
        session.add_all([Product(sku="AC-100", title="Acme AC-100 Headphones"),
                         Partner(code="P001", name="Good Audio")])
    return db


def _crawl(db: Any, tmp_path: Path, urls: list[str], *, browser: bool = False, profile: str = "") -> None:
    path = tmp_path / "listings.csv"
    path.write_text("url,sku,partner,seller_id,profile,region\n"
                    + "".join(f"{u},AC-100,P001,,{profile},US\n" for u in urls), encoding="utf-8")
    with session_scope(db) as session:
        targets = resolve_ids(session, read_listing_file(path))
    run_crawl(targets, shards=1, at=AT, browser=browser)


def _failures(db: Any) -> dict[str, tuple[str, str]]:
    with session_scope(db) as session:
        return {f.url: (f.kind, f.detail) for f in session.scalars(select(CrawlFailure))}


def test_crawl_refuses_redirects_and_meta_refresh_into_the_internal_network(
    catalog: Any, net: tuple[Server, Server], tmp_path: Path
) -> None:
    shop, internal = net
    urls = [shop.base + p for p in ("/p/ok", "/p/redirect", "/p/redirect-number", "/p/refresh")]
    _crawl(catalog, tmp_path, [*urls, f"{internal.base}/secret"])
    assert internal.hits == Counter(), "the internal service was reached"
    failures = _failures(catalog)
    assert {url: kind for url, (kind, _) in failures.items()} == {
        urls[1]: "refused", urls[2]: "refused", urls[3]: "refused", f"{internal.base}/secret": "refused"}
    assert "127.0.0.2 is a loopback address" in failures[urls[1]][1]
    assert "2130706434 resolves to a loopback address" in failures[urls[2]][1]  # refused where it connects
    with session_scope(catalog) as session:
        observed = {o.url: o.price for o in session.scalars(select(Observation))}
    assert observed == {urls[0]: Decimal("179.99")}  # the allowed page is read; nothing from the internal service
    assert shop.hits["/p/redirect"] == shop.hits["/p/refresh"] == 1  # refused at once, never retried


def test_discovery_does_not_reach_the_internal_network(catalog: Any, net: tuple[Server, Server]) -> None:
    from crawlers.discovery import crawl_pages

    shop, internal = net
    assert crawl_pages([f"{internal.base}/secret", shop.base + "/p/redirect"], max_pages=5) == []
    assert internal.total == 0


# Feeds ---------------------------------------------------------------------------------------------

@pytest.fixture
def partner(db: Any) -> Any:
    with session_scope(db) as session:
        session.add_all([Product(sku="AC-100"), Partner(code="P001", name="Shop", locale="en")])
    return db


def _feed_error(url: str) -> str:
    from crawlers.reports import import_feed

    with pytest.raises(ReportImportError) as caught:
        import_feed(url, "P001", now=NOW)
    message = str(caught.value)
    assert "\n" not in message
    return message


def _batches(db: Any) -> int:
    with session_scope(db) as session:
        return session.scalar(select(func.count()).select_from(ReportBatch)) or 0


def _everything_written(root: Path) -> str:
    return "\n".join(p.read_bytes().decode("latin-1") for p in root.rglob("*") if p.is_file())


def test_feed_redirects_are_followed_only_within_the_policy(partner: Any, net: tuple[Server, Server]) -> None:
    from crawlers.reports import import_feed

    shop, internal = net
    assert import_feed(shop.base + "/feed.xml", "P001", now=NOW).rows_accepted == 1  # the allowed feed is read
    refused = _feed_error(shop.base + "/feed/redirect?token=s3cr3t-t0ken")
    assert "refused by the network policy: 127.0.0.2 is a loopback address" in refused
    assert "s3cr3t-t0ken" not in refused and "token=***" in refused
    assert "ftp:// is not fetched" in _feed_error(shop.base + "/feed/ftp")
    assert "file:// is not fetched" in _feed_error(shop.base + "/feed/file")
    assert "127.0.0.2 is a loopback address" in _feed_error(internal.base + "/feed.xml")
    assert internal.total == 0
    assert _batches(partner) == 1  # only the allowed feed's
    assert SECRET not in _everything_written(get_settings().workspace)  # receipts, reports, evidence


def test_report_feed_command_never_shows_the_internal_response(
    partner: Any, net: tuple[Server, Server], capsys: pytest.CaptureFixture[str]
) -> None:
    shop, internal = net
    with pytest.raises(SystemExit) as exited:
        main(["report", "feed", shop.base + "/feed/redirect", "--partner", "P001"])
    out, err = capsys.readouterr()
    assert exited.value.code == 1 and "refused by the network policy" in err
    assert SECRET not in out + err and internal.total == 0 and _batches(partner) == 0


def test_feed_errors_read_the_same_for_closed_and_open_ports(partner: Any, net: tuple[Server, Server]) -> None:
    _, internal = net
    closed = socket.socket()
    closed.bind(("127.0.0.2", 0))  # bound, never listening: connections to it are refused
    port = closed.getsockname()[1]
    try:
        # Not allowed: refused before any connection, whatever listens there.
        shut = _feed_error(f"http://127.0.0.2:{port}/feed.xml").replace(str(port), "PORT")
        open_ = _feed_error(f"{internal.base}/feed.xml").replace(str(internal.port), "PORT")
        assert shut == open_
        # Allowed: a closed port and an open one that speaks no HTTP give one wording too.
        mute = socket.socket()
        mute.bind(("127.0.0.1", 0))
        mute.listen()
        threading.Thread(target=lambda: mute.accept()[0].sendall(b"SSH-2.0-OpenSSH_9.2\r\n"), daemon=True).start()
        closed_here = socket.socket()
        closed_here.bind(("127.0.0.1", 0))
        errors = {_feed_error(f"http://127.0.0.1:{s.getsockname()[1]}/f").replace(str(s.getsockname()[1]), "PORT")
                  for s in (mute, closed_here)}
        assert errors == {"http://127.0.0.1:PORT/f: feed gave no HTTP response"}
        mute.close()
        closed_here.close()
    finally:
        closed.close()
    assert internal.total == 0


def _dripping(handler: BaseHTTPRequestHandler) -> None:
    """A feed that sends one byte every 0.2 s (for at most 20 s): no single read ever times out."""
    body = FEED * 20
    handler.send_response(200)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    end = time.monotonic() + 20
    for i in range(len(body)):
        if time.monotonic() > end:
            break
        try:
            handler.wfile.write(body[i:i + 1])
            handler.wfile.flush()
        except OSError:
            return
        time.sleep(0.2)


TSV = b"id\tprice\tavailability\nAC-100\tUSD 1999.00\tin stock\n"


def _short(handler: BaseHTTPRequestHandler) -> None:
    """A TSV feed cut off inside its price: ``USD 1999.00`` arrives as ``USD 199``; its Content-Length says more.

    Read as it came, that is a valid row (today's code stored USD 199.00)."""
    handler.send_response(200)
    handler.send_header("Content-Type", "text/tab-separated-values")
    handler.send_header("Content-Length", str(len(TSV)))
    handler.send_header("Connection", "close")
    handler.end_headers()
    handler.wfile.write(TSV[:TSV.index(b"1999.00") + 3])
    handler.wfile.flush()
    handler.close_connection = True


def test_a_dripping_feed_fails_at_the_total_time_limit(
    partner: Any, net: tuple[Server, Server], monkeypatch: pytest.MonkeyPatch
) -> None:
    shop, _ = net
    shop.routes["/feed/drip"] = _dripping
    monkeypatch.setenv("PRICEWARDEN_NETWORK__FEED_TIMEOUT", "1.5")
    monkeypatch.setenv("PRICEWARDEN_CRAWL__DOWNLOAD_TIMEOUT", "1")  # the old per-read limit: never reached
    get_settings.cache_clear()
    message = _feed_error(shop.base + "/feed/drip")
    assert message == f"{shop.base}/feed/drip: feed took longer than the 1.5 s limit"
    assert _batches(partner) == 0


def test_a_feed_short_of_its_content_length_is_never_parsed(partner: Any, net: tuple[Server, Server]) -> None:
    shop, _ = net
    shop.routes["/feed/short"] = _short
    message = _feed_error(shop.base + "/feed/short")
    assert "truncated: the body is shorter than its Content-Length" in message
    assert _batches(partner) == 0
    with session_scope(partner) as session:
        assert session.scalars(select(Observation)).all() == []  # never USD 199, never anything


# extract URL ---------------------------------------------------------------------------------------

def test_extract_refuses_an_internal_url_unless_allowed(
    net: tuple[Server, Server], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    shop, internal = net
    for url in (f"{internal.base}/secret", f"{shop.base}/p/redirect", f"http://2130706434:{shop.port}/secret"):
        with pytest.raises(SystemExit) as exited:
            main(["extract", url, "--json"])
        out, err = capsys.readouterr()
        assert exited.value.code == 1 and out == ""
        assert len(err.strip().splitlines()) == 1 and "refused by the network policy" in err, err
    assert internal.total == 0
    # Allowed by the setting (never by switching the policy off): read.
    monkeypatch.setenv("PRICEWARDEN_NETWORK__ALLOW", f"127.0.0.1,127.0.0.2:{internal.port}")
    get_settings.cache_clear()
    with pytest.raises(SystemExit) as exited:
        main(["extract", f"{internal.base}/secret", "--json"])
    assert exited.value.code == 0
    assert '"price": "179.99"' in capsys.readouterr().out and internal.hits["/secret"] == 1


# DNS rebinding -------------------------------------------------------------------------------------

class Rebinding:
    """Answers ``rebind.test`` with the allowed shop's address first and the internal one from then on."""

    def __init__(self) -> None:
        self.real = socket.getaddrinfo
        self.lookups = 0

    def __call__(self, host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host != "rebind.test":
            return self.real(host, port, *args, **kwargs)
        self.lookups += 1
        address = "127.0.0.1" if self.lookups == 1 else "127.0.0.2"
        return self.real(address, port, *args, **kwargs)


def test_dns_rebinding_is_refused_where_the_feed_connects(
    partner: Any, net: tuple[Server, Server], monkeypatch: pytest.MonkeyPatch
) -> None:
    shop, internal = net
    rebinding = Rebinding()
    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    # The name passes as public (it resolved to the allowed shop); the shop redirects to the same
    # name, which now resolves to the internal service: refused where that connection is made.
    shop.routes["/feed/again"] = redirect(f"http://rebind.test:{shop.port}/feed.xml")
    message = _feed_error(f"http://rebind.test:{shop.port}/feed/again")
    assert "refused by the network policy: rebind.test resolves to a loopback address" in message
    assert rebinding.lookups == 2 and shop.hits["/feed/again"] == 1 and internal.total == 0


# With a proxy (crawl.proxy) ------------------------------------------------------------------------

@dataclass
class Upstream:
    """A plain forwarding HTTP proxy that goes wherever it is asked (as a careless one would)."""

    address: str = ""
    asked: list[str] = field(default_factory=list)


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    import http.client
    from urllib.parse import urlsplit

    state = Upstream()

    class Forward(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            state.asked.append(self.path)
            target = urlsplit(self.path)
            conn = http.client.HTTPConnection(target.hostname or "", target.port or 80, timeout=10)
            conn.request("GET", target.path or "/", headers={"Host": target.netloc})
            answer = conn.getresponse()
            body = answer.read()
            headers = {k: v for k, v in answer.getheaders() if k.lower() == "location"}
            send(self, answer.status, body, headers, answer.getheader("Content-Type") or "text/html")
            conn.close()

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Forward)
    httpd.daemon_threads = True
    state.address = f"http://127.0.0.1:{httpd.server_address[1]}"
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield state
    httpd.shutdown()
    httpd.server_close()


def test_through_a_proxy_what_can_be_checked_here_is_still_refused(
    catalog: Any, net: tuple[Server, Server], upstream: Upstream, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from crawlers.reports import import_feed

    shop, internal = net
    monkeypatch.setenv("PRICEWARDEN_CRAWL__PROXY", upstream.address)
    get_settings.cache_clear()
    assert import_feed(shop.base + "/feed.xml", "P001", now=NOW).rows_accepted == 1
    assert upstream.asked == [shop.base + "/feed.xml"]  # fetched through the proxy
    assert "127.0.0.2 is a loopback address" in _feed_error(shop.base + "/feed/redirect")
    assert "127.0.0.2 is a loopback address" in _feed_error(internal.base + "/feed.xml")
    _crawl(catalog, tmp_path, [shop.base + "/p/redirect", internal.base + "/secret"])
    assert {kind for kind, _ in _failures(catalog).values()} == {"refused"}
    assert shop.base + "/p/redirect" in upstream.asked  # the crawl went through the proxy too
    assert not any("127.0.0.2" in url for url in upstream.asked) and internal.total == 0


# Settings ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "rules"), [
    ("127.0.0.1", ["127.0.0.1"]),
    ("127.0.0.1:8601, [::1]:8080 10.0.0.0/8", ["127.0.0.1:8601", "[::1]:8080", "10.0.0.0/8"]),
    ('["shop.internal:8443", "fd00::/8"]', ["shop.internal:8443", "fd00::/8"]),
    ("", []),
])
def test_allow_setting_forms(value: str, rules: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from crawlers.network import NetworkPolicy

    monkeypatch.setenv("PRICEWARDEN_NETWORK__ALLOW", value)
    get_settings.cache_clear()
    assert [str(r) for r in NetworkPolicy.from_settings().allow] == rules


def test_a_bad_allow_entry_is_a_one_line_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRICEWARDEN_NETWORK__ALLOW", "127.0.0.1,10.0.0.0/33")
    get_settings.cache_clear()
    with pytest.raises(ConfigError, match=r"network.allow: '10.0.0.0/33' is not a network"):
        get_settings()


# Address classes: what is refused unless allowed (IANA special-purpose registries, real forms).
ADDRESSES = [
    ("127.0.0.1", "loopback"), ("127.255.255.254", "loopback"), ("::1", "loopback"),
    ("10.1.2.3", "private"), ("172.16.0.1", "private"), ("192.168.1.1", "private"), ("fd12:3456::1", "private"),
    ("169.254.169.254", "link-local (cloud metadata)"), ("169.254.1.1", "link-local"), ("fe80::1", "link-local"),
    ("100.64.0.1", "shared (CGNAT)"), ("0.0.0.0", "unspecified"), ("::", "unspecified"),
    ("224.0.0.251", "multicast"), ("ff02::1", "multicast"), ("240.0.0.1", "reserved"),
    ("255.255.255.255", "reserved"), ("192.0.0.8", "special-purpose"), ("198.18.0.1", "private"),
    ("::ffff:127.0.0.1", "loopback (IPv4-mapped)"), ("::ffff:169.254.169.254", "link-local (cloud metadata) "
                                                                                "(IPv4-mapped)"),
    ("2002:a00:1::", "private (6to4)"), ("64:ff9b::a9fe:a9fe", "link-local (cloud metadata) (NAT64)"),
    ("::127.0.0.1", "loopback (IPv4-compatible)"),
    ("93.184.215.14", None), ("8.8.8.8", None), ("2606:4700:4700::1111", None), ("::ffff:8.8.8.8", None),
]


@pytest.mark.parametrize(("address", "kind"), ADDRESSES)
def test_address_classes(address: str, kind: str | None) -> None:
    import ipaddress

    from crawlers.network import address_class

    assert address_class(ipaddress.ip_address(address)) == kind


def test_allow_rules_match_address_port_and_name() -> None:
    from crawlers.network import NetworkPolicy, parse_allow

    policy = NetworkPolicy((parse_allow("10.0.0.0/8"), parse_allow("127.0.0.1:8601"), parse_allow("shop.internal"),
                            parse_allow("[::1]:9000")))
    assert policy.refusal("x.example", "10.9.8.7", 443) is None
    assert policy.refusal("x.example", "127.0.0.1", 8601) is None
    assert policy.refusal("x.example", "::ffff:127.0.0.1", 8601) is None
    assert policy.refusal("x.example", "127.0.0.1", 8602) == "x.example resolves to a loopback address"
    assert policy.refusal("SHOP.Internal.", "192.168.5.5", 8080) is None
    assert policy.refusal("other.internal", "192.168.5.5", 8080) == "other.internal resolves to a private address"
    assert policy.refusal("::1", "::1", 9000) is None
    assert policy.refusal("169.254.169.254", "169.254.169.254", 80) == (
        "169.254.169.254 is a link-local (cloud metadata) address")
    assert NetworkPolicy(allow_private=True).refusal("x", "10.0.0.1", 80) is None
    for bad in ("10.0.0.0/33", "[::1", "host:99999", "bad host", ""):
        with pytest.raises(ValueError):
            parse_allow(bad)


def test_display_url_hides_passwords_and_query_values() -> None:
    from crawlers.network import display_url

    assert display_url("https://bob:hunter2@feeds.example/p.xml?token=abc&fmt=xml#x") == (
        "https://bob:***@feeds.example/p.xml?token=***&fmt=***")
    assert display_url("http://shop.example/p") == "http://shop.example/p"


def test_the_tests_allow_loopback_by_the_setting_not_by_switching_the_policy_off() -> None:
    settings = get_settings()
    assert settings.network.allow == ["127.0.0.1"] and settings.network.allow_private is False
    assert os.environ["PRICEWARDEN_NETWORK__ALLOW"] == "127.0.0.1"


# Rendered pages ------------------------------------------------------------------------------------

CYAN, MAGENTA = (0, 255, 255), (255, 0, 255)


def _page(inside: str) -> bytes:
    body = (f'<div style="width:300px;height:200px;background:#00ffff"></div>'
            f'<iframe src="{inside}/frame" width="400" height="300" style="border:0"></iframe>'
            f'<pre id="out">waiting</pre><script>fetch("{inside}/data").then(r => r.text())'
            f'.then(t => {{ document.getElementById("out").textContent = t; }})'
            f'.catch(() => {{ document.getElementById("out").textContent = "blocked"; }});</script>')
    return (PRODUCT % body).encode()


def colours(png: bytes) -> Counter[tuple[int, int, int]]:
    """How many pixels of each RGB colour a PNG (8-bit RGB or RGBA, not interlaced) holds.

    Rows filtered None, Sub or Up (Chromium's fast encoding) are undone a row at a time with numpy;
    Average and Paeth, where each byte needs the one decoded just before it, a byte at a time.
    """
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, bytearray(), b""
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos:pos + 8])
        data = png[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = data
        elif kind == b"IDAT":
            idat += data
    width, height, depth, colour_type, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and colour_type in (2, 6) and interlace == 0
    bpp = 3 if colour_type == 2 else 4
    stride = width * bpp
    rows = np.frombuffer(zlib.decompress(bytes(idat)), np.uint8).reshape(height, 1 + stride)
    image = np.empty((height, stride), np.uint8)
    previous = np.zeros(stride, np.uint8)
    for y in range(height):
        kind, line = int(rows[y, 0]), rows[y, 1:].copy()
        if kind == 1:  # Sub: plus the byte one pixel to the left, i.e. a running sum per channel (mod 256)
            line = np.cumsum(line.reshape(width, bpp), axis=0, dtype=np.uint8).reshape(stride)
        elif kind == 2:  # Up
            line += previous
        elif kind in (3, 4):
            out, up = [int(v) for v in line], [int(v) for v in previous]
            for x in range(stride):
                left = out[x - bpp] if x >= bpp else 0
                corner = up[x - bpp] if x >= bpp else 0
                if kind == 3:
                    out[x] = (out[x] + (left + up[x]) // 2) & 255
                else:
                    p = left + up[x] - corner
                    pa, pb, pc = abs(p - left), abs(p - up[x]), abs(p - corner)
                    out[x] = (out[x] + (left if pa <= pb and pa <= pc else up[x] if pb <= pc else corner)) & 255
            line = np.array(out, np.uint8)
        image[y] = line
        previous = line
    pixels = image.reshape(height * width, bpp)[:, :3].astype(np.uint32)
    keys, counts = np.unique((pixels[:, 0] << 16) | (pixels[:, 1] << 8) | pixels[:, 2], return_counts=True)
    return Counter({(int(k) >> 16, (int(k) >> 8) & 255, int(k) & 255): int(n)
                    for k, n in zip(keys, counts, strict=True)})


def _shoot(db: Any, url: str) -> bytes:
    from crawlers.screenshots import capture_screenshots

    with session_scope(db) as session:
        shots = capture_screenshots([url], session=session)
    assert url in shots, "no screenshot was taken"
    return EvidenceStore.from_settings().get(shots[url])


@pytest.mark.browser
def test_screenshots_cannot_reach_the_internal_network(
    db: Any, net: tuple[Server, Server], monkeypatch: pytest.MonkeyPatch
) -> None:
    shop, internal = net
    shop.routes["/p/probe"] = lambda h: send(h, 200, _page(internal.base))
    seen = colours(_shoot(db, shop.base + "/p/probe"))
    assert seen[CYAN] > 10_000  # the page itself is in the picture
    assert seen[MAGENTA] == 0 and internal.hits == Counter()
    # The control: with the internal service allowed, the same picture asks for its frame and its data, and
    # the frame is in the picture (the page fits the viewport: captured as shown, where the cross-site frame
    # is drawn; crawlers.screenshots.full_page_png).
    monkeypatch.setenv("PRICEWARDEN_NETWORK__ALLOW", f"127.0.0.1,127.0.0.2:{internal.port}")
    monkeypatch.setenv("PRICEWARDEN_CRAWL__RENDER_BUDGET", "60")  # a quiet network, not the budget, ends the wait
    get_settings.cache_clear()
    seen = colours(_shoot(db, shop.base + "/p/probe"))
    assert internal.hits["/frame"] >= 1 and internal.hits["/data"] >= 1, internal.hits
    assert seen[MAGENTA] > 10_000


@pytest.mark.browser
def test_screenshots_in_the_cycles_shared_chromium_cannot_reach_the_internal_network(
    db: Any, net: tuple[Server, Server]
) -> None:
    from crawlers.shared_browser import shared_browser

    shop, internal = net
    shop.routes["/p/probe"] = lambda h: send(h, 200, _page(internal.base))
    with shared_browser() as shared:
        seen = colours(_shoot(db, shop.base + "/p/probe"))
        assert shared.launches == 1
    assert seen[CYAN] > 10_000 and seen[MAGENTA] == 0 and internal.hits == Counter()


@pytest.mark.browser
def test_screenshots_through_a_proxy_cannot_reach_the_internal_network(
    db: Any, net: tuple[Server, Server], upstream: Upstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop, internal = net
    shop.routes["/p/probe"] = lambda h: send(h, 200, _page(internal.base))
    monkeypatch.setenv("PRICEWARDEN_CRAWL__PROXY", upstream.address)
    get_settings.cache_clear()
    seen = colours(_shoot(db, shop.base + "/p/probe"))
    assert shop.base + "/p/probe" in upstream.asked  # Chromium's page came through the operator's proxy
    assert not any("127.0.0.2" in url for url in upstream.asked)
    assert seen[CYAN] > 10_000 and seen[MAGENTA] == 0 and internal.total == 0


@pytest.mark.browser
def test_the_render_fallback_cannot_reach_the_internal_network(
    catalog: Any, net: tuple[Server, Server], tmp_path: Path
) -> None:
    shop, internal = net
    shop.routes["/p/probe"] = lambda h: send(h, 200, _page(internal.base))
    profiles = get_settings().workspace / "profiles"
    profiles.mkdir(parents=True, exist_ok=True)
    (profiles / "probe.yaml").write_text("name: probe\ncurrency: USD\nrender: true\n"
                                         "browser_steps: [{wait_for_selector: 'pre:not(:text(\"waiting\"))'}]\n")
    _crawl(catalog, tmp_path, [shop.base + "/p/probe"], browser=True, profile="probe")
    assert internal.hits == Counter()
    with session_scope(catalog) as session:
        (obs,) = session.scalars(select(Observation)).all()
        assert obs.price == Decimal("179.99") and obs.details["rendered"] is True
        store = EvidenceStore.from_settings()
        html = store.get(obs.html_sha256).decode("utf-8")
        seen = colours(store.get(obs.screenshot_sha256))
    assert '<pre id="out">blocked</pre>' in html and SECRET not in html
    assert seen[CYAN] > 10_000 and seen[MAGENTA] == 0


@pytest.mark.browser
def test_dns_rebinding_inside_a_rendered_page_is_refused(
    db: Any, net: tuple[Server, Server], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The classic attack on browsers: a page loads from a public address, its name then resolves to an
    internal one, and the page's same-origin requests go there. Chromium resolves nothing itself here."""
    shop, internal = net
    lookups: list[str] = []
    real = socket.getaddrinfo

    def rebinding(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host != "rebind.test":
            return real(host, port, *args, **kwargs)
        lookups.append(host)
        return real("127.0.0.1" if len(lookups) == 1 else "127.0.0.2", port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    shop.routes["/p/probe"] = lambda h: send(h, 200, _page(""))  # /frame and /data on its own origin
    seen = colours(_shoot(db, f"http://rebind.test:{shop.port}/p/probe"))
    assert shop.hits["/p/probe"] == 1 and len(lookups) >= 2
    assert internal.hits == Counter() and seen[MAGENTA] == 0 and seen[CYAN] > 10_000


def test_the_browser_proxy_carries_one_checked_request_per_connection(net: tuple[Server, Server]) -> None:
    """A second request on the connection of an allowed one (for another host) goes nowhere."""
    from crawlers.network import FilteringProxy

    shop, internal = net
    with FilteringProxy.from_settings() as proxy:
        port = int(proxy.address.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
            conn.sendall(f"GET {shop.base}/p/ok HTTP/1.1\r\nHost: {shop.base[7:]}\r\n\r\n"
                         f"GET {internal.base}/secret HTTP/1.1\r\nHost: {internal.base[7:]}\r\n\r\n".encode())
            answer = b""
            while chunk := conn.recv(65536):
                answer += chunk
    assert answer.startswith(b"HTTP/1.1 200") and answer.count(b"HTTP/1.1 ") == 1
    assert b"Connection: close" in answer and b"179.99" in answer
    assert shop.hits == Counter({"/p/ok": 1}) and internal.total == 0


@pytest.mark.browser
def test_extract_render_is_refused_too(net: tuple[Server, Server], capsys: pytest.CaptureFixture[str]) -> None:
    shop, internal = net
    for url in (f"{internal.base}/secret", f"{shop.base}/p/redirect"):
        with pytest.raises(SystemExit) as exited:
            main(["extract", url, "--render", "--json"])
        out, err = capsys.readouterr()
        assert exited.value.code == 1 and out == "" and "refused by the network policy" in err, err
        assert len(err.strip().splitlines()) == 1
    assert internal.total == 0


# The sandbox -------------------------------------------------------------------------------------

SANDBOX_PROBE = """
import json, os, sys
from playwright.sync_api import sync_playwright
from crawlers.sandbox import chromium_sandbox
from crawlers.settings import chromium_launch_options
decision = chromium_sandbox()
options = chromium_launch_options()
with sync_playwright() as pw:
    browser = pw.chromium.launch(**options)
    page = browser.new_page()
    page.set_content("<p id=x>rendered</p>")
    text = page.inner_text("#x")
    flags = []
    for pid in os.listdir("/proc"):
        try:
            if pid.isdigit() and os.stat(f"/proc/{pid}").st_uid == os.getuid():
                cmd = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\\0")
                if b"chromium" in cmd[0] or b"chrome" in cmd[0]:
                    flags.append([c.decode() for c in cmd if c.startswith(b"--")])
        except OSError:
            pass
    browser.close()
print(json.dumps({"enabled": decision.enabled, "reason": decision.reason, "text": text, "processes": flags}))
"""


def test_sandbox_decision_for_this_process() -> None:
    from crawlers.sandbox import chromium_sandbox
    from crawlers.settings import CHROMIUM_ARGS, chromium_launch_options

    decision = chromium_sandbox()
    if os.geteuid() == 0:
        assert not decision.enabled and "root" in decision.reason
    options = chromium_launch_options()
    assert options["chromium_sandbox"] is decision.enabled
    assert "--no-sandbox" not in CHROMIUM_ARGS and "--site-per-process" in CHROMIUM_ARGS
    assert "--force-webrtc-ip-handling-policy=disable_non_proxied_udp" in CHROMIUM_ARGS
    assert not any("site-per-process" in a or "IsolateOrigins" in a for a in CHROMIUM_ARGS if "disable" in a)


@pytest.mark.browser
@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run the probe as an unprivileged user")
def test_an_unprivileged_user_gets_the_sandbox() -> None:
    import shutil
    import tempfile

    home = Path(tempfile.mkdtemp(prefix="pw-sandbox-"))  # outside pytest's root-only folders
    try:
        home.chmod(0o777)
        env = {"HOME": str(home), "TMPDIR": str(home), "PATH": os.environ.get("PATH", ""),
               "PYTHONPATH": str(Path(__file__).resolve().parents[1]), "PRICEWARDEN_WORKSPACE": str(home / "ws")}
        done = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-c",
                               SANDBOX_PROBE], env=env, capture_output=True, text=True, timeout=120, cwd=home)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    assert done.returncode == 0, done.stderr[-2000:]
    probe = json.loads(done.stdout.strip().splitlines()[-1])
    if not probe["enabled"]:
        pytest.skip(f"this system gives Chromium no sandbox: {probe['reason']}")
    assert probe["text"] == "rendered"
    assert probe["processes"] and not any("--no-sandbox" in flags for flags in probe["processes"])
    assert any("--site-per-process" in flags for flags in probe["processes"])
