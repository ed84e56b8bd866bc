"""Sellers: unauthorised and unknown sellers found by crawling and discovery, with their listings.

Scope (:mod:`store.access`): a seller that is no partner concerns the brand, not one partner, so only
admins and brand managers (who see every partner) see those; a channel manager sees the page with
what concerns their own partners only (a partner of theirs selling a SKU it is not authorised for,
listings discovered on their partners' sites).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from detection.lifecycle import ACTIVE
from detection.queries import scoped
from store import Listing, Observation, Product, User, Violation
from store.access import partner_filter, visible_partner_ids
from web.auth import MANAGERS, db, require
from web.i18n import N_
from web.labels import label
from web.pages.partners import latest_prices
from web.render import NavItem, page, translator

router = APIRouter()
NAV = [NavItem(N_("Sellers"), "/sellers", MANAGERS)]
Manager = Annotated[User, Depends(require(*MANAGERS))]
Db = Annotated[Session, Depends(db, scope="function")]
MAX_SELLERS = 200
LISTINGS_EACH = 20


@dataclass
class SellerListing:
    """One page where an unknown seller offers a product, with its latest price there."""

    url: str
    sku: str | None
    price: Decimal | None
    currency: str | None
    observed_at: datetime


@dataclass
class UnknownSeller:
    """A seller seen selling the brand's products that no partner declares."""

    key: str
    name: str
    sites: set[str] = field(default_factory=set)
    skus: set[str] = field(default_factory=set)
    last_seen: datetime | None = None
    observations: int = 0
    listings: list[SellerListing] = field(default_factory=list)
    open_violations: int = 0


def unknown_sellers(session: Session) -> list[UnknownSeller]:
    """Sellers of observations attributed to no partner (marketplace offers, discovered shops), most recent
    first, each with its listings and latest price on each. Callers must see every partner."""
    who = func.coalesce(Observation.seller_id, Observation.seller_name, Listing.site)
    rows = session.execute(
        select(who, func.max(Observation.seller_name), Observation.listing_id, Listing.url, Listing.site,
               Product.sku, func.count(), func.max(Observation.observed_at))
        .join(Listing, Listing.id == Observation.listing_id)
        .outerjoin(Product, Product.id == Observation.product_id)
        .where(Observation.partner_id.is_(None), Listing.partner_id.is_(None))  # (an index finds these few)
        .group_by(who, Observation.listing_id, Listing.url, Listing.site, Product.sku)
        .order_by(func.max(Observation.observed_at).desc()).limit(MAX_SELLERS * LISTINGS_EACH)).all()
    sellers: dict[str, UnknownSeller] = {}
    pending: list[tuple[UnknownSeller, int | None, str, str | None, datetime]] = []
    shown: Counter[str] = Counter()
    for key, name, listing_id, url, site, sku, count, last in rows:
        seller = sellers.get(key)
        if seller is None:
            if len(sellers) >= MAX_SELLERS:
                continue
            seller = sellers[key] = UnknownSeller(str(key), str(name or key))
        seller.sites.add(site)
        if sku:
            seller.skus.add(sku)
        seller.observations += int(count)
        seller.last_seen = max(seller.last_seen or last, last)
        if shown[key] < LISTINGS_EACH:
            shown[key] += 1
            pending.append((seller, listing_id, url, sku, last))
    latest = latest_prices(session, sorted({p[1] for p in pending if p[1] is not None}))
    for owner, lid, page_url, page_sku, at in pending:
        o = latest.get(lid) if lid is not None else None
        owner.listings.append(SellerListing(page_url, page_sku, o.price if o else None, o.currency if o else None, at))
    if sellers:
        counts = session.execute(
            select(func.coalesce(Violation.seller_id, Violation.seller_name), func.count())
            .where(Violation.partner_id.is_(None), Violation.status.in_(ACTIVE),
                   Violation.rule == "unauthorised_seller")
            .group_by(func.coalesce(Violation.seller_id, Violation.seller_name))).all()
        for key, n in counts:
            if key in sellers:
                sellers[key].open_violations = int(n)
    return sorted(sellers.values(), key=lambda s: (s.open_violations == 0,
                                                   -s.last_seen.timestamp() if s.last_seen else 0.0, s.name))


@router.get("/sellers")
def sellers_page(request: Request, user: Manager, session: Db) -> Response:
    """Unknown sellers (admins and brand managers), unauthorised sales and discovered listings in the scope."""
    _ = translator(request)
    sees_all = visible_partner_ids(session, user) is None
    unauthorised = list(session.scalars(
        scoped(session, select(Violation), user).where(Violation.rule == "unauthorised_seller")
        .order_by(Violation.status.in_(ACTIVE).desc(), Violation.last_seen_at.desc()).limit(MAX_SELLERS)
        .options(selectinload(Violation.product), selectinload(Violation.partner))))
    discovered = list(session.execute(
        select(Listing, Product.sku).outerjoin(Product, Product.id == Listing.product_id)
        .where(Listing.discovered.is_(True), partner_filter(session, user, Listing.partner_id))
        .order_by(Listing.first_seen_at.desc()).limit(MAX_SELLERS)).all())
    return page(request, "sellers/page.html", {
        "sees_all": sees_all, "unknown": unknown_sellers(session) if sees_all else [],
        "unauthorised": unauthorised, "discovered": discovered, "label": lambda c: label(_, c),
    })


__all__ = ["NAV", "UnknownSeller", "router", "unknown_sellers"]
