"""The review app in real Chromium (Playwright), served by uvicorn on an ephemeral port over a
workspace with real data: what brand and channel managers do, in English and Chinese, plus axe-core.

Runs on SQLite and PostgreSQL (the ``db`` fixture).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import Engine, select
from web_world import make_app, password

from store import AuditLog, Violation, session_scope
from web.server import bind, url_of

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """The project's Chromium (the system's headless shell), launched once for the module as the crawler
    launches it.

    Playwright's sync API directly, not the pytest-playwright plugin: with the plugin loaded, the
    alerts tests' event loops made every later sync-API test in the run fail ("Sync API inside the
    asyncio loop").
    """
    from playwright.sync_api import sync_playwright

    from crawlers.settings import chromium_launch_options

    with sync_playwright() as pw:
        launched = pw.chromium.launch(**chromium_launch_options())
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh page in its own context (no cookies carried over from another test)."""
    context = browser.new_context()
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def served(db: Engine, tmp_path: Path) -> Iterator[tuple[str, Any, Engine]]:
    """The app over a fresh world, served by uvicorn in a thread on 127.0.0.1 (any free port)."""
    app, world = make_app(db, tmp_path / "ws")
    sock = bind("127.0.0.1", 0)  # listening already: requests wait in the backlog until the loop runs
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield url_of(sock), world, db
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


def _sign_in(page: Page, base: str, name: str, target: str = "/violations") -> None:
    page.goto(f"{base}{target}")
    page.fill("#username", name)
    page.fill("#password", password(name))
    page.click("form.stack button[type=submit]")
    page.wait_for_url(re.compile(re.escape(base + target)))


def test_it_lets_a_brand_manager_filter_open_see_evidence_and_chart_then_dismiss(
        served: tuple[str, Any, Engine], page: Page) -> None:
    base, world, db = served
    vid = world.violations["P1"]
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    _sign_in(page, base, "bianca")
    page.select_option("#f-rule", "below_map")
    page.select_option("#f-partner", "P1")
    page.click(".filters button[type=submit]")
    page.wait_for_url(re.compile(r"rule=below_map.*partner=P1|partner=P1.*rule=below_map"))
    expect(page.locator("#result-count")).to_contain_text("1 violation matches.")
    page.click(f"a[href='/violations/{vid}']")
    page.wait_for_url(f"{base}/violations/{vid}")

    # The screenshot, decoded at full size (not a thumbnail); its SHA-256 verified.
    image = page.locator("#screenshot")
    expect(image).to_be_visible()
    assert image.evaluate("img => img.complete && img.naturalWidth") == 1280
    assert image.evaluate("img => img.getBoundingClientRect().width") >= 1000
    expect(page.locator("[data-check=screenshot]")).to_have_text("verified")
    # The archived page shows, and its script did not run in the sandbox.
    frame = page.frame_locator("#archive")
    expect(frame.locator("h1")).to_have_text("Acme AC-100 headphones")
    assert frame.locator("body").get_attribute("data-script-ran") is None

    # The chart is drawn: Chart.js painted the points on the canvas.
    canvas = page.locator("#history-chart")
    expect(canvas).to_have_attribute("data-drawn", re.compile(r"^[1-9]\d*$"))
    painted = canvas.evaluate("""c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 3; i < d.length; i += 4) { if (d[i] > 0) n++; } return n; }""")
    assert painted > 1000

    page.fill("#dismiss-reason", "bundle price, not the product alone")
    page.click("#dismiss-form button[type=submit]")
    expect(page.locator(".flash-ok")).to_have_text("Dismissed as a false positive.")
    expect(page.locator("#timeline")).to_contain_text("bundle price, not the product alone")
    with session_scope(db) as s:
        assert s.get(Violation, vid).status == "dismissed"  # type: ignore[union-attr]
        entry = s.scalars(select(AuditLog).where(AuditLog.entity_type == "violation",
                                                  AuditLog.entity_id == str(vid))).one()
        assert (entry.actor, entry.action, entry.reason) == ("bianca", "violation.dismissed",
                                                             "bundle price, not the product alone")
    # Only the archived page's own script was blocked (by the sandbox); nothing of the app's was refused.
    assert [e for e in errors if "frame is sandboxed" not in e] == []
    assert any("archive" in e and "sandboxed" in e for e in errors)


