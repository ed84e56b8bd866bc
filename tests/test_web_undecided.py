"""The queue of undecided pages: who sees which page, one click picks the price, the pick becomes a rule
of the site that the next crawl uses (crawl, undecided, pick, crawl again: decided with the picked price)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from typer.testing import CliRunner
from web_world import POLICY, UNDECIDED_HTML, cookie_for, make_app

from store import AuditLog, Observation, session_scope
from web.security import COOKIE


@pytest.fixture
def setup(db: Engine, tmp_path: Path) -> tuple[Any, Any, Engine, Path]:
    app, world = make_app(db, tmp_path / "ws")
    return app, world, db, tmp_path / "ws"


def _as(app: Any, db: Engine, name: str) -> TestClient:
    client = TestClient(app, follow_redirects=False)
    client.cookies.set(COOKIE, cookie_for(app, db, name))
    return client


def _pick(client: TestClient, name: str, observation_id: int, candidate: str) -> Any:
    return client.post(f"/undecided/{observation_id}/pick", data={"candidate": candidate,
                                                                  "csrf_token": f"token-of-{name}"})


def _index_of(db: Engine, observation_id: int, raw: str) -> str:
    with session_scope(db) as s:
        obs = s.get(Observation, observation_id)
        assert obs is not None
        candidates = obs.details["undecided"]["candidates"]
    return str(next(i for i, c in enumerate(candidates) if c["rawText"] == raw))


def test_it_lists_each_undecided_page_with_its_candidates(setup: tuple[Any, ...]) -> None:
    app, world, db, _ws = setup
    text = _as(app, db, "bianca").get("/undecided").text
    assert "http://127.0.0.1:9/p1/ac-200" in text and "equally prominently" in text
    assert "<q>$119.00</q>" in text and "<q>$89.00</q>" in text
    assert "White" in text and "Black" in text  # the text around each amount
    assert text.count('name="candidate"') == 2
    assert f"/undecided/{world.undecided['P1']}/screenshot" in text
    shot = _as(app, db, "bianca").get(f"/undecided/{world.undecided['P1']}/screenshot")
    assert (shot.status_code, shot.headers["content-type"], shot.content[:4]) == (200, "image/png", b"\x89PNG")
    assert "http://127.0.0.1:9/p1/ac-200" not in _as(app, db, "bianca").get("/undecided?site=shop.example").text


def test_it_shows_a_channel_manager_only_the_pages_of_their_partners(setup: tuple[Any, ...]) -> None:
    app, world, db, _ws = setup
    assert "http://127.0.0.1:9/p1/ac-200" in _as(app, db, "carl").get("/undecided").text
    other = _as(app, db, "dana")
    assert "No undecided page waits for a decision." in other.get("/undecided").text
    assert other.get(f"/undecided/{world.undecided['P1']}/screenshot").status_code == 404
    assert _pick(other, "dana", world.undecided["P1"], "0").status_code == 404
    partner = _as(app, db, "soundhub")
    assert partner.get("/undecided").status_code == 403
    assert _pick(partner, "soundhub", world.undecided["P1"], "0").status_code == 403


def test_it_turns_a_pick_into_a_rule_of_the_site_audited_and_the_page_leaves_the_queue(
        setup: tuple[Any, ...]) -> None:
    from crawlers.profiles import load_profiles

    app, world, db, ws = setup
    client = _as(app, db, "carl")
    oid = world.undecided["P1"]
    assert client.get(f"/undecided/{oid}/pick").status_code == 405
    assert _pick(client, "carl", oid, "7").status_code == 400
    assert _pick(client, "carl", oid, "x").status_code == 400
    assert client.post(f"/undecided/{oid}/pick", data={"candidate": "0"}).status_code == 403  # no CSRF token
    done = _pick(client, "carl", oid, _index_of(db, oid, "$89.00"))
    assert done.status_code == 303 and done.headers["location"] == "/undecided"
    queue = client.get("/undecided").text
    assert "Rule saved for 127.0.0.1:9: div.variant.v-black span.price reads 89.00" in queue
    assert "http://127.0.0.1:9/p1/ac-200" not in queue.split("</h1>", 1)[1].split("Rule saved")[0]
    [profile] = [p for p in load_profiles(ws / "profiles") if p.matches("http://127.0.0.1:9/p1/ac-200")]
    [rule] = profile.price_rules
    assert (rule.selector, rule.amount, rule.by) == ("div.variant.v-black span.price", "89.00", "carl")
    with session_scope(db) as s:
        obs = s.get(Observation, oid)
        assert obs is not None and obs.review == "picked" and obs.details["review"]["price"] == "89.00"
        entry = s.scalars(select(AuditLog).where(AuditLog.action == "undecided.pick")).one()
        assert (entry.actor, entry.entity_id, entry.after["selector"]) == ("carl", str(oid), rule.selector)
    again = _pick(client, "carl", oid, "0")
    assert again.status_code == 409 and "already reviewed" in again.text


def test_it_dismisses_a_page_none_of_whose_prices_is_right_with_a_reason(setup: tuple[Any, ...]) -> None:
    app, world, db, ws = setup
    client = _as(app, db, "bianca")
    oid = world.undecided["P1"]
    url = f"/undecided/{oid}/dismiss"
    assert client.post(url, data={"reason": " ", "csrf_token": "token-of-bianca"}).status_code == 400
    assert _as(app, db, "dana").post(url, data={"reason": "x", "csrf_token": "token-of-dana"}).status_code == 404
    done = client.post(url, data={"reason": "both are bundle prices", "csrf_token": "token-of-bianca"})
    assert done.status_code == 303
    assert "No undecided page waits for a decision." in client.get("/undecided").text
    assert not (ws / "profiles").exists() or not list((ws / "profiles").iterdir())  # no rule was made
    with session_scope(db) as s:
        obs = s.get(Observation, oid)
        assert obs is not None and obs.review == "dismissed" and obs.details["review"]["by"] == "bianca"
        entry = s.scalars(select(AuditLog).where(AuditLog.action == "undecided.dismiss")).one()
        assert entry.reason == "both are bundle prices"
    again = client.post(url, data={"reason": "again", "csrf_token": "token-of-bianca"})
    assert again.status_code == 409 and "already reviewed" in again.text


def test_it_says_so_when_the_pages_html_is_gone(setup: tuple[Any, ...]) -> None:
    app, world, db, _ws = setup
    with session_scope(db) as s:
        obs = s.get(Observation, world.undecided["P1"])
        assert obs is not None
        obs.html_sha256 = None
    answer = _pick(_as(app, db, "admin"), "admin", world.undecided["P1"], "0")
    assert answer.status_code == 409 and "not in the evidence store" in answer.text


# The crawl: a partner's shop on 127.0.0.1 whose product pages show two variants' prices.
OTHER_HTML = UNDECIDED_HTML.replace("AC-200", "AC-300").replace("$119.00", "$69.00").replace("$89.00", "$49.00")


@pytest.fixture
def shop() -> Iterator[str]:
    pages = {"/p/ac-200": UNDECIDED_HTML.encode(), "/p/ac-300": OTHER_HTML.encode()}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            body = pages.get(self.path, b"User-agent: *\n" if self.path == "/robots.txt" else b"")
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/plain" if self.path == "/robots.txt" else "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_crawl_undecided_pick_crawl_again_decides_with_the_picked_price(db: Engine, shop: str) -> None:
    from argon2 import PasswordHasher

    from crawlers.health import site_health
    from crawlers.run import run_crawl
    from crawlers.targets import active_listings
    from detection.run import detect
    from policies import publish_text
    from pricewarden.cli import app as cli
    from pricewarden.settings import get_settings
    from store import Listing, Partner, Product, User, Violation
    from web.app import create_app

    with session_scope(db) as s:
        s.add(User(username="bianca", role="brand_manager", password_hash=PasswordHasher().hash("x" * 12)))
        products = [Product(sku="AC-200", title="Acme AC-200 earbuds"), Product(sku="AC-300", title="Acme AC-300")]
        partner = Partner(code="P1", name="Shop One", regions=["US"])
        s.add_all([*products, partner])
        s.flush()
        s.add_all([Listing(url=f"{shop}/p/ac-200", site=shop.split("/")[2], product_id=products[0].id,
                           partner_id=partner.id, region="US"),
                   Listing(url=f"{shop}/p/ac-300", site=shop.split("/")[2], product_id=products[1].id,
                           partner_id=partner.id, region="US")])
        publish_text(s, POLICY + '  - {sku: AC-300, scope: us, map: "55.00"}\n', file="policy.yaml")
    first = datetime(2026, 5, 10, 8, tzinfo=UTC)
    with session_scope(db) as s:
        targets = active_listings(s)
    assert run_crawl(targets, shards=1, at=first, browser=False).failed_shards == []
    with session_scope(db) as s:
        rows = s.scalars(select(Observation).order_by(Observation.url)).all()
        assert [(o.price, o.undecided, o.method) for o in rows] == [(None, True, "none")] * 2
        assert rows[0].details["undecided"]["reason"].endswith("equally prominently")
        assert {c["rawText"] for c in rows[0].details["undecided"]["candidates"]} == {"$119.00", "$89.00"}
        [health] = site_health(s, first - timedelta(days=1), datetime.now(UTC) + timedelta(minutes=1))
        assert (health.pages, health.ok, health.failed, health.undecided) == (2, 0, 0, 2)
        assert any("undecided" in w for w in health.warnings)
        detect(s, anomalies=False)
        assert s.scalars(select(Violation)).all() == []  # an undecided page is never judged
        oid = rows[0].id
        candidate = str(next(i for i, c in enumerate(rows[0].details["undecided"]["candidates"])
                             if c["rawText"] == "$89.00"))
    app = create_app(get_settings(), engine=db)
    client = _as(app, db, "bianca")
    site = shop.split("/")[2]
    # The overview's crawl health and `pricewarden crawl-health` count the site's undecided pages.
    assert f'/undecided?site={site.replace(":", "%3A")}">2</a>' in client.get("/overview").text
    health = CliRunner().invoke(cli, ["crawl-health", "--json"])
    assert health.exit_code == 0, health.output
    [row] = json.loads(health.stdout)["sites"]
    assert (row["site"], row["undecided"], row["failed"], row["undecided_rate"]) == (site, 2, 0, 1.0)
    assert _pick(client, "bianca", oid, candidate).status_code == 303
    assert run_crawl(targets, shards=1, at=first + timedelta(hours=4), browser=False).failed_shards == []
    with session_scope(db) as s:
        later = s.scalars(select(Observation).where(Observation.undecided.is_(False)).order_by(Observation.url)).all()
        # The picked variant's slot, on the page it was picked on and on the site's other page.
        assert [(o.url.rsplit("/", 1)[1], o.price, o.method) for o in later] == [
            ("ac-200", 89, "rule"), ("ac-300", 49, "rule")]
        detect(s, anomalies=False)
        assert sorted((v.rule, v.observed_price) for v in s.scalars(select(Violation))) == [
            ("below_map", 49), ("below_map", 89)]
