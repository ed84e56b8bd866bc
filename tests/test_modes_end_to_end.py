"""Issue 11 end to end: the same prices in a US `map`, an EU `recommended` and a CN `maximum` scope.

Real policy publication, real detection over stored observations, the real outbox delivering to a
real local webhook, and the CLI forcing a notice: EU prices below the reference are deviations,
never violations, and no partner ever hears of them; US breaches are violations with notices; the
CN cap flags the price above it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from test_alerts_support import WebhookReceiver
from typer.testing import CliRunner

from alerts import deliver_due, enqueue_for_violations, send_digests
from detection import detect
from policies import publish_text
from pricewarden.cli import app
from pricewarden.keys import digest_key
from store import (
    AlertDelivery,
    AuditLog,
    Listing,
    Observation,
    Partner,
    Product,
    Role,
    User,
    Violation,
    session_scope,
)

pytest_plugins = ["test_alerts_support"]

POLICY = """\
policy: Acme modes by market
effective_from: 2026-03-01T00:00
timezone: UTC
currency: USD
scopes:
  - name: us
    regions: [US]
    mode: map
    escalation:
      window_days: 90
      steps:
        - {name: formal_notice, after: 1, notify_partner: true}
  - {name: eu, regions: [EU], mode: recommended, currency: EUR}
  - {name: cn, regions: [CN], mode: maximum, currency: CNY}
rules:
  - {sku: AC-100, scope: us, map: "199.00"}
  - {sku: AC-100, scope: eu, recommended: "229.00"}
  - {sku: AC-100, scope: cn, maximum: "1299.00"}
"""
SEEN = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
NOW = SEEN + timedelta(hours=1)
# region -> (partner code, currency, price seen twice, a compliant price for the other listing)
MARKETS = {"US": ("PUS", "USD", "149.00"), "EU": ("PEU", "EUR", "149.00"), "CN": ("PCN", "CNY", "1499.00")}


@pytest.fixture
def market(db, webhook: WebhookReceiver):
    with session_scope(db) as s:
        bm = User(username="bm", role=Role.BRAND_MANAGER, notification_urls=[webhook.url("/bm")])
        managers = {region: User(username=f"cm-{region.lower()}", role=Role.CHANNEL_MANAGER, regions=[region],
                                 notification_urls=[webhook.url(f"/cm-{region.lower()}")]) for region in MARKETS}
        s.add_all([bm, *managers.values()])
        s.flush()
        product = Product(sku="AC-100", title="Acme AC-100 Wireless Headphones", category="headphones")
        s.add(product)
        s.flush()
        for index, (region, (code, currency, price)) in enumerate(MARKETS.items()):
            partner = Partner(code=code, name=f"Shop {region}", tier="A", regions=[region],
                              channel_manager_id=managers[region].id,
                              notice_urls=[webhook.url(f"/partner-{region.lower()}")])
            s.add(partner)
            s.flush()
            site = f"shop-{region.lower()}.example"
            listing = Listing(url=f"https://{site}/ac-100", site=site, product_id=product.id,
                              partner_id=partner.id, region=region)
            s.add(listing)
            s.flush()
            s.add(Observation(obs_key=digest_key(f"obs-{index}"), source="crawl", listing_id=listing.id,
                              product_id=product.id,
                              partner_id=partner.id, seller_name=partner.name, url=listing.url, observed_at=SEEN,
                              price=Decimal(price), currency=currency, raw_text=price, availability="in_stock",
                              # a site profile's reading, sure enough to accuse alone (extract.auto_confidence)
                              visibility="visible", method="profile", confidence=0.99))
        publish_text(s, POLICY, file="modes.yaml", published_by="bm", now=SEEN - timedelta(days=2))
    return webhook


def _findings(db) -> dict[str, Violation]:
    with session_scope(db) as s:
        rows = s.scalars(select(Violation).where(Violation.kind != "anomaly")).all()
        return {row.region or "": row for row in rows}


def test_each_market_gets_what_its_mode_allows_and_no_more(db, market: WebhookReceiver) -> None:
    with session_scope(db) as s:
        detect(s, now=NOW, anomalies=False)
    found = _findings(db)
    assert set(found) == {"US", "EU", "CN"}
    us, eu, cn = found["US"], found["EU"], found["CN"]
    assert (us.kind, us.mode, us.rule) == ("violation", "map", "below_map")
    assert (us.observed_price, us.allowed_price, us.currency) == (Decimal("149.00"), Decimal("199.00"), "USD")
    assert (eu.kind, eu.mode, eu.rule) == ("deviation", "recommended", "below_recommended")
    assert (eu.observed_price, eu.allowed_price, eu.currency) == (Decimal("149.00"), Decimal("229.00"), "EUR")
    assert eu.escalation_step is None
    assert (cn.kind, cn.mode, cn.rule) == ("violation", "maximum", "above_maximum")
    assert cn.observed_price == Decimal("1499.00") and cn.allowed_price == Decimal("1299.00")
    assert us.gap_pct is not None and eu.gap_pct is not None and cn.gap_pct is not None

    with session_scope(db) as s:
        enqueue_for_violations(s, list(s.scalars(select(Violation))), NOW)
    with session_scope(db) as s:
        deliver_due(s, NOW)
    inbox = market.inbox
    # The US partner gets the formal notice of the ladder step; its channel manager the alert.
    assert len(inbox.at("/partner-us")) == 1
    assert len(inbox.at("/cm-us")) == 1
    # EU: nothing to the partner, nothing to the channel manager who would contact it;
    # the brand manager is informed, in words that are information, not a breach.
    assert inbox.at("/partner-eu") == [] and inbox.at("/cm-eu") == []
    # A deviation is a low-severity item: it reaches the brand manager in the daily digest.
    with session_scope(db) as s:
        send_digests(s, NOW)
    info = [m for m in inbox.at("/bm") if "149" in m.body and "229" in m.body]
    assert info and "no action towards the partner is permitted" in info[0].body
    assert inbox.at("/partner-eu") == [] and inbox.at("/cm-eu") == []
    # CN maximum: a violation, so its manager is alerted.
    assert len(inbox.at("/cm-cn")) == 1

    # Forcing a notice for the EU deviation through the CLI is refused, recorded and sends nothing.
    result = CliRunner().invoke(app, ["alerts", "notice", str(eu.id), "--by", "bm"])
    assert result.exit_code == 1
    with session_scope(db) as s:
        refused = s.scalars(select(AlertDelivery).where(AlertDelivery.violation_id == eu.id,
                                                        AlertDelivery.status == "refused")).all()
        assert refused and all(r.kind == "notice" and r.refusal_reason for r in refused)
        assert s.scalars(select(AuditLog).where(AuditLog.action == "alerts.notice_refused",
                                                AuditLog.entity_id == str(eu.id))).all()
    with session_scope(db) as s:
        deliver_due(s, NOW + timedelta(days=2))
    assert inbox.at("/partner-eu") == []
    assert all(m.path != "/partner-eu" for m in inbox.raw)
