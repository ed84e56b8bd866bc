"""Routing (who and why), the routing table's validation, SLA escalation, digests and rate limits."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from test_alerts_support import NOW, make_world
from typer.testing import CliRunner

from alerts import (
    RoutingError,
    cancel_for_violation,
    deliver_due,
    enqueue_for_violations,
    escalate_due,
    parse_routing,
    route,
    send_digests,
)
from alerts.routing import RegionRoute, RoutingTable
from store import AlertDelivery

TABLE = RoutingTable(brand_managers=("bm",), regions={"US": RegionRoute(("fb",))},
                     sla_hours={"high": 24, "critical": 4})

pytest_plugins = ["test_alerts_support"]  # the webhook and smtp receiver fixtures


def _who(plan):
    return [[r.username for r in group] for group in plan.levels], [r.username for r in plan.brought_in]


@pytest.mark.parametrize(
    ("case", "fields", "levels", "brought_in", "why"),
    [
        ("partner with a channel manager", {"partner": "P001"}, [["cm"], ["fb"], ["bm"]], [],
         "channel manager of partner P001"),
        ("partner without one: region fallback", {"partner": "P003"}, [["fb"], ["bm"]], [], "fallback for region US"),
        ("region without fallback", {"partner": "P003", "region": "CA"}, [["bm"]], [], "brand manager"),
        ("seller that is no partner", {"partner": None, "seller_name": "GreyShop"}, [["bm"]], [],
         "GreyShop is no partner"),
        ("penalty step brings in the brand manager", {"partner": "P001", "escalation_step": "supply_suspended",
         "details": {"escalation": {"name": "supply_suspended", "penalty": True}}},
         [["cm"], ["fb"], ["bm"]], ["bm"], "channel manager"),
        ("recommended deviation: brand manager only, as information",
         {"partner": "P001", "kind": "deviation", "mode": "recommended"}, [["bm"]], [], "information only"),
        ("observe mode violation: information", {"partner": "P002", "mode": "observe"}, [["bm"]], [], "information"),
    ],
)
def test_route_explains_who_and_why(session, case, fields, levels, brought_in, why):
    world = make_world(session, {})
    partner = fields.pop("partner")
    violation = world.violation(partner_id=world.partners[partner].id if partner else None, **fields)
    plan = route(session, violation, TABLE)
    assert _who(plan) == (levels, brought_in), case
    assert why in plan.levels[0][0].why, plan.levels[0][0].why
    assert plan.kind == ("info" if "information" in why else "alert")


BAD_FILES = [
    ("brand_manager: [bm]\nregions:\n  US:\n    fallbak: carol\n", 4, "regions.US.fallbak"),
    ("sla_hours:\n  high: 24\n  urgent: 2\n", 3, "sla_hours.urgent"),
    ("sla_hours:\n  high: -1\n", 2, "sla_hours.high"),
    ("regions:\n  EU: {fallback: dave, timezone: Mars/Olympus}\n", 2, "regions.EU.timezone"),
    ("brand_manager: {a: b}\n", 1, "brand_manager"),
    ("brand_manager: bm\nescalate: yes\n", 2, "escalate"),
    ("regions: [US]\n", 1, "regions"),
    ("regions:\n  US: {fallback: [a\n", 3, None),  # YAML notices the unclosed list at the end
]


@pytest.mark.parametrize(("text", "line", "field"), BAD_FILES)
def test_routing_table_problems_name_file_line_and_field(text, line, field):
    with pytest.raises(RoutingError) as err:
        parse_routing(text, "ws/routing.yaml")
    [problem] = err.value.problems
    assert (problem.file, problem.line, problem.field) == ("ws/routing.yaml", line, field)
    assert f"ws/routing.yaml:{line}" in str(err.value)


def test_routing_table_good_file_and_defaults(tmp_path: Path):
    from alerts import load_routing

    table = parse_routing("brand_manager: bm\nregions:\n  US: [fb, fb2]\n"
                          "  EU: {fallback: dave, timezone: Europe/Berlin}\n"
                          "sla_hours: {critical: 4, low: 72}\nuser_timezones: {wang: Asia/Shanghai}\n")
    assert table.brand_managers == ("bm",) and table.regions["US"].fallback == ("fb", "fb2")
    assert table.sla_for("critical", 48) == 4 and table.sla_for("medium", 48) == 48
    assert table.zone_for("wang", "EU", "UTC").key == "Asia/Shanghai"
    assert table.zone_for("x", "EU", "UTC").key == "Europe/Berlin"
    assert load_routing(tmp_path / "missing.yaml") == RoutingTable()


def test_unacknowledged_alert_escalates_level_by_level_after_the_sla(session, webhook):
    world = make_world(session, {n: [webhook.url(f"/{n}")] for n in ("cm", "fb", "bm")})
    violation = world.violation(severity="critical")  # SLA 4 h in TABLE
    enqueue_for_violations(session, [violation], NOW, TABLE)
    deliver_due(session, NOW)
    assert escalate_due(session, NOW + timedelta(hours=3, minutes=59), TABLE).escalated == 0
    assert escalate_due(session, NOW + timedelta(hours=4), TABLE).escalated == 1
    assert escalate_due(session, NOW + timedelta(hours=5), TABLE).escalated == 0  # not twice
    deliver_due(session, NOW + timedelta(hours=5))
    [escalated] = webhook.inbox.at("/fb")
    assert "ESCALATED: not acknowledged within 4 h" in escalated.body and "region fallback" in escalated.body
    assert escalate_due(session, NOW + timedelta(hours=8), TABLE).escalated == 1
    deliver_due(session, NOW + timedelta(hours=8))
    assert len(webhook.inbox.at("/bm")) == 1 and len(webhook.inbox.at("/cm")) == 1


def test_acknowledged_violation_does_not_escalate_and_pending_escalations_are_cancelled(session, webhook):
    world = make_world(session, {n: [webhook.url(f"/{n}")] for n in ("cm", "fb", "bm")})
    violation = world.violation(severity="critical")
    enqueue_for_violations(session, [violation], NOW, TABLE)
    deliver_due(session, NOW)
    escalate_due(session, NOW + timedelta(hours=4), TABLE)
    violation.status = "acknowledged"
    session.commit()
    report = deliver_due(session, NOW + timedelta(hours=4))
    assert len(report.refused) == 1 and webhook.inbox.at("/fb") == []
    assert escalate_due(session, NOW + timedelta(days=3), TABLE).escalated == 0


def test_resolved_or_dismissed_violation_stops_alerting(session, webhook):
    world = make_world(session, {"cm": [webhook.url("/cm")]})
    resolved, dismissed = world.violation(), world.violation(observed_price=Decimal("120.00"))
    enqueue_for_violations(session, [resolved, dismissed], NOW, TABLE)
    resolved.status, dismissed.status = "resolved", "dismissed"
    assert cancel_for_violation(session, dismissed.id, "dismissed as false positive by cm") == 1
    session.commit()
    report = deliver_due(session, NOW)
    assert len(report.refused) == 1 and webhook.inbox.raw == []
    reasons = sorted(r.refusal_reason for r in session.scalars(select(AlertDelivery)))
    assert reasons == ["cancelled: violation 1 was resolved before delivery", "dismissed as false positive by cm"]
    assert enqueue_for_violations(session, [resolved], NOW, TABLE).queued == 0


def test_low_severity_waits_for_one_daily_digest_per_recipient(session, webhook):
    world = make_world(session, {"cm": [webhook.url("/cm")], "cmzh": [webhook.url("/cmzh")]})
    low = [world.violation(severity="low", observed_price=Decimal(p)) for p in ("150.00", "151.00")]
    zh = world.violation(severity="medium", partner_id=world.partners["P002"].id)
    high = world.violation(severity="high")
    report = enqueue_for_violations(session, [*low, zh, high], NOW, TABLE)
    assert (report.queued, report.to_digest) == (1, 3)
    deliver_due(session, NOW)
    send_digests(session, NOW + timedelta(hours=18), TABLE)
    send_digests(session, NOW + timedelta(hours=19), TABLE)  # same day: nothing new
    cm = webhook.inbox.at("/cm")
    assert len(cm) == 2  # the immediate alert and one digest
    digest = next(m for m in cm if "digest" in m.title)
    assert "2 open findings" in digest.title
    assert all(f"/violations/{v.id}" in digest.body for v in low)
    assert f"/violations/{high.id}" not in digest.body  # already alerted
    [zh_digest] = webhook.inbox.at("/cmzh")
    assert "每日摘要" in zh_digest.title and f"/violations/{zh.id}" in zh_digest.body
    send_digests(session, NOW + timedelta(days=1, hours=18), TABLE)
    assert len(webhook.inbox.at("/cm")) == 2  # digested once, never again


def test_rate_limit_sends_the_excess_to_the_digest(session, webhook, monkeypatch):
    from pricewarden.settings import get_settings

    monkeypatch.setenv("PRICEWARDEN_ALERTS__RATE_LIMIT_PER_HOUR", "2")
    get_settings.cache_clear()
    world = make_world(session, {"cm": [webhook.url("/cm")]})
    burst = [world.violation(observed_price=Decimal(150 + i)) for i in range(4)]
    report = enqueue_for_violations(session, burst, NOW, TABLE)
    assert (report.queued, report.rate_limited) == (2, 2)
    deliver_due(session, NOW)
    send_digests(session, NOW + timedelta(minutes=30), TABLE)
    [digest] = [m for m in webhook.inbox.at("/cm") if "digest" in m.title]
    assert all(f"/violations/{v.id}" in digest.body for v in burst[2:])
    assert len(webhook.inbox.at("/cm")) == 3
    later = enqueue_for_violations(session, burst, NOW + timedelta(hours=2), TABLE)
    assert later.queued == 0  # digested ones are not alerted again


def test_cli_route_explains_and_json_has_no_urls(session, webhook, monkeypatch, tmp_path):
    from pricewarden.cli import app
    from pricewarden.settings import get_settings

    routing = get_settings().workspace / "routing.yaml"
    routing.parent.mkdir(parents=True, exist_ok=True)
    routing.write_text("brand_manager: bm\nregions:\n  US: {fallback: fb}\n")
    world = make_world(session, {"cm": [webhook.url("/cm-secret-path")]})
    violation = world.violation()
    session.commit()
    runner = CliRunner()
    text = runner.invoke(app, ["alerts", "route", str(violation.id)])
    assert text.exit_code == 0, text.output
    assert all(word in text.output for word in ("cm", "fb", "bm", "channel manager", "region fallback"))
    as_json = runner.invoke(app, ["alerts", "route", str(violation.id), "--json"])
    assert '"username": "cm"' in as_json.output and "secret-path" not in as_json.output
    assert "channel manager of partner P001" in as_json.output and "fallback for region US" in as_json.output
    routing.write_text("regions:\n  US: {fallbak: fb}\n")
    bad = runner.invoke(app, ["alerts", "route", str(violation.id)])
    assert bad.exit_code != 0 and "routing.yaml:2" in str(bad.exception)
