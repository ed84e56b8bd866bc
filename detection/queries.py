"""Read side for people: violations a user may see, and partner scorecards.

The scope is :mod:`store.access` (admins and brand managers see everything, channel managers the
partners they manage, partners themselves), and partner accounts see only violations, never the
brand's internal deviations and anomalies.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from detection.lifecycle import ACTIVE
from store import Partner, Product, Role, User, Violation


def scoped(session: Session, query: Select[Any], user: User) -> Select[Any]:
    """``query`` (over ``Violation``) narrowed to what ``user`` may see (:mod:`store.access`)."""
    from store.access import partner_filter

    query = query.where(partner_filter(session, user, Violation.partner_id))
    if user.role == Role.PARTNER:
        query = query.where(Violation.kind == "violation")
    return query


def list_violations(session: Session, user: User, filters: Mapping[str, Any] | None = None) -> list[Violation]:
    """Violations ``user`` may see, newest first, narrowed by ``filters``.

    Filters (all optional): ``status`` (one or a list), ``kind``, ``rule``, ``severity``, ``partner``
    (code), ``sku``, ``since`` (last seen at or after), ``limit`` (default 500).
    """
    filters = dict(filters or {})
    query = scoped(session, select(Violation), user)
    for name in ("status", "kind", "rule", "severity"):
        value = filters.get(name)
        if value:
            column = getattr(Violation, name)
            query = query.where(column.in_(value) if isinstance(value, (list, tuple, set)) else column == value)
    if filters.get("partner"):
        query = query.join(Partner, Violation.partner_id == Partner.id).where(Partner.code == filters["partner"])
    if filters.get("sku"):
        query = query.join(Product, Violation.product_id == Product.id).where(Product.sku == filters["sku"])
    if filters.get("since"):
        query = query.where(Violation.last_seen_at >= filters["since"])
    query = query.order_by(Violation.last_seen_at.desc(), Violation.id.desc()).limit(int(filters.get("limit", 500)))
    return list(session.scalars(query))


def get_violation(session: Session, user: User, violation_id: int) -> Violation:
    """One violation by id, if ``user`` may see it (``NotFoundError`` / ``AccessDenied`` otherwise)."""
    from detection.lifecycle import can_see
    from pricewarden.errors import AccessDenied, NotFoundError

    violation = session.get(Violation, violation_id)
    if violation is None:
        raise NotFoundError(f"violation {violation_id} does not exist")
    if not can_see(session, user, violation):
        raise AccessDenied(f"{user.username} may not see violation {violation_id}")
    return violation


def _rate(compliant: int, judged: int) -> float | None:
    return round(compliant / judged, 4) if judged else None


def scorecard(session: Session, user: User, since: datetime | None = None) -> dict[str, list[dict[str, Any]]]:
    """Compliance by partner, tier and region since ``since``, for the partners ``user`` may see.

    Compliance rate = compliant observations / judged observations, each observation judged against
    the policy version in force at its instant (recomputed, so it never drifts with later policy
    versions). A deviation in a recommended scope is not non-compliance: recommended prices are never
    enforced. Also: open violations and the highest escalation step reached among them.
    """
    from detection.frames import observations_frame
    from detection.policy_bridge import load_rule_frames
    from detection.rules import judge

    visible = _visible_partners(session, user)
    obs = observations_frame(session, since=since).reset_index(drop=True)
    judgement = judge(obs, load_rule_frames(session))
    obs = obs.assign(judged=judgement.judged, compliant=judgement.compliant)
    obs = obs[obs["partner_id"].isin(list(visible))]
    by_partner: dict[int, list[int]] = {}
    by_region: dict[str, list[int]] = {}
    if len(obs):
        for pid, row in obs.groupby("partner_id")[["judged", "compliant"]].sum().iterrows():
            by_partner[int(pid)] = [int(row["judged"]), int(row["compliant"])]
        for region, group in obs.groupby(obs["region"].fillna("?")):
            by_region[str(region)] = [int(group["judged"].sum()), int(group["compliant"].sum())]
    return _card(session, user, visible, by_partner, by_region)


def scorecard_days(session: Session, user: User, days: Any) -> dict[str, list[dict[str, Any]]]:
    """:func:`scorecard` over whole days (a :class:`detection.rollups.Days`), read from the compliance rollup."""
    from detection.rollups import compliance_rows, sums_by

    visible = _visible_partners(session, user)
    rows = [r for r in compliance_rows(session, days, user=user, by_day=False) if r[1] in visible]
    by_partner = {int(pid): sums for pid, sums in sums_by(rows, 1).items()}
    by_region = {str(region) if region is not None else "?": [0, 0] for region in {r[2] for r in rows}}
    for row in rows:
        entry = by_region[str(row[2]) if row[2] is not None else "?"]
        entry[0] += row[3]
        entry[1] += row[4]
    return _card(session, user, visible, by_partner, by_region)


def _card(session: Session, user: User, visible: dict[int, Any], sums: dict[int, list[int]],
          by_region: dict[str, list[int]]) -> dict[str, list[dict[str, Any]]]:
    """The scorecard from compliance sums per partner and region: open violations and each partner's highest
    escalation step (that of its open violation with the most offences in the window) counted in SQL."""
    from sqlalchemy import func

    partners: dict[int, dict[str, Any]] = {}
    for pid, partner in visible.items():
        judged, compliant = sums.get(pid, (0, 0))
        partners[pid] = {"partner": partner.code, "name": partner.name, "tier": partner.tier,
                         "regions": list(partner.regions or []), "judged": judged, "compliant": compliant,
                         "open_violations": 0, "escalation_step": None}
    counted: Any = select(Violation.partner_id, func.count())
    open_query = scoped(session, counted, user).where(
        Violation.status.in_(ACTIVE), Violation.kind == "violation").group_by(Violation.partner_id)
    for pid, n in session.execute(open_query):
        if pid in partners:
            partners[pid]["open_violations"] = int(n)
    rank = func.coalesce(Violation.details["offences_in_window"].as_integer(), 0)
    ranked = scoped(session, select(
        Violation.partner_id, Violation.escalation_step,
        func.row_number().over(partition_by=Violation.partner_id, order_by=(rank.desc(), Violation.id)).label("n")),
        user).where(Violation.status.in_(ACTIVE), Violation.kind == "violation",
                    Violation.escalation_step.is_not(None), Violation.escalation_step != "").subquery()
    for pid, step in session.execute(select(ranked.c.partner_id, ranked.c.escalation_step).where(ranked.c.n == 1)):
        if pid in partners:
            partners[pid]["escalation_step"] = step
    by_partner = []
    for entry in sorted(partners.values(), key=lambda e: e["partner"]):
        entry["compliance_rate"] = _rate(entry["compliant"], entry["judged"])
        by_partner.append(entry)
    by_tier: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for entry in by_partner:
        tier = by_tier[entry["tier"]]
        tier[0] += entry["judged"]
        tier[1] += entry["compliant"]
        tier[2] += entry["open_violations"]
    return {
        "by_partner": by_partner,
        "by_tier": [{"tier": t, "judged": v[0], "compliant": v[1], "open_violations": v[2],
                     "compliance_rate": _rate(v[1], v[0])} for t, v in sorted(by_tier.items())],
        "by_region": [{"region": r, "judged": v[0], "compliant": v[1], "compliance_rate": _rate(v[1], v[0])}
                      for r, v in sorted(by_region.items())],
    }


def _visible_partners(session: Session, user: User) -> dict[int, Any]:
    """The partners ``user`` may see by id: their code, name, tier and regions (rows, not loaded objects)."""
    from store.access import visible_partner_ids

    ids = visible_partner_ids(session, user)
    query = select(Partner.id, Partner.code, Partner.name, Partner.tier, Partner.regions)
    return {p.id: p for p in session.execute(query) if ids is None or p.id in ids}


def _money(amount: Decimal | None) -> Decimal | None:
    """An amount as shown to people: at least two decimals, no trailing zeros beyond (199.00, 0.5001)."""
    from detection.tables import from_e4, to_e4

    return None if amount is None else from_e4(to_e4(amount))


def violation_dict(v: Violation) -> dict[str, Any]:
    """A violation as plain data for ``--json`` and the web UI (same amounts on SQLite and PostgreSQL)."""
    return {
        "id": v.id, "kind": v.kind, "rule": v.rule, "mode": v.mode, "status": v.status, "severity": v.severity,
        "sku": v.product.sku if v.product else None, "partner": v.partner.code if v.partner else None,
        "seller_id": v.seller_id, "seller_name": v.seller_name, "region": v.region, "listing_id": v.listing_id,
        "observed": _money(v.observed_price), "allowed": _money(v.allowed_price), "currency": v.currency,
        "gap": _money(v.gap), "gap_pct": None if v.gap_pct is None else v.gap_pct.quantize(Decimal("0.01")),
        "policy_version": v.policy_version, "rule_ref": v.rule_ref,
        "first_seen_at": v.first_seen_at, "last_seen_at": v.last_seen_at, "resolved_at": v.resolved_at,
        "occurrences": v.occurrences, "repeat_number": v.repeat_number, "escalation_step": v.escalation_step,
        "url": v.url, "raw_text": v.raw_text, "html_sha256": v.html_sha256,
        "screenshot_sha256": v.screenshot_sha256, "observation_id": v.last_observation_id,
        "explanation": (v.details or {}).get("explanation"),
    }


__all__: Sequence[str] = ["list_violations", "scoped", "scorecard", "scorecard_days", "violation_dict"]
