"""Message keys unique per installation, alerts on the workspace's clock, a busy demo port in one line."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from test_alerts_support import NOW, WebhookReceiver, make_world

pytest_plugins = ["test_alerts_support"]  # the webhook receiver fixture


def _run(args: list[str]) -> int:
    from pricewarden.cli import main

    try:
        main(args)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def test_two_installations_never_send_the_same_key_for_their_violation_1(
    tmp_path: Path, webhook: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    from alerts import deliver_due, enqueue_for_violations
    from pricewarden.settings import get_settings
    from store import AlertDelivery, Installation, make_engine, session_scope, upgrade

    keys = []
    for name in ("acme-us", "acme-eu"):
        monkeypatch.setenv("PRICEWARDEN_WORKSPACE", str(tmp_path / name))
        get_settings.cache_clear()
        engine = make_engine(f"sqlite:///{tmp_path / name / 'pricewarden.db'}")
        upgrade(engine)  # the installation id is made with the database
        with session_scope(engine) as session:
            [installation] = session.scalars(select(Installation)).all()
            assert len(installation.installation_id) == 32
            world = make_world(session, {"cm": [webhook.url("/shared")]})  # one receiver for both
            violation = world.violation()
            assert violation.id == 1
            assert enqueue_for_violations(session, [violation], NOW).queued == 1
            assert len(deliver_due(session, NOW).sent) == 1
            keys.append(session.scalar(select(AlertDelivery.idempotency_key)))
        engine.dispose()
    received = [m.key for m in webhook.inbox.at("/shared")]
    assert len(set(keys)) == 2 and sorted(received) == sorted(keys)


def test_alerts_send_and_retry_read_the_workspaces_clock(
    session: Any, webhook: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    from store import AlertDelivery, session_scope

    world = make_world(session, {"cm": [webhook.url("/cm")]})
    world.violation()
    session.commit()
    simulated = NOW + timedelta(hours=1)  # the demo's clock: day 2 of March 2026, not today
    monkeypatch.setenv("PRICEWARDEN_CLOCK_OFFSET", repr((simulated - datetime.now(UTC)).total_seconds()))
    webhook.fail_next = 1
    assert _run(["alerts", "send"]) == 0
    with session_scope() as check:
        row = check.scalars(select(AlertDelivery)).one()
        assert abs(row.created_at - simulated) < timedelta(minutes=10), row.created_at
        assert row.status == "queued" and row.next_attempt_at is not None
        # Retried 30 s after the failure, on the simulated clock: due again once that clock passes it.
        assert abs(row.next_attempt_at - (simulated + timedelta(seconds=30))) < timedelta(minutes=10)
    monkeypatch.setenv("PRICEWARDEN_CLOCK_OFFSET",
                       repr((simulated + timedelta(minutes=5) - datetime.now(UTC)).total_seconds()))
    assert _run(["alerts", "retry"]) == 0
    with session_scope() as check:
        row = check.scalars(select(AlertDelivery)).one()
        assert row.status == "sent", row.last_error
        assert row.sent_at is not None and abs(row.sent_at - (simulated + timedelta(minutes=5))) < timedelta(minutes=10)


def test_demo_serve_on_a_busy_port_says_so_in_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRICEWARDEN_")}
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run([str(Path(sys.executable).parent / "pricewarden"), "demo", "serve", "--base-port",
                               str(port)], env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 1, done.stdout + done.stderr
    [line] = done.stderr.strip().splitlines()
    assert line.startswith(f"error: cannot listen on 127.0.0.1:{port} (the control port)"), line
    assert "--base-port" in line
