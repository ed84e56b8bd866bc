"""API tokens: made, listed, revoked, and checked on each request.

A token reads ``pwt_<prefix>_<secret>``: ``prefix`` (12 hex digits) is public and finds the row,
``secret`` is 256 random bits. Only the SHA-256 of the whole token is stored; a fast hash is right
here (unlike for passwords) because nothing about 256 random bits can be guessed, and it keeps every
API request cheap. The comparison is constant-time (:func:`hmac.compare_digest`).

Two kinds:

- ``partner``: acts for one partner and sees exactly what that partner's account sees
  (:mod:`store.access`: its own data, violations only in map and maximum scopes);
- ``integration``: acts as one manager (``user``), with that manager's scope; its actions are
  audited under the manager's name, the token named in the entry. With ``reports:write`` it sends the
  reports of any partner that manager sees (a brand's ERP), naming the partner in each request.

Creation, first use and revocation are audit entries (``api_token.created``, ``.first_used``,
``.revoked``); ``last_used_at`` is kept to the minute.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pricewarden.errors import AccessDenied, NotFoundError, PriceWardenError
from store import ApiToken, Partner, Role, User, audit, utcnow
from store.access import check_standing, is_manager

SCOPES = ("reports:write", "violations:read", "policy:read", "violations:write")
PARTNER_SCOPES = frozenset({"reports:write", "violations:read", "policy:read"})
INTEGRATION_SCOPES = frozenset({"violations:read", "violations:write", "reports:write"})
KINDS = ("partner", "integration")
_FORMAT = re.compile(r"^pwt_([0-9a-f]{12})_([A-Za-z0-9_-]{20,100})$")
# Active tokens one partner may hold: each has its own rate window, so without a bound a partner making tokens for
# itself on its portal page could multiply api.rate_limit_per_minute at will.
MAX_PARTNER_TOKENS = 10
_LAST_USED_EVERY = timedelta(minutes=1)  # last_used_at is kept to the minute: one write a minute, not per call


class TokenError(PriceWardenError):
    """A token that cannot be made as asked (unknown partner, scope not allowed for its kind...)."""


def digest(token: str) -> str:
    """The SHA-256 (hex) under which a token is stored."""
    return hashlib.sha256(token.encode()).hexdigest()


def _scopes(kind: str, scopes: list[str] | tuple[str, ...]) -> list[str]:
    wanted = [s.strip() for s in scopes if s.strip()]
    unknown = [s for s in wanted if s not in SCOPES]
    if unknown:
        raise TokenError(f"unknown scope {unknown[0]!r}: use {', '.join(SCOPES)}")
    allowed = PARTNER_SCOPES if kind == "partner" else INTEGRATION_SCOPES
    refused = [s for s in wanted if s not in allowed]
    if refused:
        raise TokenError(f"scope {refused[0]!r} is not for {kind} tokens: they may have {', '.join(sorted(allowed))}")
    if not wanted:
        raise TokenError(f"give at least one scope: {', '.join(sorted(allowed))}")
    return sorted(set(wanted), key=SCOPES.index)


def create_token(session: Session, *, name: str, scopes: list[str] | tuple[str, ...], created_by: str,
                 partner: str | None = None, user: str | None = None,
                 now: datetime | None = None) -> tuple[ApiToken, str]:
    """Make a token for ``partner`` (code) or for an integration acting as manager ``user``; returns the row
    and the token itself, which is never stored and so can be shown only now."""
    name = " ".join(name.split())[:100]
    if not name:
        raise TokenError("give the token a name (what uses it: 'ERP sync', 'price feed')")
    if (partner is None) == (user is None):
        raise TokenError("a token is for one partner (--partner CODE) or one integration acting as a manager "
                         "(--user NAME)")
    row = ApiToken(name=name, created_by=created_by[:100], created_at=now or utcnow())
    if partner is not None:
        found = session.scalar(select(Partner).where(Partner.code == partner))
        if found is None:
            raise NotFoundError(f"no partner with code {partner!r}")
        active = session.scalar(select(func.count()).select_from(ApiToken).where(
            ApiToken.partner_id == found.id, ApiToken.revoked_at.is_(None))) or 0
        if active >= MAX_PARTNER_TOKENS:
            raise TokenError(f"partner {found.code} has {active} tokens, the most one partner may hold: revoke one "
                             "it no longer uses first")
        row.kind, row.partner_id = "partner", found.id
    else:
        owner = session.scalar(select(User).where(User.username == user))
        if owner is None:
            raise NotFoundError(f"no user {user!r}")
        if not is_manager(owner):
            raise TokenError(f"user {user!r} is not an active manager: an integration acts as an admin, brand or "
                             "channel manager")
        row.kind, row.user_id = "integration", owner.id
    row.scopes = _scopes(row.kind, scopes)
    prefix = secrets.token_hex(6)
    token = f"pwt_{prefix}_{secrets.token_urlsafe(32)}"
    row.prefix, row.token_sha256 = prefix, digest(token)
    session.add(row)
    session.flush()
    audit(session, actor=created_by, action="api_token.created", entity_type="api_token", entity_id=row.id,
          after={"name": row.name, "kind": row.kind, "partner": partner, "user": user, "scopes": row.scopes,
                 "prefix": prefix})
    return row, token


def revoke_token(session: Session, token_id: int, *, by: str, partner_id: int | None = None,
                 now: datetime | None = None) -> ApiToken:
    """Revoke token ``token_id`` (audited); ``partner_id`` limits it to that partner's tokens (its own page)."""
    row = session.get(ApiToken, token_id)
    if row is None or (partner_id is not None and row.partner_id != partner_id):
        raise NotFoundError(f"no API token {token_id}")
    if row.revoked_at is None:
        row.revoked_at, row.revoked_by = now or utcnow(), by[:100]
        audit(session, actor=by, action="api_token.revoked", entity_type="api_token", entity_id=row.id,
              before={"revoked": False}, after={"revoked": True, "name": row.name, "prefix": row.prefix})
    return row


