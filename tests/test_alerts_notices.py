"""Formal notices to partners, the refusal rule (issue 11) and secrets never shown."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest
from sqlalchemy import select
from test_alerts_support import NOW, make_world
from typer.testing import CliRunner

from alerts import approve_notice, deliver_due, enqueue_for_violations
from pricewarden.errors import AccessDenied, NoticeRefused
from store import AlertDelivery, AuditLog

INFO_EN = "for your information; no action towards the partner is permitted"

pytest_plugins = ["test_alerts_support"]  # the webhook and smtp receiver fixtures


def _audit(session, action):
    return session.scalars(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)).all()


@pytest.mark.parametrize(
    ("kind", "mode"),
    [("deviation", "recommended"), ("violation", "recommended"), ("violation", "observe"),
     ("anomaly", "map"), ("deviation", "map")],
)
def test_forced_notice_outside_map_or_maximum_is_refused_recorded_and_nothing_reaches_the_partner(
    session, webhook, kind, mode
):
    world = make_world(session, {"P001": [webhook.url("/partner")], "cm": [webhook.url("/cm")],
                                 "bm": [webhook.url("/bm")]})
    violation = world.violation(kind=kind, mode=mode, rule="recommended", region="EU")
    with pytest.raises(NoticeRefused, match=f"refused: violation {violation.id}"):
        approve_notice(session, violation.id, "bm", NOW)
    session.rollback()  # whatever the caller does, the refusal was committed before the raise
    [row] = session.scalars(select(AlertDelivery).where(AlertDelivery.kind == "notice")).all()
    assert row.status == "refused" and row.refusal_reason and str(violation.id) in row.refusal_reason
    [entry] = _audit(session, "alerts.notice_refused")
    assert entry.actor == "bm" and entry.entity_id == str(violation.id)
    deliver_due(session, NOW + timedelta(days=1))
    assert webhook.inbox.at("/partner") == []


def test_recommended_deviation_goes_to_the_brand_manager_as_information_only(session, webhook):
    world = make_world(session, {"P001": [webhook.url("/partner")], "cm": [webhook.url("/cm")],
                                 "bm": [webhook.url("/bm")]})
    deviation = world.violation(kind="deviation", mode="recommended", rule="recommended", region="EU",
                                escalation_step="formal_notice",
                                details={"escalation": {"name": "formal_notice", "notify_partner": True}})
    report = enqueue_for_violations(session, [deviation], NOW)
    assert report.refused and "recommended" in report.refused[0]
    deliver_due(session, NOW)
    assert webhook.inbox.at("/partner") == [] and webhook.inbox.at("/cm") == []
    [info] = webhook.inbox.at("/bm")
    assert INFO_EN in info.body.lower() or INFO_EN in info.body
    assert "violation" not in info.title.lower() and "breach" not in info.body.lower().replace("not a breach", "")
    assert "For information" in info.title


def test_a_notice_row_slipped_into_the_outbox_is_refused_at_send_time(session, webhook):
    world = make_world(session, {"P001": [webhook.url("/partner")]})
    violation = world.violation(kind="deviation", mode="recommended")
    from store.secrets import target_ref

    session.add(AlertDelivery(idempotency_key="x" * 64, kind="notice", violation_id=violation.id,
                              recipient_partner_id=world.partners["P001"].id, recipient_label="partner P001",
                              target_ref=target_ref(0, webhook.url("/partner")), subject="s", body_text="b",
                              status="queued", next_attempt_at=NOW))
    session.commit()
    report = deliver_due(session, NOW)
    assert len(report.refused) == 1 and webhook.inbox.raw == []
    assert _audit(session, "alerts.notice_refused")


@pytest.mark.parametrize(
    ("locale", "must", "title_word"),
    [("en", ["unilateral price policy", "It is not an agreement", "you remain free to set your own resale prices",
             "2026-03-09 14:00 (UTC)", "the minimum advertised price is USD 199.00"], "unilateral"),
     ("zh_CN", ["单方面的价格政策", "并非协议", "您仍可自行决定转售价格", "2026-03-09 14:00 (UTC)"], "单方面")],
)
def test_map_notice_reaches_the_partner_in_its_language_with_evidence_and_is_audited(
    session, webhook, locale, must, title_word
):
    world = make_world(session, {"P001": [webhook.url("/partner")]}, zh_partner=locale.startswith("zh"))
    violation = world.violation(escalation_step="formal_notice")
    rows = approve_notice(session, violation.id, "cm", NOW)
    assert len(rows) == 1
    assert approve_notice(session, violation.id, "bm", NOW) == []  # approving twice sends nothing twice
    deliver_due(session, NOW)
    [notice] = webhook.inbox.at("/partner")
    for text in must:
        assert text in notice.body, text
    assert title_word in notice.title
    assert "agreement" not in notice.body.replace("It is not an agreement", "").replace(
        "your agreement to it", "")
    [(_, data)] = notice.attachments.items()
    import hashlib

    assert hashlib.sha256(data).hexdigest() == world.screenshot
    assert world.html in notice.body
    assert _audit(session, "alerts.notice_queued")[0].actor == "cm"
    assert len(_audit(session, "alerts.notice_sent")) == 1


def test_ladder_step_with_notify_partner_sends_the_notice_through_the_outbox(session, webhook):
    from store import PolicyVersion

    policy = """
