"""What each origin answers: product pages (with their faults), JSON endpoints, carts, marketplace lists."""

from __future__ import annotations

import html
import json
from collections import OrderedDict
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import parse_qs, quote, urlsplit

from demo import faults as fl
from demo.catalog import Listing
from demo.market import listing_page, product_page
from demo.pages import render, shell, show, usd
from demo.world import World

HTML = "text/html; charset=utf-8"
JSON = "application/json"


@dataclass
class Response:
    """An HTTP response; ``truncate`` sends only that many body bytes, then closes the connection."""

    status: int
    body: bytes
    content_type: str = HTML
    headers: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0
    truncate: int | None = None
    cacheable: bool = False


class Router:
    """Answers requests for one world; normal pages are kept in a byte-bounded LRU cache per day."""

    def __init__(self, world: World, cache_bytes: int = 256 * 1024 * 1024) -> None:
        self.world = world
        self.cache_bytes = cache_bytes
        self._cache: OrderedDict[tuple[int, str, str], Response] = OrderedDict()
        self._cached = 0
        self.hits: dict[tuple[int, str], int] = {}

    def reset_hits(self) -> None:
        """Forget how often each faulty page was asked for (a new day starts)."""
        self.hits.clear()

    def respond(self, family: str, method: str, target: str, day: int) -> Response:
        """The response of ``family``'s origin to ``method target`` on ``day``."""
        if method not in ("GET", "HEAD"):
            return Response(405, b"method not allowed\n", "text/plain", (("Allow", "GET, HEAD"),))
        key = (day, family, target)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        response = self._route(family, target, day)
        if response.cacheable:
            self._cache[key] = response
            self._cached += len(response.body)
            while self._cached > self.cache_bytes and self._cache:
                _k, old = self._cache.popitem(last=False)
                self._cached -= len(old.body)
        return response

    def _route(self, family: str, target: str, day: int) -> Response:
        w = self.world
        listing = w.by_path.get((family, target))
        if listing is not None:
            return self._page(family, target, day)
        parts = urlsplit(target)
        path, query = parts.path, parse_qs(parts.query)
        if "loop" in query:
            base = target.replace("&loop=1", "").replace("?loop=1", "")
            if (family, base) in w.by_path:
                return Response(301, b"", headers=(("Location", base),))
        if path == "/robots.txt":
            return Response(200, b"User-agent: *\nAllow: /\n", "text/plain", cacheable=True)
        if path == "/sitemap.xml":
            urls = "".join(f"<url><loc>{html.escape(x.path)}</loc></url>" for x in w.listings if x.family == family)
            body = f'<?xml version="1.0"?><urlset>{urls}</urlset>\n'.encode()
            return Response(200, body, "application/xml", cacheable=True)
        if path == "/account/login":
            return Response(200, fl.LOGIN_PAGE)
        if family == "jsonld" and path.endswith(".json"):
            return self._shopify(path[: -len(".json")], day)
        if family == "jsshop" and "/api/price/" in path:
            return self._xhr(path, day)
        if family == "cartshop" and path == "/cart":
            return self._cart(query.get("add", [""])[0], day)
        if family == "marketplace" and (path in ("/s",) or path.startswith("/c/")):
            wanted = f"/s?k={query.get('k', [''])[0]}" if path == "/s" else path
            for list_path, is_search, heading, rows in w.market_lists(day):
                if list_path == wanted:
                    body = listing_page(w.seed, f"{family}{list_path}", heading, rows, search=is_search)
                    return Response(200, body, cacheable=True)
        if path == "/":
            links = "".join(f'<li><a href="{html.escape(x.path)}">{html.escape(x.sku)}</a></li>'
                            for x in w.listings if x.family == family)
            return Response(200, f"<!DOCTYPE html><html><body><ul>{links}</ul></body></html>\n".encode(),
                            cacheable=True)
        return Response(404, fl.NOT_FOUND_PAGE)

    def _page(self, family: str, target: str, day: int) -> Response:
        w = self.world
        listing = w.by_path[(family, target)]
        fault = w.faults(day).get(listing.key)
        if fault is not None and fault.kind != "layout_changed":
            early = self._fault(fault, listing.key, target, day)
            if early is not None:
                return early
        page = w.page(listing, day)
        if page.spec is None:
            product = w.product_by_sku[listing.sku]
            body = product_page(w.seed, listing.key, product.title, product.sku, page.offers,
                                int(page.truth.get("reviews", 0) or 0) + 120)
        else:
            body = render(page.spec)
        ctype = "text/html; charset=GBK" if family == "cngbk" else HTML
        if fault is not None and fault.kind == "truncated":
            return Response(200, body, ctype, truncate=len(body) // 3)
        if fault is not None and fault.kind == "slow":
            return Response(200, body, ctype, delay=w.slow_seconds)
        return Response(200, body, ctype, cacheable=fault is None or fault.kind == "layout_changed")

    def _fault(self, fault: fl.Fault, key: str, target: str, day: int) -> Response | None:
        kind = fault.kind
        if kind in fl.FAILS_FIRST:
            seen = self.hits.get((day, key), 0)
            self.hits[(day, key)] = seen + 1
            if seen >= fl.FAILS_FIRST[kind]:
                return None
            if kind == "http_429":
                return Response(429, b"Too many requests\n", "text/plain", (("Retry-After", "1"),))
            return Response(fl.STATUS[kind], fl.ERROR_PAGE)
        if kind == "not_found":
            return Response(404, fl.NOT_FOUND_PAGE)
        if kind == "captcha":
            return Response(200, fl.CAPTCHA_PAGE)
        if kind == "login":
            return Response(302, b"", headers=(("Location", f"/account/login?next={quote(target, safe='')}"),))
        if kind == "redirect_loop":
            sep = "&" if "?" in target else "?"
            return Response(301, b"", headers=(("Location", f"{target}{sep}loop=1"),))
        return None

    def _listing_for(self, family: str, prefix: str, sku: str) -> Listing | None:
        listing = self.world.by_partner_sku.get((prefix.upper(), sku.upper()))
        return listing if listing is not None and listing.family == family else None

    def _shopify(self, page_path: str, day: int) -> Response:
        w = self.world
        listing = w.by_path.get(("jsonld", page_path))
        if listing is None:
            return Response(404, b'{"errors":"Not Found"}', JSON)
        page = w.page(listing, day, related=False)
        product = w.product_by_sku[listing.sku]
        spec = page.spec
        assert spec is not None and spec.price is not None
        available = page.truth["availability"] == "in_stock"
        variants = [{"id": 40000000 + int(product.sku[3:]), "sku": product.sku, "title": "Black",
                     "price": f"{spec.price:.2f}", "compare_at_price": f"{product.msrp:.2f}", "available": available}]
        if spec.high is not None:
            variants.append({"id": 50000000 + int(product.sku[3:]), "sku": f"{product.sku}-LTD", "title": "Limited",
                             "price": f"{spec.high:.2f}", "compare_at_price": None, "available": available})
        body = {"product": {"id": 7000000 + int(product.sku[3:]), "title": product.title, "handle": product.handle,
                            "vendor": "Acme Audio", "product_type": product.category, "currency": spec.currency,
                            "variants": variants}}
        return Response(200, json.dumps(body).encode(), JSON, cacheable=True)

    def _xhr(self, path: str, day: int) -> Response:
        prefix, _api, _price, sku = path.strip("/").split("/")[:4]
        listing = self._listing_for("jsshop", prefix, sku)
        if listing is None:
            return Response(404, b'{"error":"unknown sku"}', JSON)
        page = self.world.page(listing, day, related=False)
        price = Decimal(page.truth["price"])
        body = {"sku": listing.sku, "price": str(price), "currency": listing.currency,
                "display": show(price, listing.currency), "available": page.truth["availability"] == "in_stock"}
        return Response(200, json.dumps(body).encode(), JSON, (("Cache-Control", "no-store"),), cacheable=True)

    def _cart(self, sku: str, day: int) -> Response:
        w = self.world
        # The cart family has one tenant, so /cart?add=<SKU> needs no shop in its path.
        shop = next(p.prefix for p in w.partners if p.family == "cartshop")
        listing = self._listing_for("cartshop", shop, sku)
        if listing is None:
            return Response(404, fl.NOT_FOUND_PAGE)
        page = w.page(listing, day)
        spec = page.spec
        assert spec is not None
        amount = spec.cart_price if spec.cart_price is not None else spec.price
        assert amount is not None
        main = (f'<h1>Your cart</h1><table class="cart"><tr class="line" data-sku="{spec.sku}"><td>'
                f'{html.escape(spec.title)}</td><td class="qty">1</td><td class="line-price">{usd(amount)}</td></tr>'
                f'</table><div class="summary">Subtotal <span class="cart-total">{usd(amount)}</span></div>'
                f'<p class="ship-note">Free shipping on orders over $50</p>')
        body = shell(w.seed, f"cart{spec.key}", "en", "Cart", "", main).encode()
        return Response(200, body, cacheable=True)
