"""Sign-in, sign-out, throttling shared by every worker, refused accounts, and the session cookie."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from web_world import cookie_for, make_app, password, sign_in

from store import LoginAttempt, User, hash_secret, session_scope
from web.security import COOKIE


@pytest.fixture
def app(db: Engine, tmp_path: Path) -> Any:
    app, _world = make_app(db, tmp_path / "ws")
    return app


def _client(app: Any, **kwargs: Any) -> TestClient:
    return TestClient(app, follow_redirects=False, **kwargs)


def test_it_signs_in_with_the_right_password_and_sets_a_safe_cookie(app: Any) -> None:
    client = _client(app)
    response = sign_in(client, "bianca")
    assert response.status_code == 303 and response.headers["location"] == "/violations"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain http on 127.0.0.1
    assert client.get("/violations").status_code == 200


def test_it_marks_the_cookie_secure_over_https(app: Any) -> None:
    client = _client(app, base_url="https://review.example")
    assert "; Secure" in sign_in(client, "bianca").headers["set-cookie"]


def test_it_refuses_a_wrong_password_without_saying_which_part(app: Any) -> None:
    client = _client(app)
    wrong = sign_in(client, "bianca", "nope")
    unknown = sign_in(client, "nobody", "nope")
    assert wrong.status_code == unknown.status_code == 401
    assert "The user name or password is not right." in wrong.text
    assert "The user name or password is not right." in unknown.text
    assert COOKIE not in client.cookies or client.get("/violations").status_code == 303


def test_it_locks_an_account_after_five_failures_for_every_worker(app: Any, db: Engine, tmp_path: Path) -> None:
    for _ in range(5):
        assert sign_in(_client(app), "carl", "wrong").status_code == 401
    # A second app on the same database stands for another uvicorn worker: it agrees.
    from pricewarden.settings import Settings
    from web.app import create_app

    other = create_app(Settings(workspace=tmp_path / "ws"), engine=db)
    locked = sign_in(_client(other), "carl")  # the right password, too late
    assert locked.status_code == 429
    assert re.search(r"Too many failed sign-ins\. Try again in 1[56] minutes\.", locked.text)
    assert sign_in(_client(app), "dana").status_code == 303  # other accounts are not affected
    with session_scope(db) as s:
        assert s.scalar(select(func.count()).select_from(LoginAttempt).where(LoginAttempt.username == "carl")) == 5


def test_it_lifts_the_lock_when_the_failures_age_out(app: Any, db: Engine) -> None:
    from datetime import timedelta

    for _ in range(5):
        sign_in(_client(app), "carl", "wrong")
    with session_scope(db) as s:
        for attempt in s.scalars(select(LoginAttempt)):
            attempt.at = attempt.at - timedelta(minutes=16)
    assert sign_in(_client(app), "carl").status_code == 303


def test_it_locks_an_address_that_tries_many_accounts(app: Any) -> None:
    app.state.settings.web.login_max_failures_per_address = 3
    for name in ("x1", "x2", "x3"):
        sign_in(_client(app), name, "wrong")
    assert sign_in(_client(app), "bianca").status_code == 429


def test_it_refuses_an_inactive_account(app: Any) -> None:
    response = sign_in(_client(app), "olga")
    assert response.status_code == 403 and "This account is inactive" in response.text


def test_it_sends_a_partner_account_to_the_partner_portal(app: Any) -> None:
    client = _client(app)
    response = sign_in(client, "soundhub")  # asked for /violations: the review app is not for partners
    assert response.status_code == 303 and response.headers["location"] == "/portal"
    assert client.get("/portal").status_code == 200
    refused = client.get("/violations")
    assert refused.status_code == 403 and "Partners use the partner portal" in refused.text


def test_it_treats_a_forged_cookie_as_signed_out_and_says_so(app: Any, db: Engine) -> None:
    client = _client(app)
    good = cookie_for(app, db, "bianca")
    client.cookies.set(COOKIE, good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB"))
    assert client.get("/violations").headers["location"] == "/login?next=%2Fviolations"
    assert "could not be verified" in client.get("/login").text


def test_it_treats_an_expired_cookie_as_signed_out_and_says_so(app: Any, db: Engine,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    import itsdangerous.timed

    real = itsdangerous.timed.time.time
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: real() - 13 * 3600)  # signed 13 h ago
    old = cookie_for(app, db, "bianca")
    monkeypatch.setattr(itsdangerous.timed.time, "time", real)
    client = _client(app)
    client.cookies.set(COOKIE, old)
    assert client.get("/violations").status_code == 303
    assert "Your session expired" in client.get("/login").text
    token = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/login").text).group(1)  # type: ignore
    client.cookies.set(COOKIE, old)
    assert client.post("/violations/bulk", data={"csrf_token": "token-of-bianca", "action": "acknowledge"}
                       ).status_code == 403
    assert token


def test_it_ends_every_session_when_the_password_changes(app: Any, db: Engine) -> None:
    client = _client(app)
    sign_in(client, "bianca")
    assert client.get("/violations").status_code == 200
    with session_scope(db) as s:
        s.scalars(select(User).where(User.username == "bianca")).one().password_hash = hash_secret("new-pass-2")
    assert client.get("/violations").status_code == 303


def test_it_signs_out(app: Any) -> None:
    client = _client(app)
    sign_in(client, "bianca")
    page = client.get("/violations")
    token = re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    out = client.post("/logout", data={"csrf_token": token})
    assert out.status_code == 303 and "Max-Age=0" in out.headers["set-cookie"]
    assert client.get("/violations").status_code == 303


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example"])
def test_it_never_sends_a_user_to_another_site_after_sign_in(app: Any, target: str) -> None:
    client = _client(app)
    token = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/login").text).group(1)  # type: ignore
    response = client.post("/login", data={"username": "bianca", "password": password("bianca"),
                                           "csrf_token": token, "next": target})
    assert response.headers["location"] == "/"


def test_it_answers_405_to_a_wrong_method(app: Any) -> None:
    assert _client(app).delete("/login").status_code == 405
