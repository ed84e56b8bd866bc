"""The ``/api/v1`` JSON API: tokens, reports, policy, violations and webhooks.

Every route's access rule is :func:`web.api._deps.api_token` (a bearer token with a scope); errors are
``application/problem+json`` (RFC 9457); the OpenAPI document is served at ``/api/v1/openapi.json``
(``Depends(public)``). See docs/api.md.

Imported on first use: the command line registers ``web.api.cli`` with every command it starts, and
importing FastAPI and the routers here cost each command ~0.7 s before it did anything.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from web.api._meta import ROUTERS, api_routes, install, openapi_document, router

__all__ = ["ROUTERS", "api_routes", "install", "openapi_document", "router"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from web.api import _meta

        return getattr(_meta, name)
    raise AttributeError(f"module 'web.api' has no attribute {name!r}")
