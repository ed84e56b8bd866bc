"""``GET /api/v1/policy``: the prices in force for the token's partner, resolved as ``policy explain`` does.

One item per SKU the partner may sell (its ``authorised_skus``: SKUs or categories; none means the
whole catalog) and per region of the partner, from :func:`policies.resolve` with the partner's tier
and code (so its promotions and exemptions apply). Worded by mode: ``map`` is the brand's unilateral
advertised-price policy, ``recommended`` information only, ``maximum`` the highest resale price;
an ``observe`` scope is never shown.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select
from sqlalchemy.orm import Session

from policies import load_versions, resolve, version_in_force
from pricewarden.errors import NoRuleError
from store import Partner, PolicyVersion, Product, utcnow
from web.api._deps import ApiProblem, api_token, problems
from web.api.schemas import PolicyOut
from web.api.tokens import Principal
from web.auth import db

router = APIRouter(prefix="/api/v1", tags=["policy"])
Db = Annotated[Session, Depends(db, scope="function")]
WORDING = {
    "map": "The brand's unilateral minimum advertised price policy: advertising below this price breaches it. "
           "Your resale price is yours to set.",
    "recommended": "Recommended resale price, for information only: you are free to set your own price.",
    "maximum": "Maximum resale price: selling above it breaches the brand's policy.",
}


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def prices_in_force(session: Session, partner: Partner, at: datetime) -> dict[str, Any]:
    """The policy in force for ``partner`` at ``at`` as plain data (see the module docstring)."""
    versions = load_versions(session)
    chosen = version_in_force(versions, at) if versions else None
    out: dict[str, Any] = {"partner": partner.code, "at": at, "version": None, "policy": None,
                           "effective_from": None, "sha256": None, "items": []}
    if chosen is None:
        return out
    row = session.scalar(select(PolicyVersion).where(PolicyVersion.version == chosen.version))
    out.update(version=chosen.version, policy=chosen.policy.name, effective_from=chosen.effective_from,
               sha256=row.source_sha256 if row else None)
    allowed = {str(a) for a in partner.authorised_skus or ()}
    products = session.execute(select(Product.sku, Product.title, Product.category)
                               .where(Product.active.is_(True)).order_by(Product.sku)).all()
    for sku, title, category in products:
        if allowed and sku not in allowed and (category or "") not in allowed:
            continue
        for region in sorted(str(r) for r in partner.regions or ()):
            try:
                rule = resolve(versions, sku=sku, category=category, partner_code=partner.code, tier=partner.tier,
                               region=region, at=at)
            except NoRuleError:
                continue
            if rule.mode not in WORDING:
                continue  # observe: the brand's own watch, never sent to a partner
            out["items"].append({
                "sku": sku, "title": title or "", "region": rule.region, "scope": rule.scope, "mode": rule.mode,
                "wording": WORDING[rule.mode], "currency": rule.currency,
                "minimum_advertised_price": _text(rule.floor) if rule.mode == "map" else None,
                "regular_minimum_advertised_price": _text(rule.base_floor) if rule.mode == "map" else None,
                "msrp": _text(rule.msrp), "recommended_price": _text(rule.recommended),
                "maximum_price": _text(rule.maximum) if rule.mode == "maximum" else None,
                "promotions": list(rule.promotions), "exemptions": list(rule.exemptions), "rule": rule.rule_ref,
            })
    return out


@router.get("/policy", response_model=PolicyOut, summary="The prices in force for this partner",
            responses=problems(401, 403, 422, 429))
def get_policy(session: Db, principal: Annotated[Principal, Depends(api_token("policy:read"))],
               at: Annotated[datetime | None, Query(description="Instant (ISO 8601 with offset); default now.")] = None,
               ) -> dict[str, Any]:
    """Each SKU the partner may sell, per region: the price in force and what it means in its scope's mode."""
    if at is not None and at.tzinfo is None:
        raise ApiProblem(422, "Invalid request", "at: give an offset (2026-05-02T00:00:00Z or +08:00)")
    if at is not None and not datetime(1970, 1, 2, tzinfo=UTC) < at < datetime(9999, 1, 1, tzinfo=UTC):
        raise ApiProblem(422, "Invalid request", "at: out of range")
    partner = session.get(Partner, principal.partner_id) if principal.partner_id is not None else None
    if partner is None:
        raise ApiProblem(403, "Partner tokens only", "the policy is served to a partner's token")
    return prices_in_force(session, partner, (at or utcnow()).astimezone(UTC))