policy: Acme
effective_from: 2026-01-01T00:00
timezone: UTC
scopes:
  - name: us
    regions: [US]
    mode: map
    escalation:
      window_days: 90
      steps:
        - {name: warning, after: 1}
        - {name: formal_notice, after: 2, notify_partner: true}
        - {name: rebate_cancelled, after: 3, penalty: true}
rules: []
"""
    session.add(PolicyVersion(version=3, name="Acme", source_sha256="0" * 64, source_text=policy,
                              effective_from=NOW - timedelta(days=60)))
    world = make_world(session, {"P001": [webhook.url("/partner")], "cm": [webhook.url("/cm")]})
    warned = world.violation(escalation_step="warning")
    noticed = world.violation(escalation_step="formal_notice", observed_price=None)
    enqueue_for_violations(session, [warned, noticed], NOW)
    deliver_due(session, NOW)
    assert len(webhook.inbox.at("/cm")) == 2
    [notice] = webhook.inbox.at("/partner")
    assert f"violation {noticed.id}" in notice.body and "formal_notice" in notice.body


def test_only_an_active_manager_may_approve_a_notice(session, webhook):
    from store import User

    world = make_world(session, {"P001": [webhook.url("/partner")]})
    session.add(User(username="reseller", role="partner", partner_id=world.partners["P001"].id))
    violation = world.violation()
    with pytest.raises(AccessDenied):
        approve_notice(session, violation.id, "reseller", NOW)
    with pytest.raises(AccessDenied):
        approve_notice(session, violation.id, "nobody", NOW)
    # cmzh manages P002, not P001: a channel manager acts only for its own partners.
    with pytest.raises(AccessDenied, match="cmzh"):
        approve_notice(session, violation.id, "cmzh", NOW)
    assert approve_notice(session, violation.id, "cm", NOW)


def test_cli_notice_refusal_prints_one_line_and_exits_1(session, webhook, capsys):
    from pricewarden.cli import main

    world = make_world(session, {"P001": [webhook.url("/partner")]})
    violation = world.violation(kind="deviation", mode="recommended")
    session.commit()
    with pytest.raises(SystemExit) as exit_:
        main(["alerts", "notice", str(violation.id), "--by", "bm"])
    assert exit_.value.code == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: refused:") and "recommended" in err and len(err.splitlines()) == 1
    session.expire_all()
    assert session.scalar(select(AlertDelivery.status)) == "refused"
    assert webhook.inbox.raw == []


TOKEN = "s3cr3tT0kenXYZ"
PASSWORD = "hunter2pass"


def test_secrets_never_appear_in_logs_errors_or_the_outbox_list(session, webhook, caplog):
    from pricewarden.cli import app

    url = f"json://bob:{PASSWORD}@127.0.0.1:{webhook.port}/hook/{TOKEN}?token={TOKEN}"
    world = make_world(session, {"cm": [url]})
    world.violation()
    world.violation(partner_id=world.partners["P003"].id)  # P003: no channel manager → bm (no URL)
    session.commit()
    webhook.fail_next = 1
    runner = CliRunner()
    with caplog.at_level(logging.DEBUG):
        sent = runner.invoke(app, ["alerts", "send", "--json", "--now", NOW.isoformat()])
        again = runner.invoke(app, ["alerts", "send", "--now", (NOW + timedelta(hours=1)).isoformat()])
        listed = runner.invoke(app, ["alerts", "list", "--json"])
        table = runner.invoke(app, ["alerts", "list"])
    assert sent.exit_code == 0 and again.exit_code == 0 and listed.exit_code == 0, sent.output
    assert "sent 1" in again.output
    assert any("500" in r.getMessage() or "failed" in r.getMessage().lower() for r in caplog.records
               if r.name == "apprise")
    session.expire_all()
    rows = session.scalars(select(AlertDelivery)).all()
    everything = caplog.text + sent.output + again.output + listed.output + table.output + repr(
        [(r.last_error, r.target_ref, r.recipient_label, r.body_text, r.body_html) for r in rows])
    assert TOKEN not in everything and PASSWORD not in everything
    errors = json.loads(sent.output)["delivery"]["errors"]
    assert any("500" in e for e in errors.values())  # the failure was recorded (redacted), then the retry sent it
    assert all(r.status == "sent" for r in rows)
    assert [m.path.split("?")[0] for m in webhook.inbox.accepted.values()] == [f"/hook/{TOKEN}"]
