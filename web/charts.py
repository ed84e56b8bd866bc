"""The JSON series the charts draw and the tests read: one function per chart, no view logic.

Instants are milliseconds since the epoch (UTC); the browser shows them in the viewer's own time
zone and UTC on hover. Amounts are decimal strings (exact); the chart turns them into numbers only
to draw them.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pricewarden.errors import NoRuleError, PolicyError
from store import Listing, Observation, Partner, Product, Violation

MAX_POINTS = 2000  # per series
MAX_SELLERS = 8  # other sellers of the SKU shown beside the listing
WINDOW = timedelta(days=90)


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def _amount(value: Decimal | None) -> str | None:
    return None if value is None else format(value.quantize(Decimal("0.01")), "f")


def _limit_value(rule: Any, mode: str) -> Decimal | None:
    """The price the mode judges against: the allowed floor (map), the cap (maximum), the reference (recommended)."""
    if mode == "map":
        floor: Decimal | None = rule.allowed_floor()
        return floor
    if mode == "maximum":
        cap: Decimal | None = rule.maximum
        return cap
    reference: Decimal | None = rule.recommended
    return reference


def limit_for(versions: list[Any], sku: str, category: str | None, partner: Partner | None, region: str | None,
              at: datetime) -> tuple[Decimal | None, Any]:
    """The price the rule in force judges against for this seller at ``at`` (floor, cap or reference) and the
    rule, or ``(None, None)`` when no rule applies (no region, no rule, no version yet)."""
    from policies import resolve

    if not region:
        return None, None
    try:
        rule = resolve(versions, sku=sku, category=category, partner_code=partner.code if partner else None,
                       tier=partner.tier if partner else None, region=region, at=at)
    except (NoRuleError, PolicyError):
        return None, None
    return _limit_value(rule, rule.mode), rule


def product_history(session: Session, product: Product, versions: list[Any], visible: Any, until: datetime,
                    currency: str | None = None) -> dict[str, Any]:
    """Every seller's prices of ``product`` together over the 90 days up to ``until`` (so that a price war
    shows as it starts), in one currency (the most observed unless given), and the limit of the region
    most observed in it as it changed. ``visible`` is a WHERE clause on the seller's partner id (the scope)."""
    start = until - WINDOW
    partner_of = func.coalesce(Observation.partner_id, Listing.partner_id)
    base = (select(Observation.observed_at, Observation.price, Observation.currency, Observation.seller_id,
                   Observation.seller_name, Partner.code, Listing.region, Observation.listing_id)
            .outerjoin(Listing, Listing.id == Observation.listing_id)
            .outerjoin(Partner, Partner.id == partner_of)
            .where(Observation.product_id == product.id, Observation.price.is_not(None),
                   Observation.observed_at >= start, Observation.observed_at <= until, visible))
    currencies = session.execute(select(base.subquery().c.currency, func.count()).group_by("currency")
                                 .order_by(func.count().desc())).all()
    known = [str(c) for c, _n in currencies if c]
    chosen = currency if currency in known else (known[0] if known else None)
    rows = session.execute(base.where(Observation.currency == chosen).order_by(Observation.observed_at)
                           .limit(MAX_POINTS * MAX_SELLERS * 4)).all() if chosen else []
    by_seller: dict[str, list[dict[str, Any]]] = defaultdict(list)
    regions: Counter[str] = Counter()
    for at, price, _c, seller_id, seller_name, code, region, _lid in rows:
        name = code or seller_name or seller_id or "?"
        if region:
            regions[region] += 1
        if len(by_seller) < MAX_SELLERS * 3 or name in by_seller:
            by_seller[name].append({"t": _ms(at), "y": _amount(price)})
    series: list[dict[str, Any]] = [{"kind": "seller", "label": name, "currency": chosen,
                                     "points": points[-MAX_POINTS:]} for name, points in sorted(by_seller.items())]
    region = regions.most_common(1)[0][0] if regions else None
    limit_points = []
    if region is not None:
        changes = {start, until}
        for version in versions:
            changes.add(version.effective_from)
            for window in (*version.policy.promotions, *version.policy.exemptions):
                changes.update((window.start, window.end))
        for at in sorted(c for c in changes if start <= c <= until):
            value, rule = limit_for(versions, product.sku, product.category, None, region, at)
            if value is not None and rule.currency == chosen:
                limit_points.append({"t": _ms(at), "y": _amount(value), "version": rule.version, "mode": rule.mode})
    series.append({"kind": "limit", "label": f"limit {region or ''}".strip(), "currency": chosen, "step": True,
                   "points": limit_points})
    return {"sku": product.sku, "currency": chosen, "currencies": known, "region": region, "series": series}


