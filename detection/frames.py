"""Observations from the store as the engine's DataFrame: who sold, where, at what price (in e4).

The seller of an observation is, in order: the partner the crawler attributed it to, the partner
whose ``seller_ids`` hold its marketplace seller id (no partner at all when that id is unknown), the
partner whose name is the seller name, else the listing's partner (a partner's own shop).
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_EVEN
from typing import Any

import pandas as pd
from sqlalchemy import func, select, union
from sqlalchemy.orm import Session

from detection.tables import NA_E4, to_e4
from store import Listing, Observation, Partner, PartnerStatus, Product, Source

OBS_COLUMNS = [
    "obs_id", "observed_at", "sku", "category", "region", "tier", "partner", "partner_id", "product_id",
    "listing_id", "seller_id", "seller_name", "party", "price_e4", "currency", "visibility", "authorised",
    "url", "raw_text", "html_sha256", "screenshot_sha256", "source",
]


def is_authorised(partner: Partner | None, sku: str, category: str | None) -> bool:
    """Whether ``partner`` may sell ``sku``: authorised status and the SKU (or its category) in its
    list, an empty list meaning the whole catalog. No partner is never authorised."""
    if partner is None or partner.status != PartnerStatus.AUTHORISED:
        return False
    allowed = set(partner.authorised_skus or [])
    return not allowed or sku in allowed or (category is not None and category in allowed)


def observations_frame(
    session: Session, *, since: datetime | None = None, sources: tuple[str, ...] = (Source.CRAWL,),
    partner: Partner | None = None, product_id: int | None = None,
) -> pd.DataFrame:
    """Valid observations (with a price, or hidden) of known products as an engine frame.

    By default only crawled pages: partner reports and feeds are what a partner *declares*, not what
    shoppers were shown; they are cross-checked (misreporting), not judged. ``partner``: only what is
    attributed to that partner (a page, a scorecard); ``product_id``: only that product.
    """
    partners = {p.id: p for p in session.scalars(select(Partner))}
    by_seller: dict[str, Partner] = {}
    for known in partners.values():
        by_seller["name:" + known.name.strip().casefold()] = known
        for sid in known.seller_ids or []:
            by_seller[str(sid)] = known
    o = Observation
    query = (
        select(o.id, o.observed_at, o.price, o.currency, o.visibility, o.partner_id, o.seller_id, o.seller_name,
               o.listing_id, o.product_id, o.url, o.raw_text, o.html_sha256, o.screenshot_sha256, o.source,
               Product.sku, Product.category, Listing.region, Listing.partner_id)
        .join(Product, o.product_id == Product.id)
        .outerjoin(Listing, o.listing_id == Listing.id)
        .where(o.source.in_([str(s) for s in sources]))
        .order_by(o.observed_at, o.id)
    )
    if since is not None:
        query = query.where(o.observed_at >= since)
    if product_id is not None:
        query = query.where(o.product_id == product_id)
    if partner is not None:
        # Every way an observation can be attributed to the partner (see _seller_partner), each on its own
        # index but the name (which only attributes rows with neither partner nor seller id), narrowed
        # exactly after attribution below.
        ways = [select(o.id).where(o.partner_id == partner.id),
                select(o.id).where(o.listing_id.in_(select(Listing.id).where(Listing.partner_id == partner.id))),
                select(o.id).where(o.partner_id.is_(None), o.seller_id.is_(None),
                                   func.lower(o.seller_name) == partner.name.strip().lower())]
        if partner.seller_ids:
            ways.append(select(o.id).where(o.seller_id.in_([str(x) for x in partner.seller_ids])))
        query = query.where(o.id.in_(union(*ways)))
    rows: list[dict[str, Any]] = []
    for (obs_id, observed_at, price, currency, visibility, partner_id, seller_id, seller_name, listing_id,
         prod_id, url, raw_text, html, screenshot, source, sku, category, region,
         listing_partner) in session.execute(query):
        if price is None and visibility == "visible":
            continue  # no price and nothing hidden: not a valid observation
        seller = _seller_partner(partner_id, seller_id, seller_name, listing_partner, partners, by_seller)
        if partner is not None and (seller is None or seller.id != partner.id):
            continue
        if region is None and seller is not None and len(seller.regions or []) == 1:
            region = seller.regions[0]
        party = seller.code if seller else f"seller:{seller_id or seller_name or url}"
        rows.append({
            "obs_id": obs_id, "observed_at": observed_at, "sku": sku, "category": category,
            "region": region, "tier": seller.tier if seller else None,
            "partner": seller.code if seller else None, "partner_id": seller.id if seller else None,
            "product_id": prod_id, "listing_id": listing_id, "seller_id": seller_id,
            "seller_name": seller_name, "party": party,
            # The store keeps four decimals on PostgreSQL; round SQLite's text the same way.
            "price_e4": to_e4(price, ROUND_HALF_EVEN) if price is not None else NA_E4,
            "currency": currency, "visibility": visibility,
            "authorised": is_authorised(seller, sku, category), "url": url, "raw_text": raw_text,
            "html_sha256": html, "screenshot_sha256": screenshot, "source": source,
        })
    frame = pd.DataFrame(rows, columns=OBS_COLUMNS)
    frame["observed_at"] = pd.to_datetime(frame["observed_at"], utc=True).astype("datetime64[ns, UTC]")
    frame["price_e4"] = frame["price_e4"].astype("int64")
    frame["authorised"] = frame["authorised"].astype(bool)
    return frame


def _seller_partner(
    partner_id: int | None, seller_id: str | None, seller_name: str | None, listing_partner: int | None,
    partners: dict[int, Partner], by_seller: dict[str, Partner],
) -> Partner | None:
    if partner_id is not None:
        return partners.get(partner_id)
    if seller_id:
        return by_seller.get(str(seller_id))  # a marketplace seller no partner declares: unknown
    if seller_name:
        named = by_seller.get("name:" + seller_name.strip().casefold())
        if named is not None:
            return named
    return partners.get(listing_partner) if listing_partner is not None else None
