"""The sandbox world over real HTTP: a page of every family and every fault, checked against the ground truth."""

from __future__ import annotations

import http.client
import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import lxml.html
import pytest

from demo import Running, World, serve

DAY = 4


@pytest.fixture(scope="module")
def running() -> Iterator[Running]:
    world = World(seed=7, products=50, day=DAY, slow_seconds=0.3)
    with serve(world) as started:
        yield started


@pytest.fixture(scope="module")
def truth(running: Running) -> dict[str, Any]:
    return running.world.truth(DAY, running.origins)


def fetch(url: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    """One request, no redirects followed: (status, headers, body)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.netloc, timeout=10)
    try:
        conn.request(method, parts.path + (f"?{parts.query}" if parts.query else ""))
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def healthy(truth: dict[str, Any], family: str, **where: Any) -> dict[str, Any]:
    for page in truth["pages"]:
        if page["family"] == family and page["failure"] is None and page.get("page_type") in ("product", "offers") \
                and all(page.get(k) == v for k, v in where.items()):
            return page
    raise AssertionError(f"no healthy {family} page with {where}")


def money(text: str, decimal: str = ".") -> Decimal:
    digits = re.sub(r"[^\d,.]", "", text)
    grouping, point = (".", ",") if decimal == "," else (",", ".")
    return Decimal(digits.replace(grouping, "").replace(point, "."))


def css(doc: Any, selector: str) -> str:
    found = doc.cssselect(selector)
    assert found, f"nothing at {selector}"
    return str(found[0].text_content()).strip()


def _jsonld(body: bytes, page: dict[str, Any]) -> Decimal:
    blocks = [json.loads(b) for b in re.findall(rb'<script type="application/ld\+json">(.*?)</script>', body)]
    product = next(b for b in blocks if b["@type"] == "Product")
    offer = product["offers"]
    assert offer["priceCurrency"] == page["currency"]
    return Decimal(offer.get("price") or offer["lowPrice"])


def _attr(pattern: bytes) -> Any:
    def extract(body: bytes, page: dict[str, Any]) -> Decimal:
        found = re.search(pattern, body)
        assert found, pattern
        return Decimal(found.group(1).decode())
    return extract


def _selector(selector: str, decimal: str = ".", encoding: str = "utf-8") -> Any:
    def extract(body: bytes, page: dict[str, Any]) -> Decimal:
        return money(css(lxml.html.fromstring(body.decode(encoding)), selector), decimal)
    return extract


def _deals(body: bytes, page: dict[str, Any]) -> Decimal:
    doc = lxml.html.fromstring(body.decode())
    sale = money(css(doc, ".deal .price-sale"))
    coupon = doc.cssselect(".deal .coupon-amount")
    assert (page["coupon"] is not None) == bool(coupon)
    return sale - (money(coupon[0].text_content()) if coupon else 0)


EXTRACT = {
    "jsonld": _jsonld,
    "microdata": _attr(rb'itemprop="price" content="([\d.]+)"'),
    "opengraph": _attr(rb'<meta property="product:price:amount" content="([\d.]+)">'),
    "rdfa": _attr(rb'property="price" content="([\d.]+)"'),
    "plain": _selector(".buybox .price-now"),
    "cnmall": _selector(".final-price .value"),
    "cngbk": _selector(".final-price .value", encoding="gbk"),
    "eushop": _selector(".preis .betrag", decimal=","),
    "deals": _deals,
    "marketplace": _selector("#buybox .bb-price"),
}


@pytest.mark.parametrize("family", sorted(EXTRACT))
def test_family_page_shows_the_truth_price(running: Running, truth: dict[str, Any], family: str) -> None:
    page = healthy(truth, family)
    status, _headers, body = fetch(page["url"])
    assert status == 200
    assert 120_000 <= len(body) <= 1_300_000  # real page weight, not a toy page
    assert EXTRACT[family](body, page) == Decimal(page["price"])
    # The traps are there: an installment and a related product's price sit near the price.
    text = body.decode("gbk" if family == "cngbk" else "utf-8")
    assert re.search(r"/mo|/ Monat|/期", text)


def test_jsonld_price_range_and_shopify_endpoint(running: Running, truth: dict[str, Any]) -> None:
    page = next(p for p in truth["pages"] if p["family"] == "jsonld" and p["price_range"] and p["failure"] is None)
    _status, _h, body = fetch(page["url"])
    blocks = [json.loads(b) for b in re.findall(rb'<script type="application/ld\+json">(.*?)</script>', body)]
    offer = next(b for b in blocks if b["@type"] == "Product")["offers"]
    assert [offer["lowPrice"], offer["highPrice"]] == page["price_range"]
    status, headers, body = fetch(page["url"] + ".json")
    assert status == 200 and headers["content-type"] == "application/json"
    variants = json.loads(body)["product"]["variants"]
    assert variants[0]["sku"] == page["sku"] and variants[0]["price"] == page["price"]
    assert variants[1]["price"] == page["price_range"][1]


def test_js_shop_price_arrives_by_xhr(running: Running, truth: dict[str, Any]) -> None:
    page = healthy(truth, "jsshop")
    assert page["price_visibility"] == "xhr"
    _s, _h, body = fetch(page["url"])
    doc = lxml.html.fromstring(body)
    assert not doc.cssselect("#price-slot span.price")  # nothing until the script runs
    xhr = re.search(rb'fetch\("([^"]+)"\)', body)
    assert xhr
    status, _h, data = fetch(running.origins["jsshop"] + xhr.group(1).decode())
    assert status == 200
    payload = json.loads(data)
    assert payload["price"] == page["price"] and payload["currency"] == "USD"


def test_marketplace_offers_sellers_and_lists(running: Running, truth: dict[str, Any]) -> None:
    page = next(p for p in truth["pages"] if p["family"] == "marketplace" and p["page_type"] == "offers"
                and p["failure"] is None and any(o["partner"] is None for o in p["offers"]))
    _s, _h, body = fetch(page["url"])
    doc = lxml.html.fromstring(body)
    seen = [(o.get("data-seller-id"), str(money(css(o, ".offer-price"))), css(o, ".seller"))
            for o in doc.cssselect(".offer")]
    assert seen == [(o["seller_id"], o["price"], o["seller"]) for o in page["offers"]]
    winner = next(o for o in page["offers"] if o["buy_box"])
    assert doc.cssselect("#buybox")[0].get("data-seller-id") == winner["seller_id"]
    listing = next(p for p in truth["pages"] if p["family"] == "marketplace" and p["page_type"] == "category"
                   and any(o["partner"] is None for o in p["offers"]))
    _s, _h, body = fetch(listing["url"])
    ids = [e.get("data-seller-id") for e in lxml.html.fromstring(body).cssselect(".s-seller")]
    assert ids == [o["seller_id"] for o in listing["offers"]]
    search = next(p for p in truth["pages"] if p["page_type"] == "search")
    status, _h, body = fetch(search["url"])
    assert status == 200 and body.count(b'class="s-result"') == len(search["offers"])


def test_gbk_page_decodes_only_as_gbk(running: Running, truth: dict[str, Any]) -> None:
    page = healthy(truth, "cngbk", coupon="50.00")
    _s, headers, body = fetch(page["url"])
    assert headers["content-type"] == "text/html; charset=GBK"
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    text = body.decode("gbk")
    assert "满300减50" in text and "到手价" in text and "原价" in text
    assert f"￥{page['price']}" in text and f"￥{page['sale_price']}" in text


def test_cart_only_price(running: Running, truth: dict[str, Any]) -> None:
    page = healthy(truth, "cartshop", price_visibility="cart")
    assert page["price"] is None
    _s, _h, body = fetch(page["url"])
    doc = lxml.html.fromstring(body)
    assert "Add to cart to see price" in css(doc, ".price-hidden")
    assert not doc.cssselect(".our-price")
    status, _h, cart = fetch(running.origins["cartshop"] + doc.cssselect("a.add-to-cart")[0].get("href"))
    assert status == 200
    assert money(css(lxml.html.fromstring(cart), ".cart-total")) == Decimal(page["cart_price"])
    shown = healthy(truth, "cartshop", price_visibility="page")
    _s, _h, body = fetch(shown["url"])
    assert money(css(lxml.html.fromstring(body), ".our-price")) == Decimal(shown["price"])


def faulty(truth: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(p for p in truth["pages"] if p["failure"] and p["failure"]["kind"] == kind)


def test_removed_listing_is_404(running: Running, truth: dict[str, Any]) -> None:
    assert fetch(faulty(truth, "not_found")["url"])[0] == 404


def test_captcha_is_a_200_block_page(running: Running, truth: dict[str, Any]) -> None:
    page = faulty(truth, "captcha")
    status, _h, body = fetch(page["url"])
    assert status == 200 and b"Robot Check" in body and page["price"].encode() not in body


def test_login_redirect(running: Running, truth: dict[str, Any]) -> None:
    status, headers, _b = fetch(faulty(truth, "login")["url"])
    assert status == 302 and headers["location"].startswith("/account/login?next=")
    assert fetch(running.origins[faulty(truth, "login")["family"]] + headers["location"])[0] == 200


def test_redirect_loop_loops(running: Running, truth: dict[str, Any]) -> None:
    page = faulty(truth, "redirect_loop")
    origin = running.origins[page["family"]]
    seen = []
    url = page["url"]
    for _ in range(4):
        status, headers, _b = fetch(url)
        assert status == 301
        seen.append(headers["location"])
        url = origin + headers["location"]
    assert seen[0] == seen[2] and seen[1] == seen[3] == page["path"]
    with pytest.raises(urllib.error.HTTPError, match="redirect"):
        urllib.request.urlopen(page["url"], timeout=10)


def test_truncated_body_is_shorter_than_content_length(running: Running, truth: dict[str, Any]) -> None:
    parts = urlsplit(faulty(truth, "truncated")["url"])
    conn = http.client.HTTPConnection(parts.netloc, timeout=10)
    conn.request("GET", parts.path + (f"?{parts.query}" if parts.query else ""))
    resp = conn.getresponse()
    declared = int(resp.getheader("Content-Length") or 0)
    with pytest.raises(http.client.IncompleteRead) as caught:
        resp.read()
    assert 0 < len(caught.value.partial) < declared
    conn.close()


@pytest.mark.parametrize(("kind", "status"), [("http_500", 500), ("http_503", 503), ("http_429", 429)])
def test_transient_errors_then_the_page(running: Running, truth: dict[str, Any], kind: str, status: int) -> None:
    page = faulty(truth, kind)
    failure = page["failure"]
    assert failure["persistent"] is False
    for _ in range(failure["fails_first"]):
        got, headers, _b = fetch(page["url"])
        assert got == status
        if kind == "http_429":
            assert headers["retry-after"] == "1"
    got, _h, body = fetch(page["url"])
    assert got == 200 and page["sku"].encode() in body


def test_slow_page_still_arrives_whole(running: Running, truth: dict[str, Any]) -> None:
    page = faulty(truth, "slow")
    assert page["failure"]["delay_seconds"] == 0.3
    status, headers, body = fetch(page["url"])
    assert status == 200 and int(headers["content-length"]) == len(body)


def test_keep_alive_serves_many_requests_on_one_connection(running: Running, truth: dict[str, Any]) -> None:
    pages = [p for p in truth["pages"] if p["family"] == "microdata" and p["failure"] is None][:5]
    conn = http.client.HTTPConnection(urlsplit(pages[0]["url"]).netloc, timeout=10)
    for page in pages:
        conn.request("GET", page["path"])
        resp = conn.getresponse()
        assert resp.status == 200 and page["price"].encode() in resp.read()
    conn.close()


def test_control_port_switches_day_and_layout_changes(running: Running) -> None:
    world = running.world
    req = urllib.request.Request(running.control + "/__world/day/20", method="POST")
    assert json.loads(urllib.request.urlopen(req, timeout=10).read())["day"] == 20
    try:
        truth20 = world.truth(20, running.origins)
        page = faulty(truth20, "layout_changed")
        assert page["partner"] == "P005" and page["failure"]["persistent"]
        status, _h, body = fetch(page["url"])
        doc = lxml.html.fromstring(body)
        assert status == 200 and not doc.cssselect(".buybox .price-now")  # the profile's selector breaks
        assert money(css(doc, ".pdp-price__value")) == Decimal(page["price"])
        ac100 = next(p for p in truth20["pages"] if p["partner"] == "P003" and p["sku"] == "AC-100")
        _s, _h, body = fetch(ac100["url"])
        assert f'content="{ac100["price"]}"'.encode() in body
    finally:
        running.set_day(DAY)
    assert json.loads(urllib.request.urlopen(running.control + "/__world", timeout=10).read())["day"] == DAY


@pytest.mark.parametrize(("family", "marker"), [
    ("jsonld", b'"availability": "https://schema.org/OutOfStock"'),
    ("microdata", b'itemprop="availability" href="https://schema.org/OutOfStock"'),
    ("eushop", "Derzeit nicht verfügbar".encode()),
    ("cngbk", "无货".encode("gbk")),
])
def test_out_of_stock_pages_say_so_and_keep_their_price(running: Running, truth: dict[str, Any], family: str,
                                                       marker: bytes) -> None:
    page = healthy(truth, family, availability="out_of_stock")
    _s, _h, body = fetch(page["url"])
    assert marker in body and EXTRACT[family](body, page) == Decimal(page["price"])


def test_pipelined_requests_and_head_answer_in_order(running: Running, truth: dict[str, Any]) -> None:
    import socket

    pages = [p for p in truth["pages"] if p["family"] == "rdfa" and p["failure"] is None][:2]
    host, port = urlsplit(pages[0]["url"]).netloc.split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(f"HEAD {pages[0]['path']} HTTP/1.1\r\nHost: x\r\n\r\n"
                     f"GET {pages[1]['path']} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := sock.recv(1 << 20):
            data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 200") and b"Connection: keep-alive" in head
    assert rest.startswith(b"HTTP/1.1 200")  # the HEAD answer carried no body
    second_head, body = rest.split(b"\r\n\r\n", 1)
    assert b"Connection: close" in second_head
    assert int(re.search(rb"Content-Length: (\d+)", second_head).group(1)) == len(body)  # type: ignore[union-attr]
    assert f'content="{pages[1]["price"]}"'.encode() in body
