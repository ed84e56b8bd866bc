"""API tokens made and revoked by an admin (``pricewarden token``, ``/tokens``) and by a partner for itself
(``/portal/tokens``): shown once, stored hashed, scoped, audited; another partner's token answers 404."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from typer.testing import CliRunner
from web_world import cookie_for, make_app

from pricewarden.cli import app as cli
from store import ApiToken, AuditLog, session_scope
from web.api.tokens import create_token
from web.security import COOKIE

TOKEN = re.compile(r"pwt_[0-9a-f]{12}_[A-Za-z0-9_-]{20,100}")


@pytest.fixture
def web(db: Engine, tmp_path: Path) -> tuple[Any, Any, Engine]:
    app, world = make_app(db, tmp_path / "ws")
    return app, world, db


def _as(app: Any, db: Engine, name: str) -> TestClient:
    client = TestClient(app, follow_redirects=False)
    client.cookies.set(COOKIE, cookie_for(app, db, name))
    return client


def test_it_makes_lists_and_revokes_tokens_from_the_cli(web: tuple[Any, Any, Engine]) -> None:
    _app, _world, db = web
    runner = CliRunner()
    made = runner.invoke(cli, ["token", "create", "ERP sync", "--user", "bianca", "--scope", "violations:read",
                               "--scope", "violations:write", "--by", "admin"])
    assert made.exit_code == 0, made.output
    token = TOKEN.search(made.output)
    assert token is not None
    listed = runner.invoke(cli, ["token", "list", "--json"])
    rows = json.loads(listed.output)
    assert [(r["name"], r["kind"], r["user"], r["scopes"]) for r in rows] == [
        ("ERP sync", "integration", "bianca", ["violations:read", "violations:write"])]
    assert token.group(0) not in listed.output and token.group(0).split("_", 2)[2] not in listed.output
    with session_scope(db) as s:
        stored = s.scalars(select(ApiToken)).one()
        assert stored.token_sha256 == hashlib.sha256(token.group(0).encode()).hexdigest()
    refused = runner.invoke(cli, ["token", "create", "feed", "--partner", "P1", "--scope", "violations:write"])
    assert refused.exit_code == 1 and "not for partner tokens" in str(refused.exception)
    unknown = runner.invoke(cli, ["token", "create", "feed", "--partner", "NOPE", "--scope", "policy:read"])
    assert unknown.exit_code == 1 and "NOPE" in str(unknown.exception)
    revoked = runner.invoke(cli, ["token", "revoke", str(rows[0]["id"]), "--by", "admin"])
    assert revoked.exit_code == 0, revoked.output
    with session_scope(db) as s:
        assert s.scalars(select(ApiToken)).one().revoked_by == "admin"
        assert list(s.scalars(select(AuditLog.action).where(AuditLog.entity_type == "api_token")
                              .order_by(AuditLog.id))) == ["api_token.created", "api_token.revoked"]


def test_it_shows_a_new_token_once_on_the_admin_page(web: tuple[Any, Any, Engine]) -> None:
    app, _world, db = web
    admin = _as(app, db, "admin")
    made = admin.post("/tokens", data={"name": "Price feed", "owner": "partner:P2", "scope": ["reports:write",
                                                                                              "policy:read"],
                                       "csrf_token": "token-of-admin"})
    assert made.status_code == 200 and made.headers["cache-control"] == "no-store"
    token = TOKEN.search(made.text)
    assert token is not None
    page = admin.get("/tokens")
    assert "Price feed" in page.text and token.group(0) not in page.text
    assert "set-cookie" not in made.headers or token.group(0) not in made.headers["set-cookie"]
    bad = admin.post("/tokens", data={"name": "x", "owner": "partner:P2", "scope": ["violations:write"],
                                      "csrf_token": "token-of-admin"})
    assert bad.status_code == 400 and "not for partner tokens" in bad.text
    with session_scope(db) as s:
        token_id = s.scalars(select(ApiToken.id)).one()
    gone = admin.post(f"/tokens/{token_id}/revoke", data={"csrf_token": "token-of-admin"})
    assert gone.status_code == 303
    assert _as(app, db, "bianca").get("/tokens").status_code == 403
    with session_scope(db) as s:
        assert s.get(ApiToken, token_id).revoked_at is not None


def test_it_lets_a_partner_make_and_revoke_only_its_own_tokens(web: tuple[Any, Any, Engine]) -> None:
    app, _world, db = web
    with session_scope(db) as s:
        other, _ = create_token(s, name="P2 feed", scopes=["reports:write"], created_by="admin", partner="P2")
        other_id = other.id
    partner = _as(app, db, "soundhub")
    made = partner.post("/portal/tokens", data={"name": "Shop sync", "scope": ["reports:write", "policy:read"],
                                                "csrf_token": "token-of-soundhub"})
    assert made.status_code == 200 and TOKEN.search(made.text)
    page = partner.get("/portal/tokens")
    assert "Shop sync" in page.text and "P2 feed" not in page.text
    escalate = partner.post("/portal/tokens", data={"name": "x", "scope": ["violations:write"],
                                                    "csrf_token": "token-of-soundhub"})
    assert escalate.status_code == 400
    assert partner.post(f"/portal/tokens/{other_id}/revoke",
                        data={"csrf_token": "token-of-soundhub"}).status_code == 404
    with session_scope(db) as s:
        assert s.get(ApiToken, other_id).revoked_at is None
        mine = s.scalars(select(ApiToken).where(ApiToken.name == "Shop sync")).one()
        assert (mine.partner.code, mine.created_by, mine.scopes) == ("P1", "soundhub", ["reports:write", "policy:read"])
        mine_id = mine.id
    assert partner.post(f"/portal/tokens/{mine_id}/revoke", data={"csrf_token": "token-of-soundhub"}).status_code == 303
    assert _as(app, db, "carl").get("/portal/tokens").status_code == 403


def test_it_bounds_the_tokens_a_partner_may_hold(web: tuple[Any, Any, Engine]) -> None:
    """Each token has its own rate window: a partner making tokens at will would multiply its rate limit."""
    from web.api.tokens import MAX_PARTNER_TOKENS

    app, _world, db = web
    partner = _as(app, db, "soundhub")
    form = {"scope": ["policy:read"], "csrf_token": "token-of-soundhub"}
    for n in range(MAX_PARTNER_TOKENS):
        assert partner.post("/portal/tokens", data={**form, "name": f"t{n}"}).status_code == 200
    refused = partner.post("/portal/tokens", data={**form, "name": "one more"})
    assert refused.status_code == 400 and "revoke one" in refused.text and not TOKEN.search(refused.text)
    with session_scope(db) as s:
        ids = list(s.scalars(select(ApiToken.id).where(ApiToken.name.like("t%")).order_by(ApiToken.id)))
        assert len(ids) == MAX_PARTNER_TOKENS and s.scalar(select(ApiToken).where(ApiToken.name == "one more")) is None
        # Another partner is not held up.
        create_token(s, name="P2 feed", scopes=["reports:write"], created_by="admin", partner="P2")
    assert partner.post(f"/portal/tokens/{ids[0]}/revoke", data={"csrf_token": "token-of-soundhub"}).status_code == 303
    assert partner.post("/portal/tokens", data={**form, "name": "one more"}).status_code == 200
