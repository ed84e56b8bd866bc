"""Who is asking: sign-in with throttling, the current user, and the one access rule every route declares.

Every route of the app names who may call it with exactly one of:

- ``Depends(require(*roles))``: a signed-in, active user with one of ``roles`` (no roles: any
  signed-in user); an anonymous request is sent to the sign-in page (``/api``: 401), a signed-in
  user of another role gets 403. What that user may see inside the route is
  :mod:`store.access`'s business: objects outside the scope answer 404.
- ``Depends(public)``: anyone (sign-in page, static files, health).

``tests/test_web_routes.py`` walks every route of the app and fails on one that declares neither.

Sign-in: argon2 verification against ``User.password_hash``; failed attempts are stored in the
database (``login_attempts``) so that every worker process counts the same ones: after
``web.login_max_failures`` failures for one account (or ``web.login_max_failures_per_address``
from one address) within ``web.login_window_minutes`` the sign-in is refused, whatever the
password, until those failures age out. Inactive accounts are refused; partner accounts go to the
partner portal (``/portal``), and one tied to no partner in the catalog is refused, as is one whose partner is
suspended or terminated (audited as ``login.refused``).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from fastapi import Depends, Request
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pricewarden.errors import PartnerInactive
from store import LoginAttempt, Partner, Role, User, audit, hash_secret, utcnow, verify_secret
from store.access import check_standing
from store.db import session_scope

MANAGERS = (Role.ADMIN, Role.BRAND_MANAGER, Role.CHANNEL_MANAGER)
EVERYONE = "everyone"


class LoginRequired(Exception):
    """The route needs a signed-in user and the request has none (or its session expired)."""


class Forbidden(Exception):
    """The signed-in user's role may not use this route (403)."""

    def __init__(self, user: User, roles: tuple[str, ...]) -> None:
        self.role = user.role
        self.roles = roles
        super().__init__(f"{user.username} ({user.role}) may not use this page")


def db(request: Request) -> Iterator[Session]:
    """A database session for one request: committed when the route returns, rolled back on error.

    Routes take it as ``Depends(db, scope="function")``: the commit happens before the response is
    sent, so a browser that follows a redirect after a POST never reads the state from before it.
    """
    with session_scope(request.app.state.engine) as session:
        yield session


