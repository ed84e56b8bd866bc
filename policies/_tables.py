"""All published versions flattened into plain records, for vectorised joins (pandas) in detection.

``compile_rules(versions)`` returns a :class:`RuleTables`; every instant is aware UTC, every price a
``Decimal`` (or ``None``). Joining them gives exactly what :func:`policies.resolve` gives:

1. ``versions``: ``version, policy, effective_from, effective_until`` — the version in force at ``t``
   is the row with ``effective_from <= t < effective_until`` (``effective_until`` ``None`` = open).
   Rows are in (effective_from, version) order; a version shadowed by a higher number with the same
   ``effective_from`` has ``effective_until == effective_from`` (an empty interval: never in force).
2. ``scopes``: one row per ``(version, region)``: ``scope, mode, currency, partner_notices``.
3. ``rules``: one row per ``(version, scope, kind, key, tier)`` with ``kind`` ``"sku"`` or
   ``"category"`` and ``tier`` ``None`` (a seller without a tier) or ``"A"``/``"B"``/``"C"`` (base
   merged with that tier's override). Join on the SKU first; rows with no match, on the category.
   Price columns: ``floor`` (map: base floor before windows), ``map, msrp, max_discount_pct,
   recommended, maximum, tolerance, tolerance_pct, mode, currency, line, tier_override`` and
   ``rule_ref`` (the same citation as ``ResolvedRule.rule_ref``).
4. ``promotions``: one row per ``(version, scope, kind, key, tier)`` it covers (``tier`` ``None``
   present only when the promotion names no tiers): ``name, price, start, end, line``. A promotion
   applies when ``start <= t < end`` and it matches the SKU *or* its category.
5. ``exemptions``: one row per ``(version, partner, kind, key)``: ``scope`` (``None`` = any map
   scope), ``floor, start, end, reason, line``; applies in map scopes only, same window rule.

The floor at ``t`` (map) is ``min(rules.floor, every matching promotion price, every matching
exemption floor)``; the recommended price (recommended mode) is ``min(rules.recommended, every
matching promotion price)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from policies._model import TIERS, PublishedPolicy
from policies._resolve import base_floor, effective_tolerance

Record = dict[str, Any]


@dataclass(frozen=True, slots=True)
class RuleTables:
    """Plain records of every version's rules, promotions and exemptions (see the module doc)."""

    versions: list[Record] = field(default_factory=list)
    scopes: list[Record] = field(default_factory=list)
    rules: list[Record] = field(default_factory=list)
    promotions: list[Record] = field(default_factory=list)
    exemptions: list[Record] = field(default_factory=list)


def compile_rules(versions: Sequence[PublishedPolicy]) -> RuleTables:
    """Flatten ``versions`` into :class:`RuleTables` (pure; same answers as ``resolve``)."""
    tables = RuleTables()
    ordered = sorted(versions, key=lambda v: (v.effective_from, v.version))
    for i, published in enumerate(ordered):
        following = ordered[i + 1].effective_from if i + 1 < len(ordered) else None
        tables.versions.append({"version": published.version, "policy": published.policy.name,
                                "effective_from": published.effective_from, "effective_until": following})
        _compile_version(published, tables)
    return tables


def _compile_version(published: PublishedPolicy, tables: RuleTables) -> None:
    policy = published.policy
    version = published.version
    for scope in policy.scopes:
        for region in scope.regions:
            tables.scopes.append({"version": version, "region": region, "scope": scope.name, "mode": scope.mode,
                                  "currency": scope.currency, "partner_notices": scope.partner_notices})
    modes = {s.name: s for s in policy.scopes}
    for rule in policy.rules:
        scope = modes[rule.scope]
        kind, key = ("sku", rule.sku) if rule.sku is not None else ("category", rule.category)
        for tier in (None, *TIERS):
            override = rule.tier(tier)
            prices = rule.prices.merged(override.prices) if override else rule.prices
            tolerance = effective_tolerance(policy, scope, rule, tier)
            tables.rules.append({
                "version": version, "scope": scope.name, "kind": kind, "key": key, "tier": tier,
                "mode": scope.mode, "currency": scope.currency,
                "floor": base_floor(scope.mode, prices, scope.currency), "map": prices.map,
                "msrp": prices.msrp, "max_discount_pct": prices.max_discount_pct,
                "recommended": prices.recommended, "maximum": prices.maximum,
                "tolerance": tolerance.amount, "tolerance_pct": tolerance.pct,
                "tier_override": override is not None, "line": rule.line,
                "rule_ref": f"v{version} {scope.name} {rule.target}"
                            + (f" tier {tier}" if override is not None else "") + f" (line {rule.line})",
            })
    for promo in policy.promotions:
        tiers: tuple[str | None, ...] = promo.tiers if promo.tiers is not None else (None, *TIERS)
        for kind, keys in (("sku", promo.skus), ("category", promo.categories)):
            for key in keys:
                for tier in tiers:
                    tables.promotions.append({
                        "version": version, "scope": promo.scope, "kind": kind, "key": key, "tier": tier,
                        "name": promo.name, "price": promo.price, "start": promo.start, "end": promo.end,
                        "line": promo.line,
                    })
    for ex in policy.exemptions:
        for kind, keys in (("sku", ex.skus), ("category", ex.categories)):
            for key in keys:
                tables.exemptions.append({
                    "version": version, "partner": ex.partner, "scope": ex.scope, "kind": kind, "key": key,
                    "floor": ex.floor, "start": ex.start, "end": ex.end, "reason": ex.reason, "line": ex.line,
                })
