"""From the policy package to the engine's tables: ``compile_rules`` records → :class:`RuleFrames`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from detection.tables import RuleFrames, base_row, exemption_row, promo_row

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from policies import PublishedPolicy


def rule_frames(versions: Sequence[PublishedPolicy]) -> RuleFrames:
    """The engine's tables for these published versions (same answers as ``policies.resolve``)."""
    from policies import compile_rules

    tables = compile_rules(versions)
    base = [
        base_row(
            version=r["version"], scope=r["scope"], kind=r["kind"], key=r["key"], tier=r["tier"],
            floor=r["floor"], map=r["map"], msrp=r["msrp"], recommended=r["recommended"],
            maximum=r["maximum"], tolerance=r["tolerance"], tolerance_pct=r["tolerance_pct"],
            currency=r["currency"],
            rule_ref=r["rule_ref"],
        )
        for r in tables.rules
    ]
    promotions = [
        promo_row(version=p["version"], scope=p["scope"], kind=p["kind"], key=p["key"], tier=p["tier"],
                  price=p["price"], start=p["start"], end=p["end"], name=p["name"])
        for p in tables.promotions
    ]
    exemptions = [
        exemption_row(version=e["version"], partner=e["partner"], scope=e["scope"], kind=e["kind"],
                      key=e["key"], floor=e["floor"], start=e["start"], end=e["end"], reason=e["reason"])
        for e in tables.exemptions
    ]
    ladders: dict[tuple[int, str], dict[str, Any]] = {}
    for published in versions:
        for scope in published.policy.scopes:
            if scope.escalation is not None and scope.mode in ("map", "maximum"):
                ladders[(published.version, scope.name)] = {
                    "window_days": scope.escalation.window_days,
                    "steps": [{"name": s.name, "after": s.after, "notify_partner": s.notify_partner,
                               "penalty": s.penalty} for s in scope.escalation.steps],
                }
    return RuleFrames.from_records(
        versions=tables.versions, scopes=tables.scopes, base=base, promotions=promotions,
        exemptions=exemptions, ladders=ladders,
    )


def load_rule_frames(session: Session) -> RuleFrames:
    """The engine's tables for every policy version published in the store."""
    from policies import load_versions

    return rule_frames(load_versions(session))
