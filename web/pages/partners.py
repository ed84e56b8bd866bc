"""Partners: the list with each partner's scorecard, and one partner's page (compliance trend, open and past
violations, escalation and repeat offences, listings with their latest prices, notices sent)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from detection.lifecycle import ACTIVE
from detection.queries import scoped, scorecard_days
from detection.rollups import days_to
from detection.trends import data_clock, partner_compliance_by_day
from store import AlertDelivery, Listing, Observation, Partner, Product, User, Violation
from store.access import get_partner_for_user
from web.auth import MANAGERS, db, require
from web.i18n import N_
from web.labels import label
from web.render import NavItem, page, translator, zone_of

router = APIRouter()
NAV = [NavItem(N_("Partners"), "/partners", MANAGERS)]
Manager = Annotated[User, Depends(require(*MANAGERS))]
Db = Annotated[Session, Depends(db, scope="function")]
WINDOW = 30  # the scorecard's window in days: the day of the newest observation and the 30 before
TREND = 90
ROWS = 50  # violations shown per table (the full list is a link to the filtered violations list)
LISTINGS = 200


def latest_prices(session: Session, listing_ids: list[int]) -> dict[int, Observation]:
    """The newest observation of each listing (one query: the max instant per listing, then those rows)."""
    if not listing_ids:
        return {}
    newest = (select(Observation.listing_id, func.max(Observation.observed_at).label("at"))
              .where(Observation.listing_id.in_(listing_ids)).group_by(Observation.listing_id).subquery())
    rows = session.scalars(select(Observation).join(
        newest, (Observation.listing_id == newest.c.listing_id) & (Observation.observed_at == newest.c.at)))
    return {o.listing_id: o for o in rows if o.listing_id is not None}


@router.get("/partners")
def partners_list(request: Request, user: Manager, session: Db) -> Response:
    """The partners the user may see, each with compliance, open violations and escalation step."""
    _ = translator(request)
    until = data_clock(session, user)
    span = days_to(until, WINDOW, zone_of(request))
    card = scorecard_days(session, user, span)
    # Each partner's worst repeat, one index seek a partner (ix_violations_partner_repeat).
    worst: Any = select(func.max(Violation.repeat_number))
    worst = scoped(session, worst, user).where(Violation.partner_id == Partner.id, Violation.kind == "violation")
    repeats: dict[str, int] = {str(code): int(n) for code, n in session.execute(
        select(Partner.code, worst.scalar_subquery())) if n is not None}
    return page(request, "partners/list.html", {
        "rows": card["by_partner"], "tiers": card["by_tier"], "regions": card["by_region"], "repeats": repeats,
        "since": span.start, "until": until, "label": lambda code: label(_, code),
    })


def _violations(session: Session, user: User, partner: Partner, active: bool) -> tuple[list[Violation], int]:
    wanted = Violation.status.in_(ACTIVE) if active else Violation.status.not_in(ACTIVE)
    base = scoped(session, select(Violation), user).where(Violation.partner_id == partner.id, wanted)
    total = int(session.scalar(select(func.count()).select_from(base.with_only_columns(Violation.id).subquery()))
                or 0)
    rows = list(session.scalars(base.order_by(Violation.last_seen_at.desc(), Violation.id.desc()).limit(ROWS)))
    return rows, total


@router.get("/partners/{code}")
def partner_page(request: Request, code: str, user: Manager, session: Db) -> Response:
    """One partner, if the user may see it (404 otherwise, as if it did not exist)."""
    _ = translator(request)
    partner = get_partner_for_user(session, user, code)
    until = data_clock(session, user)
    span = days_to(until, WINDOW, zone_of(request))
    trend = partner_compliance_by_day(session, partner, span)
    open_rows, open_total = _violations(session, user, partner, active=True)
    past_rows, past_total = _violations(session, user, partner, active=False)
    ours = scoped(session, select(Violation), user).where(Violation.partner_id == partner.id,
                                                          Violation.kind == "violation")
    repeated = ours.where(Violation.repeat_number > 1).subquery()
    repeats = session.execute(select(func.count(), func.max(repeated.c.repeat_number))).one()
    step = session.scalars(ours.where(Violation.status.in_(ACTIVE), Violation.escalation_step.is_not(None))
                           .order_by(Violation.repeat_number.desc(), Violation.last_seen_at.desc())
                           .with_only_columns(Violation.escalation_step).limit(1)).first()
    listings = list(session.execute(
        select(Listing, Product.sku, Product.title).outerjoin(Product, Product.id == Listing.product_id)
        .where(Listing.partner_id == partner.id).order_by(Product.sku, Listing.url).limit(LISTINGS)).all())
    latest = latest_prices(session, [row[0].id for row in listings])
    notices = list(session.scalars(select(AlertDelivery).where(AlertDelivery.recipient_partner_id == partner.id,
                                                               AlertDelivery.kind == "notice")
                                   .order_by(AlertDelivery.created_at.desc()).limit(ROWS)))
    judged, compliant = trend["total_judged"], trend["total_compliant"]
    return page(request, "partners/page.html", {
        "p": partner, "rate": compliant / judged if judged else None, "judged": judged, "compliant": compliant,
        "since": span.start, "until": until, "open_rows": open_rows, "open_total": open_total,
        "past_rows": past_rows, "past_total": past_total, "repeat_count": int(repeats[0] or 0),
        "repeat_max": int(repeats[1] or 0), "step": step, "listings": listings, "latest": latest,
        "notices": notices, "label": lambda c: label(_, c),
    })


@router.get("/partners/{code}/trend.json")
def partner_trend(request: Request, code: str, user: Manager, session: Db) -> Response:
    """The partner's compliance rate per day over the last 90 days of data."""
    partner = get_partner_for_user(session, user, code)
    until = data_clock(session, user)
    data: dict[str, Any] = partner_compliance_by_day(session, partner, days_to(until, TREND, zone_of(request)))
    return JSONResponse({"partner": partner.code, "timezone": zone_of(request).key, **data})


__all__ = ["NAV", "router"]