def violation_history(session: Session, violation: Violation, versions: list[Any]) -> dict[str, Any]:
    """This listing's prices, the limit as it changed (versions, promotions, exemptions), and the other
    sellers of the same SKU, over the 90 days up to the violation's last sighting."""
    from policies import resolve

    end = (violation.resolved_at or violation.last_seen_at) + timedelta(days=1)
    start = min(violation.first_seen_at, end - WINDOW)
    series: list[dict[str, Any]] = []
    own_filter = (Observation.listing_id == violation.listing_id if violation.listing_id is not None
                  else Observation.seller_id == violation.seller_id)
    own = session.execute(
        select(Observation.observed_at, Observation.price, Observation.currency)
        .where(Observation.product_id == violation.product_id, own_filter, Observation.price.is_not(None),
               Observation.observed_at >= start, Observation.observed_at < end)
        .order_by(Observation.observed_at).limit(MAX_POINTS)).all()
    party = violation.partner.code if violation.partner else (violation.seller_name or violation.seller_id or "?")
    series.append({"kind": "listing", "label": party, "currency": violation.currency,
                   "points": [{"t": _ms(at), "y": _amount(price)} for at, price, _c in own]})

    # The limit, resolved at each of this listing's instants and at every change of the policy.
    sku = violation.product.sku if violation.product else None
    changes = {at for at, _p, _c in own}
    for version in versions:
        changes.add(version.effective_from)
        for window in (*version.policy.promotions, *version.policy.exemptions):
            changes.update((window.start, window.end))
    limit_points = []
    partner = violation.partner
    if sku is not None and violation.region:
        for at in sorted(c for c in changes if start <= c < end):
            try:
                rule = resolve(versions, sku=sku, category=violation.product.category if violation.product else None,
                               partner_code=partner.code if partner else None, tier=partner.tier if partner else None,
                               region=violation.region, at=at)
            except (NoRuleError, PolicyError):
                continue
            value = _limit_value(rule, rule.mode)
            if value is not None and rule.currency == violation.currency:
                limit_points.append({"t": _ms(at), "y": _amount(value), "version": rule.version,
                                     "mode": rule.mode})
    series.append({"kind": "limit", "label": "limit", "currency": violation.currency, "step": True,
                   "points": limit_points})

    # Other sellers of the SKU in the same currency (a price war shows as it starts).
    others = session.execute(
        select(Observation.observed_at, Observation.price, Observation.partner_id, Observation.seller_id,
               Observation.seller_name, Partner.code)
        .outerjoin(Partner, Partner.id == Observation.partner_id)
        .where(Observation.product_id == violation.product_id, Observation.price.is_not(None),
               Observation.currency == violation.currency, Observation.observed_at >= start,
               Observation.observed_at < end,
               (Observation.listing_id != violation.listing_id) if violation.listing_id is not None
               else (Observation.seller_id != violation.seller_id))
        .order_by(Observation.observed_at).limit(MAX_POINTS * MAX_SELLERS)).all()
    by_seller: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for at, price, _pid, seller_id, seller_name, code in others:
        name = code or seller_name or seller_id or "?"
        if name == party:
            name = f"{name} (other listing)"
        if len(by_seller) < MAX_SELLERS or name in by_seller:
            by_seller[name].append({"t": _ms(at), "y": _amount(price)})
    for name, points in sorted(by_seller.items()):
        series.append({"kind": "seller", "label": name, "currency": violation.currency,
                       "points": points[:MAX_POINTS]})
    return {"violation": violation.id, "currency": violation.currency, "mode": violation.mode,
            "first_seen": _ms(violation.first_seen_at), "last_seen": _ms(violation.last_seen_at),
            "series": series}


__all__ = ["limit_for", "product_history", "violation_history"]
