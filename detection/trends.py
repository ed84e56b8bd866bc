"""Trends for the overview: open violations by dimension, new against resolved per day, and the compliance
rate per day, overall and per partner, within what a user may see.

Compliance is what a brand manager must show going up: the share of judged observations that comply,
each judged against the policy version in force at its instant (the same pass as
:func:`detection.queries.scorecard`). Days are calendar days in the given time zone.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from detection.lifecycle import ACTIVE
from detection.queries import scoped
from detection.rollups import Days, compliance_rows, sums_by
from store import Observation, Partner, User, Violation, utcnow


def data_clock(session: Session, user: User) -> datetime:
    """The latest instant the data knows (the newest observation), else now: trends end there, so a
    workspace that stopped crawling still shows its last weeks rather than empty days."""
    from store.access import partner_filter

    latest = session.scalar(select(func.max(Observation.observed_at))
                            .where(partner_filter(session, user, Observation.partner_id)))
    return latest or utcnow()


def open_by(session: Session, user: User) -> dict[str, list[tuple[str, int]]]:
    """Open and acknowledged violations (``kind=violation``) counted by rule, partner, tier and region: one
    count per (rule, region, partner) in the database, summed up here."""
    stmt: Any = select(Violation.rule, Violation.region, Violation.partner_id, func.count())
    stmt = scoped(session, stmt, user).where(Violation.status.in_(ACTIVE), Violation.kind == "violation") \
        .group_by(Violation.rule, Violation.region, Violation.partner_id)
    rows = session.execute(stmt).all()
    ids = {pid for _rule, _region, pid, _n in rows if pid is not None}
    partners = {pid: (code, tier) for pid, code, tier in session.execute(
        select(Partner.id, Partner.code, Partner.tier)) if pid in ids} if ids else {}
    tallies: dict[str, Counter[Any]] = {name: Counter() for name in ("rule", "partner", "tier", "region")}
    for rule, region, pid, n in rows:
        code, tier = partners.get(pid, (None, None)) if pid is not None else (None, None)
        for name, key in (("rule", rule), ("region", region), ("partner", code), ("tier", tier)):
            tallies[name][key] += int(n)
    return {name: sorted(((str(k) if k is not None else "–", n) for k, n in counts.items()),
                         key=lambda kv: (-kv[1], kv[0])) for name, counts in tallies.items()}


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def _hour(session: Session, column: Any) -> Any:
    """``column`` (a UTC instant) cut to its hour, as the database can group it: text on SQLite, where instants
    are stored as UTC text, a timestamp in UTC on PostgreSQL."""
    if session.get_bind().dialect.name == "postgresql":
        return func.date_trunc("hour", func.timezone("UTC", column))
    return func.substr(column, 1, 13)


def _whole_hours(zone: ZoneInfo, since: datetime, until: datetime) -> bool:
    """Whether ``zone`` is a whole number of hours off UTC throughout (then an hour falls in one local day)."""
    offsets = {zone.utcoffset(since.replace(tzinfo=None) + timedelta(days=d)) for d in range((until - since).days + 2)}
    return all(o is not None and o.total_seconds() % 3600 == 0 for o in offsets)


def flow_by_day(session: Session, user: User, since: datetime, until: datetime,
                zone: ZoneInfo) -> dict[str, Any]:
    """Violations opened and resolved (or dismissed) per day in ``[since, until]``, counted by the database
    per hour (a row per violation only in a zone a fraction of an hour off UTC)."""
    days = _days(since.astimezone(zone).date(), until.astimezone(zone).date())
    opened: Counter[date] = Counter()
    closed: Counter[date] = Counter()
    ended: Any = case((Violation.status == "resolved", Violation.resolved_at),
                      (Violation.status == "dismissed", Violation.updated_at), else_=None)
    if _whole_hours(zone, since, until):
        for counter, column, status in ((opened, Violation.first_seen_at, None),
                                        (closed, Violation.resolved_at, "resolved"),
                                        (closed, Violation.updated_at, "dismissed")):
            hour = _hour(session, column)
            stmt: Any = select(hour, func.count())
            stmt = scoped(session, stmt, user).where(Violation.kind == "violation", Violation.last_seen_at >= since,
                                                     column >= since, column <= until).group_by(hour)
            if status is not None:
                stmt = stmt.where(Violation.status == status)
            for bucket, n in session.execute(stmt):
                at = bucket if isinstance(bucket, datetime) else datetime.fromisoformat(f"{bucket}:00")
                counter[at.replace(tzinfo=UTC).astimezone(zone).date()] += int(n)
    else:
        columns: Any = select(Violation.first_seen_at, ended)
        stmt = scoped(session, columns, user).where(Violation.kind == "violation", Violation.last_seen_at >= since)
        for first, end in session.execute(stmt):
            if since <= first <= until:
                opened[first.astimezone(zone).date()] += 1
            if end is not None and since <= end <= until:
                closed[end.astimezone(zone).date()] += 1
    return {"days": [d.isoformat() for d in days], "opened": [opened[d] for d in days],
            "closed": [closed[d] for d in days]}


def compliance_by_day(session: Session, user: User, days: Days) -> dict[str, Any]:
    """The compliance rate per day of ``days``, overall and per partner the user may see (``None`` on a day
    with no judged observation)."""
    rows = compliance_rows(session, days, user=user)
    codes = _codes(session, {r[1] for r in rows if r[1] is not None})
    sums: dict[tuple[str, date], list[int]] = defaultdict(lambda: [0, 0])
    for day, pid, _region, judged, compliant in rows:
        for key in ("*", codes.get(pid, "–") if pid is not None else "–"):
            sums[(key, day)][0] += judged
            sums[(key, day)][1] += compliant
    dates = days.dates()

    def rates(key: str) -> list[float | None]:
        return [round(sums[(key, d)][1] / sums[(key, d)][0], 4) if sums.get((key, d), [0])[0] else None
                for d in dates]

    partners = sorted({key for key, _day in sums if key not in ("*", "–")})
    return {"days": [d.isoformat() for d in dates], "overall": rates("*"),
            "partners": {code: rates(code) for code in partners}}


def _codes(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return {pid: code for pid, code in session.execute(select(Partner.id, Partner.code))
            if pid in ids}


def partner_compliance_by_day(session: Session, partner: Partner, days: Days) -> dict[str, Any]:
    """One partner's compliance per day of ``days``: judged and compliant observations and the rate (``None``
    on a day with nothing judged). The caller has checked that the user may see ``partner``."""
    sums = sums_by(compliance_rows(session, days, partner=partner), 0)
    dates = days.dates()
    judged = [sums[d][0] if d in sums else 0 for d in dates]
    compliant = [sums[d][1] if d in sums else 0 for d in dates]
    return {"days": [d.isoformat() for d in dates], "judged": judged, "compliant": compliant,
            "rate": [round(c / j, 4) if j else None for j, c in zip(judged, compliant, strict=True)],
            "total_judged": sum(judged), "total_compliant": sum(compliant)}


def visible_partner_codes(session: Session, user: User) -> list[str]:
    """Codes of the partners ``user`` may see."""
    from store.access import visible_partner_ids

    ids = visible_partner_ids(session, user)
    stmt = select(Partner.code).order_by(Partner.code)
    if ids is not None:
        stmt = stmt.where(Partner.id.in_(sorted(ids)))
    return list(session.scalars(stmt))


__all__ = ["compliance_by_day", "data_clock", "flow_by_day", "open_by", "partner_compliance_by_day",
           "visible_partner_codes"]
