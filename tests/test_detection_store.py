"""Detection against the store: lifecycle, idempotency, escalation, access scope, scorecard, CLI.

Runs on SQLite and on PostgreSQL (the ``session`` fixture).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from detection import lifecycle
from detection.queries import get_violation, list_violations, scorecard
from detection.run import detect
from policies import publish_text
from pricewarden.errors import AccessDenied, InvalidTransition, NotFoundError
from pricewarden.keys import digest_key
from store import AuditLog, Evidence, Listing, Observation, Partner, Product, User, Violation

POLICY = """
policy: Acme
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
        - {name: rebate_cancelled, after: 3, penalty: true}
  - {name: eu, regions: [EU], mode: recommended, currency: EUR}
rules:
  - {sku: AC-100, scope: us, map: "199.00"}
  - {sku: AC-100, scope: eu, recommended: "229.00"}
"""
T0 = datetime(2026, 5, 1, 12, tzinfo=UTC)


def day(n: int) -> datetime:
    return T0 + timedelta(days=n)


class World:
    """A small catalog: one SKU, partners P1 (tier A) and P2 (tier B, EU), their managers and users."""

    def __init__(self, session: Session) -> None:
        self.s = session
        self.product = Product(sku="AC-100", title="Headphones", category="headphones")
        self.cm1 = User(username="cm1", role="channel_manager")
        self.cm2 = User(username="cm2", role="channel_manager")
        self.bm = User(username="bm", role="brand_manager")
        session.add_all([self.product, self.cm1, self.cm2, self.bm])
        session.flush()
        self.p1 = Partner(code="P1", name="Shop One", tier="A", regions=["US"], channel_manager_id=self.cm1.id)
        self.p2 = Partner(code="P2", name="Shop Two", tier="B", regions=["EU"], channel_manager_id=self.cm2.id)
        session.add_all([self.p1, self.p2])
        session.flush()
        self.partner_user = User(username="p1user", role="partner", partner_id=self.p1.id)
        self.l1 = Listing(url="http://127.0.0.1:1/p1/ac-100", site="127.0.0.1:1", product_id=self.product.id,
                          partner_id=self.p1.id, region="US")
        self.l2 = Listing(url="http://127.0.0.1:2/p2/ac-100", site="127.0.0.1:2", product_id=self.product.id,
                          partner_id=self.p2.id, region="EU")
        session.add_all([self.partner_user, self.l1, self.l2])
        publish_text(session, POLICY, file="policy.yaml")
        session.flush()

    def observe(self, listing: Listing, at: datetime, price: str | None, *, currency: str = "USD",
                visibility: str = "visible", seller_id: str | None = None) -> Observation:
        key = digest_key(f"{listing.url}|{seller_id}|{at.isoformat()}")
        obs = Observation(obs_key=key, source="crawl", listing_id=listing.id, product_id=self.product.id,
                          url=listing.url, observed_at=at, price=Decimal(price) if price else None,
                          currency=currency, raw_text=f"${price}" if price else None, visibility=visibility,
                          seller_id=seller_id, partner_id=None if seller_id else listing.partner_id)
        self.s.add(obs)
        self.s.flush()
        return obs

    def detect(self, **kwargs: Any) -> Any:
        return detect(self.s, anomalies=False, **kwargs)

    def rows(self, rule: str | None = None) -> list[Violation]:
        query = select(Violation).order_by(Violation.id)
        if rule:
            query = query.where(Violation.rule == rule)
        return list(self.s.scalars(query))


@pytest.fixture
def world(session: Session) -> World:
    return World(session)


def snapshot(rows: list[Violation]) -> list[dict[str, Any]]:
    return [{c.name: getattr(r, c.name) for c in Violation.__table__.columns} for r in rows]


def test_open_extend_auto_resolve_and_reopen_as_repeat(world: World) -> None:
    o1 = world.observe(world.l1, day(0), "180.00")
    o2 = world.observe(world.l1, day(1), "185.00")
    world.observe(world.l1, day(2), "199.00")
    o4 = world.observe(world.l1, day(3), "205.00")
    o5 = world.observe(world.l1, day(4), "170.00")
    summary = world.detect()
    first, repeat = world.rows("below_map")
    assert (first.status, first.occurrences, first.repeat_number) == ("resolved", 2, 1)
    assert (first.first_observation_id, first.last_observation_id) == (o1.id, o2.id)
    assert first.first_seen_at == day(0) and first.last_seen_at == day(1) and first.resolved_at == o4.observed_at
    # The latest evidence of the breach is kept: 185.00 against 199.00, 7.04 %.
    assert (first.observed_price, first.allowed_price, first.gap, first.gap_pct) == (
        Decimal("185.00"), Decimal("199.00"), Decimal("14.00"), Decimal("7.04"))
    assert (first.policy_version, first.mode, first.kind) == (1, "map", "violation")
    assert first.rule_ref == "v1 us sku AC-100 (line 20)"  # no tier A override in this policy
    assert first.url == world.l1.url and first.raw_text == "$185.00"
    assert (repeat.status, repeat.repeat_number, repeat.first_observation_id) == ("open", 2, o5.id)
    assert repeat.key == first.key
    # Tier A and a 14.57 % gap: medium by depth, one step up for tier A.
    assert repeat.severity == "high"
    assert summary.as_dict()["new_violations"] == 2 and summary.as_dict()["resolved_violations"] == 1
    assert world.s.scalars(select(AuditLog).where(AuditLog.action == "violation.auto_resolved")).one()


def full_run_changes_nothing(world: World) -> None:
    """A run over the whole history after an incremental one finds nothing the incremental one missed."""
    before = snapshot(world.rows())
    assert world.detect(full=True).changes == []
    assert snapshot(world.rows()) == before


def test_an_incremental_run_judges_only_what_is_new_and_misses_nothing(world: World) -> None:
    for n, price in enumerate(["180.00", "185.00", "199.00", "205.00"]):
        world.observe(world.l1, day(n), price)
    assert world.detect().mode == "full"  # the first run reads the whole history
    world.observe(world.l1, day(4), "170.00")
    world.observe(world.l1, day(5), "171.00")
    later = world.detect()
    assert (later.mode, later.observations) == ("incremental", 2)
    first, repeat = world.rows("below_map")
    assert (first.status, repeat.status, repeat.occurrences) == ("resolved", "open", 2)
    full_run_changes_nothing(world)
    # A late page (crawled before the last ones, stored after them) reaches back to its own instant.
    world.observe(world.l1, day(3) + timedelta(hours=1), "160.00")
    late = world.detect()
    assert (late.mode, late.observations) == ("incremental", 3)
    full_run_changes_nothing(world)
    assert world.detect().observations == 0  # nothing new


def test_an_observation_committed_after_a_higher_id_is_judged_by_the_next_run(world: World) -> None:
    """On PostgreSQL a crawl can commit id 11 after another committed id 12 and a run marked 12 as
    judged: the ids stored here by hand are that order of commits."""
    from store import DetectionRun

    def observe(obs_id: int, at: datetime, price: str) -> None:
        obs = world.observe(world.l1, at, price)
        obs.id = obs_id
        world.s.flush()

    observe(10_010, day(0), "205.00")
    observe(10_012, day(2), "205.00")
    observe(10_013, day(3), "205.00")
    assert world.detect().mode == "full" and world.rows() == []
    run = world.s.scalars(select(DetectionRun)).one()
    assert (run.observation_id, [r[:2] for r in run.pending]) == (10_013, [[1, 10_009], [10_011, 10_011]])
    observe(10_011, day(1), "180.00")  # the late commit: a breach between the judged ones
    late = world.detect()
    assert (late.mode, late.observations) == ("incremental", 3)
    (breach,) = world.rows("below_map")
    assert (breach.first_seen_at, breach.status, breach.resolved_at) == (day(1), "resolved", day(3))
    full_run_changes_nothing(world)
    # Read once: what is still missing stays pending, the id that came does not.
    assert [r[:2] for r in world.s.scalars(select(DetectionRun).order_by(DetectionRun.id.desc())).first().pending] \
        == [[1, 10_009]]


def test_a_crawl_committing_after_a_run_on_postgresql_is_judged_by_the_next_run(world: World) -> None:
    """Two real transactions: a crawl takes an id, the test's session stores a higher one and runs
    detection, then the crawl commits."""
    engine = world.s.get_bind()
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers: a lower id cannot commit after a higher one")
    for n in (0, 2, 3):
        world.observe(world.l1, day(n), "205.00")
    world.s.commit()
    crawl = engine.connect()
    crawl.begin()
    crawl.execute(Observation.__table__.insert().values(
        obs_key=digest_key("late"), source="crawl", listing_id=world.l1.id, product_id=world.product.id,
        url=world.l1.url, observed_at=day(1), price=Decimal("180.00"), currency="USD", visibility="visible",
        partner_id=world.p1.id, details={}))
    world.observe(world.l1, day(4), "205.00")  # a higher id, committed first
    assert world.detect().observations == 4 and world.rows() == []
    world.s.commit()
    crawl.commit()
    crawl.close()
    late = world.detect()
    assert (late.mode, late.observations) == ("incremental", 4)
    (breach,) = world.rows("below_map")
    assert (breach.first_seen_at, breach.status) == (day(1), "resolved")
    full_run_changes_nothing(world)


def test_a_policy_change_reopens_history_from_its_start_only(world: World) -> None:
    for n in range(5):
        world.observe(world.l1, day(n), "205.00")
    world.detect()
    assert world.rows("below_map") == []
    # Version 2 raises MAP from day 2 (New York midnight): 205.00 breaches from then on, not before.
    publish_text(world.s, POLICY.replace('map: "199.00"', 'map: "209.00"').replace(
        "2026-01-01T00:00", "2026-05-03T00:00"), file="policy-v2.yaml")
    summary = world.detect()
    assert (summary.mode, summary.observations) == ("incremental", 3)
    (row,) = world.rows("below_map")
    assert (row.policy_version, row.first_seen_at, row.occurrences) == (2, day(2), 3)
    full_run_changes_nothing(world)


def test_a_catalog_change_judges_the_whole_history_again(world: World) -> None:
    for n in range(3):
        world.observe(world.l1, day(n), "205.00")
    world.detect()
    world.p1.tier = "B"
    world.s.flush()
    assert world.detect().mode == "full"
    assert world.detect().mode == "incremental"


def test_running_twice_changes_nothing(world: World) -> None:
    for n, price in enumerate(["180.00", "185.00", "199.00", "170.00"]):
        world.observe(world.l1, day(n), price)
    world.observe(world.l2, day(0), "200.00", currency="EUR")
    world.detect()
    before = snapshot(world.rows())
    audits = world.s.scalars(select(AuditLog)).all()
    again = world.detect()
    assert snapshot(world.rows()) == before
    assert len(world.s.scalars(select(AuditLog)).all()) == len(audits)
    assert again.changes == []


def test_incremental_runs_equal_one_run(world: World, session: Session) -> None:
    prices = ["180.00", "185.00", "199.00", "205.00", "170.00", "171.00"]
    for n, price in enumerate(prices[:3]):
        world.observe(world.l1, day(n), price)
    world.detect()
    for n, price in enumerate(prices[3:], start=3):
        world.observe(world.l1, day(n), price)
    world.detect()
    rows = world.rows("below_map")
    assert [(r.status, r.occurrences, r.repeat_number) for r in rows] == [("resolved", 2, 1), ("open", 2, 2)]


def test_recommended_scope_records_a_deviation_never_escalated(world: World) -> None:
    world.observe(world.l2, day(0), "200.00", currency="EUR")
    world.detect()
    (row,) = world.rows()
    assert (row.kind, row.rule, row.mode, row.severity, row.escalation_step) == (
        "deviation", "below_recommended", "recommended", "low", None)


def test_hidden_price_is_its_own_finding(world: World) -> None:
    world.observe(world.l1, day(0), None, visibility="cart_only")
    world.detect()
    assert [(r.rule, r.kind) for r in world.rows()] == [("hidden_price", "violation")]


def test_unknown_marketplace_seller_is_unauthorised(world: World) -> None:
    world.observe(world.l1, day(0), "199.00", seller_id="mkt-777")
    world.detect()
    (row,) = world.rows()
    assert (row.rule, row.partner_id, row.seller_id, row.severity) == ("unauthorised_seller", None, "mkt-777", "high")


@pytest.mark.parametrize(
    ("episode_days", "steps", "offences"),
    [
        ([0], ["warning"], [1]),
        ([0, 10, 20], ["warning", "formal_notice", "rebate_cancelled"], [1, 2, 3]),
        ([0, 10, 20, 30, 40], ["warning", "formal_notice", "rebate_cancelled", "rebate_cancelled", "rebate_cancelled"],
         [1, 2, 3, 4, 5]),
        # At day 100 the 90-day window holds the offences of days 50 and 100, not day 0.
        ([0, 50, 100], ["warning", "formal_notice", "formal_notice"], [1, 2, 2]),
    ],
)
def test_repeat_offences_climb_the_ladder(world: World, episode_days: list[int], steps: list[str],
                                          offences: list[int]) -> None:
    for start in episode_days:  # one breach, then two compliant observations: one episode each
        world.observe(world.l1, day(start), "150.00")
        world.observe(world.l1, day(start + 1), "199.00")
        world.observe(world.l1, day(start + 2), "199.00")
    world.detect()
    rows = world.rows("below_map")
    assert [r.escalation_step for r in rows] == steps
    assert [r.repeat_number for r in rows] == list(range(1, len(steps) + 1))
    assert [r.details["escalation"]["offences_in_window"] for r in rows] == offences
    # The ladder says which steps may notify the partner.
    assert [r.details["escalation"]["notify_partner"] for r in rows] == [s == "formal_notice" for s in steps]


def test_an_old_violation_keeps_its_version_when_the_policy_changes(world: World) -> None:
    world.observe(world.l1, day(0), "180.00")
    world.detect()
    publish_text(world.s, POLICY.replace('map: "199.00"', 'map: "179.00"').replace(
        "2026-01-01T00:00", "2026-05-03T00:00"), file="policy-v2.yaml")
    world.observe(world.l1, day(3), "180.00")  # compliant under v2 (floor 179)
    world.observe(world.l1, day(4), "180.00")
    world.detect()
    (row,) = world.rows("below_map")
    assert (row.policy_version, row.allowed_price, row.observed_price) == (1, Decimal("199.00"), Decimal("180.00"))
    assert row.status == "resolved"


def test_people_transitions_are_audited_and_checked(world: World) -> None:
    world.observe(world.l1, day(0), "180.00")
    world.observe(world.l2, day(0), "200.00", currency="EUR")
    world.detect()
    v1, v2 = world.rows()
    lifecycle.acknowledge(world.s, v1.id, world.cm1, reason="calling them")
    assert v1.status == "acknowledged"
    with pytest.raises(InvalidTransition):
        lifecycle.acknowledge(world.s, v1.id, world.cm1)
    with pytest.raises(InvalidTransition):
        lifecycle.dismiss(world.s, v1.id, world.cm1, reason="  ")
    lifecycle.dismiss(world.s, v1.id, world.cm1, reason="shop shows member price")
    with pytest.raises(InvalidTransition):
        lifecycle.resolve(world.s, v1.id, world.cm1)
    lifecycle.resolve(world.s, v2.id, world.bm, reason="checked")
    entries = world.s.scalars(select(AuditLog).where(AuditLog.entity_type == "violation").order_by(AuditLog.id)).all()
    assert [(e.actor, e.before["status"], e.after["status"], e.reason) for e in entries] == [
        ("cm1", "open", "acknowledged", "calling them"),
        ("cm1", "acknowledged", "dismissed", "shop shows member price"),
        ("bm", "open", "resolved", "checked"),
    ]


def test_a_dismissed_breach_is_not_reopened_while_it_lasts(world: World) -> None:
    world.observe(world.l1, day(0), "180.00")
    world.detect()
    (row,) = world.rows()
    lifecycle.dismiss(world.s, row.id, world.bm, reason="false positive")
    world.observe(world.l1, day(1), "180.00")
    world.detect()
    assert [(r.status, r.occurrences) for r in world.rows()] == [("dismissed", 2)]
    for n in (2, 3):
        world.observe(world.l1, day(n), "199.00")
    world.observe(world.l1, day(4), "150.00")
    world.detect()
    assert [(r.status, r.repeat_number) for r in world.rows()] == [("dismissed", 1), ("open", 2)]


def test_scope_by_role(world: World) -> None:
    world.observe(world.l1, day(0), "180.00")
    world.observe(world.l2, day(0), "200.00", currency="EUR")
    world.detect()
    v1, v2 = world.rows()
    assert [v.id for v in list_violations(world.s, world.bm, {})] == sorted([v1.id, v2.id], reverse=True)
    assert [v.id for v in list_violations(world.s, world.cm1, {})] == [v1.id]
    assert [v.id for v in list_violations(world.s, world.cm2, {"kind": "deviation"})] == [v2.id]
    assert [v.id for v in list_violations(world.s, world.partner_user, {})] == [v1.id]
    assert list_violations(world.s, world.bm, {"partner": "P2", "status": ["open"]}) == [v2]
    assert get_violation(world.s, world.cm2, v2.id) is v2
    with pytest.raises(AccessDenied):
        get_violation(world.s, world.cm1, v2.id)
    with pytest.raises(AccessDenied):  # partners never see the brand's deviations
        get_violation(world.s, world.partner_user, v2.id)
    with pytest.raises(NotFoundError):
        get_violation(world.s, world.bm, 999_999)
    with pytest.raises(AccessDenied):
        lifecycle.acknowledge(world.s, v2.id, world.cm1)
    with pytest.raises(AccessDenied):
        lifecycle.acknowledge(world.s, v1.id, world.partner_user)
    lifecycle.acknowledge(world.s, v2.id, world.cm2)


def test_scorecard(world: World) -> None:
    for n, price in enumerate(["180.00", "199.00", "205.00", "199.00"]):
        world.observe(world.l1, day(n), price)
    world.observe(world.l2, day(0), "200.00", currency="EUR")
    world.detect()
    card = scorecard(world.s, world.bm, since=None)
    p1, p2 = card["by_partner"]
    assert (p1["partner"], p1["judged"], p1["compliant"], p1["compliance_rate"]) == ("P1", 4, 3, 0.75)
    assert (p1["open_violations"], p1["escalation_step"]) == (0, None)
    assert (p2["judged"], p2["compliant"]) == (1, 1)  # a deviation is not non-compliance
    assert {r["region"]: r["judged"] for r in card["by_region"]} == {"EU": 1, "US": 4}
    assert [p["partner"] for p in scorecard(world.s, world.cm2)["by_partner"]] == ["P2"]


def test_detect_and_scorecard_commands(world: World, session: Session) -> None:
    from typer.testing import CliRunner

    from pricewarden.cli import app

    world.observe(world.l1, day(0), "180.00")
    session.commit()
    runner = CliRunner()
    result = runner.invoke(app, ["detect", "--json", "--no-anomalies"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["new_violations"] == 1 and data["by_rule"] == {"below_map": {"new": 1}}
    result = runner.invoke(app, ["detect"])
    assert result.exit_code == 0, result.output
    assert "new" in result.stdout
    result = runner.invoke(app, ["scorecard", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["by_partner"][0]["open_violations"] == 1


def test_partner_misreport_from_reports_cross_check(world: World) -> None:
    web = world.observe(world.l1, day(0), "180.00")
    report = Observation(obs_key=digest_key("r1"), source="partner_report", product_id=world.product.id,
                         partner_id=world.p1.id, observed_at=day(0) + timedelta(hours=2), price=Decimal("199.00"),
                         currency="USD", raw_text="199.00")
    world.s.add(report)
    world.s.flush()
    world.detect()
    (row,) = world.rows("partner_misreport")
    assert (row.kind, row.partner_id, row.observed_price, row.allowed_price, row.first_observation_id) == (
        "violation", world.p1.id, Decimal("180.00"), Decimal("199.00"), report.id)
    assert row.details["explanation"]["web_observation_id"] == web.id
    # Its evidence is the page that showed shoppers 180.00, not the partner's report row.
    assert web.url and (row.url, row.raw_text, row.html_sha256) == (web.url, web.raw_text, web.html_sha256)
    assert row.details["explanation"]["reported_raw_text"] == "199.00"
    from flows.report import ReportData, render_html

    page = render_html(ReportData(title="t", since=day(0), until=day(1), generated_at=day(1), findings=[{
        "id": row.id, "kind": row.kind, "rule": row.rule, "mode": row.mode, "status": row.status,
        "severity": row.severity, "sku": "AC-100", "partner": "P1", "tier": "A", "region": "US", "seller": None,
        "price": row.observed_price, "allowed": row.allowed_price, "currency": row.currency, "gap_pct": row.gap_pct,
        "raw_text": row.raw_text, "url": row.url, "policy_version": row.policy_version, "rule_ref": row.rule_ref,
        "first_seen_at": row.first_seen_at, "last_seen_at": row.last_seen_at, "occurrences": 1, "repeat": 1,
        "escalation": None, "html_sha256": None, "screenshot_sha256": None}]))
    assert "Reported <b>199.00 USD</b>, shop showed\n<b>180.00 USD</b>" in page
    assert f'on <a href="{web.url}">the page</a>' in page
    world.detect()
    assert len(world.rows("partner_misreport")) == 1


def test_a_listing_with_no_valid_observation_for_a_week_is_stale(world: World) -> None:
    world.observe(world.l1, day(0), "199.00")
    for n in range(11):
        world.observe(world.l2, day(n), "229.00", currency="EUR")
    world.observe(world.l1, day(3), None)  # a page without a price is no valid observation
    world.detect()
    (row,) = world.rows("stale_listing")
    # Stale from day 7 on the data's clock (the latest crawl, day 10), whatever the wall clock says.
    assert (row.kind, row.mode, row.status, row.listing_id, row.first_seen_at) == (
        "anomaly", "observe", "open", world.l1.id, day(7))
    world.detect()
    assert len(world.rows("stale_listing")) == 1
    seen = world.observe(world.l1, day(11), "199.00")
    world.detect()
    (row,) = world.rows("stale_listing")
    assert (row.status, row.resolved_at, row.last_observation_id) == ("resolved", seen.observed_at, None)


def test_violations_commands(world: World, session: Session) -> None:
    from typer.testing import CliRunner

    from pricewarden.cli import app

    world.observe(world.l1, day(0), "180.00")
    world.observe(world.l2, day(0), "200.00", currency="EUR")
    world.detect()
    session.commit()
    v1, v2 = world.rows()
    runner = CliRunner()
    listed = json.loads(runner.invoke(app, ["violations", "list", "--json", "--user", "cm1"]).stdout)
    assert [(r["id"], r["rule"], r["observed"], r["allowed"]) for r in listed] == [
        (v1.id, "below_map", "180.00", "199.00")]
    result = runner.invoke(app, ["violations", "dismiss", str(v1.id), "--user", "cm1"])
    assert result.exit_code == 1 and isinstance(result.exception, InvalidTransition)
    result = runner.invoke(app, ["violations", "ack", str(v2.id), "--user", "cm1"])
    assert result.exit_code == 1 and isinstance(result.exception, AccessDenied)
    result = runner.invoke(app, ["violations", "dismiss", str(v1.id), "--user", "cm1", "--reason", "member price",
                                 "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["status"] == "dismissed"
    assert json.loads(runner.invoke(app, ["violations", "list", "--json", "--status", "dismissed"]).stdout)[0][
        "id"] == v1.id


def test_detect_needs_a_published_policy_and_the_scorecard_does_not(session: Session) -> None:
    from pricewarden.errors import DetectionError

    with pytest.raises(DetectionError, match="no policy version is published"):
        detect(session, anomalies=False)
    bm = User(username="bm", role="brand_manager")
    session.add(bm)
    assert scorecard(session, bm) == {"by_partner": [], "by_tier": [], "by_region": []}


def _picture(world: World, sha: str) -> str:
    """A screenshot's evidence row (observations refer to their evidence)."""
    world.s.add(Evidence(sha256=sha, kind="screenshot", location=f"/evidence/{sha}", content_type="image/png",
                         size=1, compressed=False))
    world.s.flush()
    return sha


