"""Hostile and broken pages: the cascade returns a price, nothing or a failure, and never raises; no page vanishes.

A page is read from what strangers control. JSON-LD nested past Python's recursion limit, a price of
thousands of digits, ``$1e309``, a negative JSON-LD price, a site profile whose selector no parser
accepts: each of these used to raise inside the spider (the page vanished: no observation, no
failure, no evidence, and the crawl's page count disagreed with its site's health) or was read as
a wrong price (``$1e309`` as 1, ``"-199.00"`` as 199.00). Here they are served by a real local
server to real crawl processes, read through ``pricewarden extract``, and fuzzed with hypothesis.
"""

from __future__ import annotations

import json
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
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from crawlers.extract import extract, find_amounts
from crawlers.extract.amounts import MAX_AMOUNT

DEEP = 100_000  # levels of nesting: far past the recursion limit of json and of any recursive walk


def _page(ld: str | None = None, body: str = "", title: str = "Acme AC-100 Headphones") -> str:
    script = f'<script type="application/ld+json">{ld}</script>' if ld is not None else ""
    return (f'<html lang="en"><head><title>{title}</title>{script}</head><body><main><h1>{title}</h1>'
            f'<div class="buybox">{body}<button class="add-to-cart">Add to cart</button></div></main></body></html>')


def _offer(price: str) -> str:
    offer = {"@type": "Offer", "price": "PRICE", "priceCurrency": "USD"}
    product = {"@context": "https://schema.org", "@type": "Product", "name": "Acme AC-100", "sku": "AC-100",
               "offers": offer}
    return json.dumps(product).replace('"PRICE"', price)


NESTED_LD = '{"@type": "Product", "name": "Acme AC-100", "offers": ' + "[" * DEEP + "]" * DEEP + "}"
HOSTILE = {
    # page name: (HTML, the price it must give: None for no price)
    "deep-jsonld": (_page(NESTED_LD), None),
    "deep-jsonld-visible": (_page(NESTED_LD, '<span class="price">$179.99</span>'), Decimal("179.99")),
    "deep-state": (_page(body='<script id="__NEXT_DATA__" type="application/json">' + "[" * DEEP + "]" * DEEP
                        + "</script>"), None),
    "digits-visible": (_page(body='<span class="price">$' + "9" * 5000 + ".00</span>"), None),
    "digits-jsonld": (_page(_offer('"' + "9" * 5000 + '"')), None),
    "exponent-visible": (_page(body='<span class="price">$1e309</span>'), None),
    "exponent-jsonld": (_page(_offer("1e309")), None),
    "exponent-jsonld-text": (_page(_offer('"1e+20"')), None),
    "negative-jsonld": (_page(_offer('"-199.00"')), None),
    "negative-jsonld-number": (_page(_offer("-199.00")), None),
    "absurd-jsonld": (_page(_offer('"1000000000000000"')), None),
    "nan-jsonld": (_page(_offer("NaN")), None),
    "deep-html": (_page(body="<div>" * 20_000 + '<span class="price">$19.99</span>' + "</div>" * 20_000),
                  Decimal("19.99")),
    "fine": (_page(_offer('"199.00"'), '<span class="price">$199.00</span>'), Decimal("199.00")),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_hostile_page_gives_a_sane_price_or_none_and_never_raises(name: str) -> None:
    html, price = HOSTILE[name]
    result = extract(html, f"http://shop.test/p/{name}")
    assert result.price == price, (name, result.price, result.raw_text)
    for candidate in result.candidates:
        assert candidate.price.is_finite() and 0 < candidate.price < MAX_AMOUNT, (name, candidate)


# Fuzzing -------------------------------------------------------------------------------------------

_JSON_LEAVES = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(alphabet=st.sampled_from("0123456789.,-+eE$€¥ USDNaInfity"), max_size=40), st.text(max_size=20),
)
_KEYS = st.sampled_from(["@type", "name", "offers", "price", "lowPrice", "priceCurrency", "@graph", "itemListElement",
                         "priceSpecification", "seller", "availability", "hasVariant", "mainEntity", "sku"])
