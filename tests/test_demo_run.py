"""`pricewarden demo`, the README's main job, run for real: world, receiver, Prefect, crawl, alerts, report, and
the partner loop (a report by API, a complaint that finds a violation, a policy acknowledgement)."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path


def test_the_demo_monitors_a_day_and_ends_with_alerts_a_report_and_its_time(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PRICEWARDEN_", "PREFECT_")) or k.startswith("PRICEWARDEN_TEST")}
    env["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    env["COLUMNS"] = "200"  # one summary line per fact
    ws = tmp_path / "demo"
    command = [str(Path(sys.executable).parent / "pricewarden"), "demo", "--days", "1", "--workspace", str(ws),
               "--no-serve"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    out = done.stdout
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    # The day's findings: the sandbox's day 4 has P003 below MAP, P008's hidden price, ZX Deals.
    with sqlite3.connect(ws / "pricewarden.db") as db:
        rules = dict(db.execute("select rule, count(*) from violations where kind = 'violation' group by rule"))
        below_map = {row[0] for row in db.execute(
            "select p.code from violations v join partners p on p.id = v.partner_id where v.rule = 'below_map'")}
        kinds = dict(db.execute("select kind, count(*) from crawl_failures group by kind"))
        deliveries = dict(db.execute("select status, count(*) from alert_deliveries group by status"))
        unpictured = db.execute("select count(*) from violations v join observations o on o.id = v.last_observation_id "
                                "where v.kind = 'violation' and o.source = 'crawl' and v.screenshot_sha256 is null"
                                ).fetchone()[0]
    assert {"below_map", "hidden_price", "unauthorised_seller"} <= set(rules)
    # Like with like: per rule, truth episodes, the monitor's findings, matches, precision and recall.
    assert "in violation episodes" in out
    compared = re.search(r"below_map\s*│\s*(\d+)\s*│\s*(\d+)\s*│\s*(\d+)\s*│\s*(\d+)%\s*│\s*(\d+)%", out)
    assert compared is not None, out[-3000:]
    truth, found, matched = (int(compared.group(n)) for n in (1, 2, 3))
    assert truth >= 1 and found == rules["below_map"] and 0 < matched <= found
    assert "P003" in below_map
    assert {"server_error", "blocked", "login_wall"} <= set(kinds)  # planted faults are failures, not prices
    assert unpictured == 0, out[-3000:]  # every violation seen on a page has its screenshot
    assert set(deliveries) == {"sent"}

    # The summary: alerts as delivered and received once each, the report and how to open it, the time.
    sent = deliveries["sent"]
    alerts = re.search(r"Alerts: outbox \{'sent': (\d+)\}; the local receiver got (\d+) messages \((\d+) distinct", out)
    assert alerts is not None, out[-3000:]
    assert int(alerts.group(1)) == sent == int(alerts.group(3)) and int(alerts.group(2)) >= sent
    report = re.search(r"Violation report with evidence: (\S+)", out)
    assert report is not None and Path(report.group(1)).is_file()
    html = Path(report.group(1)).read_text(encoding="utf-8")
    assert "P003" in html and "below_map" in html and ".png" in html
    assert "Open it:" in out and re.search(r"Elapsed: \d+\.\d s", out)

    # The partner loop (issue 20), each line checked against what the database recorded.
    api = re.search(r"API report: partner P005 POST http://127\.0\.0\.1:\d+/api/v1/reports -> 201, receipt (\d+): "
                    r"(\d+) accepted, (\d+) rejected \(row (\d+) sku: unknown SKU 'SH-HOUSE-01'", out)
    complaint = re.search(r"Complaint: partner P001 about (\S+) \((AC-\d+), shown [^)]+\): violation found, "
                          r"violation (\d+)\.", out)
    ack = re.search(r"Policy acknowledgement: p001-pricing \(partner P001\) acknowledged receipt of policy v(\d) at "
                    r"(2026-03-04 1\d:\d\d:\d\d E[SD]T), SHA-256 ([0-9a-f]{64})\.", out)
    assert api is not None and complaint is not None and ack is not None, out[-4000:]
    with sqlite3.connect(ws / "pricewarden.db") as db:
        batch = db.execute("select p.code, b.rows_accepted, b.rows_rejected, b.file_name from report_batches b "
                           "join partners p on p.id = b.partner_id where b.id = ?", (int(api.group(1)),)).fetchone()
        filed = db.execute("select p.code, c.url, c.outcome, c.violation_id, c.status from complaints c "
                           "join partners p on p.id = c.partner_id").fetchall()
        accused = db.execute("select p.code, v.rule, v.kind, v.status, v.url from violations v "
                             "join partners p on p.id = v.partner_id where v.id = ?",
                             (int(complaint.group(3)),)).fetchone()
        receipt = db.execute("select r.acknowledged_by, r.source_sha256, v.source_sha256 from policy_receipts r "
                             "join partners p on p.id = r.partner_id join policy_versions v on v.version = r.version "
                             "where p.code = 'P001' and r.version = ? and r.ask_ack", (int(ack.group(1)),)).fetchone()
        acked = db.execute("select count(*) from audit_log where action = 'policy.acknowledged' "
                           "and actor = 'p001-pricing'").fetchone()[0]
    # Every page P005 lists that day, accepted; its house-brand row rejected by name.
    assert batch == ("P005", int(api.group(2)), 1, "api") and int(api.group(2)) >= 15 and api.group(3) == "1"
    url = complaint.group(1)
    assert filed == [("P001", url, "violation", int(complaint.group(3)), "done")]
    assert accused is not None and accused[0] != "P001" and accused[1:4] == ("below_map", "violation", "open")
    assert accused[4] == url
    assert receipt == ("p001-pricing", ack.group(3), ack.group(3)) and acked == 1