def fingerprint(user: User) -> str:
    """A short digest of the user's password hash: a password change ends every session of the old one."""
    return hashlib.sha256((user.password_hash or "").encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Viewer:
    """What the layout and the error pages need of the signed-in user: plain values that outlive the
    request's database session (which an error rolls back, expiring every loaded object)."""

    id: int
    username: str
    display_name: str
    role: str


def session_user(request: Request, session: Session) -> User | None:
    """The active user the request's session names, or ``None`` (never signed in, expired, deactivated)."""
    if hasattr(request.state, "user"):
        cached: User | None = request.state.user
        return cached
    data = request.scope.get("session", {})
    user: User | None = None
    uid = data.get("uid")
    login_at = data.get("login_at")
    max_age = request.app.state.settings.web.session_hours * 3600
    if isinstance(uid, int) and isinstance(login_at, (int, float)) and utcnow().timestamp() - login_at < max_age:
        found = session.get(User, uid)
        if found is not None and found.active and data.get("fp") == fingerprint(found):
            user = found
    request.state.user = user
    request.state.viewer = viewer_of(user)
    return user


def viewer_of(user: User | None) -> Viewer | None:
    """The plain-values view of ``user``."""
    return None if user is None else Viewer(user.id, user.username, user.display_name or "", user.role)


def public(request: Request, session: Session = Depends(db, scope="function")) -> User | None:
    """Access rule: anyone may call the route (the user, if signed in, is still known for the layout)."""
    return session_user(request, session)


public.__access__ = (EVERYONE,)  # type: ignore[attr-defined]


def require(*roles: str) -> Callable[..., User]:
    """Access rule: a signed-in active user, with one of ``roles`` when any are given."""
    allowed = tuple(str(r) for r in roles)

    def dependency(request: Request, session: Session = Depends(db, scope="function")) -> User:
        user = session_user(request, session)
        if user is None:
            raise LoginRequired
        if allowed and user.role not in allowed:
            raise Forbidden(user, allowed)
        if user.role == Role.PARTNER:
            check_session_partner(request, session, user)
        return user

    dependency.__access__ = allowed or ("signed_in",)  # type: ignore[attr-defined]
    dependency.__name__ = f"require_{'_'.join(allowed) or 'signed_in'}"
    return dependency


def check_session_partner(request: Request, session: Session, user: User) -> None:
    """Refuse (:class:`PartnerInactive`, audited) a partner account's session while its partner is suspended or
    terminated: a suspension ends the portal's use at once, not when the session expires."""
    partner = session.get(Partner, user.partner_id) if user.partner_id is not None else None
    if partner is None:
        return
    try:
        check_standing(partner)
    except PartnerInactive as exc:
        audit_refusal(session, exc, request, actor=user.username, action="session.refused", entity_type="user",
                      entity_id=user.id)
        raise


def audit_refusal(session: Session, exc: PartnerInactive, request: Request, *, actor: str, action: str,
                  entity_type: str, entity_id: int | None) -> None:
    """Record (and commit, after rolling back the request's own work) that a suspended or terminated partner's
    session or token was refused: which partner, its status, and the request refused."""
    session.rollback()
    audit(session, actor=actor, action=action, entity_type=entity_type, entity_id=entity_id,
          after={"partner": exc.partner, "status": exc.status, "method": request.method,
                 "path": request.url.path[:200]}, reason=f"partner {exc.status}")
    session.commit()


def access_rule(route: Any) -> tuple[str, ...] | None:
    """The access rule a route declares (``None``: none, which the route table test refuses)."""
    dependant = getattr(route, "dependant", None)
    stack = list(dependant.dependencies) if dependant is not None else []
    while stack:
        dep = stack.pop()
        rule = getattr(dep.call, "__access__", None)
        if rule is not None:
            return tuple(rule)
        stack.extend(dep.dependencies)
    return None


# Sign-in ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in attempt: ``user`` on success, else why (``bad``, ``locked``, ``inactive``,
    ``partner``, ``partner_suspended``, ``partner_terminated``) and, when locked, the minutes until it lifts."""

    user: User | None
    problem: str | None = None
    retry_minutes: int = 0


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """A real argon2 hash to verify against when the account does not exist: an unknown name costs the same."""
    return hash_secret(secrets.token_urlsafe(16))


def client_address(request: Request) -> str:
    """The client's address (uvicorn has already applied a trusted proxy's X-Forwarded-For)."""
    return (request.client.host if request.client else "unknown")[:64]


def _lock_lifts(session: Session, column: Any, value: str, limit: int, since: datetime,
                window: timedelta) -> datetime | None:
    """When the lock on ``column = value`` lifts, or ``None`` when it is not locked."""
    failures = list(session.scalars(
        select(LoginAttempt.at).where(column == value, LoginAttempt.success.is_(False), LoginAttempt.at >= since)
        .order_by(LoginAttempt.at.desc()).limit(limit)))
    if len(failures) < limit:
        return None
    return failures[-1] + window  # the oldest of the last `limit` failures ages out


def sign_in(session: Session, settings: Any, username: str, password: str, address: str,
            now: datetime | None = None) -> SignIn:
    """Check ``username``/``password`` from ``address``; record the attempt; never say which part was wrong."""
    now = now or utcnow()
    name = username.strip().lower()[:100]
    window = timedelta(minutes=settings.web.login_window_minutes)
    since = now - window
    lifts = [t for t in (
        _lock_lifts(session, func.lower(LoginAttempt.username), name, settings.web.login_max_failures, since, window),
        _lock_lifts(session, LoginAttempt.address, address, settings.web.login_max_failures_per_address, since,
                    window)) if t is not None]
    if lifts:
        minutes = max(1, int((max(lifts) - now).total_seconds() // 60) + 1)
        return SignIn(None, "locked", minutes)
    user = session.scalars(select(User).where(func.lower(User.username) == name)).first()
    stored = user.password_hash if user is not None and user.password_hash else _dummy_hash()
    ok = verify_secret(stored, password) and user is not None
    session.add(LoginAttempt(at=now, username=name, address=address, success=ok))
    if not ok or user is None:
        return SignIn(None, "bad")
    if not user.active:
        return SignIn(None, "inactive")
    if user.role == Role.PARTNER and user.partner_id is None:
        return SignIn(None, "partner")  # a partner account tied to no partner would see nothing
    partner = session.get(Partner, user.partner_id) if user.role == Role.PARTNER else None
    try:
        if partner is not None:
            check_standing(partner)
    except PartnerInactive as exc:
        audit(session, actor=user.username, action="login.refused", entity_type="user", entity_id=user.id,
              after={"partner": exc.partner, "status": exc.status, "address": address}, reason=f"partner {exc.status}")
        return SignIn(None, f"partner_{exc.status}")
    return SignIn(user)


def start_session(request: Request, user: User) -> None:
    """Make ``request``'s session that of ``user`` (a fresh session: new CSRF token, nothing carried over)."""
    from web.i18n import normalise

    data: dict[str, Any] = request.scope["session"]
    locale = data.get("locale")
    data.clear()
    data.update(uid=user.id, login_at=int(utcnow().timestamp()), fp=fingerprint(user),
                locale=normalise(user.locale) or locale or "en")
    request.state.user = user
    request.state.viewer = viewer_of(user)


def end_session(request: Request) -> None:
    """Forget the signed-in user (the cookie is deleted)."""
    request.scope["session"].clear()
    request.state.user = None
    request.state.viewer = None


__all__ = [
    "EVERYONE",
    "MANAGERS",
    "Forbidden",
    "LoginRequired",
    "SignIn",
    "Viewer",
    "access_rule",
    "client_address",
    "db",
    "end_session",
    "fingerprint",
    "public",
    "require",
    "session_user",
    "sign_in",
    "start_session",
    "viewer_of",
]
