"""Every route of the app against every role, from one explicit table.

A route that is not in the table, or that declares no access rule (``require(...)`` or ``public``),
fails the suite: adding a page means deciding, here, who may use it. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from portal_world import add_portal_objects, make_portal_app
from sqlalchemy import Engine
from starlette.routing import Mount
from web_world import cookie_for

from web.app import all_routes
from web.auth import access_rule
from web.security import COOKIE

# Columns: anonymous, admin, brand manager, channel manager of the violation's partner (carl),
# channel manager of another partner (dana), partner account (soundhub), inactive user (olga).
# "login": 303 to the sign-in page; "view": the view ran (200, a 303 back, or a 400/409 saying why
# nothing changed: the table runs actions in sequence on one violation); a number: that status.
ROLES = ("anonymous", "admin", "bianca", "carl", "dana", "soundhub", "olga")
Expect = tuple[int | str, ...]
MANAGER_PAGE: Expect = ("login", 200, 200, 200, 200, 403, "login")
IN_SCOPE: Expect = ("login", 200, 200, 200, 404, 403, "login")  # P1's violation: dana manages P2 only
MANAGER_POST: Expect = ("login", "view", "view", "view", "view", 403, "login")
SCOPED_POST: Expect = ("login", "view", "view", "view", 404, 403, "login")
OPERATOR_PAGE: Expect = ("login", 200, 200, 403, 403, 403, "login")  # crawl health: admins, brand managers
PUBLIC: Expect = (200,) * 7
# The partner portal: soundhub is P1's account; every {id} below is P1's.
API: Expect = (401,) * 7  # a session cookie is no API token
ADMIN_PAGE: Expect = ("login", 200, 403, 403, 403, 403, "login")
ADMIN_POST: Expect = ("login", "view", 403, 403, 403, 403, "login")
PARTNER_PAGE: Expect = ("login", 403, 403, 403, 403, 200, "login")
PARTNER_POST: Expect = ("login", 403, 403, 403, 403, "view", "login")

# "METHOD path" -> (expected per role, form data or None). {violation_id}: P1's violation; {code}: P1;
# {sku}: AC-100; {version}: 1; {observation_id}: an undecided page of P1's (a page of P1's, with its screenshot
# and archive, for the portal).
TABLE: dict[str, tuple[Expect, dict[str, Any] | None]] = {
    "GET /login": ((200, 303, 303, 303, 303, 303, 200), None),
    "POST /login": ((400,) * 7, {"username": "", "password": ""}),
    "POST /logout": ((303,) * 7, {}),
    "POST /locale": ((303,) * 7, {"locale": "en", "next": "/"}),
    "GET /": (("login", 303, 303, 303, 303, 303, "login"), None),
    "GET /portal": (PARTNER_PAGE, None),
    "GET /portal/listings/{listing_id}": (PARTNER_PAGE, None),
    "GET /portal/observations/{observation_id}/screenshot": (PARTNER_PAGE, None),
    "GET /portal/observations/{observation_id}/archive": (PARTNER_PAGE, None),
    "GET /portal/violations/{violation_id}": (PARTNER_PAGE, None),
    "GET /portal/violations/{violation_id}/screenshot": (PARTNER_PAGE, None),
    "GET /portal/violations/{violation_id}/archive": (PARTNER_PAGE, None),
    "GET /portal/responses/{response_id}/screenshot": (PARTNER_PAGE, None),
    # an unknown action: answered 400 with nothing changed (a real response is tested in test_web_portal.py)
    "POST /portal/violations/{violation_id}/respond": (PARTNER_POST, {"action": "agree"}),
    "GET /portal/reports": (PARTNER_PAGE, None),
    "POST /portal/reports": (PARTNER_POST, {}),
    "GET /portal/reports/template.xlsx": (PARTNER_PAGE, None),
    "GET /portal/reports/{batch_id}": (PARTNER_PAGE, None),
    "GET /portal/reports/{batch_id}/receipt.csv": (PARTNER_PAGE, None),
    "GET /portal/policy": (PARTNER_PAGE, None),
    "GET /portal/policy.xlsx": (PARTNER_PAGE, None),
    "GET /portal/policy.pdf": (PARTNER_PAGE, None),
    "POST /portal/policy/acknowledge": (("login", 403, 403, 403, 403, 404, "login"), {"version": "1"}),
    "GET /portal/complaints": (PARTNER_PAGE, None),
    "POST /portal/complaints": (PARTNER_POST, {"url": "file:///etc/passwd"}),
    "GET /portal/complaints/{complaint_id}": (PARTNER_PAGE, None),
    "GET /complaints": (MANAGER_PAGE, None),
    "GET /complaints/{complaint_id}": (IN_SCOPE, None),
    "GET /complaints/{complaint_id}/screenshot": (IN_SCOPE, None),
    "GET /policy/receipts": (MANAGER_PAGE, None),
    "GET /violations/{violation_id}/responses/{response_id}/screenshot": (IN_SCOPE, None),
    "GET /healthz": (PUBLIC, None),
    "GET /overview": (MANAGER_PAGE, None),
    "GET /overview/trends.json": (MANAGER_PAGE, None),
    "GET /violations": (MANAGER_PAGE, None),
    "GET /violations/export.csv": (MANAGER_PAGE, None),
    "GET /violations/export.xlsx": (MANAGER_PAGE, None),
    "POST /violations/bulk": (MANAGER_POST, {"action": "acknowledge"}),
    "GET /violations/{violation_id}": (IN_SCOPE, None),
    "GET /violations/{violation_id}/history.json": (IN_SCOPE, None),
    "GET /violations/{violation_id}/screenshot": (IN_SCOPE, None),
    "GET /violations/{violation_id}/archive": (IN_SCOPE, None),
    "POST /violations/{violation_id}/acknowledge": (SCOPED_POST, {}),
    "POST /violations/{violation_id}/dismiss": (SCOPED_POST, {"reason": ""}),
    "POST /violations/{violation_id}/resolve": (SCOPED_POST, {}),
    "POST /violations/{violation_id}/reopen": (SCOPED_POST, {"reason": "table test"}),
    "POST /violations/{violation_id}/assign": (SCOPED_POST, {"assignee": ""}),
    "POST /violations/{violation_id}/snooze": (SCOPED_POST, {"days": "0"}),
    "POST /violations/{violation_id}/notice": (SCOPED_POST, {}),
    "POST /violations/{violation_id}/confirm": (SCOPED_POST, {}),
    "GET /undecided": (MANAGER_PAGE, None),
    "GET /undecided/{observation_id}/screenshot": (IN_SCOPE, None),
    "POST /undecided/{observation_id}/pick": (SCOPED_POST, {"candidate": "0"}),
    "POST /undecided/{observation_id}/dismiss": (SCOPED_POST, {"reason": "table test"}),
    "GET /partners": (MANAGER_PAGE, None),
    "GET /partners/{code}": (IN_SCOPE, None),
    "GET /partners/{code}/trend.json": (IN_SCOPE, None),
    "GET /products": (MANAGER_PAGE, None),
    "GET /products/{sku}": (MANAGER_PAGE, None),
    "GET /products/{sku}/history.json": (MANAGER_PAGE, None),
    "GET /sellers": (MANAGER_PAGE, None),
    "GET /health": (OPERATOR_PAGE, None),
    "GET /health/rates.json": (OPERATOR_PAGE, None),
    "GET /policy": (MANAGER_PAGE, None),
    "GET /policy/versions/{version}": (MANAGER_PAGE, None),
    "GET /policy/diff": (MANAGER_PAGE, None),
    "GET /policy/explain": (MANAGER_PAGE, None),
    "GET /tokens": (ADMIN_PAGE, None),
    "POST /tokens": (ADMIN_POST, {"name": "", "owner": ""}),
    "POST /tokens/{token_id}/revoke": (ADMIN_POST, {}),
    "GET /portal/tokens": (PARTNER_PAGE, None),
    "POST /portal/tokens": (PARTNER_POST, {"name": ""}),
    "POST /portal/tokens/{token_id}/revoke": (PARTNER_POST, {}),
    "GET /api/v1/openapi.json": (PUBLIC, None),
    "POST /api/v1/reports": (API, {}),
    "GET /api/v1/reports/{report_id}": (API, None),
    "GET /api/v1/policy": (API, None),
    "GET /api/v1/violations": (API, None),
    "GET /api/v1/violations/{violation_id}": (API, None),
    "GET /api/v1/violations/{violation_id}/evidence/{kind}": (API, None),
    "POST /api/v1/violations/{violation_id}/acknowledge": (API, {}),
    "POST /api/v1/violations/{violation_id}/dismiss": (API, {}),
    "POST /api/v1/violations/{violation_id}/resolve": (API, {}),
    "POST /api/v1/webhooks": (API, {}),
    "GET /api/v1/webhooks": (API, None),
    "DELETE /api/v1/webhooks/{webhook_id}": (API, None),
}
PUBLIC_MOUNTS = {"/static"}


@pytest.fixture
def app_world(db: Engine, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any, Engine]:
    monkeypatch.setenv("PRICEWARDEN_API__RATE_LIMIT_PER_MINUTE", "100000")
    app, world = make_portal_app(db)
    add_portal_objects(app, db, world)
    return app, world, db


def _values(app: Any, world: Any, db: Engine) -> dict[str, Any]:
    """Ids for the table's paths: P1's objects, a token of P1 (its account's to revoke), a report and a
    webhook that do not exist."""
    from store import session_scope
    from web.api.tokens import create_token

    with session_scope(db) as s:
        row, _token = create_token(s, name="table", scopes=["policy:read"], created_by="admin", partner="P1")
        token_id = row.id
    return {"code": "P1", "sku": "AC-100", "version": 1, "violation_id": world.web.violations["P1"],
            "listing_id": world.listings["p1"], "observation_id": world.web.undecided["P1"], **world.ids,
            "token_id": token_id, "report_id": 999999, "webhook_id": 999999, "kind": "screenshot"}


def _routes(app: Any) -> list[tuple[str, Any]]:
    found = []
    for path, route in all_routes(app.routes):
        if isinstance(route, APIRoute):
            found.extend((f"{method} {path}", route) for method in sorted(route.methods - {"HEAD"}))
        elif not isinstance(route, Mount):
            found.append((f"? {path}", route))  # a kind of route the table does not know: fails below
    return found


def test_it_has_an_access_rule_and_a_table_row_for_every_route(app_world: tuple[Any, Any, Engine]) -> None:
    app, _world, _db = app_world
    routes = _routes(app)
    missing_rule = [key for key, route in routes if access_rule(route) is None]
    assert missing_rule == [], f"routes without require(...) or public: {missing_rule}"
    assert sorted(key for key, _ in routes) == sorted(TABLE), "every route needs a row in TABLE (and only routes)"
    mounts = {path for path, r in all_routes(app.routes) if isinstance(r, Mount)}
    assert mounts == PUBLIC_MOUNTS


def _client(app: Any, db: Engine, role: str) -> tuple[TestClient, str]:
    client = TestClient(app, follow_redirects=False)
    if role == "anonymous":
        token = client.get("/login").text.split('name="csrf-token" content="')[1].split('"')[0]
        return client, token
    client.cookies.set(COOKIE, cookie_for(app, db, role))
    return client, f"token-of-{role}"


def test_it_answers_every_route_for_every_role_as_the_table_says(app_world: tuple[Any, Any, Engine]) -> None:
    app, world, db = app_world
    values = _values(app, world, db)
    wrong = []
    for role_index, role in enumerate(ROLES):
        for key, (expected, form) in TABLE.items():
            method, path = key.split(" ", 1)
            client, token = _client(app, db, role)
            url = path.format(**values)
            if method == "GET":
                response = client.get(url)
            elif method == "DELETE":
                response = client.request(method, url, headers={"x-csrf-token": token})
            else:
                response = client.request(method, url, data={**(form or {}), "csrf_token": token})
            want = expected[role_index]
            got = response.status_code
            to_login = got == 303 and response.headers["location"].startswith("/login")
            if key.startswith(("GET /api/", "POST /api/", "DELETE /api/")) and got >= 400:
                assert response.headers["content-type"].startswith("application/problem+json"), key
            ok = (to_login if want == "login" else
                  got in (200, 303, 400, 409) and not to_login if want == "view" else got == want)
            if not ok:
                wrong.append(f"{key} as {role}: {got} {response.headers.get('location', '')}, expected {want}")
    assert wrong == []


def test_it_answers_404_to_another_partner_on_every_portal_route_that_names_an_object(
        app_world: tuple[Any, Any, Engine]) -> None:
    """Every partner route with an id in its path, taken from TABLE (a new one is covered without a change here),
    as P2's account on P1's objects: 404, as if they did not exist, and nothing changed."""
    from sqlalchemy import func, select

    from store import ApiToken, AuditLog, PartnerResponse, session_scope

    app, world, db = app_world
    values = _values(app, world, db)
    client, token = _client(app, db, "twohub")
    with session_scope(db) as s:
        audited = s.scalar(select(func.count()).select_from(AuditLog))
    routes = [key for key, (expected, _form) in TABLE.items()
              if expected in (PARTNER_PAGE, PARTNER_POST) and "{" in key]
    assert len(routes) >= 12
    wrong = []
    for key in routes:
        method, path = key.split(" ", 1)
        form = {**(TABLE[key][1] or {}), "action": "corrected", "csrf_token": token}
        response = (client.get(path.format(**values)) if method == "GET"
                    else client.request(method, path.format(**values), data=form))
        if response.status_code != 404:
            wrong.append(f"{key}: {response.status_code}")
    assert wrong == []
    with session_scope(db) as s:
        assert s.scalar(select(func.count()).select_from(AuditLog)) == audited  # nothing done, nothing audited
        assert s.scalars(select(ApiToken.revoked_at).where(ApiToken.id == values["token_id"])).one() is None
        assert s.scalar(select(func.count()).select_from(PartnerResponse)) == 1  # the world's own


def test_it_answers_405_to_a_wrong_method_on_every_route(app_world: tuple[Any, Any, Engine]) -> None:
    app, world, db = app_world
    client, token = _client(app, db, "admin")
    values = _values(app, world, db)
    by_path: dict[str, set[str]] = {}
    for key in TABLE:
        method, path = key.split(" ", 1)
        by_path.setdefault(path, set()).add(method)
    for path, methods in by_path.items():
        wrong = "POST" if "POST" not in methods else "PUT"
        response = client.request(wrong, path.format(**values), headers={"x-csrf-token": token})
        assert response.status_code == 405, (wrong, path, response.status_code)


def test_it_refuses_a_post_without_the_csrf_token(app_world: tuple[Any, Any, Engine]) -> None:
    app, world, db = app_world
    client, _token = _client(app, db, "admin")
    response = client.post("/violations/bulk", data={"action": "acknowledge", "ids": [world.web.violations["P1"]]})
    assert response.status_code == 403
    assert "security token" in response.text and "Nothing was changed" in response.text
    response = client.post("/violations/bulk", data={"action": "acknowledge", "ids": [world.web.violations["P1"]],
                                                     "csrf_token": "forged"})
    assert response.status_code == 403
    listing = client.get("/violations?status=acknowledged")
    assert "0 violations match." in listing.text


# The API against every kind of token. Columns: no token, a revoked token, P1's token with every partner
# scope, P1's with reports:write only, P1's with policy:read only, P2's (another partner: P1's report and
# violation are not there for it), a brand integration that reads, one that reads and writes (acting as bianca).
TOKENS = ("none", "revoked", "p1", "p1_reports", "p1_policy", "p2", "brand_read", "brand_write")
TOKEN_SPECS: dict[str, dict[str, Any]] = {
    "revoked": {"partner": "P1", "scopes": ["reports:write", "violations:read", "policy:read"]},
    "p1": {"partner": "P1", "scopes": ["reports:write", "violations:read", "policy:read"]},
    "p1_reports": {"partner": "P1", "scopes": ["reports:write"]},
    "p1_policy": {"partner": "P1", "scopes": ["policy:read"]},
    "p2": {"partner": "P2", "scopes": ["reports:write", "violations:read", "policy:read"]},
    "brand_read": {"user": "bianca", "scopes": ["violations:read"]},
    "brand_write": {"user": "bianca", "scopes": ["violations:read", "violations:write"]},
}
R_WRITE: Expect = (401, 401, "view", "view", 403, "view", 403, 403)
R_READ: Expect = (401, 401, 200, 200, 403, 404, 403, 403)
POLICY: Expect = (401, 401, 200, 403, 200, 200, 403, 403)
V_LIST: Expect = (401, 401, 200, 403, 403, 200, 200, 200)
V_ONE: Expect = (401, 401, 200, 403, 403, 404, 200, 200)
V_ACT: Expect = (401, 401, 403, 403, 403, 403, 403, "view")
HOOK_NEW: Expect = (401, 401, 201, 403, 403, 201, 201, 201)
HOOK_DEL: Expect = (401, 401, 404, 403, 403, 404, 404, 204)  # the webhook is brand_write's
# "METHOD path" -> (expected per token, JSON body or None); every API route of TABLE must have a row.
API_TABLE: dict[str, tuple[Expect, Any]] = {
    "GET /api/v1/openapi.json": ((200,) * 8, None),
    "POST /api/v1/reports": (R_WRITE, [{"sku": "AC-100", "price": "199.00", "currency": "USD",
                                        "date": "{today}"}]),
    "GET /api/v1/reports/{report_id}": (R_READ, None),
    "GET /api/v1/policy": (POLICY, None),
    "GET /api/v1/violations": (V_LIST, None),
    "GET /api/v1/violations/{violation_id}": (V_ONE, None),
    "GET /api/v1/violations/{violation_id}/evidence/{kind}": (V_ONE, None),
    "POST /api/v1/violations/{violation_id}/acknowledge": (V_ACT, {}),
    "POST /api/v1/violations/{violation_id}/dismiss": (V_ACT, {"reason": "table test"}),
    "POST /api/v1/violations/{violation_id}/resolve": (V_ACT, {}),
    "POST /api/v1/webhooks": (HOOK_NEW, {"url": "https://hooks.example.com/pricewarden"}),
    "GET /api/v1/webhooks": (V_LIST, None),
    "DELETE /api/v1/webhooks/{webhook_id}": (HOOK_DEL, None),
}


def test_it_has_a_token_row_for_every_api_route() -> None:
    assert sorted(API_TABLE) == sorted(key for key in TABLE if " /api/" in key)


def test_it_answers_every_api_route_for_every_token_as_the_table_says(app_world: tuple[Any, Any, Engine]) -> None:
    from datetime import timedelta

    from store import session_scope, utcnow
    from web.api.tokens import create_token, revoke_token

    app, world, db = app_world
    tokens: dict[str, str] = {"none": ""}
    with session_scope(db) as s:
        for name, spec in TOKEN_SPECS.items():
            row, tokens[name] = create_token(s, name=f"table {name}", created_by="admin", **spec)
            if name == "revoked":
                revoke_token(s, row.id, by="admin")
    client = TestClient(app, raise_server_exceptions=False)
    today = (utcnow() - timedelta(hours=1)).strftime("%Y-%m-%d")
    report = client.post("/api/v1/reports", json=[{"sku": "AC-200", "price": "99.00", "currency": "USD",
                                                   "date": today}],
                         headers={"Authorization": f"Bearer {tokens['p1']}"})
    hook = client.post("/api/v1/webhooks", json={"url": "https://hooks.example.com/brand"},
                       headers={"Authorization": f"Bearer {tokens['brand_write']}"})
    values = {"violation_id": world.web.violations["P1"], "report_id": report.json()["id"],
              "webhook_id": hook.json()["id"], "kind": "screenshot"}
    wrong = []
    for index, name in enumerate(TOKENS):
        headers = {"Authorization": f"Bearer {tokens[name]}"} if tokens[name] else {}
        for key, (expected, body) in API_TABLE.items():
            method, path = key.split(" ", 1)
            if isinstance(body, list):
                body = [{k: (today if v == "{today}" else v) for k, v in row.items()} for row in body]
            response = client.request(method, path.format(**values), headers=headers,
                                      json=body if method == "POST" else None)
            want, got = expected[index], response.status_code
            ok = got in (200, 201, 204, 409) if want == "view" else got == want
            if got >= 400 and not response.headers["content-type"].startswith("application/problem+json"):
                ok = False
            if not ok:
                wrong.append(f"{key} with {name}: {got} {response.text[:120]}, expected {want}")
    assert wrong == []
