"""The web app attacked as a hostile partner or user would: security headers on every page, open redirects
through ``next=``, server-side requests through complaint and webhook URLs, tokens in logs.

Real components: the portal world (tests/portal_world.py) on SQLite or PostgreSQL, servers on 127.0.0.1 (the
test setting network.allow=127.0.0.1 lets them through, nothing else) and an "internal service" on 127.0.0.2
that nothing may ever reach; crawls in processes of their own.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient
from portal_world import Shop, add_portal_objects, make_portal_app, product_page, serve_shop
from sqlalchemy import Engine, select
from test_web_routes import ADMIN_PAGE, IN_SCOPE, MANAGER_PAGE, OPERATOR_PAGE, PARTNER_PAGE, PUBLIC, TABLE, _values
from web_world import cookie_for

from store import Complaint, session_scope
from web.security import COOKIE


class Internal:
    """An HTTP service on 127.0.0.2 (not allowed by the tests' network setting): counts what reached it."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        hits = self.hits

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _any(self) -> None:
                hits.append(f"{self.command} {self.path}")
                body = b"internal secret"
                self.send_response(200)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _any

        self.server = ThreadingHTTPServer(("127.0.0.2", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def internal() -> Iterator[Internal]:
    try:
        service = Internal()
    except OSError:
        pytest.skip("127.0.0.2 cannot be bound here")
    yield service
    service.close()


@pytest.fixture
def shop() -> Iterator[Shop]:
    yield from serve_shop()


@pytest.fixture
def world(db: Engine, shop: Shop, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Any, Engine, Shop]]:
    monkeypatch.setenv("PRICEWARDEN_API__RATE_LIMIT_PER_MINUTE", "100000")
    app, portal = make_portal_app(db, shop)
    add_portal_objects(app, db, portal)
    yield app, portal, db, shop
    if getattr(app.state, "jobs", None) is not None:
        app.state.jobs.shutdown()


def _client(app: Any, db: Engine, name: str | None) -> TestClient:
    client = TestClient(app, follow_redirects=False, raise_server_exceptions=False)
    if name is not None:
        client.cookies.set(COOKIE, cookie_for(app, db, name))
    return client


# Security headers ------------------------------------------------------------------------------------

WHO = {id(PARTNER_PAGE): "soundhub", id(MANAGER_PAGE): "bianca", id(OPERATOR_PAGE): "bianca", id(IN_SCOPE): "bianca",
       id(ADMIN_PAGE): "admin", id(PUBLIC): None}


def _check_headers(response: Any, where: str, wrong: list[str]) -> None:
    csp = response.headers.get("content-security-policy", "")
    if "frame-ancestors" not in csp:
        wrong.append(f"{where}: CSP without frame-ancestors: {csp!r}")
    if response.headers.get("x-content-type-options") != "nosniff":
        wrong.append(f"{where}: no nosniff")
    if not response.headers.get("referrer-policy"):
        wrong.append(f"{where}: no Referrer-Policy")


def test_it_sends_the_security_headers_on_every_page_and_error(world: tuple[Any, ...]) -> None:
    """Every GET route of the route table, as a role it serves, and the error answers (404, 405, 403, 413)."""
    app, portal, db, _shop = world
    values = _values(app, portal, db)
    wrong: list[str] = []
    seen = 0
    for key, (expected, _form) in TABLE.items():
        method, path = key.split(" ", 1)
        if method != "GET" or id(expected) not in WHO or path.startswith("/api/"):
            continue
        response = _client(app, db, WHO[id(expected)]).get(path.format(**values))
        assert response.status_code == 200, (key, response.status_code)
        seen += 1
        _check_headers(response, key, wrong)
    assert seen >= 49
    admin = _client(app, db, "admin")
    for where, response in (("404", admin.get("/violations/999999")), ("405", admin.put("/overview")),
                            ("403 csrf", admin.post("/violations/bulk", data={"action": "acknowledge"})),
                            ("403 role", _client(app, db, "soundhub").get("/overview")),
                            ("413", admin.post("/portal/reports", content=b"x",
                                               headers={"content-length": str(1 << 40)})),
                            ("login", _client(app, db, None).get("/login"))):
        _check_headers(response, where, wrong)
    assert wrong == []


def test_it_sends_the_security_headers_on_a_server_error(world: tuple[Any, ...]) -> None:
    """A crash is answered by Starlette's outermost middleware, outside the one that adds the headers."""
    app, _portal, db, _shop = world

    def boom() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/test-crash", boom)
    app.add_api_route("/api/v1/test-crash", boom)
    wrong: list[str] = []
    for path in ("/test-crash", "/api/v1/test-crash"):
        response = _client(app, db, "admin").get(path)
        assert response.status_code == 500 and "a bug" not in response.text
        _check_headers(response, path, wrong)
    assert wrong == []


def test_it_bounds_each_form_by_what_it_may_carry(world: tuple[Any, ...]) -> None:
    """A complaint or response carries at most a 5 MB screenshot: 7 MB is refused before it is spooled, while a
    report upload of that size still reaches its route (which has a limit of its own)."""
    app, portal, db, shop = world
    client = _client(app, db, "soundhub")
    big = b"x" * (7 << 20)
    for path in ("/portal/complaints", f"/portal/violations/{portal.web.violations['P1']}/respond"):
        form = {"url": shop.url("/x"), "action": "corrected", "csrf_token": "token-of-soundhub"}
        answer = client.post(path, data=form, files={"screenshot": ("shot.png", big, "image/png")})
        assert answer.status_code == 413 and "request body larger than 6 MB" in answer.text, path
    report = client.post("/portal/reports", data={"csrf_token": "token-of-soundhub"},
                         files={"report": ("r.csv", b"sku,price\n" + big, "text/csv")})
    assert report.status_code != 413 or "request body larger" not in report.text
    token_client = TestClient(app, raise_server_exceptions=False)
    hook = token_client.post("/api/v1/webhooks", content=big, headers={"content-type": "application/json",
                                                                         "Authorization": "Bearer pwt_x_y"})
    assert hook.status_code == 413 and hook.headers["content-type"].startswith("application/problem+json")
    with session_scope(db) as s:
        assert [c.id for c in s.scalars(select(Complaint))] == [portal.ids["complaint_id"]]


# CSRF ------------------------------------------------------------------------------------------------------


def test_it_refuses_every_state_changing_form_without_its_csrf_token(world: tuple[Any, ...]) -> None:
    """Every POST and DELETE of the route table outside the token API, as a role that may use it, sent without the
    session's token and with a forged one: 403, and nothing done (no audit entry)."""
    from sqlalchemy import func
    from test_web_routes import ADMIN_POST, MANAGER_POST, PARTNER_POST, SCOPED_POST

    from store import AuditLog

    app, portal, db, _shop = world
    values = _values(app, portal, db)
    who = {id(ADMIN_POST): "admin", id(MANAGER_POST): "bianca", id(SCOPED_POST): "bianca",
           id(PARTNER_POST): "soundhub"}
    with session_scope(db) as s:
        audited = s.scalar(select(func.count()).select_from(AuditLog))
    wrong, tried = [], 0
    for key, (expected, form) in TABLE.items():
        method, path = key.split(" ", 1)
        if method == "GET" or path.startswith("/api/"):
            continue
        name = who.get(id(expected))  # None: the sign-in and language forms, anonymous
        for token in (None, "forged"):
            data = {**(form or {}), **({"csrf_token": token} if token else {})}
            response = _client(app, db, name).request(method, path.format(**values), data=data)
            tried += 1
            if response.status_code != 403 or "security token" not in response.text:
                wrong.append(f"{key} as {name or 'anonymous'} with {token}: {response.status_code}")
    assert tried >= 40 and wrong == []
    with session_scope(db) as s:
        assert s.scalar(select(func.count()).select_from(AuditLog)) == audited


# Open redirects --------------------------------------------------------------------------------------

HOSTILE_NEXT = ["//evil.example/", "https://evil.example/", "/\\evil.example", "\\\\evil.example", "/\t/evil.example",
                "/\n/evil.example", " //evil.example", "%2F%2Fevil.example", "/%2F/evil.example", "///evil.example",
                "http:/evil.example", "javascript:alert(1)", "/\x00//evil.example", "/．/evil.example",
                "\u3000//evil.example"]


def _stays_here(location: str) -> bool:
    from urllib.parse import urljoin, urlsplit

    # As a browser resolves it (after dropping the tabs and line breaks it ignores in a URL).
    cleaned = location.replace("\t", "").replace("\n", "").replace("\r", "").strip()
    resolved = urlsplit(urljoin("http://app.example/login", cleaned))
    return resolved.scheme == "http" and resolved.netloc == "app.example"


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_it_never_sends_a_signed_in_user_to_another_site(world: tuple[Any, ...], target: str) -> None:
    from web_world import csrf_of, password

    app, _portal, db, _shop = world
    signed_in = _client(app, db, "bianca").get("/login", params={"next": target})
    assert signed_in.status_code == 303 and _stays_here(signed_in.headers["location"]), signed_in.headers["location"]
    fresh = _client(app, db, None)
    token = csrf_of(fresh.get("/login", params={"next": target}).text)
    answer = fresh.post("/login", data={"username": "bianca", "password": password("bianca"), "csrf_token": token,
                                        "next": target})
    assert answer.status_code == 303 and _stays_here(answer.headers["location"]), answer.headers["location"]
    switched = _client(app, db, "bianca").post("/locale", data={"locale": "en", "next": target,
                                                                 "csrf_token": "token-of-bianca"})
    assert switched.status_code == 303 and _stays_here(switched.headers["location"]), switched.headers["location"]


# Server-side requests ------------------------------------------------------------------------------------

REFUSED_AT_FILING = ["http://127.0.0.2:{port}/", "http://[::ffff:127.0.0.2]:{port}/", "http://[::ffff:7f00:2]:{port}/",
                     "http://[::1]:{port}/", "http://169.254.169.254/latest/meta-data/", "http://[fe80::1]/",
                     "http://10.0.0.1/", "http://0.0.0.0:{port}/", "http://[::]:{port}/", "http://100.64.0.1/",
                     "http://[64:ff9b::7f00:2]:{port}/", "http://[2002:7f00:2::]:{port}/", "http://[::127.0.0.2]/",
                     "file:///etc/passwd", "gopher://127.0.0.1:{port}/", "ftp://127.0.0.1/", "//127.0.0.2/",
                     "http://user@127.0.0.2:{port}/"]


def test_it_refuses_a_complaint_url_at_an_internal_address_in_every_spelling(
        world: tuple[Any, ...], internal: Internal) -> None:
    app, portal, db, _shop = world
    client = _client(app, db, "soundhub")
    for url in REFUSED_AT_FILING:
        answer = client.post("/portal/complaints", data={"url": url.format(port=internal.port), "comment": "x",
                                                         "csrf_token": "token-of-soundhub"})
        assert answer.status_code == 400 and "refused" in answer.text, url
    with session_scope(db) as s:
        assert [c.url for c in s.scalars(select(Complaint)) if c.id != portal.ids["complaint_id"]] == []
    assert internal.hits == []


def test_it_never_reaches_an_internal_address_a_complaint_hides_behind_a_name_or_a_redirect(
        world: tuple[Any, ...], internal: Internal) -> None:
    app, _portal, db, shop = world
    inside = f"http://127.0.0.2:{internal.port}/secret"
    shop.pages["/deals/ok"] = product_page("Acme AC-100 headphones", "AC-100", "150.00")
    redirect_page = f'<html><head><meta http-equiv="refresh" content="0; url={inside}"></head></html>'.encode()
    shop.pages["/deals/refresh"] = redirect_page
    client = _client(app, db, "soundhub")
    # 2130706434 is 127.0.0.2 as one number: a host name to the URL check, an address once resolved.
    for url in (f"http://2130706434:{internal.port}/secret", shop.url("/deals/refresh")):
        answer = client.post("/portal/complaints", data={"url": url, "csrf_token": "token-of-soundhub"})
        assert answer.status_code == 303, (url, answer.text[:300])
    app.state.jobs.join()
    with session_scope(db) as s:
        outcomes = {c.url: (c.outcome, c.detail) for c in s.scalars(select(Complaint)).all()
                    if "2130706434" in c.url or "refresh" in c.url}
    assert internal.hits == []
    number = outcomes[f"http://2130706434:{internal.port}/secret"]
    assert number[0] == "unreadable" and "network policy" in number[1]
    assert outcomes[shop.url("/deals/refresh")][0] in ("unreadable", "not_our_product")
    mine = client.get("/portal/complaints").text
    assert "internal secret" not in mine


def test_it_never_delivers_a_webhook_to_an_internal_address(world: tuple[Any, ...], internal: Internal) -> None:
    from alerts import deliver_due
    from store import AlertDelivery, utcnow
    from web.api.tokens import create_token

    app, portal, db, _shop = world
    with session_scope(db) as s:
        _row, token = create_token(s, name="hook", created_by="admin", user="carl",
                                   scopes=["violations:read", "violations:write"])
    client = TestClient(app, raise_server_exceptions=False)
    headers = {"Authorization": f"Bearer {token}"}
    for url in (f"http://[::ffff:127.0.0.2]:{internal.port}/", f"http://[64:ff9b::7f00:2]:{internal.port}/",
                f"http://127.0.0.2:{internal.port}/", "http://[fd00::1]/", "http://[::1]/"):
        made = client.post("/api/v1/webhooks", json={"url": url}, headers=headers)
        assert made.status_code == 422 and "network policy" in made.json()["detail"], (url, made.text)
    # Names the URL check cannot judge (the resolver reads each as 127.0.0.2): judged where the delivery connects.
    for name in ("2130706434", "0x7f000002", "127.2"):
        made = client.post("/api/v1/webhooks", json={"url": f"http://{name}:{internal.port}/hook"}, headers=headers)
        assert made.status_code == 201, made.text
    acted = client.post(f"/api/v1/violations/{portal.web.violations['P1']}/acknowledge", headers=headers)
    assert acted.status_code == 200, acted.text
    with session_scope(db) as s:
        report = deliver_due(s, utcnow())
        rows = s.scalars(select(AlertDelivery).where(AlertDelivery.webhook_id.is_not(None))).all()
        assert rows and all(r.status != "sent" for r in rows)
        assert any("network policy" in (r.last_error or "") for r in rows), [r.last_error for r in rows]
    assert report.sent == [] or all(i not in report.sent for i in (r.id for r in rows))
    assert internal.hits == []


# Tokens in logs ----------------------------------------------------------------------------------------


def test_it_never_logs_a_token_or_a_webhook_secret(world: tuple[Any, ...], caplog: pytest.LogCaptureFixture,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    from web.api.tokens import create_token

    app, portal, db, _shop = world
    caplog.set_level(logging.DEBUG)
    with session_scope(db) as s:
        _row, token = create_token(s, name="logged?", created_by="admin", user="carl",
                                   scopes=["violations:read", "violations:write", "reports:write"])
        _row2, partner_token = create_token(s, name="p1", created_by="admin", partner="P1",
                                            scopes=["reports:write", "violations:read", "policy:read"])
    client = TestClient(app, raise_server_exceptions=False)
    secrets_seen = [token.split("_", 2)[2], partner_token.split("_", 2)[2]]
    hook = client.post("/api/v1/webhooks", json={"url": "http://127.0.0.1:9/hook"},
                       headers={"Authorization": f"Bearer {token}"})
    secrets_seen.append(hook.json()["secret"])
    for headers in ({"Authorization": f"Bearer {token}"}, {"Authorization": f"Bearer {partner_token}"},
                    {"Authorization": f"Bearer {token}x"}, {"Authorization": f"Bearer {partner_token[:-2]}"}):
        client.get("/api/v1/violations", headers=headers)
        client.get(f"/api/v1/violations/{portal.web.violations['P1']}", headers=headers)
        client.post("/api/v1/reports?partner=P2", headers=headers, json=[{"sku": "=1+1"}])
    from alerts import deliver_due
    from store import AuditLog, utcnow

    client.post(f"/api/v1/violations/{portal.web.violations['P1']}/acknowledge",
                headers={"Authorization": f"Bearer {token}"})
    with session_scope(db) as s:
        deliver_due(s, utcnow())
        audit_text = " ".join(f"{a.actor} {a.before} {a.after} {a.reason}" for a in s.scalars(select(AuditLog)))
    out = capsys.readouterr()
    written = caplog.text + out.out + out.err + audit_text
    assert [secret for secret in secrets_seen if secret in written] == []


# Files ---------------------------------------------------------------------------------------------------


def test_what_the_portal_stores_is_owner_only_under_a_shells_umask(db: Engine, shop: Shop) -> None:
    """Uploaded reports and their receipts, screenshots of responses and complaints, the session key, the
    evidence store: nothing the app writes may be read by the machine's other users."""
    import os
    import stat

    from web_world import png

    from pricewarden.settings import get_settings

    old = os.umask(0o022)
    try:
        app, portal = make_portal_app(db, shop)
        shop.pages["/deals/x"] = product_page("Acme AC-100 headphones", "AC-100", "150.00")
        client = _client(app, db, "soundhub")
        form = {"csrf_token": "token-of-soundhub"}
        done = client.post("/portal/reports", data=form, files={"report": (
            "r.csv", b"sku,price,currency,date\nAC-100,199.00,USD,2026-12-01\nNOPE,1,USD,2026-12-01\n", "text/csv")})
        assert done.status_code in (200, 303), done.text[:300]
        shot = ("shot.png", png(30, 20), "image/png")
        assert client.post(f"/portal/violations/{portal.web.violations['P1']}/respond",
                           data={**form, "action": "dispute", "comment": "no"},
                           files={"screenshot": shot}).status_code == 303
        assert client.post("/portal/complaints", data={**form, "url": shop.url("/deals/x")},
                           files={"screenshot": shot}).status_code == 303
        app.state.jobs.join()
        app.state.jobs.shutdown()
        workspace = get_settings().workspace
        found = []
        for path in [workspace, *workspace.rglob("*")]:
            mode = path.lstat().st_mode
            if not stat.S_ISLNK(mode) and stat.S_IMODE(mode) & 0o077:
                found.append(f"{path.relative_to(workspace)} {stat.filemode(mode)}")
        assert found == [], found
    finally:
        os.umask(old)


# Time bounds ---------------------------------------------------------------------------------------------


def test_a_complaints_crawl_that_hangs_is_stopped_at_its_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    """A page that accepts the connection and never answers, with a download timeout far away: the crawl process
    is killed at the time given, so the queue (and the monitor run draining it) goes on."""
    import socket

    from crawlers.discovery import crawl_pages
    from pricewarden.errors import CrawlError
    from pricewarden.settings import get_settings
    from web.portal.complaints import crawl_budget

    monkeypatch.setenv("PRICEWARDEN_CRAWL__DOWNLOAD_TIMEOUT", "600")
    monkeypatch.setenv("PRICEWARDEN_CRAWL__RETRIES", "0")
    get_settings.cache_clear()
    assert crawl_budget() == 600 + 300 + 60  # one attempt, one longest Retry-After, a minute around
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)  # accepted by the kernel, never read nor answered
    try:
        with pytest.raises(CrawlError, match="longer than 8 s"):
            crawl_pages([f"http://127.0.0.1:{silent.getsockname()[1]}/deal"], max_pages=0, follow=False, timeout=8)
    finally:
        silent.close()


def test_a_recrawl_that_hangs_is_stopped_at_its_budget(db: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """The re-crawl after a partner's response: the crawl process is killed at the time given and counted failed."""
    import socket

    from crawlers.run import run_crawl
    from crawlers.targets import Target
    from pricewarden.errors import CrawlError
    from pricewarden.settings import get_settings

    monkeypatch.setenv("PRICEWARDEN_CRAWL__DOWNLOAD_TIMEOUT", "600")
    monkeypatch.setenv("PRICEWARDEN_CRAWL__RETRIES", "0")
    get_settings.cache_clear()
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    try:
        with pytest.raises(CrawlError, match="every crawl process failed"):
            run_crawl([Target(url=f"http://127.0.0.1:{silent.getsockname()[1]}/p1/ac-100")], shards=1, timeout=8,
                      browser=False)
    finally:
        silent.close()


def _trickle(base: str, head: str, bound: float) -> tuple[bytes, float | None]:
    """Send ``head`` (request line and headers) to the server at ``base``, then one byte at a time, a byte each time
    the server has not answered within a quarter of ``bound`` (slower than the bound allows), for ten bounds at
    most; the answer (all the server sent until it closed: nothing if it closed without a word) and the seconds
    from ``head`` to the answer or the close (``None``: neither came)."""
    import contextlib
    import select
    import socket
    import time
    from urllib.parse import urlsplit

    where = urlsplit(base)
    answer = b""
    took = None
    with socket.create_connection((where.hostname, where.port), timeout=30) as conn:
        conn.sendall(head.encode())
        began = time.monotonic()
        # A byte is sent only while nothing waits to be read: one sent after the answer, to a closed socket, would
        # bring back a reset that drops the answer unread.
        while time.monotonic() - began < 10 * bound:
            if select.select([conn], [], [], bound / 4)[0]:
                with contextlib.suppress(ConnectionResetError):
                    answer = conn.recv(65536)
                took = time.monotonic() - began
                break
            with contextlib.suppress(OSError):
                conn.sendall(b"x")
        # The rest, until the server closes (a reset if the last byte sent came after its answer: closed all the same).
        with contextlib.suppress(ConnectionResetError):
            while answer and (chunk := conn.recv(65536)):
                answer += chunk
    return answer, took


def test_a_body_that_trickles_in_is_answered_408_and_nothing_is_stored(db: Engine, tmp_path: Any) -> None:
    """``pricewarden web`` (a real uvicorn process) with web.body_timeout at 2 s: a client that sends its headers and
    then a byte at a time is answered 408 within the bound and a margin, and the connection closed; the same
    requests sent at once work; nothing of the slow ones is stored."""
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path

    import httpx
    from sqlalchemy import func
    from web_world import build

    from store import LoginAttempt, ReportBatch, utcnow
    from web.api.tokens import create_token

    bound = 2.0
    ws = tmp_path / "ws"
    build(db, str(ws / "evidence"))
    with session_scope(db) as s:
        _row, token = create_token(s, name="slow", scopes=["reports:write"], created_by="admin", partner="P1")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRICEWARDEN_")}
    env.update(PRICEWARDEN_WORKSPACE=str(ws), PRICEWARDEN_DATABASE_URL=db.url.render_as_string(False),
               PRICEWARDEN_WEB__BODY_TIMEOUT=str(bound))
    process = subprocess.Popen([str(Path(sys.executable).parent / "pricewarden"), "web", "--port", "0"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        base = process.stdout.readline().split()[3].rstrip("/")
        day = (utcnow() - timedelta(days=1)).strftime("%Y-%m-%d")
        api_head = (f"POST /api/v1/reports HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {token}\r\n"
                    "Content-Type: application/json\r\nContent-Length: 10000\r\n\r\n")
        answer, took = _trickle(base, api_head, bound)
        head, _, detail = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 408 "), answer[:300]
        assert b"content-type: application/problem+json" in head.lower() and b"connection: close" in head.lower()
        assert json.loads(detail)["status"] == 408 and "did not arrive within 2 s" in json.loads(detail)["detail"]
        assert took is not None and bound <= took <= bound + 15, took  # the margin: two shared cores under load
        form_head = ("POST /login HTTP/1.1\r\nHost: test\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                     "Content-Length: 500\r\n\r\n")
        answer, took = _trickle(base, form_head, bound)
        assert answer.startswith(b"HTTP/1.1 408 ") and b"Nothing was changed" in answer, answer[:300]
        assert took is not None and bound <= took <= bound + 15, took
        # Sent at once, the same requests are served, a report of 1 MB too (JSON with trailing blanks).
        for sku, padding in (("AC-100", 0), ("AC-200", 1 << 20)):
            body = json.dumps([{"sku": sku, "price": "199.00", "currency": "USD", "date": day}]) + " " * padding
            sent = httpx.post(base + "/api/v1/reports", content=body, timeout=60, headers={
                "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
            assert sent.status_code == 201 and sent.json()["rows_accepted"] == 1, sent.text[:300]
        login = httpx.post(base + "/login", data={"username": "carl", "password": "wrong"}, timeout=60)
        assert login.status_code == 403  # read in full, then refused for its missing CSRF token
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
    with session_scope(db) as s:
        assert s.scalar(select(func.count()).select_from(ReportBatch)) == 2  # the two sent at once
        assert s.scalar(select(func.count()).select_from(LoginAttempt)) == 0


def test_headers_that_trickle_in_or_never_come_are_cut_off(db: Engine, tmp_path: Any,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """uvicorn bounds the size of a request's headers, not their time: served as ``pricewarden web`` serves it (its
    options), a connection that sends nothing, or a request line a byte at a time, is closed at the bound (1 s
    here); a request sent at once is answered."""
    import select
    import socket
    import time

    import httpx
    import uvicorn

    from pricewarden.settings import Settings
    from web.app import create_app
    from web.server import HeadersBoundH11Protocol, bind, server_options, url_of

    bound = 1.0
    monkeypatch.setattr(HeadersBoundH11Protocol, "headers_timeout", bound)
    app = create_app(Settings(workspace=tmp_path / "ws"), engine=db)
    sock = bind("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(app, **server_options()))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        base = url_of(sock)
        assert httpx.get(base + "/healthz", timeout=30).status_code == 200
        # The server counts from the connection's start, a little before the client's clock here: half a bound.
        answer, took = _trickle(base, "GET /healthz", bound)
        assert answer == b"" and took is not None and bound / 2 <= took <= bound + 15, (answer, took)
        with socket.create_connection(("127.0.0.1", sock.getsockname()[1]), timeout=30) as silent:
            began = time.monotonic()
            assert select.select([silent], [], [], 10 * bound)[0] and silent.recv(10) == b""
            assert bound / 2 <= time.monotonic() - began <= bound + 15
        with socket.create_connection(("127.0.0.1", sock.getsockname()[1]), timeout=30) as kept:
            kept.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
            answer = b""
            while not answer.endswith(b'{"status":"ok"}'):
                answer += kept.recv(65536)
            assert answer.startswith(b"HTTP/1.1 200 ")
            began = time.monotonic()  # kept alive, then closed: uvicorn's keep-alive timeout or the bound
            assert select.select([kept], [], [], 10 * bound)[0] and kept.recv(10) == b""
            assert time.monotonic() - began <= bound + 15
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()
