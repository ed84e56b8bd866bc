"""The partner portal in real Chromium (Playwright), served by uvicorn on an ephemeral port, with a shop on
127.0.0.1 that the crawls read: what a partner does, and what the brand then sees.

Runs on SQLite and PostgreSQL (the ``db`` fixture).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, expect
from portal_world import Shop, make_portal_app, product_page, serve_shop
from sqlalchemy import Engine, select
from web_world import password

from store import PolicyReceipt, session_scope
from web.server import bind, url_of

pytestmark = pytest.mark.browser


@pytest.fixture
def browser() -> Iterator[Browser]:
    """The project's Chromium, launched as the crawler launches it (Playwright's sync API directly)."""
    from playwright.sync_api import sync_playwright

    from crawlers.settings import chromium_launch_options

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(**chromium_launch_options())
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def served(db: Engine) -> Iterator[tuple[str, Any, Any, Engine, Shop]]:
    """The app over the portal world, served by uvicorn in a thread on 127.0.0.1 (any free port)."""
    shops = serve_shop()
    shop = next(shops)
    app, world = make_portal_app(db, shop)
    sock = bind("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield url_of(sock), app, world, db, shop
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()
        if getattr(app.state, "jobs", None) is not None:
            app.state.jobs.shutdown()
        shops.close()


def _sign_in(page: Page, base: str, name: str, landing: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#username", name)
    page.fill("#password", password(name))
    page.click("form.stack button[type=submit]")
    page.wait_for_url(re.compile(re.escape(base + landing)))


def _axe(page: Page, base: str) -> list[str]:
    # (after a click the next document may still be loading: a script tag needs its <head>)
    page.wait_for_load_state("load")
    page.add_script_tag(url=f"{base}/static/vendor/axe-core/axe.min.js")
    found = page.evaluate("async () => (await axe.run(document)).violations"
                          ".map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.length}))")
    return [f"{v['id']} ({v['impact']}, {v['nodes']} nodes)" for v in found if v["impact"] in ("serious", "critical")]


def test_it_lets_a_partner_upload_a_report_and_see_each_rejection(
        served: tuple[str, Any, Any, Engine, Shop], browser: Browser) -> None:
    base, _app, _world, _db, _shop = served
    page = browser.new_page()
    _sign_in(page, base, "soundhub", "/portal")
    page.click("a[href='/portal/reports']")
    today = datetime.now(UTC).date().isoformat()
    report = (f"sku,price,currency,date\nAC-100,199.00,USD,{today}\nAC-999,10.00,USD,{today}\n"
              f"AC-200,abc,USD,{today}\nAC-200,99.00,USD,2999-01-01\n")
    page.set_input_files("#report-file", files=[{"name": "june.csv", "mimeType": "text/csv",
                                                 "buffer": report.encode()}])
    page.click("#upload-form button[type=submit]")
    page.wait_for_url(re.compile(r"/portal/reports/\d+$"))
    expect(page.locator(".flash-ok")).to_have_text("Imported: 1 rows accepted, 3 rejected of 4.")
    rows = page.locator("#rejections tbody tr")
    expect(rows).to_have_count(3)
    assert [rows.nth(i).locator("td").first.inner_text() for i in range(3)] == ["3", "4", "5"]
    expect(rows.nth(0)).to_contain_text("AC-999")
    assert all(rows.nth(i).locator("td").nth(2).inner_text().strip() for i in range(3))  # each with its reason
    assert _axe(page, base) == []


def test_it_lets_a_partner_acknowledge_receipt_of_a_new_policy_and_shows_the_brand(
        served: tuple[str, Any, Any, Engine, Shop], browser: Browser) -> None:
    from test_web_portal import _publish_v2

    base, _app, _world, db, _shop = served
    _report, version = _publish_v2(db)
    page = browser.new_page()
    _sign_in(page, base, "soundhub", "/portal")
    expect(page.locator(f"#pending-ack-{version}")).to_be_visible()
    page.goto(f"{base}/portal/policy")
    expect(page.locator("#mode-notes [data-mode=map]")).to_contain_text("not an agreement")
    assert _axe(page, base) == []
    form = page.locator(f"#ack-form-{version}")
    expect(form).to_contain_text("acknowledgement of receipt, not an agreement")
    form.locator("button").click()
    expect(page.locator(".flash-ok")).to_have_text(f"Receipt of policy version {version} acknowledged.")
    expect(page.locator(f"[data-ack='{version}']")).to_contain_text("Receipt acknowledged by soundhub")
    with session_scope(db) as s:
        receipt = s.scalars(select(PolicyReceipt).where(PolicyReceipt.acknowledged_by == "soundhub")).one()
        sha = receipt.source_sha256
    brand = browser.new_page()
    _sign_in(brand, base, "bianca", "/overview")
    brand.goto(f"{base}/policy/receipts")
    expect(brand.locator(f"[data-ack='P1-{version}']")).to_contain_text("soundhub")
    expect(brand.locator("#policy-receipts")).to_contain_text(sha)


def test_it_lets_a_partner_dispute_and_the_channel_manager_sees_it_on_the_timeline(
        served: tuple[str, Any, Any, Engine, Shop], browser: Browser) -> None:
    base, app, world, _db, _shop = served
    vid = world.web.violations["P1"]
    page = browser.new_page()
    _sign_in(page, base, "soundhub", "/portal")
    page.click(f"a[href='/portal/violations/{vid}']")
    page.wait_for_url(f"{base}/portal/violations/{vid}")
    assert _axe(page, base) == []
    page.check("#action-dispute")
    page.fill("#respond-comment", "the 179 was a bundle with a case")
    page.click("#respond-form button[type=submit]")
    expect(page.locator(".flash-ok")).to_contain_text("Your response was sent to the brand")
    expect(page.locator("#responses")).to_contain_text("the 179 was a bundle with a case")
    app.state.jobs.join()  # the re-crawl, in its own crawl process
    page.reload()
    expect(page.locator("#responses [data-recrawl]")).to_have_attribute("data-recrawl", "done")
    manager = browser.new_page()
    _sign_in(manager, base, "carl", "/overview")
    manager.goto(f"{base}/violations/{vid}")
    timeline = manager.locator("#timeline")
    expect(timeline).to_contain_text("The partner disputes the violation")
    expect(timeline).to_contain_text("the 179 was a bundle with a case")
    expect(timeline).to_contain_text("Page checked again after the partner's response: checked")
    expect(timeline).to_contain_text("Observed 199.00")


def test_it_lets_a_partner_file_a_complaint_and_see_its_outcome_after_the_crawl(
        served: tuple[str, Any, Any, Engine, Shop], browser: Browser) -> None:
    base, _app, _world, _db, shop = served
    shop.pages["/deals/acme-ac-100"] = product_page("Acme AC-100 headphones", "AC-100", "149.00")
    page = browser.new_page()
    _sign_in(page, base, "soundhub", "/portal")
    page.goto(f"{base}/portal/complaints")
    page.fill("#complaint-url", shop.url("/deals/acme-ac-100"))
    page.fill("#complaint-comment", "this seller undercuts everyone")
    page.click("#complaint-form button[type=submit]")
    page.wait_for_url(re.compile(r"/portal/complaints/\d+$"))
    # The page asks for its outcome (htmx) until the crawl has run: no reload, no sleep.
    expect(page.locator("#outcome")).to_have_attribute("data-outcome", "violation", timeout=120_000)
    expect(page.locator("#outcome")).to_have_text("violation found")
    expect(page.locator("#public-price")).to_have_text("149.00")
    assert "/violations/" not in page.content()
    assert _axe(page, base) == []
