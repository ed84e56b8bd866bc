"""One violation: numbers, rule chain, evidence checked, chart data, timeline, and every action with its
bad inputs (no reason, double submit, out of bounds, another manager's partner, a forbidden notice)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from web_world import cookie_for, make_app

from store import AlertDelivery, AuditLog, EvidenceStore, Violation, session_scope
from web.security import COOKIE


@pytest.fixture
def setup(db: Engine, tmp_path: Path) -> tuple[Any, Any, Engine, Path]:
    app, world = make_app(db, tmp_path / "ws")
    return app, world, db, tmp_path / "ws"


def _as(setup: tuple[Any, ...], name: str) -> TestClient:
    app, _world, db, _ws = setup
    client = TestClient(app, follow_redirects=False)
    client.cookies.set(COOKIE, cookie_for(app, db, name))
    return client


def _post(client: TestClient, name: str, url: str, **data: Any) -> Any:
    return client.post(url, data={**data, "csrf_token": f"token-of-{name}"})


def _violation(db: Engine, vid: int) -> Violation:
    with session_scope(db) as s:
        v = s.get(Violation, vid)
        assert v is not None
        s.expunge(v)
        return v


def test_it_shows_the_numbers_the_rule_chain_and_the_verified_evidence(setup: tuple[Any, ...]) -> None:
    _app, world, _db, _ws = setup
    page = _as(setup, "bianca").get(f"/violations/{world.violations['P1']}")
    assert page.status_code == 200
    text = page.text
    assert "179.00 USD" in text and "199.00 USD" in text and "10.1 %" in text  # read, allowed, gap
    assert "<q>179.00 USD</q>" in text  # the price as shown
    assert re.search(r"<mark>\s+\d+\s+- \{sku: AC-100, scope: us, map: &#34;199.00&#34;\}</mark>", text)
    assert "scope us (US), mode map" in text
    assert f"SHA-256 {world.screenshot_sha}" in text and f"SHA-256 {world.html_sha}" in text
    assert text.count('data-check="screenshot">verified') == 1 and 'class="alarm"' not in text
    assert 'id="screenshot"' in text and 'id="archive"' in text and "sandbox" in text
    assert "Opened by detection" in text and "first breach" in text
    assert 'id="notice-form"' in text  # a map scope with a notice address: the control exists


def test_it_shows_a_changed_blob_loudly_and_does_not_serve_it(setup: tuple[Any, ...]) -> None:
    _app, world, _db, ws = setup
    store = EvidenceStore(str(ws / "evidence"))
    path = Path(store._path(world.screenshot_sha, ""))
    path.write_bytes(path.read_bytes() + b"tampered")
    client = _as(setup, "bianca")
    page = client.get(f"/violations/{world.violations['P1']}")
    assert 'class="alarm"' in page.text and "does not match its SHA-256" in page.text
    assert 'data-check="screenshot">MISMATCH' in page.text and 'id="screenshot"' not in page.text
    refused = client.get(f"/violations/{world.violations['P1']}/screenshot")
    assert refused.status_code == 409 and "changed after capture" in refused.text


def test_it_serves_the_archived_page_sandboxed_and_the_screenshot(setup: tuple[Any, ...]) -> None:
    _app, world, _db, _ws = setup
    client = _as(setup, "carl")
    archived = client.get(f"/violations/{world.violations['P1']}/archive")
    assert archived.status_code == 200 and "<script>" in archived.text
    csp = archived.headers["content-security-policy"]
    assert csp.startswith("sandbox;") and "script-src" not in csp and "default-src 'none'" in csp
    assert archived.headers["x-frame-options"] == "SAMEORIGIN"
    shot = client.get(f"/violations/{world.violations['P1']}/screenshot")
    assert shot.headers["content-type"] == "image/png" and shot.content.startswith(b"\x89PNG")
    main = client.get(f"/violations/{world.violations['P1']}")
    assert "script-src 'self'" in main.headers["content-security-policy"]
    assert "unsafe-inline" not in main.headers["content-security-policy"]
    assert main.headers["x-frame-options"] == "DENY" and main.headers["x-content-type-options"] == "nosniff"


def test_it_gives_the_chart_this_listing_the_limit_and_the_other_sellers(setup: tuple[Any, ...]) -> None:
    _app, world, _db, _ws = setup
    data = _as(setup, "bianca").get(f"/violations/{world.violations['P1']}/history.json").json()
    by_kind = {s["kind"]: s for s in data["series"] if s["kind"] != "seller"}
    assert [p["y"] for p in by_kind["listing"]["points"]] == ["205.00", "189.00", "179.00", "179.00"]
    assert {p["y"] for p in by_kind["limit"]["points"]} == {"199.00"} and by_kind["limit"]["step"] is True
    sellers = {s["label"]: [p["y"] for p in s["points"]] for s in data["series"] if s["kind"] == "seller"}
    assert sellers == {"P2": ["199.00", "199.00", "150.00"], "ZX Deals": ["120.00"]}  # USD only: not P3, P4


def test_it_answers_404_outside_the_scope_with_no_hint(setup: tuple[Any, ...]) -> None:
    _app, world, _db, _ws = setup
    client = _as(setup, "dana")
    for suffix in ("", "/history.json", "/screenshot", "/archive"):
        outside = client.get(f"/violations/{world.violations['P1']}{suffix}")
        missing = client.get(f"/violations/999999{suffix}")
        assert outside.status_code == missing.status_code == 404
        assert outside.text.replace(str(world.violations["P1"]), "N") == missing.text.replace("999999", "N")


def test_it_dismisses_with_a_reason_into_the_timeline_and_the_audit_log(setup: tuple[Any, ...]) -> None:
    _app, world, db, _ws = setup
    vid = world.violations["P1"]
    client = _as(setup, "carl")
    refused = _post(client, "carl", f"/violations/{vid}/dismiss", reason="   ")
    assert refused.status_code == 400 and "A reason is needed. Nothing was changed." in refused.text
    assert _violation(db, vid).status == "open"
    done = _post(client, "carl", f"/violations/{vid}/dismiss", reason="the page showed a bundle price")
    assert done.status_code == 303 and done.headers["location"] == f"/violations/{vid}"
    page = client.get(done.headers["location"]).text
    assert "Dismissed as a false positive." in page  # the flash
    assert re.search(r"carl</span><br>Dismissed as a false positive — <span class=\"muted\">the page showed a "
                     r"bundle price", page)
    again = _post(client, "carl", f"/violations/{vid}/dismiss", reason="twice")
    assert again.status_code == 409 and "already dismissed: nothing was changed" in again.text
    with session_scope(db) as s:
        entries = list(s.scalars(select(AuditLog).where(AuditLog.entity_type == "violation",
                                                  AuditLog.entity_id == str(vid)).order_by(AuditLog.id)))
    assert [(e.actor, e.action, e.reason) for e in entries] == [
        ("carl", "violation.dismissed", "the page showed a bundle price")]


def test_it_acknowledges_resolves_and_reopens(setup: tuple[Any, ...]) -> None:
    _app, world, db, _ws = setup
    vid = world.violations["P2"]
    client = _as(setup, "dana")
    assert _post(client, "dana", f"/violations/{vid}/acknowledge").status_code == 303
    assert _post(client, "dana", f"/violations/{vid}/resolve", reason="price fixed").status_code == 303
    assert _violation(db, vid).status == "resolved"
    no_reason = _post(client, "dana", f"/violations/{vid}/reopen", reason="")
    assert no_reason.status_code == 400
    assert _post(client, "dana", f"/violations/{vid}/reopen", reason="back again").status_code == 303
    v = _violation(db, vid)
    assert v.status == "open" and v.resolved_at is None and v.status_reason == "back again"


def test_it_assigns_only_to_a_manager_who_sees_the_partner(setup: tuple[Any, ...]) -> None:
    _app, world, db, _ws = setup
    vid = world.violations["P1"]
    client = _as(setup, "bianca")
    wrong = _post(client, "bianca", f"/violations/{vid}/assign", assignee="dana")
    assert wrong.status_code == 400 and "dana cannot take this violation" in wrong.text
    assert _post(client, "bianca", f"/violations/{vid}/assign", assignee="carl").status_code == 303
    with session_scope(db) as s:
        assert s.get(Violation, vid).assignee.username == "carl"  # type: ignore[union-attr]
    assert _post(client, "bianca", f"/violations/{vid}/assign", assignee="carl").status_code == 409
    mine = _as(setup, "bianca").get("/violations?assignee=carl").text
    assert f'name="ids" value="{vid}"' in mine


def test_it_snoozes_for_a_bounded_time_out_of_the_queue(setup: tuple[Any, ...]) -> None:
    _app, world, db, _ws = setup
    vid = world.violations["P1"]
    client = _as(setup, "carl")
    too_long = _post(client, "carl", f"/violations/{vid}/snooze", days="31")
    assert too_long.status_code == 400 and "Snooze for 1 to 30 days" in too_long.text
    assert _violation(db, vid).snoozed_until is None
    assert _post(client, "carl", f"/violations/{vid}/snooze", days="7", reason="partner on holiday").status_code == 303
    assert f'value="{vid}"' not in client.get("/violations").text
    assert f'value="{vid}"' in client.get("/violations?snoozed=only").text
    assert _post(client, "carl", f"/violations/{vid}/snooze", days="0").status_code == 303
    assert _violation(db, vid).snoozed_until is None


def test_it_queues_the_partner_notice_once(setup: tuple[Any, ...]) -> None:
    _app, world, db, _ws = setup
    vid = world.violations["P1"]
    client = _as(setup, "carl")
    assert _post(client, "carl", f"/violations/{vid}/notice").status_code == 303
    twice = _post(client, "carl", f"/violations/{vid}/notice")
    assert "already queued" in client.get(twice.headers["location"]).text
    with session_scope(db) as s:
        notices = list(s.scalars(select(AlertDelivery).where(AlertDelivery.kind == "notice")))
    assert [(n.violation_id, n.recipient_label, n.status) for n in notices] == [(vid, "partner P1", "queued")]
    assert "Notice to the partner queued" in client.get(f"/violations/{vid}").text


def test_it_offers_no_notice_where_the_mode_forbids_it_and_refuses_a_forged_one(setup: tuple[Any, ...]) -> None:
    _app, world, db, _ws = setup
    vid = world.violations["P4"]  # a deviation in a recommended scope
    client = _as(setup, "bianca")
    page = client.get(f"/violations/{vid}").text
    assert 'id="notice-form"' not in page and "the law does not allow telling the partner" in page
    forged = _post(client, "bianca", f"/violations/{vid}/notice")
    assert forged.status_code == 409 and "The notice was refused" in forged.text
    with session_scope(db) as s:
        rows = list(s.scalars(select(AlertDelivery).where(AlertDelivery.violation_id == vid)))
    assert [(r.kind, r.status) for r in rows] == [("notice", "refused")]  # recorded, never queued


def test_it_answers_405_to_a_wrong_method(setup: tuple[Any, ...]) -> None:
    _app, world, _db, _ws = setup
    client = _as(setup, "bianca")
    assert client.get(f"/violations/{world.violations['P1']}/dismiss").status_code == 405
    assert client.post(f"/violations/{world.violations['P1']}",
                       headers={"x-csrf-token": "token-of-bianca"}).status_code == 405


def test_it_shows_both_readings_holds_the_notice_and_lets_a_manager_confirm_the_price(setup: tuple[Any, ...]) -> None:
    _app, world, db, _ws = setup
    vid = world.violations["P1"]
    with session_scope(db) as s:
        v = s.get(Violation, vid)
        assert v is not None
        v.confirmation = "disagreed"
        v.details = {**v.details, "confirmation": {
            "status": "disagreed", "why": "the price was read by the heuristic step", "agreed": False,
            "first": {"price": "179.00", "currency": "USD", "raw_text": "$179.00", "method": "heuristic"},
            "second": {"price": "189.00", "currency": "USD", "raw_text": "$189.00", "method": "heuristic",
                       "rendered": True}}}
    carl = _as(setup, "carl")
    text = carl.get(f"/violations/{vid}").text
    assert 'id="confirmation"' in text and "readings disagree" in text
    assert "<q>$179.00</q>" in text and "<q>$189.00</q>" in text and 'id="confirm-form"' in text
    assert "No notice until the price is confirmed" in text and 'id="notice-form"' not in text
    assert _post(_as(setup, "dana"), "dana", f"/violations/{vid}/confirm").status_code == 404
    done = _post(carl, "carl", f"/violations/{vid}/confirm", reason="seen on the page myself")
    assert done.status_code == 303
    text = carl.get(f"/violations/{vid}").text
    assert "confirmed by a person" in text and 'id="confirm-form"' not in text and 'id="notice-form"' in text
    assert _post(carl, "carl", f"/violations/{vid}/confirm").status_code == 409
    with session_scope(db) as s:
        entry = s.scalars(select(AuditLog).where(AuditLog.action == "violation.confirm")).one()
        assert (entry.actor, entry.reason) == ("carl", "seen on the page myself")