_JSON = st.recursive(_JSON_LEAVES, lambda inner: st.one_of(
    st.lists(inner, max_size=4),
    st.dictionaries(_KEYS, inner, max_size=5),
    st.fixed_dictionaries({"@type": st.sampled_from(["Product", "Offer", "AggregateOffer"]),
                           "offers": inner, "price": inner}),
), max_leaves=30)


def _sane(result: Any) -> None:
    for amount in (result.price, result.regular_price, result.effective_price,
                   *(c.price for c in result.candidates), *(o.price for o in result.sellers)):
        if amount is not None:
            assert amount.is_finite() and 0 < amount < MAX_AMOUNT, amount
    if result.shipping is not None:
        assert result.shipping.is_finite() and 0 <= result.shipping < MAX_AMOUNT


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=_JSON, depth=st.integers(min_value=0, max_value=3000))
def test_random_nested_json_ld_gives_a_sane_price_or_none(data: Any, depth: int) -> None:
    text = json.dumps(data, allow_nan=True)
    ld = "[" * depth + text + "]" * depth
    _sane(extract(_page(ld, "<p>In stock</p>"), "http://shop.test/p/1"))
    _sane(extract(_page(json.dumps({"@type": "Product", "name": "Acme", "offers": data}, allow_nan=True)),
                  "http://shop.test/p/2"))


_PRICE_TEXT = st.lists(st.sampled_from([*"0123456789.,'-+eE $€£¥₹kr\u00a0", "USD", "EUR", "1e309", "-"]),
                       max_size=40).map("".join)


@settings(max_examples=300, deadline=None)
@given(text=_PRICE_TEXT, digits=st.integers(min_value=0, max_value=3000))
def test_random_price_strings_are_finite_positive_and_bounded(text: str, digits: int) -> None:
    shown = text + "9" * digits
    for amount in find_amounts(shown, allow_bare=True):
        assert amount.amount.is_finite() and 0 <= amount.amount < MAX_AMOUNT, (shown[:80], amount)
    _sane(extract(_page(body=f'<span class="price">{shown}</span>'), "http://shop.test/p/3"))
    _sane(extract(_page(_offer(json.dumps(shown))), "http://shop.test/p/4"))


# A real crawl ---------------------------------------------------------------------------------------

# A site profile whose price selector no CSS parser accepts: reading any page with it raises (a
# stand-in for "anything else" that can go wrong inside the cascade).
BROKEN_PROFILE = """
name: broken
currency: USD
domains: [localhost]
selectors: {price: "span.price[", title: "h1"}
"""


