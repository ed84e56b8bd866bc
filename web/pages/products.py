"""Products: the catalog's SKUs, and one SKU's page (every seller's current price against the limit that applies
to it, the price history of all sellers together, and its unauthorised sellers)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from detection.lifecycle import ACTIVE
from detection.queries import scoped
from detection.trends import data_clock
from pricewarden.errors import NotFoundError
from store import Listing, Observation, Partner, Product, User, Violation
from store.access import partner_filter
from web.auth import MANAGERS, db, require
from web.charts import limit_for, product_history
from web.i18n import N_
from web.labels import label
from web.render import NavItem, page, translator

router = APIRouter()
NAV = [NavItem(N_("Products"), "/products", MANAGERS)]
Manager = Annotated[User, Depends(require(*MANAGERS))]
Db = Annotated[Session, Depends(db, scope="function")]
PER_PAGE = 100
SELLERS = 300  # current prices shown on a product page


def get_product(session: Session, sku: str) -> Product:
    """Product ``sku`` (every manager may see the brand's catalog); :class:`NotFoundError` otherwise."""
    product = session.scalars(select(Product).where(Product.sku == sku)).first()
    if product is None:
        raise NotFoundError(f"product {sku!r} does not exist")
    return product


@router.get("/products")
def products_list(request: Request, user: Manager, session: Db, q: str = "",
                  page_no: Annotated[int, Query(alias="page")] = 1) -> Response:
    """The catalog's SKUs with how many listings the user may see and their open violations."""
    _ = translator(request)
    stmt = select(Product).order_by(Product.sku)
    term = q.strip()[:100]
    if term:
        like = f"%{term.lower().replace('%', '').replace('_', ' ')}%"
        stmt = stmt.where(or_(func.lower(Product.sku).like(like), func.lower(Product.title).like(like),
                              func.lower(Product.category).like(like)))
    total = int(session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
    pages = max(1, -(-total // PER_PAGE))
    page_no = min(max(1, page_no), pages)
    products = list(session.scalars(stmt.limit(PER_PAGE).offset((page_no - 1) * PER_PAGE)))
    ids = [p.id for p in products]
    listings = dict(session.execute(
        select(Listing.product_id, func.count()).where(Listing.product_id.in_(ids),
                                                       partner_filter(session, user, Listing.partner_id))
        .group_by(Listing.product_id)).all()) if ids else {}
    counting: Any = select(Violation.product_id, func.count())
    open_counts: dict[int, int] = {int(pid): int(n) for pid, n in session.execute(
        scoped(session, counting, user).where(Violation.product_id.in_(ids), Violation.status.in_(ACTIVE))
        .group_by(Violation.product_id))} if ids else {}
    return page(request, "products/list.html", {
        "products": products, "listings": listings, "open": open_counts, "q": term, "page_no": page_no,
        "pages": pages, "total": total, "label": lambda c: label(_, c),
    })


@dataclass(frozen=True)
class SellerPrice:
    """One seller's latest price of the product on one listing, against the limit that applies to it."""

    seller: str
    partner: Partner | None
    authorised: bool
    listing_url: str | None
    region: str | None
    price: Decimal | None
    currency: str | None
    raw_text: str | None
    observed_at: datetime
    limit: Decimal | None
    mode: str | None
    breach: bool


def current_prices(session: Session, user: User, product: Product, versions: list[Any]) -> list[SellerPrice]:
    """The latest observation of each (listing, seller) of ``product`` in the user's scope, judged against
    the limit in force at its instant for that seller, tier and region; lowest price first."""
    from detection.frames import is_authorised

    partner_of = func.coalesce(Observation.partner_id, Listing.partner_id)
    seller_key = func.coalesce(Observation.seller_id, Observation.seller_name, "")
    visible = partner_filter(session, user, partner_of)
    newest = (select(Observation.listing_id, seller_key.label("seller"), func.max(Observation.observed_at).label("at"))
              .outerjoin(Listing, Listing.id == Observation.listing_id)
              .where(Observation.product_id == product.id, visible)
              .group_by(Observation.listing_id, seller_key).subquery())
    rows = session.execute(
        select(Observation, Listing, Partner)
        .outerjoin(Listing, Listing.id == Observation.listing_id)
        .outerjoin(Partner, Partner.id == partner_of)
        .join(newest, (func.coalesce(Observation.listing_id, -1) == func.coalesce(newest.c.listing_id, -1))
              & (seller_key == newest.c.seller) & (Observation.observed_at == newest.c.at))
        .where(Observation.product_id == product.id).limit(SELLERS)).all()
    found: dict[tuple[Any, ...], SellerPrice] = {}
    for o, listing, partner in rows:
        region = (listing.region if listing else None) or (
            partner.regions[0] if partner is not None and len(partner.regions or []) == 1 else None)
        limit, rule = limit_for(versions, product.sku, product.category, partner, region, o.observed_at)
        mode = rule.mode if rule is not None else None
        breach = (o.price is not None and limit is not None and rule.currency == o.currency
                  and ((mode == "map" and o.price < limit) or (mode == "maximum" and o.price > limit)))
        name = partner.code if partner else (o.seller_name or o.seller_id or (listing.site if listing else "?"))
        key = (o.listing_id, o.seller_id, o.seller_name)
        found[key] = SellerPrice(name, partner, is_authorised(partner, product.sku, product.category),
                                 listing.url if listing else o.url, region, o.price, o.currency, o.raw_text,
                                 o.observed_at, limit, mode, bool(breach))
    return sorted(found.values(), key=lambda s: (s.currency or "", s.price is None, s.price or 0, s.seller))


@router.get("/products/{sku}")
def product_page(request: Request, sku: str, user: Manager, session: Db) -> Response:
    """One SKU: current prices against the limit, the history chart, unauthorised sellers."""
    from policies import load_versions

    _ = translator(request)
    product = get_product(session, sku)
    prices = current_prices(session, user, product, load_versions(session))
    unauthorised = list(session.scalars(
        scoped(session, select(Violation), user)
        .where(Violation.product_id == product.id, Violation.rule == "unauthorised_seller")
        .order_by(Violation.status.in_(ACTIVE).desc(), Violation.last_seen_at.desc()).limit(100)))
    return page(request, "products/page.html", {
        "product": product, "prices": prices, "unauthorised": unauthorised, "label": lambda c: label(_, c),
        "strangers": [p for p in prices if not p.authorised],
    })


@router.get("/products/{sku}/history.json")
def product_history_json(request: Request, sku: str, user: Manager, session: Db, currency: str = "") -> Response:
    """Every seller's prices of the SKU together (the user's scope), and the limit as it changed."""
    from policies import load_versions

    product = get_product(session, sku)
    partner_of = func.coalesce(Observation.partner_id, Listing.partner_id)
    data = product_history(session, product, load_versions(session), partner_filter(session, user, partner_of),
                           data_clock(session, user), currency.upper()[:3] or None)
    return JSONResponse(data)


__all__ = ["NAV", "get_product", "router"]
