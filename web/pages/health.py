"""Crawl health for the operator: failure rate per site over time, failures by kind, sites whose profile stopped
matching; sites by their name (partner or profile) rather than host:port. Admins and brand managers only: it
spans every partner's sites."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from detection.rollups import days_to
from store import CrawlFailure, Observation, Role, User, utcnow
from web.auth import db, require
from web.i18n import N_
from web.render import NavItem, page, translator, zone_of

router = APIRouter()
OPERATORS = (Role.ADMIN, Role.BRAND_MANAGER)
NAV = [NavItem(N_("Crawl health"), "/health", OPERATORS)]
Operator = Annotated[User, Depends(require(*OPERATORS))]
Db = Annotated[Session, Depends(db, scope="function")]
WINDOWS = (7, 30, 90)
RECENT = 50  # latest failures listed


def _days(value: str | None) -> int:
    return int(value) if value and value.isdigit() and int(value) in WINDOWS else 30


def _clock(session: Session) -> datetime:
    """The newest crawl activity (a crawled observation or a failure), else now: the window ends there, so a
    workspace that stopped crawling still shows its last weeks."""
    seen = [session.scalar(select(func.max(CrawlFailure.occurred_at))),
            session.scalar(select(func.max(Observation.observed_at)).where(Observation.source == "crawl"))]
    return max((t for t in seen if t is not None), default=utcnow())


def site_labels(request: Request, session: Session, sites: list[str]) -> dict[str, str]:
    """People's names for ``sites``: the partner whose domains hold the site, else its site profile, else the host."""
    from crawlers.health import site_names
    from crawlers.profiles import load_profiles
    from pricewarden.errors import PriceWardenError

    try:
        profiles = load_profiles(request.app.state.settings.profiles_dir)
    except (PriceWardenError, OSError):
        profiles = []  # a broken profile folder must not hide the health page; names fall back to hosts
    return site_names(session, sites, profiles)


@router.get("/health")
def health_page(request: Request, user: Operator, session: Db, days: str | None = None) -> Response:
    """Every site's pages, failure rate (and how it moved), failures by kind, warnings; the latest failures."""
    from crawlers.health import site_health_days

    _ = translator(request)
    window = _days(days)
    until = _clock(session)
    span = days_to(until, window, zone_of(request))
    since = span.start
    health = site_health_days(session, span)
    kinds: Counter[str] = Counter()
    for h in health:
        kinds.update(h.kinds)
    recent = list(session.scalars(select(CrawlFailure).where(CrawlFailure.occurred_at >= since)
                                  .order_by(CrawlFailure.occurred_at.desc()).limit(RECENT)))
    names = site_labels(request, session, sorted({h.site for h in health} | {f.site for f in recent}))
    return page(request, "health/page.html", {
        "health": health, "kinds": kinds.most_common(), "broken": [h for h in health if h.profile_broken],
        "recent": recent, "names": names, "window": window, "windows": WINDOWS, "since": since, "until": until,
    })


@router.get("/health/rates.json")
def health_rates(request: Request, user: Operator, session: Db, days: str | None = None) -> Response:
    """The failure rate per site per day (sites by name), for the chart."""
    from crawlers.health import failure_rate_days

    window = _days(days)
    zone = zone_of(request)
    data = failure_rate_days(session, days_to(_clock(session), window, zone))
    names = site_labels(request, session, list(data["sites"]))
    lines = [{"label": names.get(site, site), "site": site, "values": values}
             for site, values in data["sites"].items()]
    return JSONResponse({"days": data["days"], "lines": lines, "timezone": zone.key})


__all__ = ["NAV", "router", "site_labels"]
