"""Alerts delivered through Apprise to real local receivers: language, evidence, retries, crashes, idempotency."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import textwrap
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from test_alerts_support import (
    NOW,
    PNG,
    WebhookReceiver,
    free_port,
    make_world,
)

from alerts import KEY_HEADER, deliver_due, enqueue_for_violations
from store import AlertDelivery

EN_HEAD = "Price policy violation"
ZH_HEAD = "价格政策违规"

pytest_plugins = ["test_alerts_support"]  # the webhook and smtp receiver fixtures


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize(
    ("manager", "partner", "scheme", "headline", "absent"),
    [
        ("cm", "P001", "json", EN_HEAD, ZH_HEAD),
        ("cm", "P001", "form", EN_HEAD, ZH_HEAD),
        ("cmzh", "P002", "json", ZH_HEAD, EN_HEAD),
        ("cmzh", "P002", "form", ZH_HEAD, EN_HEAD),
    ],
)
def test_alert_arrives_once_in_the_managers_language_with_the_screenshot(
    session, webhook, manager, partner, scheme, headline, absent
):
    world = make_world(session, {manager: [webhook.url(f"/{manager}", scheme)]})
    violation = world.violation(partner_id=world.partners[partner].id)
    report = enqueue_for_violations(session, [violation], NOW)
    assert report.queued == 1
    delivered = deliver_due(session, NOW)
    assert len(delivered.sent) == 1, delivered.errors

    [message] = webhook.inbox.at(f"/{manager}")
    assert len(webhook.inbox.raw) == 1
    row = session.scalar(select(AlertDelivery))
    assert message.key == row.idempotency_key
    assert headline in message.body and absent not in message.body
    assert "AC-100" in message.title
    for fact in ("159.00", "199.00", "20.1 %", "rules[0] sku AC-100 (us)", "3",
                 "https://shop-one.example/p/ac-100", f"http://127.0.0.1:8000/violations/{violation.id}",
                 world.html, world.screenshot, row.idempotency_key):
        assert fact in message.body, fact
    assert "2026-03-02 14:00 (UTC)" in message.body
    [(name, data)] = message.attachments.items()
    assert name.endswith(".png")
    assert _sha(data) == world.screenshot == _sha(PNG)


@pytest.mark.parametrize(("locale", "headline"), [("en", EN_HEAD), ("zh_CN", ZH_HEAD)])
def test_email_through_smtp_has_text_html_and_the_screenshot(session, smtp, locale, headline):
    handler, port = smtp
    world = make_world(session, {"cm": [f"mailto://127.0.0.1:{port}?from=a@example.com&to=b@example.com"]})
    world.users["cm"].locale = locale
    violation = world.violation()
    enqueue_for_violations(session, [violation], NOW)
    assert len(deliver_due(session, NOW).sent) == 1

    [message] = handler.inbox.accepted.values()
    assert message.to == ["b@example.com"]
    assert headline in message.html and headline in message.body
    assert message.key == session.scalar(select(AlertDelivery.idempotency_key))
    [(_, data)] = message.attachments.items()
    assert _sha(data) == world.screenshot


@pytest.mark.parametrize("outage", ["http-500", "connection-refused"])
def test_receiver_down_then_up_every_alert_arrives_exactly_once(session, outage):
    port = free_port()
    receiver = WebhookReceiver(port) if outage == "http-500" else None
    if receiver is not None:
        receiver.fail_next = 2 * 3  # the first two rounds of three alerts fail
    world = make_world(session, {"cm": [f"json://127.0.0.1:{port}/cm"]})
    violations = [world.violation(observed_price=Decimal(p)) for p in ("150.00", "151.00", "152.00")]
    enqueue_for_violations(session, violations, NOW)
    try:
        first = deliver_due(session, NOW)
        assert len(first.retrying) == 3 and not first.sent
        rows = session.scalars(select(AlertDelivery)).all()
        assert {r.status for r in rows} == {"queued"}
        assert {r.next_attempt_at for r in rows} == {NOW + timedelta(seconds=30)}  # backoff from settings
        assert all(r.last_error for r in rows)

        assert deliver_due(session, NOW + timedelta(seconds=29)).as_dict()["sent"] == []  # not due yet
        second_at = NOW + timedelta(seconds=30)
        if receiver is None:
            second = deliver_due(session, second_at)
            assert len(second.retrying) == 3
            receiver = WebhookReceiver(port)  # the receiver comes up
        else:
            second = deliver_due(session, second_at)
            assert len(second.retrying) == 3
        due = {r.next_attempt_at for r in session.scalars(select(AlertDelivery))}
        assert due == {second_at + timedelta(seconds=60)}
        third = deliver_due(session, second_at + timedelta(seconds=60))
        assert len(third.sent) == 3
        assert deliver_due(session, NOW + timedelta(days=1)).sent == []
        assert len(receiver.inbox.raw) == 3 == len(receiver.inbox.accepted)
        assert {r.attempts for r in session.scalars(select(AlertDelivery))} == {3}
    finally:
        if receiver is not None:
            receiver.close()


def test_failed_after_max_attempts_is_kept_and_retry_sends_it(session, webhook, monkeypatch):
    from alerts import retry_failed
    from pricewarden.settings import get_settings

    monkeypatch.setenv("PRICEWARDEN_ALERTS__MAX_ATTEMPTS", "2")
    get_settings.cache_clear()
    world = make_world(session, {"cm": [webhook.url("/cm")]})
    enqueue_for_violations(session, [world.violation()], NOW)
    webhook.fail_next = 2
    deliver_due(session, NOW)
    report = deliver_due(session, NOW + timedelta(hours=1))
    row = session.scalar(select(AlertDelivery))
    assert report.failed == [row.id] and row.status == "failed" and "500" in (row.last_error or "")
    assert retry_failed(session, None, NOW + timedelta(hours=2)) == 1
    assert deliver_due(session, NOW + timedelta(hours=2)).sent == [row.id]
    assert len(webhook.inbox.accepted) == 1


def test_rerun_and_retry_never_queue_or_send_twice(session, webhook):
    world = make_world(session, {"cm": [webhook.url("/cm"), webhook.url("/cm-phone")], "bm": [webhook.url("/bm")]})
    violation = world.violation(escalation_step="rebate_cancelled",
                                details={"escalation": {"name": "rebate_cancelled", "penalty": True}})
    first = enqueue_for_violations(session, [violation], NOW)
    assert first.queued == 3  # two targets of the channel manager + the brand manager (penalty step)
    again = enqueue_for_violations(session, [violation], NOW + timedelta(minutes=5))
    assert again.queued == 0
    deliver_due(session, NOW)
    deliver_due(session, NOW + timedelta(minutes=10))
    enqueue_for_violations(session, [violation], NOW + timedelta(minutes=20))
    deliver_due(session, NOW + timedelta(minutes=30))
    assert sorted(m.path for m in webhook.inbox.raw) == ["/bm", "/cm", "/cm-phone"]
    [penalty] = webhook.inbox.at("/bm")
    assert "PENALTY STEP" in penalty.body and "rebate_cancelled" in penalty.body


CRASHER = textwrap.dedent("""
    from datetime import datetime
    from alerts import deliver_due
    from store import session_scope
    with session_scope() as session:
        deliver_due(session, datetime.fromisoformat({now!r}))
    raise SystemExit("not killed")
