"""Confirmation before accusation: a violation read by heuristics is read again in real Chromium first.

(With ``extract.auto_confidence`` lowered to 0.5, so that a structured price the page shows stands alone.)

A shop on 127.0.0.1 serves three pages of one partner, each below MAP when read statically: one whose
price is in its schema.org data and on the page (no second reading needed), one read by the heuristic
step whose rendered page shows the same price (the readings agree: the partner notice goes out), and
one whose script replaces the price the static HTML shows (the readings disagree: nothing reaches the
partner until a manager confirms).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from pages_server import serve_pages
from sqlalchemy import Engine, select

from pricewarden.settings import get_settings
from store import AlertDelivery, AuditLog, Listing, Partner, Product, User, Violation, session_scope

POLICY = """\
policy: confirmation test
effective_from: 2026-01-01T00:00
timezone: UTC
currency: USD
scopes:
  - name: us
    regions: [US]
    mode: map
    currency: USD
    escalation:
      window_days: 90
      steps:
        - {name: formal_notice, after: 1, notify_partner: true}
rules:
  - {sku: AC-100, scope: us, map: "99.00"}
  - {sku: AC-200, scope: us, map: "99.00"}
  - {sku: AC-300, scope: us, map: "99.00"}
"""


def _page(title: str, buy_box: str, head: str = "", script: str = "") -> bytes:
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>{head}</head><body>'
            f'<main><h1>{title}</h1><div class="buybox">{buy_box}<button class="add-to-cart">Add to cart</button>'
            f"</div></main>{script}</body></html>").encode()


PAGES = {
    "/p/structured": _page("Acme AC-100", '<span class="price">$89.00</span>', head=(
        '<script type="application/ld+json">{"@context":"https://schema.org","@type":"Product","name":"Acme AC-100",'
        '"offers":{"@type":"Offer","price":"89.00","priceCurrency":"USD"}}</script>')),
    "/p/plain": _page("Acme AC-200", '<span class="price">$89.00</span>'),
    # The static HTML shows last week's price; the page's script shows the one a shopper sees now.
    "/p/scripted": _page("Acme AC-300", '<span class="price" id="now">$89.00</span>', script=(
        "<script>document.getElementById('now').textContent = '$109.00';</script>")),
}


@pytest.fixture
def shop() -> Iterator[str]:
    with serve_pages(PAGES) as base:
        yield base


def _by_sku(s: Any) -> dict[str, Violation]:
    return {v.product.sku: v for v in s.scalars(select(Violation).where(Violation.kind == "violation"))}


def test_a_heuristic_reading_is_confirmed_in_chromium_before_the_partner_hears_of_it(
        db: Engine, shop: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # A threshold low enough for the structured reading to stand alone (the default sends every reading
    # of a site without a profile to a second reading: tests/test_confirm_buy_box.py).
    monkeypatch.setenv("PRICEWARDEN_EXTRACT__AUTO_CONFIDENCE", "0.5")
    get_settings.cache_clear()
    from alerts import approve_notice, enqueue_for_violations
    from alerts.routing import RoutingTable
    from crawlers.run import run_crawl
    from crawlers.targets import active_listings
    from detection.confirm import confirm_by_person, confirm_pending
    from detection.run import detect
    from policies import publish_text
    from pricewarden.errors import NoticeRefused

    with session_scope(db) as s:
        bm = User(username="bm", role="brand_manager", notification_urls=["json://127.0.0.1:9/bm"])
        s.add(bm)
        s.flush()
        partner = Partner(code="P1", name="Shop One", regions=["US"], channel_manager_id=bm.id,
                          notice_urls=["json://127.0.0.1:9/partner"])
        products = {sku: Product(sku=sku, title=sku) for sku in ("AC-100", "AC-200", "AC-300")}
        s.add_all([partner, *products.values()])
        s.flush()
        for path, sku in (("/p/structured", "AC-100"), ("/p/plain", "AC-200"), ("/p/scripted", "AC-300")):
            s.add(Listing(url=shop + path, site=shop.split("/")[2], product_id=products[sku].id,
                          partner_id=partner.id, region="US"))
        publish_text(s, POLICY, file="policy.yaml")
        targets = active_listings(s)
    assert run_crawl(targets, shards=1, at=datetime(2026, 5, 10, 8, tzinfo=UTC), browser=False).failed_shards == []
    table = RoutingTable(brand_managers=("bm",))
    with session_scope(db) as s:
        detect(s, anomalies=False)
        found = _by_sku(s)
        assert {sku: v.confirmation for sku, v in found.items()} == {
            "AC-100": "not_needed", "AC-200": "pending", "AC-300": "pending"}
        assert found["AC-200"].details["confirmation"]["first"]["method"] == "heuristic"
        report = enqueue_for_violations(s, list(found.values()), table=table)
        # Only the structured reading reaches the partner; the others wait, and are not refused.
        assert sorted(report.held) == sorted([found["AC-200"].id, found["AC-300"].id]) and report.refused == []
        notices = s.scalars(select(AlertDelivery).where(AlertDelivery.kind == "notice")).all()
        assert [n.violation_id for n in notices] == [found["AC-100"].id]
        with pytest.raises(NoticeRefused, match=r"held: the price of violation \d+ is not confirmed"):
            approve_notice(s, found["AC-300"].id, "bm")
        # Managers are told the price is unconfirmed (the partner is told nothing).
        from zoneinfo import ZoneInfo

        from alerts.render import violation_context

        unconfirmed = {sku: violation_context(s, v, zone=ZoneInfo("UTC"), review_base_url="http://x",
                                              locale="en")["unconfirmed"] for sku, v in found.items()}
        assert unconfirmed == {"AC-100": False, "AC-200": True, "AC-300": True}

    with session_scope(db) as s:
        counts = confirm_pending(s)  # real Chromium, through the network policy
        assert counts == {"agreed": 1, "disagreed": 1, "failed": 0, "waiting": 0}
        found = _by_sku(s)
        agreed, disagreed = found["AC-200"], found["AC-300"]
        assert agreed.confirmation == "agreed"
        assert agreed.details["confirmation"]["second"]["price"] == "89.00"
        assert agreed.details["confirmation"]["second"]["rendered"] is True
        assert agreed.details["confirmation"]["second"]["method"] == "visible-buy-box"
        assert disagreed.confirmation == "disagreed"
        record = disagreed.details["confirmation"]
        assert (record["first"]["price"], record["second"]["price"], record["agreed"]) == ("89.00", "109.00", False)
        assert s.scalars(select(AuditLog).where(AuditLog.action == "violation.confirmation")).all()
        report = enqueue_for_violations(s, list(found.values()), table=table)
        assert report.held == [disagreed.id]
        notified = {n.violation_id for n in s.scalars(select(AlertDelivery).where(AlertDelivery.kind == "notice",
                                                                                   AlertDelivery.status == "queued"))}
        assert notified == {found["AC-100"].id, agreed.id}

    with session_scope(db) as s:
        manager = s.scalars(select(User).where(User.username == "bm")).one()
        confirm_by_person(s, _by_sku(s)["AC-300"].id, manager, "checked the page by hand: $89.00 at 9 am")
        assert approve_notice(s, _by_sku(s)["AC-300"].id, "bm")
        entry = s.scalars(select(AuditLog).where(AuditLog.action == "violation.confirm")).one()
        assert (entry.actor, entry.before, entry.after) == ("bm", {"confirmation": "disagreed"},
                                                            {"confirmation": "confirmed"})


def test_the_evidence_step_renders_a_page_read_again_once_for_its_reading_and_its_picture(
        db: Engine, shop: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # As the monitor's evidence step runs (flows.monitor.evidence_task): second readings first, each page both
    # read again and wanted as evidence photographed in that render; the other pages rendered for their picture.
    monkeypatch.setenv("PRICEWARDEN_EXTRACT__AUTO_CONFIDENCE", "0.5")
    get_settings.cache_clear()
    import crawlers.screenshots as screenshots
    from crawlers.run import run_crawl
    from crawlers.shared_browser import shared_browser
    from crawlers.targets import active_listings
    from detection.run import detect
    from flows.monitor import evidence_task
    from policies import publish_text

    with session_scope(db) as s:
        partner = Partner(code="P1", name="Shop One", regions=["US"])
        products = {sku: Product(sku=sku, title=sku) for sku in ("AC-100", "AC-200", "AC-300")}
        s.add_all([partner, *products.values()])
        s.flush()
        for path, sku in (("/p/structured", "AC-100"), ("/p/plain", "AC-200"), ("/p/scripted", "AC-300")):
            s.add(Listing(url=shop + path, site=shop.split("/")[2], product_id=products[sku].id,
                          partner_id=partner.id, region="US"))
        publish_text(s, POLICY, file="policy.yaml")
        targets = active_listings(s)
    assert run_crawl(targets, shards=1, at=datetime(2026, 5, 10, 8, tzinfo=UTC), browser=False).failed_shards == []
    with session_scope(db) as s:
        detect(s, anomalies=False)
    rendered: list[str] = []
    shoot_in = screenshots._shoot_in

    async def counting(browser: Any, urls: dict[Any, str], *args: Any, **kwargs: Any) -> dict[Any, Any]:
        rendered.extend(urls.values())
        return await shoot_in(browser, urls, *args, **kwargs)

    monkeypatch.setattr(screenshots, "_shoot_in", counting)
    with shared_browser() as shared:
        result = evidence_task.fn()
    assert shared.launches == 1
    assert result["confirmation"] == {"agreed": 1, "disagreed": 1, "failed": 0, "waiting": 0}
    assert (result["wanted"], result["captured"], result["with_reading"]) == (3, 3, 2)
    assert sorted(rendered) == sorted(shop + p for p in ("/p/structured", "/p/plain", "/p/scripted"))  # once each
    with session_scope(db) as s:
        found = _by_sku(s)
        assert all(v.screenshot_sha256 for v in found.values())
        assert {sku: v.confirmation for sku, v in found.items()} == {
            "AC-100": "not_needed", "AC-200": "agreed", "AC-300": "disagreed"}
