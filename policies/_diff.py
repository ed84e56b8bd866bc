"""What a new policy version changes against the one it replaces: stricter, looser, added, removed.

A higher floor (map) or a lower cap (maximum) is *stricter*; the reverse is *looser*. A change of a
recommended price or MSRP is only *changed*: neither is enforced.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from policies._model import TIERS, Exemption, Policy, Prices, Rule
from policies._resolve import base_floor


@dataclass(frozen=True, slots=True)
class Change:
    """One difference between two policy versions."""

    kind: str  # stricter, looser, changed, added, removed, mode
    scope: str
    target: str  # "sku AC-100", "category headphones", "promotion Black Friday", "scope eu"
    tier: str | None = None
    field: str | None = None
    old: str | None = None
    new: str | None = None
    delta: Decimal | None = None
    line: int | None = None

    def as_dict(self) -> dict[str, object]:
        """Plain data for JSON output."""
        return {"kind": self.kind, "scope": self.scope, "target": self.target, "tier": self.tier,
                "field": self.field, "old": self.old, "new": self.new, "delta": self.delta, "line": self.line}


def diff_policies(old: Policy | None, new: Policy) -> list[Change]:
    """The changes from ``old`` (the version in force; ``None`` for the first) to ``new``."""
    changes: list[Change] = []
    old_scopes = {s.name: s for s in old.scopes} if old else {}
    for scope in new.scopes:
        before = old_scopes.get(scope.name)
        if old is not None and before is None:
            changes.append(Change("added", scope.name, f"scope {scope.name}", field="mode", new=scope.mode,
                                  line=scope.line))
        elif before is not None and before.mode != scope.mode:
            changes.append(Change("mode", scope.name, f"scope {scope.name}", field="mode", old=before.mode,
                                  new=scope.mode, line=scope.line))
    new_names = {s.name for s in new.scopes}
    changes += [Change("removed", s.name, f"scope {s.name}", field="mode", old=s.mode)
                for s in (old.scopes if old else ()) if s.name not in new_names]

    old_rules = {(r.scope, r.target): r for r in old.rules} if old else {}
    new_rules = {(r.scope, r.target): r for r in new.rules}
    for key, rule in new_rules.items():
        if key not in old_rules:
            changes.append(Change("added", rule.scope, rule.target, field=_main_field(rule.prices),
                                  new=_fmt(_main_value(rule.prices)), line=rule.line))
            continue
        changes += _rule_changes(old, old_rules[key], new, rule)
    changes += [Change("removed", r.scope, r.target, field=_main_field(r.prices), old=_fmt(_main_value(r.prices)))
                for key, r in old_rules.items() if key not in new_rules]

    old_promos = {(p.scope, p.name): p for p in old.promotions} if old else {}
    new_promos = {(p.scope, p.name): p for p in new.promotions}
    for key, promo in new_promos.items():
        before_promo = old_promos.get(key)
        if before_promo is None:
            changes.append(Change("added", promo.scope, f"promotion {promo.name}", field="price",
                                  new=str(promo.price), line=promo.line))
        elif (before_promo.price, before_promo.start, before_promo.end, before_promo.skus,
              before_promo.categories, before_promo.tiers) != (promo.price, promo.start, promo.end, promo.skus,
                                                               promo.categories, promo.tiers):
            changes.append(Change("changed", promo.scope, f"promotion {promo.name}", field="price/window",
                                  old=str(before_promo.price), new=str(promo.price), line=promo.line))
    changes += [Change("removed", p.scope, f"promotion {p.name}", field="price", old=str(p.price))
                for key, p in old_promos.items() if key not in new_promos]

    def ex_key(e: Exemption) -> tuple[object, ...]:
        return (e.partner, e.scope, e.skus, e.categories, e.start, e.end, e.floor)

    old_ex = {ex_key(e): e for e in old.exemptions} if old else {}
    new_ex = {ex_key(e): e for e in new.exemptions}
    changes += [Change("added", e.scope or "*", f"exemption {e.partner}", field="floor", new=str(e.floor),
                       line=e.line) for k, e in new_ex.items() if k not in old_ex]
    changes += [Change("removed", e.scope or "*", f"exemption {e.partner}", field="floor", old=str(e.floor))
                for k, e in old_ex.items() if k not in new_ex]
    return changes


def _rule_changes(old_policy: Policy | None, old: Rule, new_policy: Policy, new: Rule) -> list[Change]:
    old_scope = old_policy.scope(old.scope) if old_policy else None
    new_scope = new_policy.scope(new.scope)
    if old_scope is None or new_scope is None:
        return []
    result: list[Change] = []
    tiers = [None, *(t for t in TIERS if old.tier(t) is not None or new.tier(t) is not None)]
    for tier in tiers:
        o_override, n_override = old.tier(tier), new.tier(tier)
        o = old.prices.merged(o_override.prices) if o_override else old.prices
        n = new.prices.merged(n_override.prices) if n_override else new.prices
        pairs: list[tuple[str, Decimal | None, Decimal | None, int]] = [
            ("floor", base_floor(old_scope.mode, o, old_scope.currency),
             base_floor(new_scope.mode, n, new_scope.currency), 1),
            ("maximum", o.maximum, n.maximum, -1),
            ("recommended", o.recommended, n.recommended, 0),
            ("msrp", o.msrp, n.msrp, 0),
        ]
        for field, before, after, direction in pairs:
            if before == after:
                continue
            if before is None or after is None or direction == 0:
                kind = "changed"
            else:
                kind = "stricter" if (after - before) * direction > 0 else "looser"
            delta = after - before if before is not None and after is not None else None
            line = n_override.line if (tier and n_override) else new.line
            result.append(Change(kind, new.scope, new.target, tier, field, _fmt(before), _fmt(after), delta, line))
    return result


def _main_field(prices: Prices) -> str:
    for name in ("map", "maximum", "recommended", "msrp"):
        if getattr(prices, name) is not None:
            return name
    return "-"


def _main_value(prices: Prices) -> Decimal | None:
    name = _main_field(prices)
    value: Decimal | None = None if name == "-" else getattr(prices, name)
    return value


def _fmt(value: Decimal | None) -> str | None:
    return None if value is None else str(value)