def test_it_shows_a_channel_manager_only_their_partners(served: tuple[str, Any, Engine], page: Page) -> None:
    base, world, _db = served
    _sign_in(page, base, "carl")
    ids = page.locator("input[name=ids]").evaluate_all("els => els.map(e => Number(e.value))")
    assert ids == [world.violations["P1"]]
    response = page.goto(f"{base}/violations/{world.violations['P2']}")
    assert response is not None and response.status == 404
    expect(page.locator("h1")).to_have_text("Not found")


def test_it_shows_a_chinese_speaking_user_chinese(served: tuple[str, Any, Engine], page: Page) -> None:
    base, world, _db = served
    _sign_in(page, base, "wang")
    expect(page.locator("h1")).to_have_text("违规")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    page.goto(f"{base}/violations/{world.violations['P3']}")
    expect(page.locator("#h-evidence")).to_have_text("证据")
    expect(page.locator("#h-timeline")).to_have_text("时间线")


def test_it_refuses_a_post_without_the_csrf_token(served: tuple[str, Any, Engine], page: Page) -> None:
    base, world, db = served
    vid = world.violations["P1"]
    _sign_in(page, base, "carl", f"/violations/{vid}")
    page.locator("#dismiss-form input[name=csrf_token]").evaluate("e => e.remove()")
    page.fill("#dismiss-reason", "forged")
    with page.expect_response(f"{base}/violations/{vid}/dismiss") as answer:
        page.click("#dismiss-form button[type=submit]")
    assert answer.value.status == 403
    expect(page.locator("h1")).to_have_text("The form could not be accepted")
    with session_scope(db) as s:
        assert s.get(Violation, vid).status == "open"  # type: ignore[union-attr]


def _axe(page: Page, base: str) -> list[str]:
    # Served by the app itself (vendored), so the page's CSP (script-src 'self') lets it in.
    # (after a click the next document may still be loading: a script tag needs its <head>)
    page.wait_for_load_state("load")
    page.add_script_tag(url=f"{base}/static/vendor/axe-core/axe.min.js")
    found = page.evaluate("async () => (await axe.run(document)).violations"
                          ".map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.length}))")
    return [f"{v['id']} ({v['impact']}, {v['nodes']} nodes)" for v in found if v["impact"] in ("serious", "critical")]


def test_it_has_no_serious_accessibility_problems_on_the_main_pages(served: tuple[str, Any, Engine],
                                                                    page: Page) -> None:
    base, world, _db = served
    page.goto(f"{base}/login")
    problems = {"login": _axe(page, base)}
    _sign_in(page, base, "bianca")
    problems["violations"] = _axe(page, base)
    page.goto(f"{base}/overview")
    expect(page.locator("#compliance-chart")).to_have_attribute("data-drawn", re.compile(r"^[1-9]\d*$"))
    expect(page.locator("#flow-chart")).to_have_attribute("data-drawn", re.compile(r"^[1-9]\d*$"))
    problems["overview"] = _axe(page, base)
    page.goto(f"{base}/violations/{world.violations['P1']}")
    expect(page.locator("#history-chart")).to_have_attribute("data-drawn", re.compile(r"^\d+$"))
    problems["violation"] = _axe(page, base)
    page.goto(f"{base}/violations/999999")
    problems["not found"] = _axe(page, base)
    assert problems == {"login": [], "violations": [], "overview": [], "violation": [], "not found": []}


def test_it_lets_a_channel_manager_pick_the_price_of_an_undecided_page_in_one_click(
        served: tuple[str, Any, Engine], page: Page, tmp_path: Path) -> None:
    from crawlers.profiles import load_profiles
    from store import Observation

    base, world, db = served
    oid = world.undecided["P1"]
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    _sign_in(page, base, "carl", "/undecided")
    card = page.locator(f"#page-{oid}")
    expect(card).to_contain_text("equally prominently")
    row = card.locator("tr", has=page.locator("q", has_text="$89.00"))
    expect(row).to_contain_text("Black")
    row.get_by_role("button", name="$89.00 is the price").click()
    expect(page.locator(".flash-ok")).to_contain_text("reads 89.00. The next crawl uses it.")
    expect(page.locator(f"#page-{oid}")).to_have_count(0)
    with session_scope(db) as s:
        assert s.get(Observation, oid).review == "picked"  # type: ignore[union-attr]
    # The app's workspace is the test's (served: tmp_path / "ws"): the site's profile holds the rule.
    [profile] = load_profiles(tmp_path / "ws" / "profiles")
    assert [(r.selector, r.amount, r.by) for r in profile.price_rules] == [
        ("div.variant.v-black span.price", "89.00", "carl")]
    assert errors == []


