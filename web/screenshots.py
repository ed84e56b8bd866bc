"""Screenshots of the review app for the documentation, made from a demo workspace in real Chromium.

    .venv/bin/python -m web.screenshots WORKSPACE [--out docs/screenshots] [--user bianca --password bianca-demo]

Serves the app over ``WORKSPACE`` (as ``make demo`` leaves it) on an ephemeral port, signs in, and
writes ``overview.png``, ``violations.png`` and ``violation.png`` (the violation with the most
evidence) to ``--out``. Re-run after changing a page so that the pictures stay true.
"""

from __future__ import annotations

import argparse
import os
import threading
from pathlib import Path


def capture(workspace: Path, out: Path, user: str, password: str, width: int = 1400) -> list[Path]:
    """Write the three screenshots; returns their paths."""
    import uvicorn
    from playwright.sync_api import sync_playwright
    from sqlalchemy import select

    from crawlers.settings import chromium_launch_options
    from pricewarden.settings import get_settings
    from store import Violation, session_scope
    from web.app import create_app
    from web.server import bind, url_of

    os.environ["PRICEWARDEN_WORKSPACE"] = str(workspace)
    os.environ.setdefault("PRICEWARDEN_TIMEZONE", "America/New_York")
    get_settings.cache_clear()
    app = create_app()
    with session_scope() as session:
        chosen = session.scalars(select(Violation.id).where(Violation.kind == "violation",
                                                            Violation.screenshot_sha256.is_not(None),
                                                            Violation.partner_id.is_not(None))
                                 .order_by(Violation.occurrences.desc(), Violation.id)).first()
    sock = bind("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    base = url_of(sock)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(**chromium_launch_options())
            page = browser.new_page(viewport={"width": width, "height": 900}, timezone_id="America/New_York")
            page.goto(f"{base}/login")
            page.fill("#username", user)
            page.fill("#password", password)
            page.click("form.stack button[type=submit]")
            page.wait_for_url(f"{base}/overview")
            targets = [("overview", "/overview", "#compliance-chart"), ("violations", "/violations", None)]
            if chosen is not None:
                targets.append(("violation", f"/violations/{chosen}", "#history-chart"))
            for name, path, chart in targets:
                page.goto(base + path)
                if chart:
                    page.wait_for_selector(f"{chart}[data-drawn]")
                if name == "violation" and page.locator("#archive").count():
                    page.frame_locator("#archive").locator("h1").first.wait_for()
                target = out / f"{name}.png"
                # The violation page: its first screen (a full-page capture leaves the sandboxed frame blank).
                page.screenshot(path=str(target), full_page=name != "violation")
                written.append(target)
            browser.close()
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("workspace", type=Path)
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    parser.add_argument("--user", default="bianca")
    parser.add_argument("--password", default="bianca-demo")
    args = parser.parse_args()
    for path in capture(args.workspace.resolve(), args.out, args.user, args.password):
        print(path)


if __name__ == "__main__":
    main()
