"""The web app: the review app for brand and channel managers (FastAPI + Jinja2, rendered on the server).

Public API::

    create_app(settings=None, *, engine=None) -> FastAPI     # web.app
    serve(settings, host, port, ...)                          # web.server: uvicorn, one or several workers

See docs/web.md for running it, roles, production behind a proxy, and how to add a page.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {"create_app": "web.app", "serve": "web.server"}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'web' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