def _handler(pages: dict[str, bytes]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            path = self.path.split("?")[0]
            body = pages.get(path.rsplit("/", 1)[-1])
            status = 200 if body is not None else 404
            body = body if body is not None else b"<html><body>Not found</body></html>"
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


@pytest.fixture
def hostile_site() -> Iterator[str]:
    pages = {name: html.encode() for name, (html, _) in HOSTILE.items()}
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(pages))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_no_hostile_page_vanishes_and_the_counts_agree(db: Any, hostile_site: str, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from crawlers.health import site_health
    from crawlers.run import run_crawl
    from crawlers.targets import read_listing_file, resolve_ids
    from pricewarden.settings import get_settings
    from store import CrawlFailure, CrawlRun, Evidence, Observation, Product, session_scope
    from store.evidence import EvidenceStore, sha256_of

    root = get_settings().workspace
    (root / "profiles").mkdir(parents=True, exist_ok=True)
    (root / "profiles" / "broken.yaml").write_text(BROKEN_PROFILE, encoding="utf-8")
    monkeypatch.setenv("PRICEWARDEN_CRAWL__RETRIES", "0")
    get_settings.cache_clear()
    with session_scope(db) as session:
        session.add(Product(sku="AC-100", title="Acme AC-100 Headphones"))
    # Every hostile page on 127.0.0.1; the broken profile's site reads the good page on "localhost".
    port = hostile_site.rsplit(":", 1)[1]
    urls = [f"http://{hostile_site}/p/{name}" for name in sorted(HOSTILE)]
    broken = [f"http://localhost:{port}/p/fine", f"http://localhost:{port}/p/digits-visible"]
    listing = tmp_path / "listings.csv"
    listing.write_text("url,sku\n" + "".join(f"{u},AC-100\n" for u in urls + broken), encoding="utf-8")
    with session_scope(db) as session:
        targets = resolve_ids(session, read_listing_file(listing))
    started = datetime.now(UTC)
    result = run_crawl(targets, shards=1, at=datetime(2026, 3, 2, 8, tzinfo=UTC), browser=False)
    assert result.failed_shards == []

    with session_scope(db) as session:
        observations = list(session.scalars(select(Observation)))
        failures = list(session.scalars(select(CrawlFailure)))
        seen = {o.url for o in observations} | {f.url for f in failures}
        # Every page is stored, as a price or as a failure: the counts of the crawl, the rows and
        # the site table are the same number.
        assert seen == set(urls + broken), sorted(set(urls + broken) - seen)
        assert result.pages == len(seen) == len(targets)
        [run] = session.scalars(select(CrawlRun))
        assert run.stats["pages"] == len(targets)
        health = site_health(session, started - timedelta(hours=1), datetime.now(UTC) + timedelta(hours=1))
        assert sum(h.pages for h in health) == len(targets)
        assert {h.site: h.pages for h in health} == {hostile_site: len(urls), f"localhost:{port}": len(broken)}

        prices = {o.url.rsplit("/", 1)[-1]: o.price for o in observations if o.url.startswith(f"http://{hostile_site}")}
        for name, (_, price) in HOSTILE.items():
            if price is not None:
                assert prices.get(name) == price, (name, prices.get(name))
            else:
                assert prices.get(name) is None, f"{name} must give no price, gave {prices.get(name)}"
        for o in observations:
            assert o.price is None or (o.price.is_finite() and 0 < o.price < MAX_AMOUNT)

        # The pages the broken profile cannot read are failures of kind error, with their evidence.
        errors = {f.url: f for f in failures if f.kind == "error"}
        assert set(errors) == set(broken), [(f.url, f.kind, f.detail) for f in failures]
        store = EvidenceStore.from_settings()
        for url, failure in errors.items():
            assert "SelectolaxError" in failure.detail, failure.detail
            assert failure.html_sha256 is not None and session.get(Evidence, failure.html_sha256) is not None
            name = url.rsplit("/", 1)[-1]
            assert store.get(failure.html_sha256) == HOSTILE[name][0].encode()
            assert sha256_of(store.get(failure.html_sha256)) == failure.html_sha256


# `pricewarden extract` --------------------------------------------------------------------------------

def _extract(*args: str) -> subprocess.CompletedProcess[str]:
    command = [str(Path(sys.executable).parent / "pricewarden"), "extract", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def test_extract_on_hostile_files_prints_a_table_or_one_line_never_a_traceback(tmp_path: Path) -> None:
    deep = tmp_path / "deep.html"
    deep.write_text(HOSTILE["deep-jsonld-visible"][0], encoding="utf-8")
    done = _extract("--html", str(deep), "--url", "http://shop.test/p/deep", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["price"] == "179.99"

    digits = tmp_path / "digits.html"
    digits.write_text(HOSTILE["digits-jsonld"][0], encoding="utf-8")
    done = _extract("--html", str(digits), "--json")
    assert done.returncode == 0 and json.loads(done.stdout)["price"] is None, done.stdout + done.stderr

    profile = tmp_path / "broken.yaml"
    profile.write_text(BROKEN_PROFILE, encoding="utf-8")
    done = _extract("--html", str(deep), "--url", "http://shop.test/p/deep", "--profile", str(profile))
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and done.stderr.strip().count("\n") == 0, done.stderr
    assert done.stderr.startswith("error: reading the page failed: SelectolaxError"), done.stderr
