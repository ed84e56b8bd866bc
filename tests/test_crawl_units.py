"""Tables of real cases for the crawl's pure parts: failure kinds, block pages, Retry-After, shards, matching."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from crawlers.bodies import BodyChunks, install
from crawlers.discovery import CatalogEntry, match_product, title_similarity
from crawlers.failures import FailureKind, block_kind, from_exception, from_status
from crawlers.persist import natural_key
from crawlers.politeness import parse_retry_after
from crawlers.spider import page_methods
from crawlers.targets import Target as T
from crawlers.targets import read_listing_file, shard_of, split_shards
from pricewarden.errors import ConfigError

PAGES = Path(__file__).parent / "crawl_pages"


@pytest.mark.parametrize(("status", "kind"), [
    (200, None), (301, None), (404, FailureKind.NOT_FOUND), (410, FailureKind.NOT_FOUND),
    (403, FailureKind.HTTP_ERROR), (401, FailureKind.LOGIN_WALL), (429, FailureKind.RATE_LIMITED),
    (500, FailureKind.SERVER_ERROR), (503, FailureKind.SERVER_ERROR), (522, FailureKind.SERVER_ERROR),
])
def test_status_kinds(status: int, kind: FailureKind | None) -> None:
    assert from_status(status) == kind


def _exceptions() -> list[tuple[BaseException, FailureKind]]:
    from scrapy import exceptions as sx
    from twisted.internet import error as terror
    from twisted.python.failure import Failure
    from twisted.web._newclient import ResponseFailed
    from twisted.web.http import _DataLoss

    return [
        (sx.IgnoreRequest("max redirections reached"), FailureKind.REDIRECT_LOOP),
        (sx.IgnoreRequest("Forbidden by robots.txt"), FailureKind.ROBOTS),
        (sx.ResponseDataLossError(), FailureKind.TRUNCATED),
        (ResponseFailed([Failure(_DataLoss())]), FailureKind.TRUNCATED),
        (sx.CannotResolveHostError("no such host"), FailureKind.DNS),
        (terror.DNSLookupError("x"), FailureKind.DNS),
        (sx.DownloadTimeoutError("took longer than 10 seconds"), FailureKind.TIMEOUT),
        (terror.TimeoutError(), FailureKind.TIMEOUT),
        (sx.DownloadConnectionRefusedError(), FailureKind.CONNECTION),
        (terror.ConnectionLost(), FailureKind.CONNECTION),
        (RuntimeError("Timeout 30000ms exceeded"), FailureKind.ERROR),
        (type("TimeoutError", (Exception,), {})("page.goto: Timeout"), FailureKind.TIMEOUT),
        (ValueError("something else"), FailureKind.ERROR),
    ]


@pytest.mark.parametrize("case", range(13))
def test_exception_kinds(case: int) -> None:
    exc, kind = _exceptions()[case]
    assert from_exception(exc).kind == kind


@pytest.mark.parametrize(("page", "has_price", "kind"), [
    ("captcha.html", False, FailureKind.BLOCKED),
    ("captcha.html", True, FailureKind.BLOCKED),  # a captcha title is decisive
    ("login.html", False, FailureKind.LOGIN_WALL),
    ("jsonld.html", True, None),
    ("market.html", True, None),
    ("cart.html", False, None),
])
def test_block_pages(page: str, has_price: bool, kind: FailureKind | None) -> None:
    assert block_kind((PAGES / page).read_bytes(), has_price=has_price) == kind


def test_a_review_captcha_on_a_priced_product_page_is_not_a_block() -> None:
    body = (PAGES / "jsonld.html").read_bytes().replace(b"</main>", b'<div class="g-recaptcha"></div></main>')
    assert block_kind(body, has_price=True) is None
    assert block_kind(body, has_price=False) == FailureKind.BLOCKED


@pytest.mark.parametrize(("header", "seconds"), [
    (b"1", 1.0), ("120", 120.0), (b"  7 ", 7.0), (None, None), (b"", None), (b"soon", None),
    (b"Mon, 02 Mar 2026 08:00:30 GMT", 30.0), (b"Mon, 02 Mar 2026 07:59:00 GMT", 0.0),
])
def test_retry_after(header: bytes | str | None, seconds: float | None) -> None:
    now = datetime(2026, 3, 2, 8, 0, 0, tzinfo=UTC)
    assert parse_retry_after(header, now=now) == seconds


def test_a_site_always_lands_in_the_same_shard() -> None:
    targets = [T(f"http://shop{i % 5}.example:80{i % 5}/p/{i}") for i in range(50)]
    groups = split_shards(targets, 3)
    assert sum(len(g) for g in groups) == 50
    for group in groups:
        for site in {t.site for t in group}:
            assert all(t.site != site for other in groups if other is not group for t in other)
    assert shard_of("shop1.example:801", 3) == shard_of("SHOP1.example:801".lower(), 3)


def test_processes_share_the_work_by_cost_and_keep_each_site_whole() -> None:
    static = [T(f"http://shop{i % 4}.example/p/{i}") for i in range(200)]  # 4 sites x 50 pages
    rendered = [T(f"http://js.example/p/{i}") for i in range(20)]  # 20 pages, each costs 25
    groups = split_shards(static + rendered, 2, cost=lambda t: 25.0 if t.site == "js.example" else 1.0)
    js_group = next(g for g in groups if any(t.site == "js.example" for t in g))
    other = next(g for g in groups if g is not js_group)
    # The browser's 500 units go alone (or nearly); every static site goes to the other process.
    assert {t.site for t in js_group} == {"js.example"} and len(other) == 200
    by_count = split_shards(static, 2)
    assert sorted(len(g) for g in by_count) == [100, 100]


def test_browser_steps_become_page_methods() -> None:
    methods = page_methods([{"wait_for_selector": "span.price"}, {"click": ["#accept", {"timeout": 100}]},
                            {"wait_for_timeout": 200}, {"evaluate": {"expression": "1"}}])
    assert [(m.method, m.args, m.kwargs) for m in methods] == [
        ("wait_for_selector", ("span.price",), {}),
        ("click", ("#accept", {"timeout": 100}), {}),
        ("wait_for_timeout", (200,), {}),
        ("evaluate", (), {"expression": "1"}),
    ]


def test_natural_keys_differ_by_each_part() -> None:
    base = natural_key("crawl", 7, "S1", "2026-03-02T08:00:00+00:00")
    assert base == natural_key("crawl", 7, "S1", "2026-03-02T08:00:00+00:00")
    assert len({base, natural_key("crawl", 7, "S2", "2026-03-02T08:00:00+00:00"),
                natural_key("crawl", 8, "S1", "2026-03-02T08:00:00+00:00"),
                natural_key("crawl", 7, "S1", "2026-03-02T12:00:00+00:00"),
                natural_key("crawl", "7\x1fS1", "", "2026-03-02T08:00:00+00:00")}) == 5


def test_listing_file(tmp_path: Path) -> None:
    path = tmp_path / "l.csv"
    path.write_text("url,sku,partner,seller_id,profile,region\nhttp://a.example/p,AC-100,P1,,plain,US\n"
                    "https://b.example:8443/x,,,S9,,\n", encoding="utf-8")
    a, b = read_listing_file(path)
    assert (a.url, a.sku, a.partner, a.seller_id, a.profile, a.region) == (
        "http://a.example/p", "AC-100", "P1", None, "plain", "US")
    assert (b.site, b.seller_id, b.sku) == ("b.example:8443", "S9", None)
    path.write_text("url\nftp://nope\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not an http"):
        read_listing_file(path)
    path.write_text("link\nhttp://a.example\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="'url' column"):
        read_listing_file(path)


CATALOG = [
    CatalogEntry(1, "AC-100", "04006381333931", "AC100-BLK", "Acme AC-100 Wireless Headphones"),
    CatalogEntry(2, "AC-200", None, "AC200", "Acme AC-200 Bluetooth Speaker"),
    CatalogEntry(3, "AC-210", None, None, "Acme AC-210 Bluetooth Speaker, Black"),
]


@pytest.mark.parametrize(("page", "expected"), [
    ({"gtin": "4006381333931", "title": "whatever"}, ("AC-100", "gtin")),
    ({"gtin": "0000", "mpn": "ac200", "title": "x"}, ("AC-200", "mpn")),
    ({"title": "ACME AC-100 Wireless Headphones (Renewed)"}, ("AC-100", "title")),
    ({"title": "Acme AC-210 Bluetooth Speaker Black"}, ("AC-210", "title")),
    ({"title": "Acme AC-300 Wireless Headphones"}, None),  # another model: not a match
    ({"title": "Garden hose 20 m"}, None),
    ({"title": ""}, None),
])
def test_catalog_matching(page: dict[str, str], expected: tuple[str, str] | None) -> None:
    found = match_product(page, CATALOG, 0.6)
    assert (None if found is None else (found[0].sku, found[1])) == expected
    if found is not None:
        assert 0.6 <= found[2] <= 1.0


def test_title_similarity_is_symmetric_and_bounded() -> None:
    a, b = "Acme AC-100 Wireless Headphones", "Wireless Headphones Acme AC-100 Black"
    assert title_similarity(a, b) == pytest.approx(title_similarity(b, a))
    assert 0.6 < title_similarity(a, b) <= 1.0
    assert title_similarity(a, a) == 1.0


def test_body_chunks_join_once_and_clear() -> None:
    body = BodyChunks()
    for chunk in (b"<html>", bytearray(b"<body>"), b"", b"price</body></html>"):
        assert body.write(chunk) == len(chunk)
    whole = body.getvalue()
    assert whole == b"<html><body>price</body></html>" and body.getvalue() is whole
    assert body.truncate(0) == 0 and body.getvalue() == b""
    with pytest.raises(ValueError):
        body.truncate(3)


def test_scrapy_collects_response_bodies_in_chunks() -> None:
    from scrapy.core.downloader.handlers import http11

    assert install() and install()  # idempotent
    assert http11.BytesIO is BodyChunks


# A real product page's weight and mix (scripts, markup, text), for the decoders below.
_PAGE = b"".join((PAGES / name).read_bytes() for name in sorted(p.name for p in PAGES.glob("*.html"))) * 40


def _encoded(encoding: str, page: bytes = _PAGE) -> bytes:
    import gzip
    import zlib

    import brotli
    from backports import zstd

    return {"gzip": gzip.compress, "x-gzip": gzip.compress, "deflate": zlib.compress,
            "raw-deflate": lambda b: zlib.compress(b, wbits=-15), "br": brotli.compress,
            "zstd": zstd.compress}[encoding](page)


@pytest.mark.parametrize("encoding", ["gzip", "x-gzip", "deflate", "raw-deflate", "br", "zstd"])
def test_compressed_bodies_decode_whole_and_cut_ones_are_truncated(encoding: str) -> None:
    from crawlers.compression import TruncatedEncoding, decode

    name = b"deflate" if encoding == "raw-deflate" else encoding.encode()
    body = _encoded(encoding)
    assert decode(body, name, 10**9) == _PAGE
    # Cut anywhere in its data (the gzip and zlib trailers aside, below): never part of a page.
    end = len(body) - {"gzip": 9, "x-gzip": 9, "deflate": 5}.get(encoding, 1)
    for cut in (1, len(body) // 3, len(body) // 2, end):
        with pytest.raises(TruncatedEncoding):
            decode(body[:cut], name, 10**9)


@pytest.mark.parametrize(("encoding", "message"), [
    ("gzip", "not gzip data"), ("deflate", "deflate data is corrupt"), ("br", "brotli data is corrupt"),
    ("zstd", "zstd data is corrupt"),
])
def test_a_body_not_in_its_encoding_is_an_error_naming_it(encoding: str, message: str) -> None:
    from crawlers.compression import BodyDecodingError, TruncatedEncoding, decode

    with pytest.raises(BodyDecodingError, match=message) as raised:
        decode(b"<html><body>Sent as is, labelled " + encoding.encode() + b"</body></html>", encoding.encode())
    assert not isinstance(raised.value, TruncatedEncoding)


def test_decoding_is_as_tolerant_as_scrapys_where_nothing_is_missing() -> None:
    import gzip
    import io

    from crawlers.compression import decode

    body = _encoded("gzip")
    assert decode(body[:-8], b"gzip") == _PAGE  # no trailer: the deflate data ended properly
    assert decode(body[:-8] + b"\xff" * 8, b"gzip") == _PAGE  # a wrong CRC-32 and length
    assert decode(body + b"\x00" * 16, b"gzip") == _PAGE  # padding after the member
    assert decode(body + b"\r\n", b"gzip") == _PAGE  # bytes that are not gzip after it
    half = len(_PAGE) // 2
    first, second = gzip.compress(_PAGE[:half]), gzip.compress(_PAGE[half:])
    assert decode(first + second, b"GZIP ") == _PAGE  # two members
    assert decode(first + b"\x00" * 4 + second, b"gzip") == _PAGE  # two members, NUL padding between
    assert decode(_encoded("deflate")[:-4], b"deflate") == _PAGE  # zlib data without its Adler-32
    # Repetitive bodies just over a multiple of 64 KB: zlib still holds output after the last byte.
    for size in (65_600, 131_100, 200_000):
        assert decode(_encoded("raw-deflate", b"a" * size), b"deflate") == b"a" * size
        assert decode(gzip.compress(b"a" * size)[:-8], b"gzip") == b"a" * size
    named = io.BytesIO()
    with gzip.GzipFile(filename="page.html", mode="wb", fileobj=named, mtime=0) as out:
        out.write(_PAGE)
    assert decode(named.getvalue(), b"gzip") == _PAGE  # a header with a file name
    assert decode(b"", b"gzip") == b"" and decode(b"<p>x</p>", b"identity") == b"<p>x</p>"


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br", "zstd"])
def test_decoding_stops_at_the_size_limit(encoding: str) -> None:
    from scrapy.utils._compression import _DecompressionMaxSizeExceeded

    from crawlers.compression import decode

    with pytest.raises(_DecompressionMaxSizeExceeded):
        decode(_encoded(encoding), encoding.encode(), len(_PAGE) - 1)
    assert decode(_encoded(encoding), encoding.encode(), len(_PAGE)) == _PAGE


def test_a_crawl_process_opens_no_way_in() -> None:
    from crawlers.settings import scrapy_settings

    settings = scrapy_settings(browser=False)
    # Scrapy's defaults are True for both: a telnet console, and an HTTP server that runs Python code.
    assert settings["TELNETCONSOLE_ENABLED"] is False and settings["REMOTE_CONTROL_ENABLED"] is False