def list_tokens(session: Session, *, partner_id: int | None = None) -> list[ApiToken]:
    """Every token (or ``partner_id``'s), newest first."""
    query = select(ApiToken).order_by(ApiToken.id.desc())
    if partner_id is not None:
        query = query.where(ApiToken.partner_id == partner_id)
    return list(session.scalars(query))


def token_dict(row: ApiToken) -> dict[str, Any]:
    """A token as plain data (never its secret or its hash)."""
    return {"id": row.id, "prefix": row.prefix, "name": row.name, "kind": row.kind,
            "partner": row.partner.code if row.partner else None, "user": row.user.username if row.user else None,
            "scopes": list(row.scopes or []), "created_at": row.created_at, "created_by": row.created_by,
            "first_used_at": row.first_used_at, "last_used_at": row.last_used_at, "revoked_at": row.revoked_at,
            "revoked_by": row.revoked_by}


@dataclass(frozen=True)
class Principal:
    """Who a request with a valid token acts as: the token, its scopes, and the user access checks run for.

    ``user`` is the integration's manager, or for a partner token a partner account that is not stored
    (role ``partner``, the token's partner): :mod:`store.access` then answers for it as for that
    partner's own account.
    """

    token_id: int
    prefix: str
    name: str
    kind: str
    scopes: frozenset[str]
    user: User
    partner_id: int | None
    partner_code: str | None

    @property
    def actor(self) -> str:
        """The audit log's name for what this token does: the manager (or partner) and the token."""
        who = self.user.username if self.kind == "integration" else f"partner {self.partner_code}"
        return f"{who} (API token {self.prefix})"[:100]


def authenticate(session: Session, raw: str, now: datetime | None = None) -> Principal | None:
    """The principal of bearer token ``raw``, or ``None`` when it is malformed, unknown, revoked or its owner
    is gone; records its use (first use audited, ``last_used_at`` to the minute).

    A valid partner token whose partner is suspended or terminated raises
    :class:`~pricewarden.errors.PartnerInactive` (the caller answers 403 and audits it).
    """
    match = _FORMAT.match(raw.strip())
    if match is None:
        return None
    row = session.scalar(select(ApiToken).where(ApiToken.prefix == match.group(1)))
    # Compared even when no row matched, so that an unknown prefix costs the same as a wrong secret.
    stored = row.token_sha256 if row is not None else "0" * 64
    if not hmac.compare_digest(stored, digest(raw.strip())) or row is None or row.revoked_at is not None:
        return None
    now = now or utcnow()
    if row.kind == "integration":
        user = session.get(User, row.user_id) if row.user_id is not None else None
        if user is None or not is_manager(user):
            return None  # the manager left or was deactivated: the integration stops with them
        partner_code = None
    else:
        partner = session.get(Partner, row.partner_id) if row.partner_id is not None else None
        if partner is None:
            return None
        check_standing(partner)
        # Never added to the session: an account-shaped key for store.access, not a row.
        user = User(id=None, username=f"api:{row.prefix}", role=Role.PARTNER.value, partner_id=partner.id,
                    active=True, regions=[])
        partner_code = partner.code
    if row.first_used_at is None:
        row.first_used_at = now
        audit(session, actor=f"api:{row.prefix}", action="api_token.first_used", entity_type="api_token",
              entity_id=row.id, after={"name": row.name})
    if row.last_used_at is None or now - row.last_used_at >= _LAST_USED_EVERY:
        row.last_used_at = now
    return Principal(row.id, row.prefix, row.name, row.kind, frozenset(row.scopes or ()), user, row.partner_id,
                     partner_code)


def require_manager_user(session: Session, username: str) -> User:
    """The active manager ``username`` (who makes or revokes tokens from the CLI as themselves)."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not is_manager(user):
        raise AccessDenied(f"{username!r} is not an active manager")
    return user


__all__ = ["INTEGRATION_SCOPES", "KINDS", "MAX_PARTNER_TOKENS", "PARTNER_SCOPES", "SCOPES", "Principal", "TokenError",
           "authenticate", "create_token", "digest", "list_tokens", "require_manager_user", "revoke_token",
           "token_dict"]
