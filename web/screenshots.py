"""Screenshots of the review app for the documentation, made from the demo world in real Chromium.

    .venv/bin/python -m web.screenshots                       # build the demo world, write docs/images/
    .venv/bin/python -m web.screenshots --workspace WS        # over a workspace `pricewarden demo` left

Without ``--workspace`` it builds the demo world's store in a temporary folder, in this process and in a
few seconds: the demo's catalog and both policy versions (``demo.workspace``), the observations its
storefronts show on days 4-6 (``demo.world``, the days that show every scenario but the price war), each
partner page archived as evidence, crawl failures where the world plants faults, then the real detection
pass; no storefront server, no crawl and no Prefect. The violation shown gets a screenshot of its archived
page, rendered by Chromium. Then it serves the app on an ephemeral port, signs in as the demo's brand
manager and writes ``overview.png``, ``violations.png``, ``violation.png`` and ``partner.png`` to ``--out``
(default ``docs/images``), then signs in as the pricing desk of the partner with the most violations in
``map`` and ``maximum`` scopes and writes ``portal.png``, the partner portal's home as that partner sees
it. Re-run after changing a page; ``tests/test_web_screenshots.py`` checks that the
script runs and that the committed images are there and are real screenshots.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import tempfile
import threading
from datetime import datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

NAMES = ("overview", "violations", "violation", "partner", "portal")
WIDTH = 1400
DEMO_DAYS = (4, 5, 6)
DEMO_USER = "bianca"


def _environment(workspace: Path) -> None:
    from pricewarden.settings import get_settings

    for key, value in (("WORKSPACE", str(workspace)), ("DATABASE_URL", f"sqlite:///{workspace / 'pricewarden.db'}"),
                       ("EVIDENCE_URL", str(workspace / "evidence")), ("TIMEZONE", "America/New_York")):
        os.environ[f"PRICEWARDEN_{key}"] = value
    get_settings.cache_clear()
    from store.db import engine_for

    engine_for.cache_clear()


def build_demo_workspace(workspace: Path, *, seed: int = 7, products: int = 20,
                         days: tuple[int, ...] = DEMO_DAYS) -> Path:
    """The demo world's store in ``workspace`` (catalog, policies, observations of ``days``, detection)."""
    from sqlalchemy import select

    from demo.catalog import TIMEZONE, day_date
    from demo.pages import render, show
    from demo.workspace import write_workspace
    from demo.world import World, default_origins
    from detection.run import detect
    from policies import publish_policy
    from pricewarden.keys import digest_key
    from store import CrawlFailure, EvidenceStore, Listing, Observation, session_scope, upgrade
    from store.catalog import import_catalog

    world = World(seed=seed, products=products)
    origins = default_origins()
    write_workspace(workspace, world, origins)
    _environment(workspace)
    upgrade()
    import_catalog(workspace / "catalog")
    zone = ZoneInfo(TIMEZONE)
    evidence = EvidenceStore(str(workspace / "evidence"))
    with session_scope() as session:
        for path in sorted((workspace / "policies").glob("*.yaml")):
            publish_policy(session, path, published_by="demo")
        listings = {x.url: x for x in session.scalars(select(Listing))}
        for day in days:
            for n, listing in enumerate(world.listings):
                page = world.page(listing, day, origins[listing.family])
                truth = page.truth
                at = datetime.combine(day_date(day), time(9), tzinfo=zone) + timedelta(minutes=n)
                stored = listings.get(truth["url"])
                if stored is None:
                    continue
                if truth["failure"] and truth["failure"]["persistent"]:
                    session.add(CrawlFailure(failure_key=hashlib.sha256(f"{truth['url']}|{day}".encode()).hexdigest(),
                                             listing_id=stored.id, site=stored.site, url=truth["url"],
                                             kind=str(truth["failure"]["kind"]), status=truth["failure"]["status"],
                                             detail="planted by the demo world", occurred_at=at))
                    continue
                base = {"source": "crawl", "listing_id": stored.id, "product_id": stored.product_id,
                        "url": truth["url"], "observed_at": at, "currency": truth["currency"], "method": "structured",
                        "confidence": 0.99, "availability": truth["availability"]}
                if page.spec is not None:
                    html_sha = evidence.put(session, render(page.spec), kind="html", content_type="text/html")
                    hidden = truth["price_visibility"] == "cart"
                    amount = Decimal(truth["cart_price"] if hidden else truth["price"])
                    session.add(Observation(
                        **base, obs_key=digest_key(f"{truth['url']}|{at.isoformat()}"),
                        partner_id=stored.partner_id, seller_name=truth["seller"], price=None if hidden else amount,
                        raw_text=None if hidden else show(amount, truth["currency"]), html_sha256=html_sha,
                        visibility="cart_only" if hidden else "visible",
                        details={"cart_price": str(amount)} if hidden else {}))
                    continue
                for offer in truth["offers"] or ():
                    key = f"{truth['url']}|{offer['seller_id']}|{at.isoformat()}"
                    session.add(Observation(
                        **base, obs_key=digest_key(key), seller_id=offer["seller_id"],
                        seller_name=offer["seller"], price=Decimal(offer["price"]),
                        raw_text=show(Decimal(offer["price"]), "USD"), details={"buy_box": offer["buy_box"]}))
        session.flush()
        detect(session, anomalies=False)
    return workspace