def test_a_persisting_breach_keeps_its_picture_when_a_later_page_has_none(world: World) -> None:
    shot = _picture(world, "c" * 64)
    first = world.observe(world.l1, day(0), "180.00")
    first.screenshot_sha256 = shot
    world.s.flush()
    world.detect()
    (row,) = world.rows("below_map")
    assert row.screenshot_sha256 == shot
    later = world.observe(world.l1, day(1), "175.00")  # crawled without a browser: no picture
    world.detect()
    world.s.refresh(row)
    assert row.last_observation_id == later.id and row.observed_price == Decimal("175.00")
    assert row.screenshot_sha256 == shot  # not wiped: the violation still has a picture
    newer = world.observe(world.l1, day(2), "170.00")
    newer.screenshot_sha256 = _picture(world, "d" * 64)
    world.s.flush()
    world.detect()
    world.s.refresh(row)
    assert row.screenshot_sha256 == "d" * 64  # a newer picture replaces it


def test_evidence_capture_files_a_rendered_pages_picture_without_a_browser(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    from flows import steps

    obs = world.observe(world.l1, day(0), "180.00")
    world.detect()
    (row,) = world.rows("below_map")
    assert row.screenshot_sha256 is None
    obs.screenshot_sha256 = _picture(world, "e" * 64)  # photographed after detection (a capture that died half-way)
    world.s.commit()
    # No browser can start: only the picture already taken may be filed.
    monkeypatch.setenv("PRICEWARDEN_BROWSER_PATH", "/nonexistent/chromium")
    assert steps.capture_evidence() == {"wanted": 1, "captured": 1, "missed": 0, "browser": 0}
    world.s.refresh(row)
    assert row.screenshot_sha256 == "e" * 64
    assert steps.capture_evidence() == {"wanted": 0, "captured": 0}


def test_evidence_capture_files_a_picture_the_second_reading_took_without_rendering_again(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    import hashlib

    from flows import steps

    obs = world.observe(world.l1, day(0), "180.00")
    world.detect()
    (row,) = world.rows("below_map")
    world.s.commit()
    assert steps.evidence_pages() == {obs.url}
    # The page was photographed by the render of its price's second reading (flows.monitor.evidence_task):
    # no browser can start, and none is needed.
    monkeypatch.setenv("PRICEWARDEN_BROWSER_PATH", "/nonexistent/chromium")
    png = b"\x89PNG\r\n\x1a\n the picture taken with the reading"
    assert steps.capture_evidence(taken={obs.url: png}) == {
        "wanted": 1, "captured": 1, "missed": 0, "browser": 1, "with_reading": 1}
    world.s.refresh(row)
    world.s.refresh(obs)
    assert row.screenshot_sha256 == obs.screenshot_sha256 == hashlib.sha256(png).hexdigest()
    assert steps.evidence_pages() == set()


def test_a_large_batch_of_new_episodes_is_found_by_the_text_search(world: World, monkeypatch: Any) -> None:
    # A batch this size takes the bulk path (on SQLite: the search filled after the rows, not by its trigger).
    monkeypatch.setattr("detection.episodes.BULK_SEARCH", 1)
    from detection.review import ViolationQuery, search_violations

    world.observe(world.l1, day(0), "180.00")
    world.observe(world.l1, day(1), "199.00")
    world.observe(world.l1, day(2), "170.00")
    world.detect()
    page = search_violations(world.s, world.bm, ViolationQuery(q="$170.00"))
    assert [v.observed_price for v in page.rows] == [Decimal("170.00")]  # the list's rows: columns, not objects
    # The trigger is back: a row written later is found too.
    world.observe(world.l1, day(3), "199.00")
    world.observe(world.l1, day(4), "160.00")
    monkeypatch.setattr("detection.episodes.BULK_SEARCH", 1000)
    world.detect()
    found = search_violations(world.s, world.bm, ViolationQuery(q="$160.00")).rows
    assert [v.observed_price for v in found] == [Decimal("160.00")]


def test_a_batch_as_large_as_the_table_leaves_its_indexes_and_statistics_as_they_were(world: World,
                                                                                      monkeypatch: Any) -> None:
    """On SQLite a batch of new episodes at least as large as the table builds the plain indexes after the rows
    (dropped and made again in the run's transaction): the same indexes, DDL and ANALYZE statistics after."""
    connection = world.s.connection()
    if connection.dialect.name != "sqlite":
        pytest.skip("SQLite's indexes")
    monkeypatch.setattr("detection.episodes.BULK_SEARCH", 1)
    listed = "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'violations' ORDER BY name"
    connection.exec_driver_sql("ANALYZE")
    stats = "SELECT idx, stat FROM sqlite_stat1 WHERE tbl = 'violations' ORDER BY idx"
    indexes, analysed = connection.exec_driver_sql(listed).all(), connection.exec_driver_sql(stats).all()
    world.observe(world.l1, day(0), "180.00")
    assert world.detect().count("new", "violation") == 1
    connection = world.s.connection()
    assert connection.exec_driver_sql(listed).all() == indexes
    assert connection.exec_driver_sql(stats).all() == analysed
    plan = connection.exec_driver_sql("EXPLAIN QUERY PLAN SELECT id FROM violations WHERE key = 'x'").all()
    assert "ix_violations_key" in str(plan)


def test_a_run_gives_the_garbage_collector_back_as_it_found_it(world: World) -> None:
    """Detection pauses the cyclic garbage collector for its run only."""
    import gc

    world.observe(world.l1, day(0), "180.00")
    assert gc.isenabled()
    world.detect()
    assert gc.isenabled()
    gc.disable()
    try:
        world.observe(world.l1, day(1), "170.00")
        world.detect()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_an_incremental_run_reading_the_anomaly_context_rolls_up_its_days_as_a_full_refresh(world: World) -> None:
    """With the anomaly models on, an incremental run reads the week before its new observations as context
    and judges that frame; the per-day rollups come from it all the same, equal to a rebuild from scratch."""
    from detection.rollups import refresh
    from store import ComplianceDay

    def rollups() -> list[tuple[Any, ...]]:
        return sorted(world.s.execute(select(ComplianceDay.day, ComplianceDay.partner_id, ComplianceDay.region,
                                             ComplianceDay.judged, ComplianceDay.compliant)).all(), key=str)

    for n in range(10):
        world.observe(world.l1, day(n), "180.00" if n % 4 == 0 else "205.00")
    assert detect(world.s).mode == "full"
    world.observe(world.l1, day(10), "170.00")
    later = detect(world.s)
    assert later.mode == "incremental" and later.observations > 1  # the context before the new day was read
    rolled = rollups()
    assert sum(r[3] for r in rolled) == 11
    refresh(world.s, full=True)
    assert rollups() == rolled


def test_a_run_on_sqlite_gives_its_connection_back_with_the_page_cache_it_had(world: World) -> None:
    """Detection widens SQLite's page cache for its own writes only: the pooled connection keeps its setting."""
    from detection.run import SQLITE_CACHE_KIB

    connection = world.s.connection()
    if connection.dialect.name != "sqlite":
        pytest.skip("a SQLite pragma")
    before = connection.exec_driver_sql("PRAGMA cache_size").scalar_one()
    assert before != -SQLITE_CACHE_KIB
    world.observe(world.l1, day(0), "180.00")
    assert world.detect().as_dict()["new_violations"] == 1
    assert connection.exec_driver_sql("PRAGMA cache_size").scalar_one() == before


def test_a_first_batch_on_postgresql_builds_the_indexes_after_the_rows(world: World, monkeypatch: Any) -> None:
    """On PostgreSQL a batch of new episodes into an empty violations table is copied before its plain indexes
    (dropped and made again in the run's transaction, under a lock): the same indexes after, and the rows found
    through them; a batch into a table that holds rows leaves the indexes alone."""
    connection = world.s.connection()
    if connection.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's indexes")
    monkeypatch.setattr("detection.episodes.BULK_SEARCH", 1)
    listed = "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'violations' ORDER BY indexname"
    indexes = connection.exec_driver_sql(listed).all()
    made: list[str] = []
    monkeypatch.setattr(Connection, "exec_driver_sql", _recording(Connection.exec_driver_sql, made))
    world.observe(world.l1, day(0), "180.00")
    world.observe(world.l1, day(1), "199.00")
    world.observe(world.l1, day(2), "170.00")
    assert world.detect().count("new", "violation") == 1
    assert any(s.startswith("LOCK TABLE") for s in made) and any(s.startswith("DROP INDEX") for s in made)
    connection = world.s.connection()
    assert connection.exec_driver_sql(listed).all() == indexes
    from detection.review import ViolationQuery, search_violations

    assert [v.observed_price for v in search_violations(world.s, world.bm, ViolationQuery(q="$170.00")).rows] == [
        Decimal("170.00")]
    made.clear()
    world.observe(world.l1, day(3), "199.00")
    world.observe(world.l1, day(4), "160.00")
    world.detect()
    assert not any(s.startswith(("LOCK TABLE", "DROP INDEX")) for s in made)


def _recording(method: Any, made: list[str]) -> Any:
    def recorded(self: Any, statement: Any, *args: Any, **kwargs: Any) -> Any:
        made.append(str(statement))
        return method(self, statement, *args, **kwargs)

    return recorded


def test_new_episodes_are_stored_in_first_seen_order_each_with_its_own_instants(world: World) -> None:
    """A first run's new episodes are written in (first seen, rule, first observation) order, whatever order
    their keys were advanced in (here the EU deviation, seen first, has a key that sorts after the US breach's
    rule), and each row keeps its own first and last instants and observations."""
    eu = world.observe(world.l2, day(0), "200.00", currency="EUR")
    world.observe(world.l2, day(1), "201.00", currency="EUR")
    us = world.observe(world.l1, day(2), "180.00")
    world.observe(world.l1, day(3), "199.00")
    world.detect()
    rows = world.rows()
    assert [(v.rule, v.first_seen_at, v.last_seen_at, v.first_observation_id) for v in rows] == [
        ("below_recommended", day(0), day(1), eu.id), ("below_map", day(2), day(2), us.id)]


# Texts that a text transfer escapes or marks: PostgreSQL's COPY writes tab, newline, carriage return and backslash
# escaped and NULL as \N (the frame's read copies the rows as text there).
AWKWARD = ["tab\there", "two\nlines", "carriage\rreturn", "back\\slash", "\\N", "\\\\N\\t", "", "ünïcödé €",
           "quote ' \" %s %(x)s", "007", "1.50", "nan", "NULL"]


def test_the_frame_reads_every_text_and_missing_value_as_stored(world: World) -> None:
    """Every text, instant, price and missing value comes into the observations frame as stored, also texts
    that a text transfer escapes (tabs, newlines, backslashes, the NULL marker's spelling), an empty one and
    ones that look like numbers; narrowed by instant and listing too."""
    from detection.frames import observations_frame
    from detection.tables import NA_E4

    stored = []
    for i, text in enumerate(AWKWARD):
        listing = world.l1 if i % 2 else world.l2
        obs = world.observe(listing, day(i) + timedelta(microseconds=i), f"{150 + i}.0{i % 10}",
                            seller_id=text if i % 3 == 0 else None)
        obs.seller_name, obs.raw_text, obs.url = text, text, None if i % 4 == 0 else f"{listing.url}?q={text}"
        stored.append(obs)
    world.observe(world.l1, day(20), None, visibility="hidden")  # no price
    world.s.flush()
    frame = observations_frame(world.s).set_index("obs_id")
    for obs in [*stored, *world.s.scalars(select(Observation).where(Observation.price.is_(None)))]:
        row = frame.loc[obs.id]
        texts = [row[c] for c in ("seller_id", "seller_name", "raw_text", "url")]
        assert [None if pd.isna(v) else v for v in texts] == [obs.seller_id, obs.seller_name, obs.raw_text, obs.url]
        assert row["observed_at"].to_pydatetime() == obs.observed_at
        assert row["price_e4"] == (int(obs.price * 10_000) if obs.price is not None else NA_E4)
    narrowed = observations_frame(world.s, since=day(5), listing_ids=[world.l1.id], evidence=False)
    assert narrowed["obs_id"].tolist() == [o.id for o in stored[5:] if o.listing_id == world.l1.id] + [
        frame.index[-1]]
    assert [None if pd.isna(v) else v for v in narrowed["seller_name"]] == [
        o.seller_name for o in stored[5:] if o.listing_id == world.l1.id] + [None]


def test_the_frame_reads_each_instant_to_the_microsecond(world: World) -> None:
    """Each stored instant comes into the frame to the microsecond, before 1970 and in whole seconds too
    (PostgreSQL's copy of the frame writes them as text)."""
    from detection.frames import observations_frame

    instants = [datetime(1969, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC), datetime(1970, 1, 1, tzinfo=UTC),
                day(0), day(1) + timedelta(microseconds=1), day(2) + timedelta(microseconds=500_000),
                day(3) + timedelta(seconds=59, microseconds=999_999), datetime(2261, 12, 31, 23, 59, 59, tzinfo=UTC)]
    stored = [world.observe(world.l1, at, "150.00") for at in instants]
    world.s.flush()
    frame = observations_frame(world.s)
    assert frame["obs_id"].tolist() == [o.id for o in stored]
    assert [t.to_pydatetime() for t in frame["observed_at"]] == instants