""")


def test_killed_between_send_and_record_then_rerun_no_alert_lost_none_twice(session, webhook):
    world = make_world(session, {"cm": [webhook.url("/cm")]})
    enqueue_for_violations(session, [world.violation()], NOW)
    session.commit()
    env = {**os.environ, "PRICEWARDEN_TEST_CRASH_AFTER_SEND": "1"}
    proc = subprocess.run([sys.executable, "-c", CRASHER.format(now=NOW.isoformat())], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == -9, proc.stderr  # SIGKILL right after Apprise returned
    assert len(webhook.inbox.raw) == 1  # it did arrive...
    session.expire_all()
    row = session.scalar(select(AlertDelivery))
    assert row.status == "sending" and row.attempts == 1  # ...but was never recorded as sent

    within_lease = deliver_due(session, NOW + timedelta(seconds=60))
    assert within_lease.sent == [] and len(webhook.inbox.raw) == 1  # the lease protects a live sender

    after_lease = deliver_due(session, NOW + timedelta(seconds=301))
    assert after_lease.recovered == [row.id] and after_lease.sent == [row.id]
    assert deliver_due(session, NOW + timedelta(days=1)).sent == []
    # At-least-once on the wire, exactly once at a receiver that honours the key:
    assert [m.key for m in webhook.inbox.raw] == [row.idempotency_key] * 2
    assert list(webhook.inbox.accepted) == [row.idempotency_key]
    assert webhook.inbox.raw[0].body == webhook.inbox.raw[1].body


def test_key_header_is_added_only_where_the_service_has_headers():
    from alerts.delivery import with_key

    assert with_key("json://h/p", "k") == f"json://h/p?+{KEY_HEADER}=k"
    assert with_key("mailto://h?from=a@b.c", "k") == f"mailto://h?from=a@b.c&+{KEY_HEADER}=k"
    assert with_key("slack://T/B/C", "k") == "slack://T/B/C"
