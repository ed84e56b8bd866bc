"""Every route of the app against every role, from one explicit table.

A route that is not in the table, or that declares no access rule (``require(...)`` or ``public``),
fails the suite: adding a page means deciding, here, who may use it. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from starlette.routing import Mount
from web_world import cookie_for, make_app

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
PUBLIC: Expect = (200,) * 7

# "METHOD path" -> (expected per role, form data or None). {violation_id}: P1's violation;
# {observation_id}: an undecided page of P1's.
TABLE: dict[str, tuple[Expect, dict[str, Any] | None]] = {
    "GET /login": ((200, 303, 303, 303, 303, 303, 200), None),
    "POST /login": ((400,) * 7, {"username": "", "password": ""}),
    "POST /logout": ((303,) * 7, {}),
    "POST /locale": ((303,) * 7, {"locale": "en", "next": "/"}),
    "GET /": (("login", 303, 303, 303, 303, 303, "login"), None),
    "GET /portal": (PUBLIC, None),
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
}
PUBLIC_MOUNTS = {"/static"}


@pytest.fixture
def app_world(db: Engine, tmp_path: Path) -> tuple[Any, Any, Engine]:
    app, world = make_app(db, tmp_path / "ws")
    return app, world, db


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
    values = {"violation_id": world.violations["P1"], "observation_id": world.undecided["P1"]}
    wrong = []
    for role_index, role in enumerate(ROLES):
        for key, (expected, form) in TABLE.items():
            method, path = key.split(" ", 1)
            client, token = _client(app, db, role)
            url = path.format(**values)
            if method == "GET":
                response = client.get(url)
            else:
                response = client.request(method, url, data={**(form or {}), "csrf_token": token})
            want = expected[role_index]
            got = response.status_code
            to_login = got == 303 and response.headers["location"].startswith("/login")
            ok = (to_login if want == "login" else
                  got in (200, 303, 400, 409) and not to_login if want == "view" else got == want)
            if not ok:
                wrong.append(f"{key} as {role}: {got} {response.headers.get('location', '')}, expected {want}")
    assert wrong == []


def test_it_answers_405_to_a_wrong_method_on_every_route(app_world: tuple[Any, Any, Engine]) -> None:
    app, world, db = app_world
    client, token = _client(app, db, "admin")
    values = {"violation_id": world.violations["P1"], "observation_id": world.undecided["P1"]}
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
    response = client.post("/violations/bulk", data={"action": "acknowledge", "ids": [world.violations["P1"]]})
    assert response.status_code == 403
    assert "security token" in response.text and "Nothing was changed" in response.text
    response = client.post("/violations/bulk", data={"action": "acknowledge", "ids": [world.violations["P1"]],
                                                     "csrf_token": "forged"})
    assert response.status_code == 403
    listing = client.get("/violations?status=acknowledged")
    assert "0 violations match." in listing.text
