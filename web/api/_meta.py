"""The API as a whole: its routers installed on an app, its OpenAPI document (see :mod:`web.api`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from web.api import policy, reports, violations, webhooks
from web.api._deps import ApiProblem, problem_response
from web.auth import public

ROUTERS = (reports, policy, violations, webhooks)
router = APIRouter(tags=["meta"])
DESCRIPTION = """PriceWarden's API for partners and the brand's own systems.

Authenticate with `Authorization: Bearer pwt_...` (a token made by an admin, `pricewarden token create`,
or by a partner on its portal). Errors are `application/problem+json` (RFC 9457). Each token may make
`api.rate_limit_per_minute` requests a minute (429 with `Retry-After` beyond). See docs/api.md."""


def api_routes(app: FastAPI) -> list[APIRoute]:
    """The API routes of ``app`` (flattened out of the included routers)."""
    from web.app import all_routes

    return [route for path, route in all_routes(app.routes)
            if isinstance(route, APIRoute) and path.startswith("/api/v1/") and path != "/api/v1/openapi.json"]


def openapi_document(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document of the API (made once per app)."""
    cached: dict[str, Any] | None = getattr(app.state, "api_openapi", None)
    if cached is None:
        cached = get_openapi(title="PriceWarden API", version="1", description=DESCRIPTION, routes=api_routes(app))
        cached.setdefault("components", {})["securitySchemes"] = {
            "bearer": {"type": "http", "scheme": "bearer", "description": "An API token: pwt_<prefix>_<secret>"}}
        cached["security"] = [{"bearer": []}]
        app.state.api_openapi = cached
    return cached


@router.get("/api/v1/openapi.json", include_in_schema=False)
def openapi(request: Request, _user: Any = Depends(public)) -> JSONResponse:
    """The OpenAPI 3.1 document of ``/api/v1``."""
    # The paths are the app's own; behind a proxy's prefix (--root-path) the server URL carries it.
    return JSONResponse({**openapi_document(request.app), "servers": [{"url": request.scope.get("root_path") or "/"}]})


def install(app: FastAPI) -> None:
    """Add the API's routers and its problem handler to ``app``."""
    for module in ROUTERS:
        app.include_router(module.router)
    app.include_router(router)

    @app.exception_handler(ApiProblem)
    async def _problem(request: Request, exc: ApiProblem) -> JSONResponse:
        return problem_response(exc)


__all__ = ["ROUTERS", "api_routes", "install", "openapi_document", "router"]
