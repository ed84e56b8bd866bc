"""The page families of the review app, one module each.

Adding a page family: write ``web/pages/<family>.py`` with ``router = APIRouter()`` whose every
route declares its access rule (``Depends(require(...))`` or ``Depends(public)``, see
:mod:`web.auth`), optionally ``NAV = [NavItem(N_("Label"), "/path", roles)]`` for the main
navigation, templates under ``web/templates/<family>/``; then add the module to :data:`PAGES`
and its routes to the table in ``tests/test_web_routes.py`` (which fails until you do).
"""

from __future__ import annotations

from types import ModuleType

from web.auth import Viewer
from web.pages import (
    complaints,
    evidence,
    health,
    login,
    overview,
    partners,
    policy,
    portal,
    portal_policy,
    portal_reports,
    products,
    sellers,
    tokens,
    undecided,
    violation,
    violations,
)
from web.render import NavItem

# Order = navigation order.
PAGES: tuple[ModuleType, ...] = (login, overview, violations, violation, evidence, undecided, partners, products,
                                  sellers, health, policy, complaints, portal, portal_reports, portal_policy,
                                  tokens)


def nav_for(user: Viewer | None) -> list[NavItem]:
    """The navigation entries ``user`` may use (none when signed out)."""
    if user is None:
        return []
    return [item for module in PAGES for item in getattr(module, "NAV", ()) if user.role in item.roles]


__all__ = ["PAGES", "nav_for"]