def _painted(page: Page, selector: str) -> int:
    """How many pixels of the canvas Chart.js painted."""
    return int(page.locator(selector).evaluate("""c => { const d = c.getContext('2d').getImageData(0, 0, c.width,
        c.height).data; let n = 0; for (let i = 3; i < d.length; i += 4) { if (d[i] > 0) n++; } return n; }"""))


def test_it_walks_a_brand_manager_through_partner_product_sellers_health_and_policy(
        served: tuple[str, Any, Engine], page: Page) -> None:
    base, _world, _db = served
    drawn = re.compile(r"^[1-9]\d*$")
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    _sign_in(page, base, "bianca", "/partners")
    problems = {"partners": _axe(page, base)}
    page.click("#partners a[href='/partners/P1']")
    page.wait_for_url(f"{base}/partners/P1")
    expect(page.locator("#compliance")).to_have_text("25.0 %")
    expect(page.locator("#trend-chart")).to_have_attribute("data-drawn", drawn)
    # 90 days are asked for; the chart starts at the first day with data (a week at least).
    assert 7 <= int(page.locator("#trend-chart").get_attribute("data-days") or 0) < 90
    problems["partner"] = _axe(page, base)
    page.click("#listings a[href='/products/AC-100']")
    page.wait_for_url(f"{base}/products/AC-100")
    expect(page.locator("#prices tr.breach")).to_have_count(4)  # P1, P2, P3 and the marketplace seller
    chart = page.locator("#product-chart")
    expect(chart).to_have_attribute("data-drawn", drawn)
    assert int(chart.get_attribute("data-drawn") or 0) == 4 + 3 + 1 + 2  # P1, P2, ZX Deals, the limit
    assert _painted(page, "#product-chart") > 1000
    problems["product"] = _axe(page, base)
    page.click("nav a[href='/sellers']")
    expect(page.locator("#h-unknown + p + section h3")).to_contain_text("ZX Deals")
    problems["sellers"] = _axe(page, base)
    page.click("nav a[href='/health']")
    expect(page.locator("#health-chart")).to_have_attribute("data-drawn", drawn)
    expect(page.locator("#sites")).to_contain_text("Shop Two")
    problems["health"] = _axe(page, base)
    page.click("nav a[href='/policy']")
    problems["policy"] = _axe(page, base)
    page.fill("#ex-sku", "AC-100")
    page.select_option("#ex-partner", "P1")
    page.fill("#ex-at", "2026-05-02T00:00")
    page.click("#explain-form button[type=submit]")
    expect(page.locator(".explain-result .rule-ref")).to_contain_text("v1 us sku AC-100")
    problems["explain"] = _axe(page, base)
    page.click("#diff-form button[type=submit]")
    expect(page.locator("#changes")).to_contain_text("AC-200")
    problems["diff"] = _axe(page, base)
    assert problems == {name: [] for name in problems}
    assert errors == []


def test_it_lets_an_admin_make_a_token_see_it_once_use_it_and_revoke_it(served: tuple[str, Any, Engine],
                                                                        page: Page) -> None:
    import json
    import urllib.error
    import urllib.request

    base, _world, _db = served

    def policy_status(token: str) -> int:
        request = urllib.request.Request(f"{base}/api/v1/policy", headers={"Authorization": f"Bearer {token}"})
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:  # the test's own server
                assert json.load(answer)["partner"] == "P1"
                return int(answer.status)
        except urllib.error.HTTPError as exc:
            return exc.code

    _sign_in(page, base, "admin", "/tokens")
    page.fill("#t-name", "Shop One price feed")
    page.select_option("#t-owner", "partner:P1")
    page.check("input[name=scope][value='policy:read']")
    page.click("form.filters button[type=submit]")
    token = page.locator("#new-token").inner_text()
    assert re.fullmatch(r"pwt_[0-9a-f]{12}_[A-Za-z0-9_-]{43}", token)
    assert _axe(page, base) == []
    assert policy_status(token) == 200
    page.goto(f"{base}/tokens")
    expect(page.get_by_text("Shop One price feed")).to_be_visible()
    assert token not in page.content()
    page.get_by_role("button", name="Revoke").click()
    expect(page.get_by_text("The token was revoked.")).to_be_visible()
    assert policy_status(token) == 401
