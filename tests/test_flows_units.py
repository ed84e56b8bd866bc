"""Flow logic without Prefect: the stages' plain functions, the inbox, the receiver, the report, the clock."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from flows import clock, inbox, steps
from flows.receiver import KEY_HEADER, Receiver


@pytest.mark.parametrize(
    ("at", "minutes", "expected"),
    [
        (datetime(2026, 3, 4, 15, 7, 31, 999, tzinfo=UTC), 1, datetime(2026, 3, 4, 15, 7, tzinfo=UTC)),
        (datetime(2026, 3, 4, 15, 7, 31, tzinfo=UTC), 15, datetime(2026, 3, 4, 15, 0, tzinfo=UTC)),
        (datetime(2026, 3, 4, 15, 59, 59, tzinfo=UTC), 15, datetime(2026, 3, 4, 15, 45, tzinfo=UTC)),
    ],
)
def test_slot_floors_the_run_instant(at: datetime, minutes: int, expected: datetime) -> None:
    assert steps.slot(at, minutes) == expected


def test_slot_refuses_naive_instants() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        steps.slot(datetime(2026, 3, 4, 15, 7))


@pytest.mark.parametrize(
    ("day", "utc"),
    [
        (1, datetime(2026, 3, 1, 15, 0, tzinfo=UTC)),   # 10:00 EST
        (7, datetime(2026, 3, 7, 15, 0, tzinfo=UTC)),
        (8, datetime(2026, 3, 8, 14, 0, tzinfo=UTC)),   # DST began that night: 10:00 EDT
    ],
)
def test_simulated_day_starts_at_ten_new_york_time(day: int, utc: datetime) -> None:
    assert clock.day_instant(day) == utc


def test_clock_offset_reaches_store_utcnow_and_child_processes() -> None:
    import store._types as types

    try:
        start = clock.go_to_day(3)
        assert abs((types.utcnow() - start).total_seconds()) < 60
        out = subprocess.run([sys.executable, "-c", "from store._types import utcnow; print(utcnow().isoformat())"],
                             capture_output=True, text=True, check=True)
        child = datetime.fromisoformat(out.stdout.strip())
        assert child.date() == start.date()
    finally:
        clock.uninstall()
    assert abs((types.utcnow() - datetime.now(UTC)).total_seconds()) < 5


def test_crash_point_exits_137_only_at_the_named_stage() -> None:
    code = "from flows.steps import crash_point; crash_point('crawl'); crash_point('detect'); print('alive')"
    alive = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           env={**_env(), steps.CRASH_ENV: "enqueue"})
    dead = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**_env(), steps.CRASH_ENV: "detect"})
    assert (alive.returncode, alive.stdout.strip()) == (0, "alive")
    assert (dead.returncode, dead.stdout) == (137, "")


def _env() -> dict[str, str]:
    import os

    return dict(os.environ)


def test_inbox_lists_partner_folders_and_skips_done_and_failed(tmp_path: Path) -> None:
    for rel in ("P001/a.csv", "P001/b.xlsx", "P002/c.csv", "P002/.hidden.csv", "P002/notes.pdf",
                "done/P001/old.csv", "failed/P003/bad.csv"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x")
    assert [(p, f.name) for p, f in inbox.pending_files(tmp_path)] == [
        ("P001", "a.csv"), ("P001", "b.xlsx"), ("P002", "c.csv")]


def test_inbox_moves_an_unreadable_file_to_failed_with_the_reason(db: object, tmp_path: Path) -> None:
    folder = tmp_path / "inbox"
    (folder / "NOPE").mkdir(parents=True)
    file = folder / "NOPE" / "r.csv"
    file.write_text("sku,price,currency,observed_at\nAC-100,1.00,USD,2026-03-01T10:00Z\n")
    result = inbox.import_one("NOPE", file, folder)
    assert "error" in result
    assert not file.exists()
    assert (folder / "failed" / "NOPE" / "r.csv").exists()
    assert (folder / "failed" / "NOPE" / "r.csv.error.txt").read_text().strip() == result["error"]


def test_feeds_file_is_validated(tmp_path: Path) -> None:
    from pricewarden.errors import ConfigError

    good = tmp_path / "feeds.yaml"
    good.write_text("- {partner: P001, url: 'http://127.0.0.1:1/feed.xml'}\n")
    assert inbox.read_feeds(good) == [{"partner": "P001", "url": "http://127.0.0.1:1/feed.xml"}]
    assert inbox.read_feeds(tmp_path / "absent.yaml") == []
    bad = tmp_path / "bad.yaml"
    bad.write_text("- {url: x}\n")
    with pytest.raises(ConfigError):
        inbox.read_feeds(bad)


def test_receiver_keeps_keys_and_attachment_hashes_and_deduplicates() -> None:
    import base64
    import hashlib

    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    body = json.dumps({"title": "t", "message": "m", "attachments": [
        {"filename": "s.png", "mimetype": "image/png", "base64": base64.b64encode(png).decode()}]}).encode()
    with Receiver() as receiver:
        for key in ("k1", "k1", "k2"):
            request = urllib.request.Request(f"http://127.0.0.1:{receiver.port}/user/carl", data=body,
                                             headers={KEY_HEADER: key, "Content-Type": "application/json"})
            urllib.request.urlopen(request, timeout=5).read()
    assert len(receiver.messages) == 3
    assert [m.key for m in receiver.unique()] == ["k1", "k2"]
    assert receiver.messages[0].path == "/user/carl"
    assert receiver.messages[0].attachments[0]["sha256"] == hashlib.sha256(png).hexdigest()


def test_receiver_gets_a_real_apprise_json_notification() -> None:
    import apprise

    with Receiver() as receiver:
        client = apprise.Apprise()
        assert client.add(receiver.json_url("user/dana") + "?+X-PriceWarden-Key=abc")
        assert client.notify(title="MAP breach", body="AC-100 at 149.00")
    [message] = receiver.messages
    assert (message.title, message.body, message.key) == ("MAP breach", "AC-100 at 149.00", "abc")


def test_schedule_plan_uses_the_settings_crons_and_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    from flows.schedule import plan
    from pricewarden.settings import get_settings

    monkeypatch.setenv("PRICEWARDEN_SCHEDULE__MONITOR_CRON", "5 * * * *")
    monkeypatch.setenv("PRICEWARDEN_TIMEZONE", "Europe/Berlin")
    get_settings.cache_clear()
    rows = {r["deployment"]: r for r in plan()}
    assert rows["monitor"] == {"deployment": "monitor", "flow": "monitor", "cron": "5 * * * *",
                               "timezone": "Europe/Berlin"}
    assert rows["weekly-report"]["cron"] == "0 7 * * MON"


def test_report_renders_findings_escaped_with_evidence_hashes(tmp_path: Path) -> None:
    from decimal import Decimal

    from flows.report import ReportData, render_html

    now = datetime(2026, 3, 6, 15, tzinfo=UTC)
    data = ReportData(title="R", since=now - timedelta(days=7), until=now, generated_at=now,
                      by_partner=[{"partner": "P003", "name": "<b>Shop</b>", "tier": "B", "violation": 1,
                                   "deviation": 0, "anomaly": 0}],
                      by_rule={"map": {"violation": 1}}, by_tier={"B": {"violation": 1}},
                      findings=[{"id": 1, "kind": "violation", "rule": "map", "mode": "map", "status": "open",
                                 "severity": "high", "sku": "AC-100", "partner": "P003", "tier": "B", "region": "US",
                                 "seller": None, "price": Decimal("149.00"), "allowed": Decimal("199.00"),
                                 "currency": "USD", "gap_pct": Decimal("25.1"), "raw_text": "$149.00",
                                 "url": "http://127.0.0.1/x", "policy_version": 1, "rule_ref": "v1 us sku AC-100",
                                 "first_seen_at": now, "last_seen_at": now, "occurrences": 1, "repeat": 1,
                                 "escalation": "warning", "html_sha256": "a" * 64, "screenshot_sha256": "b" * 64,
                                 "screenshot_file": "r-evidence/" + "b" * 64 + ".png"}],
                      health=[{"site": "127.0.0.1:1", "pages": 10, "ok": 9, "failed": 1, "failure_rate": 0.1,
                               "kinds": {"blocked": 1}, "warnings": []}],
                      alerts={"sent": 2}, totals={"violations": 1, "deviations": 0, "anomalies": 0, "open": 1})
    html = render_html(data)
    assert "&lt;b&gt;Shop&lt;/b&gt;" in html and "<b>Shop</b>" not in html
    assert "a" * 64 in html and "b" * 64 in html
    assert 'src="r-evidence/' in html
    assert "149.00 USD" in html and "199.00 USD" in html
    assert "blocked 1" in html
