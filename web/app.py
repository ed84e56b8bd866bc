"""The app factory: ``create_app(settings)`` wires routers, middleware, static files and error pages.

Request path, outermost first: security headers → signed session cookie → language → CSRF check
(an app-wide dependency, so no state-changing route can miss it) → the route's access rule
(:func:`web.auth.require`) → the view, which loads every object through :mod:`store.access` /
:mod:`detection` and answers 404 outside the user's scope.

Errors: pages get an HTML page in the user's language; paths under ``/api/`` get
``application/problem+json`` (RFC 9457), ready for the API routers that will be added there.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from pricewarden.errors import AccessDenied, NotFoundError, PartnerInactive
from pricewarden.settings import Settings, get_settings
from web.auth import Forbidden, LoginRequired
from web.i18n import negotiate, normalise
from web.security import (
    HEADERS,
    SAFE_METHODS,
    BodyLimitMiddleware,
    SecurityHeadersMiddleware,
    SessionMiddleware,
    csrf_ok,
    secret_key,
)

STATIC = __import__("pathlib").Path(__file__).parent / "static"


class CsrfRefused(Exception):
    """A state-changing request without its session's CSRF token."""


class LocaleMiddleware:
    """``scope["locale"]``: the session's language (the user's, or the switch), else the browser's."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            chosen = normalise(scope.get("session", {}).get("locale"))
            if chosen is None:
                accept = dict(scope.get("headers", [])).get(b"accept-language", b"").decode("latin-1")
                chosen = negotiate(accept)
            scope["locale"] = chosen
        await self.app(scope, receive, send)


def is_api(request: Request) -> bool:
    """Whether ``request`` is for the JSON API (errors as problem+json, no redirects to the sign-in page)."""
    return request.url.path.removeprefix(request.scope.get("root_path", "")).startswith("/api/")


async def check_csrf(request: Request) -> None:
    """App-wide dependency: a state-changing request must carry its session's CSRF token.

    Requests to ``/api/`` that send no session cookie are not exposed to CSRF: they carry no ambient
    credential (a bearer token is never added by a browser by itself), and the API answers them 401
    unless their token is valid.
    """
    if request.method in SAFE_METHODS:
        return
    if is_api(request) and "pw_session" not in request.cookies:
        return
    if not await csrf_ok(request):
        raise CsrfRefused


def problem(status: int, title: str, detail: str | None = None, **extra: Any) -> JSONResponse:
    """An ``application/problem+json`` response (RFC 9457)."""
    body = {"type": "about:blank", "title": title, "status": status, **({"detail": detail} if detail else {}),
            **extra}
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


def _error_page(request: Request, status: int, title: str, detail: str) -> Response:
    from web.render import page

    if is_api(request):
        return problem(status, title, detail)
    return page(request, "error.html", {"status": status, "title": title, "detail": detail}, status_code=status)


def _install_error_handlers(app: FastAPI) -> None:
    from web.render import translator

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        if is_api(request):
            return problem(401, "Authentication required", "sign in or send a valid API token")
        root = request.scope.get("root_path", "")
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.method not in SAFE_METHODS:
            target = root + "/"
        return RedirectResponse(f"{root}/login?next={quote(target, safe='')}", status_code=303)

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> Response:
        _ = translator(request)
        if exc.role == "partner":
            detail = _("This app is for the brand's managers. Partners use the partner portal.")
        else:
            detail = _("Your role does not give access to this page.")
        return _error_page(request, 403, _("Not allowed"), detail)

    @app.exception_handler(PartnerInactive)
    async def _partner_inactive(request: Request, exc: PartnerInactive) -> Response:
        _ = translator(request)
        if exc.status == "terminated":
            detail = _("Your partner's access to the portal has ended: the brand terminated the partnership.")
        else:
            detail = _("Your partner's access to the portal is suspended. Ask the brand's channel manager.")
        return _error_page(request, 403, _("Access suspended"), detail)

    @app.exception_handler(CsrfRefused)
    async def _csrf(request: Request, exc: CsrfRefused) -> Response:
        _ = translator(request)
        return _error_page(request, 403, _("The form could not be accepted"), _(
            "It was sent without this session's security token: the page was open too long, your session ended, "
            "or the form came from another site. Nothing was changed. Go back, reload the page and try again."))

    @app.exception_handler(NotFoundError)
    @app.exception_handler(AccessDenied)
    async def _not_found(request: Request, exc: Exception) -> Response:
        # Outside the user's scope answers exactly as if it did not exist.
        _ = translator(request)
        return _error_page(request, 404, _("Not found"), _("There is nothing at this address."))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        _ = translator(request)
        titles = {404: _("Not found"), 405: _("Method not allowed")}
        title = titles.get(exc.status_code, str(exc.detail))
        detail = _("There is nothing at this address.") if exc.status_code == 404 else str(exc.detail)
        response = _error_page(request, exc.status_code, title, detail)
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> Response:
        # Starlette answers this from its outermost middleware, outside SecurityHeadersMiddleware: set them here.
        if is_api(request):
            response: Response = problem(500, "Internal server error",
                                         "the server could not answer; the error is logged")
        else:
            response = PlainTextResponse("Internal Server Error", status_code=500)
        response.headers.update(HEADERS)
        return response

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        _ = translator(request)
        detail = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ())[1:])}: {e.get('msg')}"
                           for e in exc.errors())
        if is_api(request):
            return problem(422, "Invalid request", detail)
        return _error_page(request, 400, _("The request could not be read"), detail)


def all_routes(routes: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """Every route of an app or router as ``(full path, route)``, routers included at any depth.

    FastAPI 0.150 keeps an included router as one wrapper route (``original_router`` and its
    ``include_context.prefix``); the route table test and the docs need the flat list.
    """
    found: list[tuple[str, Any]] = []
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            context = getattr(route, "include_context", None)
            found.extend(all_routes(inner.routes, prefix + (getattr(context, "prefix", "") or "")))
        else:
            found.append((prefix + getattr(route, "path", ""), route))
    return found


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """On start, run the portal's crawls still queued (a stopped process left them); on stop, finish the running one."""
    from web.portal.jobs import jobs_of

    jobs_of(app.state).wake(app.state.engine)
    yield
    jobs_of(app.state).shutdown()


