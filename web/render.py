"""Templates: one Jinja2 environment, the base layout's data, and flash messages.

Templates hold no logic beyond display: views hand them plain values and the layout gets the
user, the navigation the user may use, the CSRF token, the language switch and the flash
messages from :func:`page`. Paths in templates go through ``url()`` so that the app works under
a ``--root-path``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.runtime import Context

from web.i18n import HTML_LANG, LOCALES, NAMES, Translator

TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class NavItem:
    """An entry of the main navigation: label (a message id), path, and the roles that see it."""

    label: str
    path: str
    roles: tuple[str, ...]


@pass_context
def _gettext(context: Context, message: str) -> str:
    translator: Translator = context["translator"]
    return translator._t.gettext(message)


@pass_context
def _ngettext(context: Context, singular: str, plural: str, n: int) -> str:
    translator: Translator = context["translator"]
    return translator._t.ngettext(singular, plural, n)


def _money(amount: Decimal | None, currency: str | None = None) -> str:
    if amount is None:
        return "–"
    return f"{amount:,.2f} {currency or ''}".strip()


def _pct(value: Decimal | None) -> str:
    if value is None:
        return "–"
    return f"{Decimal(value).quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)} %"


def _localtime(value: datetime | None, zone: str) -> str:
    """An instant as ``2026-03-04 10:00 EST`` in the named zone (a policy's own, say)."""
    return instant(value, ZoneInfo(zone))


def _make_env() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                      extensions=["jinja2.ext.i18n"], trim_blocks=True, lstrip_blocks=True)
    env.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters["money"] = _money
    env.filters["pct"] = _pct
    env.filters["localtime"] = _localtime
    return env


ENV = _make_env()


def translator(request: Request) -> Translator:
    """The gettext functions of the request's language (the session's choice, else the browser's)."""
    return Translator(request.scope.get("locale", "en"))


def flash(request: Request, level: str, message: str) -> None:
    """Show ``message`` (already translated) on the next page the user sees; ``level``: ok, error, info."""
    request.scope["session"].setdefault("flash", []).append([level, message[:500]])


def zone_of(request: Request) -> ZoneInfo:
    """The time zone instants are shown in on the server side (the workspace's); charts use the viewer's own."""
    return ZoneInfo(request.app.state.settings.timezone)


def instant(value: datetime | None, zone: ZoneInfo) -> str:
    """An instant as ``2026-03-04 10:00 EST`` in ``zone``."""
    if value is None:
        return "–"
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def page(request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200,
         headers: dict[str, str] | None = None) -> HTMLResponse:
    """Render template ``name`` inside the base layout for ``request``."""
    return HTMLResponse(render_html(request, name, context), status_code=status_code, headers=headers)


def render_html(request: Request, name: str, context: dict[str, Any] | None = None) -> str:
    """Template ``name`` rendered for ``request`` (its user, locale, zone, CSRF token) as a string."""
    from web.pages import nav_for
    from web.security import csrf_token

    user = getattr(request.state, "viewer", None)
    root = request.scope.get("root_path", "")
    zone = zone_of(request)
    locale = request.scope.get("locale", "en")
    flashes = request.scope["session"].pop("flash", [])
    data = {
        "request": request, "user": user, "translator": translator(request), "locale": locale,
        "html_lang": HTML_LANG.get(locale, "en"), "locales": [(code, NAMES[code]) for code in LOCALES],
        "csrf_token": csrf_token(request), "nav": nav_for(user), "flashes": flashes, "root": root,
        "url": lambda path: root + path, "here": request.url.path, "zone": zone,
        "instant": lambda value: instant(value, zone),
    }
    data.update(context or {})
    return ENV.get_template(name).render(data)


__all__ = ["ENV", "NavItem", "flash", "instant", "page", "render_html", "translator", "zone_of"]
