"""The overview: where violations stand, whether compliance is going up, crawl health and alert delivery."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from detection.queries import scoped
from detection.rollups import days_to
from detection.trends import compliance_by_day, data_clock, flow_by_day, open_by
from store import AlertDelivery, Role, User, Violation
from web.auth import MANAGERS, db, require
from web.i18n import N_
from web.labels import label
from web.render import NavItem, page, translator, zone_of

router = APIRouter()
NAV = [NavItem(N_("Overview"), "/overview", MANAGERS)]
Manager = Annotated[User, Depends(require(*MANAGERS))]
Db = Annotated[Session, Depends(db, scope="function")]
WINDOWS = (7, 30, 90)


def _days(value: str | None) -> int:
    return int(value) if value and value.isdigit() and int(value) in WINDOWS else 30


def _alerts(session: Session, user: User, since: object) -> dict[str, int]:
    """Messages of the window by delivery status, for the violations the user may see."""
    stmt: Any = select(AlertDelivery.status, func.count()).join(Violation, Violation.id == AlertDelivery.violation_id)
    rows = session.execute(scoped(session, stmt, user).where(AlertDelivery.created_at >= since)
                           .group_by(AlertDelivery.status)).all()
    return {str(status): int(n) for status, n in rows}


def _unconfirmed(session: Session, user: User) -> int:
    """Open violations the user may see whose price waits for a second reading or a person (detection.confirm)."""
    from detection.confirm import WAITING

    stmt: Any = select(func.count()).select_from(Violation)
    return int(session.scalar(scoped(session, stmt, user).where(
        Violation.status.in_(("open", "acknowledged")), Violation.confirmation.in_(WAITING))) or 0)


@router.get("/overview")
def overview(request: Request, user: Manager, session: Db, days: str | None = None) -> Response:
    """Open violations by rule, partner, tier and region; trends; crawl health; alerts."""
    from crawlers.health import site_health_days
    from web.pages.health import site_labels

    _ = translator(request)
    window = _days(days)
    until = data_clock(session, user)
    span = days_to(until, window, zone_of(request))
    since = span.start
    sees_all = user.role in (Role.ADMIN, Role.BRAND_MANAGER)
    health = [h.as_dict() for h in site_health_days(session, span)] if sees_all else []
    names = site_labels(request, session, [h["site"] for h in health]) if health else {}
    return page(request, "overview.html", {
        "open": open_by(session, user), "window": window, "windows": WINDOWS, "since": since, "until": until,
        "health": health, "site_names": names, "alerts": _alerts(session, user, since), "sees_all": sees_all,
        "unconfirmed": _unconfirmed(session, user),
        "label": lambda code: label(_, code),
    })


@router.get("/overview/trends.json")
def trends(request: Request, user: Manager, session: Db, days: str | None = None) -> Response:
    """The overview charts' series: compliance rate per day (overall, per partner), opened and closed per day."""
    window = _days(days)
    zone = zone_of(request)
    until = data_clock(session, user)
    span = days_to(until, window, zone)
    return JSONResponse({"compliance": compliance_by_day(session, user, span),
                         "flow": flow_by_day(session, user, span.start, until, zone),
                         "timezone": zone.key})


__all__ = ["NAV", "router"]