def create_app(settings: Settings | None = None, *, engine: Engine | None = None) -> FastAPI:
    """The review app over ``settings``' database (or ``engine``)."""
    from store import require_schema
    from store.db import engine_for
    from web.pages import PAGES

    settings = settings or get_settings()
    engine = engine or engine_for(settings.database)
    require_schema(engine)
    app = FastAPI(title="PriceWarden", docs_url=None, redoc_url=None, openapi_url=None,
                  dependencies=[Depends(check_csrf)], lifespan=_lifespan)
    app.state.settings = settings
    app.state.engine = engine
    for module in PAGES:
        app.include_router(module.router)
    from web.api import install as install_api

    install_api(app)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    _install_error_handlers(app)
    # Added last = outermost: headers on every response, the session before the language.
    app.add_middleware(LocaleMiddleware)
    app.add_middleware(SessionMiddleware, key=secret_key(settings), max_age=int(settings.web.session_hours * 3600),
                       always_secure=settings.web.secure_cookies)
    # Bodies are bounded before they are parsed: a report upload by the largest report plus the form, any other
    # form by the largest screenshot plus the form; every body in time by web.body_timeout.
    from web.portal.uploads import MAX_SCREENSHOT_BYTES

    app.add_middleware(BodyLimitMiddleware, max_bytes=MAX_SCREENSHOT_BYTES + (1 << 20), larger={
        "/portal/reports": (max(settings.reports.max_file_mb, 5) + 1) << 20,
        "/api/v1/reports": (settings.api.max_upload_mb + 1) << 20},  # the route refuses past max_upload_mb itself
        timeout=settings.web.body_timeout)
    app.add_middleware(SecurityHeadersMiddleware)
    return app


__all__ = ["CsrfRefused", "all_routes", "check_csrf", "create_app", "is_api", "problem"]
