"""Sign-in and sign-out, the language switch, the home redirect and the health check."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy import text
from sqlalchemy.orm import Session

from store import Role, User
from web.auth import MANAGERS, client_address, db, end_session, public, sign_in, start_session
from web.i18n import LOCALES
from web.render import flash, page, translator

router = APIRouter()
# Where managers start.
HOME = "/overview"


def _safe_next(request: Request, target: str | None) -> str:
    """A local path to go to after signing in (never another site: ``//evil``, ``https://...``)."""
    root: str = request.scope.get("root_path", "")
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return root + "/"
    if root and not target.startswith(root + "/") and target != root:
        return root + "/"
    return target


@router.get("/login")
def login_form(request: Request, user: Annotated[User | None, Depends(public)], next: str | None = None) -> Response:
    """The sign-in form (a signed-in user goes straight on)."""
    if user is not None:
        return RedirectResponse(_safe_next(request, next), status_code=303)
    _ = translator(request)
    problem = request.scope.get("session_problem")
    notice = {"expired": _("Your session expired. Please sign in again."),
              "forged": _("Your session could not be verified. Please sign in again.")}.get(problem or "")
    return page(request, "login.html", {"next": _safe_next(request, next), "notice": notice, "username": ""})


@router.post("/login")
def login(request: Request, user: Annotated[User | None, Depends(public)],
          session: Annotated[Session, Depends(db, scope="function")],
          username: Annotated[str, Form(max_length=200)] = "", password: Annotated[str, Form(max_length=1000)] = "",
          next: Annotated[str, Form(max_length=2000)] = "") -> Response:
    """Check the credentials; on success a fresh session, else the form again with one clear message."""
    _ = translator(request)
    target = _safe_next(request, next)
    if not username or not password:
        return page(request, "login.html", {"next": target, "username": username,
                                            "error": _("Enter your user name and password.")}, status_code=400)
    result = sign_in(session, request.app.state.settings, username, password, client_address(request))
    if result.user is not None:
        start_session(request, result.user)
        root = request.scope.get("root_path", "")
        if result.user.role == Role.PARTNER and not target.startswith(f"{root}/portal"):
            target = f"{root}/portal"  # the review app's pages are not for partners
        return RedirectResponse(target, status_code=303)
    if result.problem == "partner":
        return page(request, "partner_refused.html", {}, status_code=403)
    errors = {
        "partner_suspended": _("Your partner's access to the portal is suspended. Ask the brand's channel manager."),
        "partner_terminated": _("Your partner's access to the portal has ended: the brand terminated the "
                                "partnership."),
        "bad": _("The user name or password is not right."),
        "inactive": _("This account is inactive. Ask an administrator to reactivate it."),
        "locked": translator(request).ngettext(
            "Too many failed sign-ins. Try again in %(num)s minute.",
            "Too many failed sign-ins. Try again in %(num)s minutes.", result.retry_minutes),
    }
    status = 429 if result.problem == "locked" else 401 if result.problem == "bad" else 403
    return page(request, "login.html", {"next": target, "username": username, "error": errors[result.problem or "bad"]},
                status_code=status)


@router.post("/logout")
def logout(request: Request, user: Annotated[User | None, Depends(public)]) -> Response:
    """End the session (the cookie is deleted) and go to the sign-in page."""
    end_session(request)
    root = request.scope.get("root_path", "")
    return RedirectResponse(f"{root}/login", status_code=303)


@router.post("/locale")
def switch_locale(request: Request, user: Annotated[User | None, Depends(public)],
                  locale: Annotated[str, Form(max_length=20)] = "", next: Annotated[str, Form(max_length=2000)] = ""
                  ) -> Response:
    """Show the app in another language for the rest of the session."""
    if locale in LOCALES:
        request.scope["session"]["locale"] = locale
        request.scope["locale"] = locale
    else:
        flash(request, "error", translator(request)("That language is not available."))
    return RedirectResponse(_safe_next(request, next), status_code=303)


@router.get("/")
def home(request: Request, user: Annotated[User | None, Depends(public)]) -> Response:
    """The start page: the overview for managers, the portal for partners, else the sign-in form."""
    root = request.scope.get("root_path", "")
    if user is None:
        return RedirectResponse(f"{root}/login", status_code=303)
    if user.role not in MANAGERS:
        return RedirectResponse(f"{root}/portal", status_code=303)
    return RedirectResponse(f"{root}{HOME}", status_code=303)


@router.get("/healthz")
def health(request: Request, user: Annotated[User | None, Depends(public)],
           session: Annotated[Session, Depends(db, scope="function")]) -> Response:
    """Liveness and database reachability for the proxy or the orchestrator (no data)."""
    session.execute(text("SELECT 1"))
    return JSONResponse({"status": "ok"})


__all__ = ["router"]
