"""A snoozed violation leaves the review queue and does not escalate until its snooze ends."""

from __future__ import annotations

from datetime import timedelta

import pytest
from test_alerts_support import NOW, make_world

from alerts import deliver_due, enqueue_for_violations, escalate_due
from alerts.routing import RegionRoute, RoutingTable
from detection import lifecycle
from pricewarden.errors import InvalidTransition

TABLE = RoutingTable(brand_managers=("bm",), regions={"US": RegionRoute(("fb",))}, sla_hours={"critical": 4})
pytest_plugins = ["test_alerts_support"]  # the webhook receiver fixture


def test_it_holds_escalation_while_snoozed_and_resumes_after(session, webhook) -> None:
    world = make_world(session, {n: [webhook.url(f"/{n}")] for n in ("cm", "fb", "bm")})
    violation = world.violation(severity="critical")  # SLA 4 h
    enqueue_for_violations(session, [violation], NOW, TABLE)
    deliver_due(session, NOW)
    cm = world.users["cm"]
    lifecycle.snooze(session, violation.id, cm, NOW + timedelta(days=2), max_days=30, reason="on holiday",
                     now=NOW + timedelta(hours=1))
    assert escalate_due(session, NOW + timedelta(hours=5), TABLE).escalated == 0
    assert escalate_due(session, NOW + timedelta(days=2, hours=1), TABLE).escalated >= 1


def test_it_bounds_a_snooze(session) -> None:
    world = make_world(session, {})
    violation = world.violation()
    cm = world.users["cm"]
    with pytest.raises(InvalidTransition, match="at most 30 days"):
        lifecycle.snooze(session, violation.id, cm, NOW + timedelta(days=31), max_days=30, now=NOW)
    with pytest.raises(InvalidTransition, match="in the future"):
        lifecycle.snooze(session, violation.id, cm, NOW - timedelta(hours=1), max_days=30, now=NOW)
