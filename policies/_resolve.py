"""Which rule applied to this SKU, for this partner, in this region, at this instant: a pure function.

Choosing the version (the rule, documented in the README):

* Versions are immutable. ``effective_from`` is the ordering key: the version in force at instant
  ``t`` is the one with the latest ``effective_from <= t``; when two share ``effective_from`` the
  higher version number wins (the later publication corrects the earlier one for that start).
* So a version published later with an ``effective_from`` in the past applies from its
  ``effective_from`` onwards, until the next version by ``effective_from`` starts, and never before
  it: instants before its ``effective_from`` resolve exactly as they did. (Findings already recorded
  keep the version number they cite; re-judging old observations after a back-dated publication
  uses the new version for instants after its ``effective_from``: that is what back-dating means.)
  Publication time plays no part, so the answer is a function of the set of versions alone.

Within a version: the scope is the one covering the region; a SKU rule beats a category rule; a tier
override replaces the base rule's fields it sets; every promotion (map: floor, recommended: reference
price) and partner exemption (map only) whose [start, end) window contains the instant lowers the
price to its own when lower: the result is the minimum of the base and every window in force.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from policies._model import (
    MODE_PERMITS,
    EscalationLadder,
    Mode,
    Permits,
    Policy,
    Prices,
    PublishedPolicy,
    Rule,
    Scope,
    Tolerance,
)
from pricewarden.errors import NoRuleError, PolicyError
from pricewarden.money import Money

_HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class Step:
    """One step of the explanation chain, with the file line it comes from."""

    kind: str  # version, scope, rule, tier, promotion, exemption, inactive, note
    text: str
    line: int | None = None
    file: str | None = None

    def as_dict(self) -> dict[str, object]:
        """Plain data for JSON output."""
        return {"kind": self.kind, "text": self.text, "file": self.file, "line": self.line}


@dataclass(frozen=True, slots=True)
class ResolvedRule:
    """The rule in force for one SKU, partner, region and instant, and what its mode permits."""

    version: int
    policy: str
    effective_from: datetime
    timezone: str
    scope: str
    region: str
    mode: Mode
    permits: Permits
    target: str  # "sku AC-100" or "category headphones"
    rule_line: int
    tier: str | None
    tier_override: bool  # the rule has an override for this tier, and it was applied
    currency: str
    floor: Decimal | None  # map: the floor after promotions and exemptions; other modes: None
    base_floor: Decimal | None  # map: the floor before promotions and exemptions
    base_map: Decimal | None
    msrp: Decimal | None
    max_discount_pct: Decimal | None
    recommended: Decimal | None  # after a promotion in a recommended scope
    maximum: Decimal | None
    tolerance: Decimal | None
    tolerance_pct: Decimal | None
    escalation: EscalationLadder | None
    promotions: tuple[str, ...] = ()
    exemptions: tuple[str, ...] = ()
    explanation: tuple[Step, ...] = field(default=())

    @property
    def rule_ref(self) -> str:
        """A short citation of the clause: ``v3 us sku AC-100 tier A (line 21)`` (tier only when overridden)."""
        tier = f" tier {self.tier}" if self.tier_override else ""
        return f"v{self.version} {self.scope} {self.target}{tier} (line {self.rule_line})"

    def allowed_floor(self) -> Decimal | None:
        """The lowest price that is not a violation (floor minus tolerance), map mode only."""
        if self.floor is None:
            return None
        if self.tolerance_pct is not None:
            return self.floor - self.floor * self.tolerance_pct / _HUNDRED
        return self.floor - (self.tolerance or Decimal(0))

    def as_dict(self) -> dict[str, object]:
        """Plain data for JSON output (Decimals stay Decimals; ``emit_json`` writes them as strings)."""
        ladder = None
        if self.escalation is not None:
            ladder = {"window_days": self.escalation.window_days,
                      "steps": [{"name": s.name, "after": s.after, "notify_partner": s.notify_partner,
                                 "penalty": s.penalty} for s in self.escalation.steps]}
        return {
            "version": self.version, "policy": self.policy, "effective_from": self.effective_from,
            "timezone": self.timezone, "scope": self.scope, "region": self.region, "mode": self.mode,
            "permits": self.permits.as_dict(), "rule": self.target, "rule_line": self.rule_line,
            "rule_ref": self.rule_ref, "tier": self.tier, "tier_override": self.tier_override,
            "currency": self.currency, "floor": self.floor,
            "base_floor": self.base_floor, "base_map": self.base_map, "msrp": self.msrp,
            "max_discount_pct": self.max_discount_pct, "recommended": self.recommended,
            "maximum": self.maximum, "tolerance": self.tolerance, "tolerance_pct": self.tolerance_pct,
            "escalation": ladder, "promotions": list(self.promotions), "exemptions": list(self.exemptions),
            "explanation": [s.as_dict() for s in self.explanation],
        }


def version_in_force(versions: Iterable[PublishedPolicy], at: datetime) -> PublishedPolicy | None:
    """The version in force at ``at``: latest ``effective_from <= at``, ties to the higher number."""
    _require_aware(at)
    candidates = [v for v in versions if v.effective_from <= at]
    if not candidates:
        return None
    return max(candidates, key=lambda v: (v.effective_from, v.version))


def base_floor(mode: Mode, prices: Prices, currency: str) -> Decimal | None:
    """The floor a map rule sets before windows: ``map``, raised to ``msrp * (1 - max_discount_pct%)``.

    The discounted MSRP is rounded half-even to the currency's minor unit (249.99 less 15 % is 212.49).
    """
    if mode != "map" or prices.map is None:
        return None
    floor = prices.map
    if prices.msrp is not None and prices.max_discount_pct is not None:
        discounted = prices.msrp * (_HUNDRED - prices.max_discount_pct) / _HUNDRED
        floor = max(floor, Money(discounted, currency).rounded().amount)
    return floor


def find_rule(policy: Policy, scope: Scope, sku: str, category: str | None) -> Rule | None:
    """The most specific rule of ``scope`` for the SKU: its own rule, else its category's."""
    rule = policy.rule_for(scope.name, "sku", sku)
    if rule is None and category is not None:
        rule = policy.rule_for(scope.name, "category", category)
    return rule