def _shoot_evidence(page: Any, violation_id: int) -> None:
    """Give violation ``violation_id`` (and its observation) a screenshot of its archived page, as the crawler
    would have taken it: the archived HTML rendered by Chromium at the crawler's width."""
    from store import EvidenceStore, Observation, Violation, session_scope

    store = EvidenceStore(os.environ["PRICEWARDEN_EVIDENCE_URL"])
    with session_scope() as session:
        v = session.get(Violation, violation_id)
        if v is None or v.html_sha256 is None or v.screenshot_sha256 is not None:
            return
        html = store.get(v.html_sha256)
        page.set_viewport_size({"width": 1280, "height": 900})
        page.set_content(html.decode("utf-8", "replace"), wait_until="domcontentloaded")
        shot = page.screenshot(full_page=False)
        page.set_viewport_size({"width": WIDTH, "height": 900})
        sha = store.put(session, shot, kind="screenshot", content_type="image/png", compress=False)
        v.screenshot_sha256 = sha
        if v.last_observation_id is not None:
            observation = session.get(Observation, v.last_observation_id)
            if observation is not None:
                observation.screenshot_sha256 = sha


def capture(workspace: Path, out: Path, user: str, password: str, width: int = WIDTH) -> list[Path]:
    """Write the four screenshots of the review app over ``workspace``; returns their paths."""
    import uvicorn
    from playwright.sync_api import sync_playwright
    from sqlalchemy import func, select

    from crawlers.settings import chromium_launch_options
    from demo.workspace import demo_password
    from store import Partner, User, Violation, session_scope
    from web.app import create_app
    from web.server import bind, url_of

    _environment(workspace)
    app = create_app()
    with session_scope() as session:
        chosen = session.scalars(select(Violation.id).where(Violation.kind == "violation", Violation.mode == "map",
                                                            Violation.html_sha256.is_not(None),
                                                            Violation.partner_id.is_not(None))
                                 .order_by(Violation.occurrences.desc(), Violation.id)).first()
        busiest = session.execute(select(Partner.code).join(Violation, Violation.partner_id == Partner.id)
                                  .group_by(Partner.code).order_by(func.count().desc(), Partner.code)).scalars().first()
        # The portal: the partner account whose partner has the most violations a partner is shown (map, maximum).
        desk = session.execute(select(User.username).join(Violation, Violation.partner_id == User.partner_id)
                               .where(User.role == "partner", Violation.mode.in_(("map", "maximum")))
                               .group_by(User.username).order_by(func.count().desc(), User.username)).scalars().first()
    sock = bind("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    base = url_of(sock)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(**chromium_launch_options())
            page = browser.new_page(viewport={"width": width, "height": 900}, timezone_id="America/New_York",
                                    locale="en-US")
            if chosen is not None:
                _shoot_evidence(page, chosen)
            page.goto(f"{base}/login")
            page.fill("#username", user)
            page.fill("#password", password)
            page.click("form.stack button[type=submit]")
            page.wait_for_url(f"{base}/overview")
            targets = [("overview", "/overview?days=7", "#compliance-chart"), ("violations", "/violations", None)]
            if chosen is not None:
                targets.append(("violation", f"/violations/{chosen}", "#history-chart"))
            if busiest is not None:
                targets.append(("partner", f"/partners/{busiest}", "#trend-chart"))
            for name, path, chart in targets:
                page.goto(base + path)
                if chart:
                    page.wait_for_selector(f"{chart}[data-drawn]")
                if name == "violation" and page.locator("#archive").count():
                    page.frame_locator("#archive").locator("body").first.wait_for()
                target = out / f"{name}.png"
                # The violation page: its first screen (a full-page capture leaves the sandboxed frame blank);
                # the others: the whole page, at most 2,400 px high.
                height = page.evaluate("document.documentElement.scrollHeight")
                clip: Any = None if name == "violation" else {"x": 0, "y": 0, "width": width,
                                                              "height": min(height, 2400)}
                page.screenshot(path=str(target), full_page=clip is not None, clip=clip)
                written.append(target)
            if desk is not None:
                # A partner's pricing desk, in a context of its own (no brand manager's cookie).
                context = browser.new_context(viewport={"width": width, "height": 900},
                                              timezone_id="America/New_York", locale="en-US")
                portal = context.new_page()
                portal.goto(f"{base}/login")
                portal.fill("#username", desk)
                portal.fill("#password", demo_password(desk))
                portal.click("form.stack button[type=submit]")
                portal.wait_for_url(f"{base}/portal")
                height = portal.evaluate("document.documentElement.scrollHeight")
                target = out / "portal.png"
                portal.screenshot(path=str(target), full_page=True,
                                  clip={"x": 0, "y": 0, "width": width, "height": min(max(height, 900), 2400)})
                written.append(target)
                context.close()
            browser.close()
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()
    return written


def main() -> None:
    from demo.workspace import demo_password

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workspace", type=Path, help="A workspace to shoot (default: build the demo world).")
    parser.add_argument("--out", type=Path, default=Path("docs/images"))
    parser.add_argument("--user", default=DEMO_USER)
    parser.add_argument("--password", default=None, help="Default: the demo's password for --user.")
    args = parser.parse_args()
    password = args.password or demo_password(args.user)
    with tempfile.TemporaryDirectory(prefix="pw-screenshots-") as scratch:
        workspace = args.workspace.resolve() if args.workspace else build_demo_workspace(Path(scratch) / "ws")
        for path in capture(workspace, args.out.resolve(), args.user, password):
            print(path)


if __name__ == "__main__":
    main()
