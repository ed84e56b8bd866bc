"""A small real world for the web app's tests: catalog, accounts with passwords, a published policy,
observations with real evidence, and violations made by the real detection pass.

Partners: P1 (US, tier A, carl), P2 (US, tier B, dana), P3 (CN maximum scope, wang, who reads Chinese),
P4 (EU recommended scope: a deviation, never told to the partner; no manager);
an unauthorised marketplace seller (no partner: only admin and brand managers see it), a listing found
by discovery, and crawl failures (a broken profile on 127.0.0.1:9, blocks on P2's own site 127.0.0.2:9).
Policy v1 in force, v2 (AC-200's MAP up) from June. Accounts:
admin, bianca (brand manager), carl, dana, wang (channel managers), soundhub (P1's partner account),
olga (an inactive brand manager). Every password is ``<name>-pass-1``.
"""

from __future__ import annotations

import re
import struct
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from pricewarden.keys import digest_key
from store import CrawlFailure, EvidenceStore, Listing, Observation, Partner, Product, User, Violation, session_scope

POLICY = """\
policy: Acme web test policy
effective_from: 2026-01-01T00:00
timezone: America/New_York
currency: USD
tolerance: "0.00"
scopes:
  - name: us
    regions: [US]
    mode: map
    currency: USD
    escalation:
      window_days: 90
      steps:
        - {name: warning, after: 1}
        - {name: formal_notice, after: 2, notify_partner: true}
  - {name: cn, regions: [CN], mode: maximum, currency: CNY}
  - {name: eu, regions: [EU], mode: recommended, currency: EUR}
rules:
  - {sku: AC-100, scope: us, map: "199.00"}
  - {sku: AC-200, scope: us, map: "99.00"}
  - {sku: AC-100, scope: cn, maximum: "1499.00"}
  - {sku: AC-100, scope: eu, recommended: "229.00"}
"""
# The next version, published before detection but in force only from June (after every observation):
# AC-200's MAP goes up, the rest is unchanged (the policy page's diff).
POLICY_V2 = POLICY.replace("effective_from: 2026-01-01T00:00", "effective_from: 2026-06-01T00:00").replace(
    'map: "99.00"', 'map: "109.00"')
T0 = datetime(2026, 5, 1, 14, tzinfo=UTC)
# Cheap argon2 parameters: verification reads them from the hash, so the app checks these for real.
_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
# A partner page that shows two prices with nothing to say which one it sells: the cascade leaves it undecided.
UNDECIDED_HTML = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Acme AC-200</title></head><body><main>'
    '<h1>Acme AC-200 Earbuds</h1><div class="variants">'
    '<div class="variant v-white"><span class="name">White</span> <span class="price">$119.00</span></div>'
    '<div class="variant v-black"><span class="name">Black</span> <span class="price">$89.00</span></div>'
    '</div><button class="add-to-cart">Add to cart</button></main></body></html>')
ROLES = {"admin": "admin", "bianca": "brand_manager", "carl": "channel_manager", "dana": "channel_manager",
         "wang": "channel_manager", "soundhub": "partner", "olga": "brand_manager"}


def password(name: str) -> str:
    return f"{name}-pass-1"