def effective_tolerance(policy: Policy, scope: Scope, rule: Rule, tier: str | None) -> Tolerance:
    """The most specific tolerance: tier override, rule, scope, then the file's default."""
    override = rule.tier(tier)
    for candidate in (override.tolerance if override else None, rule.tolerance, scope.tolerance):
        if candidate is not None:
            return candidate
    return policy.tolerance


def local(at: datetime, zone: str) -> str:
    """``at`` in ``zone`` as ``2026-11-27 00:00 EST`` (for explanations)."""
    return at.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M %Z")


def resolve(
    versions: Sequence[PublishedPolicy],
    *,
    sku: str,
    category: str | None,
    partner_code: str | None,
    tier: str | None,
    region: str,
    at: datetime,
) -> ResolvedRule:
    """The rule in force for ``sku`` sold by ``partner_code`` (of ``tier``) in ``region`` at ``at``.

    Raises :class:`NoRuleError` when no version is in force, no scope covers the region or no rule
    covers the SKU or its category. ``at`` must be timezone-aware.
    """
    chosen = version_in_force(versions, at)
    if chosen is None:
        raise NoRuleError(f"no policy version is in force at {at.astimezone(UTC).isoformat()}")
    policy = chosen.policy
    file = policy.file
    zone = policy.timezone
    steps = [Step("version", f"policy v{chosen.version} {policy.name!r}, in force from "
                             f"{local(policy.effective_from, zone)}", policy.effective_from_line, file)]
    scope = policy.scope_for_region(region.upper())
    if scope is None:
        raise NoRuleError(f"policy v{chosen.version} has no scope for region {region}")
    source = "region default from settings" if scope.mode_from_settings else "set in the file"
    steps.append(Step("scope", f"scope {scope.name} ({', '.join(scope.regions)}), mode {scope.mode} ({source})",
                      scope.line, file))
    rule = find_rule(policy, scope, sku, category)
    if rule is None:
        raise NoRuleError(f"policy v{chosen.version} scope {scope.name} has no rule for sku {sku}"
                          + (f" or category {category}" if category else ""))
    steps.append(Step("rule", f"base rule for {rule.target}" + (" (no SKU rule)" if rule.sku is None else ""),
                      rule.line, file))
    prices = rule.prices
    override = rule.tier(tier)
    if override is not None:
        prices = prices.merged(override.prices)
        changed = ", ".join(f"{k} {v}" for k, v in _set_fields(override.prices))
        steps.append(Step("tier", f"tier {tier} override: {changed or 'tolerance only'}", override.line, file))
    tolerance = effective_tolerance(policy, scope, rule, tier)
    floor = base = base_floor(scope.mode, prices, scope.currency)
    if base is not None and prices.map is not None and base != prices.map:
        steps.append(Step("rule", f"floor raised to {base} by msrp {prices.msrp} less "
                                  f"{prices.max_discount_pct}% max discount", rule.line, file))
    recommended = prices.recommended
    promos: list[str] = []
    for promo in policy.promotions:
        if promo.scope != scope.name or not _targets(promo.skus, promo.categories, sku, category):
            continue
        if promo.tiers is not None and tier not in promo.tiers:
            continue
        window = f"[{local(promo.start, zone)}, {local(promo.end, zone)})"
        if not promo.covers(at):
            steps.append(Step("inactive", f"promotion {promo.name!r} {window} not in force", promo.line, file))
            continue
        promos.append(promo.name)
        if scope.mode == "map" and floor is not None:
            steps.append(Step("promotion", f"promotion {promo.name!r} {window}: "
                                           + _lowered("floor", floor, promo.price), promo.line, file))
            floor = min(floor, promo.price)
        elif scope.mode == "recommended" and recommended is not None:
            steps.append(Step("promotion", f"promotion {promo.name!r} {window}: "
                                           + _lowered("recommended price", recommended, promo.price),
                              promo.line, file))
            recommended = min(recommended, promo.price)
    exempt: list[str] = []
    for ex in policy.exemptions:
        if partner_code is None or ex.partner != partner_code:
            continue
        if (ex.scope is not None and ex.scope != scope.name) or not _targets(ex.skus, ex.categories, sku, category):
            continue
        window = f"[{local(ex.start, zone)}, {local(ex.end, zone)})"
        if scope.mode != "map" or floor is None:
            steps.append(Step("note", f"exemption for {ex.partner} ignored: a {scope.mode} scope has no floor",
                              ex.line, file))
        elif not ex.covers(at):
            steps.append(Step("inactive", f"exemption for {ex.partner} {window} ({ex.reason}) not in force",
                              ex.line, file))
        else:
            exempt.append(ex.reason)
            steps.append(Step("exemption", f"exemption for {ex.partner} {window} ({ex.reason}): "
                                           + _lowered("floor", floor, ex.floor), ex.line, file))
            floor = min(floor, ex.floor)
    permits = MODE_PERMITS[scope.mode]
    if permits.partner_notices and not scope.partner_notices:
        permits = Permits(permits.flag_violations, permits.record_deviations, False, permits.escalation,
                          permits.summary + " (partner notices turned off for this scope)")
    return ResolvedRule(
        version=chosen.version, policy=policy.name, effective_from=policy.effective_from, timezone=zone,
        scope=scope.name, region=region.upper(), mode=scope.mode, permits=permits, target=rule.target,
        rule_line=rule.line, tier=tier, tier_override=override is not None, currency=scope.currency,
        floor=floor, base_floor=base,
        base_map=prices.map, msrp=prices.msrp, max_discount_pct=prices.max_discount_pct,
        recommended=recommended, maximum=prices.maximum, tolerance=tolerance.amount,
        tolerance_pct=tolerance.pct, escalation=scope.escalation, promotions=tuple(promos),
        exemptions=tuple(exempt), explanation=tuple(steps),
    )


def _lowered(what: str, current: Decimal, price: Decimal) -> str:
    if price < current:
        return f"{what} lowered to {price}"
    return f"price {price} is not below the {what} {current}: no change"


def _targets(skus: tuple[str, ...], categories: tuple[str, ...], sku: str, category: str | None) -> bool:
    return sku in skus or (category is not None and category in categories)


def _set_fields(prices: Prices) -> list[tuple[str, Decimal]]:
    names = ("map", "msrp", "max_discount_pct", "recommended", "maximum")
    return [(n, v) for n in names if (v := getattr(prices, n)) is not None]


def _require_aware(at: datetime) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise PolicyError(f"naive instant {at.isoformat()}: give a timezone-aware datetime")
