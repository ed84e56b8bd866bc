"""The partner portal's test world: the web world (tests/web_world.py) plus a shop on 127.0.0.1 that the
crawls read, partner accounts of P2 and P4, and one of each portal object (a report batch, a response, a
complaint, a policy receipt) for the route table.

Accounts added: ``twohub`` (P2's partner account), ``eurohub`` (P4: a recommended scope only),
``nopartner`` (a partner account tied to no partner). Passwords ``<name>-pass-1`` as in web_world.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sqlalchemy import Engine, select
from web_world import _HASHER, WebWorld, make_app, password, png

from store import Listing, Observation, User, session_scope


def product_page(title: str, sku: str, price: str, currency: str = "USD") -> bytes:
    """A product page with schema.org JSON-LD, as shops publish them."""
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<script type="application/ld+json">
{{"@context": "https://schema.org", "@type": "Product", "name": "{title}", "sku": "{sku}",
 "brand": {{"@type": "Brand", "name": "Acme"}},
 "offers": {{"@type": "Offer", "price": "{price}", "priceCurrency": "{currency}",
            "availability": "https://schema.org/InStock"}}}}
</script></head><body><main><h1>{title}</h1><p class="price">${price}</p>
<button class="add-to-cart">Add to cart</button></main></body></html>""".encode()


@dataclass
class Shop:
    """A shop on 127.0.0.1: ``pages`` maps a path to its HTML (changeable while it runs)."""

    base: str = ""
    pages: dict[str, bytes] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return self.base + path


def serve_shop() -> Iterator[Shop]:
    """Serve a :class:`Shop` in a thread until the generator is closed."""
    shop = Shop()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            if self.path == "/robots.txt":
                body, status = b"User-agent: *\nAllow: /\n", 200
            else:
                body = shop.pages.get(self.path.split("?")[0], b"<html><body>Not found</body></html>")
                status = 200 if self.path.split("?")[0] in shop.pages else 404
            self.send_response(status)
            self.send_header("content-type", "text/html; charset=utf-8" if self.path != "/robots.txt"
                             else "text/plain")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    shop.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield shop
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class PortalWorld:
    """The web world's ids plus the portal's."""

    web: WebWorld
    listings: dict[str, int] = field(default_factory=dict)
    observations: dict[str, int] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)  # batch_id, complaint_id, response_id


EXTRA_ACCOUNTS = {"twohub": "P2", "eurohub": "P4", "nopartner": None}
# The web world's listings by the path of their URL.
NAMES = {"p1/ac-100": "p1", "p2/ac-100": "p2", "p3/ac-100": "p3", "p4/ac-100": "p4", "market/ac-100": "market",
         "p1/ac-200": "p1-undecided"}


def make_portal_app(engine: Engine, shop: Shop | None = None) -> tuple[Any, PortalWorld]:
    """The app over the web world, in the process's workspace (so crawl processes write where it reads)."""
    from pricewarden.settings import get_settings

    workspace = get_settings().workspace
    app, web = make_app(engine, workspace)
    world = PortalWorld(web)
    with session_scope(engine) as s:
        for name, code in EXTRA_ACCOUNTS.items():
            s.add(User(username=name, display_name=name.title(), role="partner", password_hash=_HASHER.hash(
                password(name)), partner_id=web.partners[code] if code else None, regions=[]))
        for listing in s.scalars(select(Listing)):
            key = NAMES.get(listing.url.split("/", 3)[-1], listing.url)
            if shop is not None and key == "p1":
                listing.url = shop.url("/p1/ac-100")
                listing.site = shop.base.removeprefix("http://")
            world.listings[key] = listing.id
        for o in s.scalars(select(Observation).order_by(Observation.id)):
            world.observations.setdefault(NAMES.get((o.url or "").split("/", 3)[-1], o.url or ""), o.id)
        carl = s.scalars(select(User).where(User.username == "carl")).one()
        carl.notification_urls = ["json://127.0.0.1:9/carl"]
    if shop is not None:
        shop.pages["/p1/ac-100"] = product_page("Acme AC-100 headphones", "AC-100", "199.00")
    return app, world


def add_portal_objects(app: Any, engine: Engine, world: PortalWorld) -> None:
    """One report batch, response and complaint of P1 (for the route table): made through the real functions."""
    from crawlers.reports import import_rows
    from store import Complaint, EvidenceStore, PartnerResponse
    from web.portal.responses import respond
    from web.portal.uploads import check_screenshot

    result = import_rows([{"sku": "AC-100", "price": "199.00", "currency": "USD", "date": "2026-05-02"},
                          {"sku": "NOPE", "price": "1", "currency": "USD", "date": "2026-05-02"}], "P1",
                         engine=engine, submitted_by="soundhub", now=_now())
    world.ids["batch_id"] = result.batch_id
    with session_scope(engine) as s:
        user = s.scalars(select(User).where(User.username == "soundhub")).one()
        response: PartnerResponse = respond(s, user, world.web.violations["P1"], "dispute", "our price is 199",
                                            screenshot=check_screenshot("shot.png", png(40, 30)),
                                            evidence=EvidenceStore.from_settings())
        response.recrawl_status = "done"
        complaint = Complaint(partner_id=world.web.partners["P1"], user_id=user.id, username="soundhub",
                              url="http://127.0.0.1:9/other", comment="undercut", status="done", outcome="compliant",
                              screenshot_sha256=world.web.screenshot_sha)
        s.add(complaint)
        s.flush()
        world.ids["response_id"], world.ids["complaint_id"] = response.id, complaint.id


def _now() -> Any:
    from datetime import UTC, datetime

    return datetime(2026, 5, 5, tzinfo=UTC)


__all__ = ["EXTRA_ACCOUNTS", "PortalWorld", "Shop", "add_portal_objects", "make_portal_app", "product_page",
           "serve_shop"]
