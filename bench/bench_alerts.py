"""Benchmark: queue and deliver N alerts (with a screenshot each) to a local json:// webhook; prints rates.

Usage: .venv/bin/python bench/bench_alerts.py [N]
Runs in a throw-away workspace with a SQLite database. Figures on the shared 2-core machine are noisy.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    workspace = Path(tempfile.mkdtemp(prefix="pw-bench-alerts-"))
    os.environ["PRICEWARDEN_WORKSPACE"] = str(workspace)
    os.environ["PRICEWARDEN_ALERTS__RATE_LIMIT_PER_HOUR"] = str(count * 2)
    received: list[int] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(len(self.rfile.read(int(self.headers.get("Content-Length", 0)))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    from alerts import deliver_due, enqueue_for_violations
    from store import Partner, Product, User, Violation, session_scope, upgrade
    from store.evidence import EvidenceStore

    upgrade()
    now = datetime.now(UTC)
    with session_scope() as session:
        cm = User(username="cm", role="channel_manager", locale="en",
                  notification_urls=[f"json://127.0.0.1:{server.server_address[1]}/cm"])
        session.add(cm)
        session.flush()
        partner = Partner(code="P1", name="Shop", channel_manager_id=cm.id, regions=["US"])
        product = Product(sku="AC-100", brand="Acme", title="Headphones")
        session.add_all([partner, product])
        session.flush()
        shot = EvidenceStore.from_settings().put(session, b"\x89PNG\r\n\x1a\n" + os.urandom(150_000),
                                                 kind="screenshot", content_type="image/png")
        violations = [Violation(key=f"k{i}", rule="map", mode="map", severity="high", partner_id=partner.id,
                                product_id=product.id, observed_price=Decimal("150.00") + i,
                                allowed_price=Decimal("199.00"), currency="USD", gap_pct=Decimal("10"),
                                policy_version=1, rule_ref="rules[0]", url=f"https://shop.example/p/{i}",
                                first_seen_at=now, last_seen_at=now, screenshot_sha256=shot, region="US")
                      for i in range(count)]
        session.add_all(violations)
        session.commit()
        started = time.perf_counter()
        report = enqueue_for_violations(session, violations, now)
        session.commit()
        queued_s = time.perf_counter() - started
        started = time.perf_counter()
        delivery = deliver_due(session, now)
        deliver_s = time.perf_counter() - started
    server.shutdown()
    print(f"queued {report.queued} alerts in {queued_s:.2f} s ({report.queued / queued_s:.0f}/s)")
    print(f"delivered {len(delivery.sent)} alerts with a 150 KB screenshot in {deliver_s:.2f} s "
          f"({len(delivery.sent) / deliver_s:.1f}/s); receiver got {len(received)} requests")
    print("(noisy: shared 2-core machine, SQLite, one sender process)")


if __name__ == "__main__":
    main()
