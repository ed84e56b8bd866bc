"""API tokens in the browser: every token for admins (``/tokens``), a partner's own on its portal
(``/portal/tokens``). A new token is shown once, on the page answering the form (never in the session
cookie or a redirect); only its SHA-256 is kept. Revocation is immediate and audited."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from pricewarden.errors import NotFoundError
from store import Partner, Role, User
from store.access import is_manager
from web.api.tokens import (
    PARTNER_SCOPES,
    SCOPES,
    TokenError,
    create_token,
    list_tokens,
    revoke_token,
)
from web.auth import db, require
from web.i18n import N_
from web.render import NavItem, flash, page, translator

router = APIRouter()
NAV = [NavItem(N_("API tokens"), "/tokens", (Role.ADMIN.value,))]
Admin = Annotated[User, Depends(require(Role.ADMIN))]
PartnerUser = Annotated[User, Depends(require(Role.PARTNER))]
Db = Annotated[Session, Depends(db)]
TokenId = Annotated[int, Path(ge=1, le=2**31 - 1)]
NO_STORE = {"Cache-Control": "no-store"}


def _admin_page(request: Request, session: Session, new: str | None = None, error: str | None = None,
                status: int = 200) -> Response:
    partners = list(session.scalars(select(Partner.code).order_by(Partner.code)))
    managers = [u.username for u in session.scalars(select(User).order_by(User.username)) if is_manager(u)]
    return page(request, "tokens/list.html", {
        "tokens": list_tokens(session), "partners": partners, "managers": managers, "scopes": SCOPES,
        "new_token": new, "error": error, "action": "/tokens", "portal": False,
    }, status_code=status, headers=NO_STORE)


@router.get("/tokens")
def tokens_page(request: Request, user: Admin, session: Db) -> Response:
    """Every API token, the form to make one, and a revoke button on each."""
    return _admin_page(request, session)


@router.post("/tokens")
def tokens_create(request: Request, user: Admin, session: Db, name: Annotated[str, Form(max_length=100)] = "",
                  owner: Annotated[str, Form(max_length=120)] = "",
                  scope: Annotated[list[str] | None, Form()] = None) -> Response:
    """Make a token for ``owner`` (``partner:CODE`` or ``user:NAME``) and show it once."""
    kind, _, value = owner.partition(":")
    try:
        _row, token = create_token(session, name=name, scopes=scope or [], created_by=user.username,
                                   partner=value if kind == "partner" else None,
                                   user=value if kind == "user" else None)
    except (TokenError, NotFoundError) as exc:
        session.rollback()
        return _admin_page(request, session, error=str(exc), status=400)
    session.commit()
    return _admin_page(request, session, new=token)


@router.post("/tokens/{token_id}/revoke")
def tokens_revoke(request: Request, token_id: TokenId, user: Admin, session: Db) -> Response:
    """Revoke a token (requests with it answer 401 from now on)."""
    revoke_token(session, token_id, by=user.username)
    _ = translator(request)
    flash(request, "ok", _("The token was revoked."))
    return RedirectResponse(request.scope.get("root_path", "") + "/tokens", status_code=303)


def _portal_page(request: Request, session: Session, user: User, new: str | None = None, error: str | None = None,
                 status: int = 200) -> Response:
    return page(request, "tokens/list.html", {
        "tokens": list_tokens(session, partner_id=user.partner_id if user.partner_id is not None else -1),
        "partners": [], "managers": [], "scopes": [s for s in SCOPES if s in PARTNER_SCOPES],
        "new_token": new, "error": error, "action": "/portal/tokens", "portal": True,
    }, status_code=status, headers=NO_STORE)


@router.get("/portal/tokens")
def portal_tokens(request: Request, user: PartnerUser, session: Db) -> Response:
    """The partner's own API tokens."""
    return _portal_page(request, session, user)


@router.post("/portal/tokens")
def portal_tokens_create(request: Request, user: PartnerUser, session: Db,
                         name: Annotated[str, Form(max_length=100)] = "",
                         scope: Annotated[list[str] | None, Form()] = None) -> Response:
    """A partner makes a token for itself (partner scopes only), shown once."""
    partner = session.get(Partner, user.partner_id) if user.partner_id is not None else None
    if partner is None:
        raise NotFoundError("this account belongs to no partner")
    try:
        _row, token = create_token(session, name=name, scopes=scope or [], created_by=user.username,
                                   partner=partner.code)
    except TokenError as exc:
        session.rollback()
        return _portal_page(request, session, user, error=str(exc), status=400)
    session.commit()
    return _portal_page(request, session, user, new=token)


@router.post("/portal/tokens/{token_id}/revoke")
def portal_tokens_revoke(request: Request, token_id: TokenId, user: PartnerUser, session: Db) -> Response:
    """A partner revokes one of its own tokens (another partner's answers 404)."""
    revoke_token(session, token_id, by=user.username, partner_id=user.partner_id if user.partner_id else -1)
    _ = translator(request)
    flash(request, "ok", _("The token was revoked."))
    return RedirectResponse(request.scope.get("root_path", "") + "/portal/tokens", status_code=303)


__all__ = ["NAV", "router"]