def png_chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk: its length, type, data and CRC."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png(width: int, height: int, rgb: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    """A real PNG image of one colour (so a browser can decode and show it)."""
    chunk = png_chunk
    row = b"\x00" + bytes(rgb) * width
    raw = zlib.compress(row * height, 9)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


ARCHIVED_HTML = """<!doctype html><html><head><title>Shop One: AC-100</title></head><body>
<h1>Acme AC-100 headphones</h1><p class="price">$179.00</p>
<script>document.body.setAttribute("data-script-ran", "yes"); parent.postMessage("escaped", "*");</script>
</body></html>"""


@dataclass
class WebWorld:
    """Ids of what was made, for the tests to point at."""

    users: dict[str, int] = field(default_factory=dict)
    partners: dict[str, int] = field(default_factory=dict)
    violations: dict[str, int] = field(default_factory=dict)  # "P1", "P2", "P3", "seller"
    undecided: dict[str, int] = field(default_factory=dict)  # "P1": an undecided page of P1's
    screenshot_sha: str = ""
    html_sha: str = ""


def build(engine: Engine, evidence_url: str) -> WebWorld:
    """Make the world in the (emptied) database behind ``engine``; evidence under ``evidence_url``."""
    from detection.run import detect
    from policies import publish_text

    world = WebWorld()
    evidence = EvidenceStore(evidence_url)
    with session_scope(engine) as s:
        users = {name: User(username=name, display_name=name.title(), role=role,
                            locale="zh_CN" if name == "wang" else "en", password_hash=_HASHER.hash(password(name)),
                            active=name != "olga", regions=["CN"] if name == "wang" else ["US"])
                 for name, role in ROLES.items()}
        s.add_all(users.values())
        products = [Product(sku="AC-100", title="Acme AC-100 headphones", category="headphones"),
                    Product(sku="AC-200", title="Acme AC-200 earbuds", category="earbuds")]
        s.add_all(products)
        s.flush()
        partners = {
            "P1": Partner(code="P1", name="Shop One", tier="A", regions=["US"], channel_manager_id=users["carl"].id,
                          notice_urls=["json://127.0.0.1:9/partner/P1"]),
            "P2": Partner(code="P2", name="Shop Two", tier="B", regions=["US"], channel_manager_id=users["dana"].id,
                          domains=["127.0.0.2:9"]),
            "P3": Partner(code="P3", name="华南商城", tier="B", regions=["CN"], channel_manager_id=users["wang"].id,
                          locale="zh_CN"),
            "P4": Partner(code="P4", name="Euro Sound", tier="B", regions=["EU"],
                          notice_urls=["json://127.0.0.1:9/partner/P4"]),
        }
        s.add_all(partners.values())
        s.flush()
        users["soundhub"].partner_id = partners["P1"].id
        listings = {
            "P1": Listing(url="http://127.0.0.1:9/p1/ac-100", site="127.0.0.1:9", product_id=products[0].id,
                          partner_id=partners["P1"].id, region="US"),
            "P2": Listing(url="http://127.0.0.1:9/p2/ac-100", site="127.0.0.1:9", product_id=products[0].id,
                          partner_id=partners["P2"].id, region="US"),
            "P3": Listing(url="http://127.0.0.1:9/p3/ac-100", site="127.0.0.1:9", product_id=products[0].id,
                          partner_id=partners["P3"].id, region="CN"),
            "P4": Listing(url="http://127.0.0.1:9/p4/ac-100", site="127.0.0.1:9", product_id=products[0].id,
                          partner_id=partners["P4"].id, region="EU"),
            "seller": Listing(url="http://127.0.0.1:9/market/ac-100", site="127.0.0.1:9", product_id=products[0].id,
                              region="US", seller_id="zx-deals"),
            "P1-undecided": Listing(url="http://127.0.0.1:9/p1/ac-200", site="127.0.0.1:9", product_id=products[1].id,
                                    partner_id=partners["P1"].id, region="US"),
        }
        s.add_all(listings.values())
        s.add(Listing(url="http://127.0.0.1:9/market/ac-100-refurb", site="127.0.0.1:9", product_id=products[0].id,
                      region="US", discovered=True, match_method="gtin", match_confidence=0.9,
                      first_seen_at=T0 + timedelta(days=2)))
        publish_text(s, POLICY, file="policy.yaml")
        publish_text(s, POLICY_V2, file="policy-june.yaml")
        for n, (site, kind) in enumerate((("127.0.0.1:9", "profile_broken"), ("127.0.0.1:9", "profile_broken"),
                                          ("127.0.0.2:9", "blocked"))):
            s.add(CrawlFailure(failure_key=f"failure-{n}", site=site, url=f"http://{site}/p/{n}", kind=kind,
                               status=403 if kind == "blocked" else 200, detail=f"{kind} in the test world",
                               occurred_at=T0 + timedelta(days=3, hours=n)))
        s.flush()
        world.screenshot_sha = evidence.put(s, png(1280, 900), kind="screenshot", content_type="image/png",
                                            compress=False)
        world.html_sha = evidence.put(s, ARCHIVED_HTML.encode(), kind="html", content_type="text/html")

        def observe(name: str, day: int, price: str, currency: str = "USD", seller: str | None = None) -> None:
            listing = listings[name]
            at = T0 + timedelta(days=day)
            key = digest_key(f"{listing.url}|{at.isoformat()}")
            s.add(Observation(obs_key=key, source="crawl", listing_id=listing.id, product_id=listing.product_id,
                              partner_id=listing.partner_id, url=listing.url, observed_at=at, price=Decimal(price),
                              currency=currency, raw_text=f"{price} {currency}", seller_id=seller,
                              seller_name="ZX Deals" if seller else None, method="structured", confidence=0.99,
                              html_sha256=world.html_sha if name == "P1" else None,
                              screenshot_sha256=world.screenshot_sha if name == "P1" else None))

        for day, price in enumerate(("205.00", "189.00", "179.00", "179.00")):
            observe("P1", day, price)
        for day, price in enumerate(("199.00", "199.00", "150.00")):
            observe("P2", day, price)
        observe("P3", 0, "1599.00", "CNY")
        observe("seller", 1, "120.00", seller="zx-deals")
        observe("P4", 2, "200.00", "EUR")
        undecided = _undecided(s, evidence, listings["P1-undecided"], world.screenshot_sha)
        s.flush()
        world.undecided = {"P1": undecided.id}
        detect(s, anomalies=False)
        world.users = {name: u.id for name, u in users.items()}
        world.partners = {code: p.id for code, p in partners.items()}
        for v in s.scalars(select(Violation).order_by(Violation.id)):
            name = next(k for k, lst in listings.items() if lst.id == v.listing_id)
            world.violations.setdefault(name, v.id)
    return world


def _undecided(s: Session, evidence: EvidenceStore, listing: Listing, screenshot: str) -> Observation:
    """The observation the crawl stores for :data:`UNDECIDED_HTML`: no price, the competing candidates."""
    from crawlers.extract import extract

    result = extract(UNDECIDED_HTML, listing.url)
    assert result.undecided is not None
    html = evidence.put(s, UNDECIDED_HTML.encode(), kind="html", content_type="text/html")
    obs = Observation(
        obs_key=digest_key(f"{listing.url}|undecided"), source="crawl",
        listing_id=listing.id, product_id=listing.product_id, partner_id=listing.partner_id, url=listing.url,
        observed_at=T0 + timedelta(days=3), price=None, method=result.method, confidence=0.0, undecided=True,
        details={"undecided": {"reason": result.undecided, "candidates": [c.as_dict() for c in result.competing]}},
        html_sha256=html, screenshot_sha256=screenshot)
    s.add(obs)
    return obs


def csrf_of(html: str) -> str:
    """The CSRF token in a page's meta tag."""
    found = re.search(r'<meta name="csrf-token" content="([^"]+)"', html)
    assert found, "the page has no CSRF meta tag"
    return found.group(1)


