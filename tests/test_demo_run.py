"""`pricewarden demo`, the README's main job, run for real: world, receiver, Prefect, crawl, alerts, report."""

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