def sign_in(client: Any, name: str, pw: str | None = None) -> Any:
    """Sign ``client`` in through the real form; returns the POST's response."""
    form = client.get("/login")
    token = csrf_of(form.text)
    return client.post("/login", data={"username": name, "password": pw or password(name), "csrf_token": token,
                                       "next": "/violations"}, follow_redirects=False)


def session_of(session: Session, name: str) -> User:
    return session.scalars(select(User).where(User.username == name)).one()


def make_app(engine: Engine, workspace: Any) -> tuple[Any, WebWorld]:
    """The app over ``engine`` with the world built in it (evidence and session key in ``workspace``)."""
    from pricewarden.settings import Settings
    from web.app import create_app

    world = build(engine, str(workspace / "evidence"))
    settings = Settings(workspace=workspace, evidence_url=str(workspace / "evidence"), timezone="America/New_York")
    return create_app(settings, engine=engine), world


def cookie_for(app: Any, engine: Engine, name: str) -> str:
    """A signed session cookie value for user ``name``, as the app would make at sign-in (with a CSRF token)."""
    from store import utcnow
    from web.auth import fingerprint
    from web.security import SessionMiddleware, secret_key

    settings = app.state.settings
    with session_scope(engine) as s:
        user = session_of(s, name)
        data = {"uid": user.id, "login_at": int(utcnow().timestamp()), "fp": fingerprint(user), "locale": "en",
                "csrf": f"token-of-{name}"}
    return SessionMiddleware(app, key=secret_key(settings), max_age=3600).dump(data)


def as_user(setup: tuple[Any, Any, Engine], name: str) -> Any:
    """A test client of ``setup``'s app (``(app, world, engine)``, the ``setup`` fixture) signed in as ``name``."""
    from fastapi.testclient import TestClient

    from web.security import COOKIE

    app, _world, engine = setup
    client = TestClient(app, follow_redirects=False)
    client.cookies.set(COOKIE, cookie_for(app, engine, name))
    return client
