"""Per-day rollups for the review app: compliance per partner and region, crawl pages per site.

Judging a million observations again for each page view takes seconds; these tables hold the sums per
calendar day (in the workspace's time zone) so that the overview, the partners list, a partner's trend and
crawl health read a few thousand rows. Each detection run rebuilds them from the first day it judged
(:func:`refresh`); ``pricewarden db rollups`` builds them for a store loaded some other way. While they do
not hold the whole store (:func:`store.rollups.rollups_fresh`) the same rows are worked out live by the same
code, so the figures never depend on which way they were read.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from store import ComplianceDay, CrawlDay, Partner, RollupState, utcnow
from store.rollups import marks, rollups_fresh


def day_start(day: date, zone: ZoneInfo) -> datetime:
    """The UTC instant local ``day`` begins in ``zone``."""
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)


@dataclass(frozen=True)
class Days:
    """Calendar days ``first`` to ``last`` (both included) in ``zone``."""

    first: date
    last: date
    zone: ZoneInfo

    @property
    def start(self) -> datetime:
        return day_start(self.first, self.zone)

    @property
    def end(self) -> datetime:
        """The instant after the last day (excluded)."""
        return day_start(self.last + timedelta(days=1), self.zone)

    def dates(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]

    def before(self) -> Days:
        """As many days, just before these."""
        length = (self.last - self.first).days + 1
        return Days(self.first - timedelta(days=length), self.first - timedelta(days=1), self.zone)


def days_to(until: datetime, days: int, zone: ZoneInfo) -> Days:
    """The day of ``until`` and the ``days`` days before it: a window of whole days, so that the first day
    of a chart is a day like the others rather than its last hours."""
    last = until.astimezone(zone).date()
    return Days(last - timedelta(days=days), last, zone)


# -- compliance -------------------------------------------------------------------------------------------

Row = tuple[date, int | None, str | None, int, int]  # day, partner id, region, judged, compliant


def _judged_rows(session: Session, start: datetime | None, end: datetime | None, zone: ZoneInfo,
                 partner: Partner | None = None) -> list[Row]:
    """Judged and compliant crawled observations per local day, partner (as resolved) and region, judged now."""
    from detection.frames import observations_frame
    from detection.policy_bridge import load_rule_frames
    from detection.rules import judge

    obs = observations_frame(session, since=start, before=end, evidence=False, partner=partner)
    if not len(obs):
        return []
    obs = obs.reset_index(drop=True)
    judgement = judge(obs, load_rule_frames(session))
    return _sum_rows(obs, judgement.judged, judgement.compliant, zone)


def _sum_rows(obs: Any, judged: Any, compliant: Any, zone: ZoneInfo) -> list[Row]:
    frame = obs[["observed_at", "partner_id", "region"]].assign(judged=judged, compliant=compliant)
    # The local day as its midnight (a datetime64 column: grouped as numbers, not as a million dates), made a
    # date once per group.
    frame = frame.assign(day=frame["observed_at"].dt.tz_convert(zone).dt.tz_localize(None).dt.normalize(),
                         partner_id=frame["partner_id"].astype("Int64").fillna(-1),
                         region=frame["region"].fillna("\0"))
    grouped = frame.groupby(["day", "partner_id", "region"])[["judged", "compliant"]].sum()
    return [(day.date(), None if int(pid) == -1 else int(pid), None if region == "\0" else str(region), int(j),
             int(c)) for (day, pid, region), (j, c) in zip(grouped.index, grouped.to_numpy(), strict=True)]


def compliance_rows(session: Session, days: Days, user: Any = None, partner: Partner | None = None,
                    by_day: bool = True) -> list[Row]:
    """The compliance rows of ``days``: from the rollup when it holds the whole store, else judged live.

    Narrowed to what ``user`` may see (:func:`store.access.partner_filter`) and/or to ``partner``. Not
    ``by_day``: the rollup's rows summed over the days by the database (their day is then the first)."""
    from sqlalchemy import func

    from store.access import partner_filter, visible_partner_ids

    if rollups_fresh(session, days.zone.key):
        if by_day:
            stmt = select(ComplianceDay.day, ComplianceDay.partner_id, ComplianceDay.region, ComplianceDay.judged,
                          ComplianceDay.compliant)
        else:
            stmt = select(func.min(ComplianceDay.day), ComplianceDay.partner_id, ComplianceDay.region,
                          func.sum(ComplianceDay.judged), func.sum(ComplianceDay.compliant)) \
                .group_by(ComplianceDay.partner_id, ComplianceDay.region)
        stmt = stmt.where(ComplianceDay.day >= days.first, ComplianceDay.day <= days.last)
        if user is not None:
            stmt = stmt.where(partner_filter(session, user, ComplianceDay.partner_id))
        if partner is not None:
            stmt = stmt.where(ComplianceDay.partner_id == partner.id)
        return [(r[0], r[1], r[2], int(r[3]), int(r[4])) for r in session.execute(stmt)]
    rows = _judged_rows(session, days.start, days.end, days.zone, partner=partner)
    if user is not None:
        visible = visible_partner_ids(session, user)
        if visible is not None:
            rows = [r for r in rows if r[1] in visible]
    return rows


# -- refresh ----------------------------------------------------------------------------------------------

def refresh(session: Session, since: datetime | None = None, *, full: bool = False, zone: ZoneInfo | None = None,
            judged: tuple[Any, Any, Any, datetime | None] | None = None, pages: dict[str, Any] | None = None) -> None:
    """Bring the rollups up to date: rebuild the compliance days from the local day of ``since`` on, and both
    rollups from the first day of any observation or crawl failure stored since the last refresh; all of them
    when ``full``, when they were never built, were built in another time zone or were marked stale.

    ``judged``: what a detection run judged (its frame, ``judged`` and ``compliant`` arrays, and the instant
    the frame starts at, ``None`` for all), used instead of judging again when it covers the days; ``pages``:
    the crawled rows read with that frame (:func:`detection.frames.observations_frame`), used instead of
    reading them again when they cover the crawl days."""
    from sqlalchemy import func

    from crawlers.health import crawl_day_rows
    from pricewarden.settings import get_settings
    from store import CrawlFailure, Observation

    zone = zone or get_settings().zone
    session.flush()
    seen = marks(session)  # before the reads: what comes in meanwhile makes the rollups stale, never wrong
    state = session.execute(select(RollupState.stale, RollupState.timezone, RollupState.observation_id,
                                   RollupState.failure_id, RollupState.policy_id).where(RollupState.id == 1)).first()
    whole = full or state is None or state.stale or state.timezone != zone.key
    if whole:
        compliance_from: date | None = None
        crawl_from: date | None = None
    else:
        assert state is not None
        new_obs = session.scalar(select(func.min(Observation.observed_at)).where(
            Observation.id > state.observation_id)) if seen[0] > state.observation_id else None
        new_fail = session.scalar(select(func.min(CrawlFailure.occurred_at))
                                  .where(CrawlFailure.id > state.failure_id)) if seen[1] > state.failure_id else None
        firsts = [t for t in (since, new_obs) if t is not None]
        compliance_from = min(firsts).astimezone(zone).date() if firsts else date.max
        crawled = [t for t in (new_obs, new_fail) if t is not None]
        crawl_from = min(crawled).astimezone(zone).date() if crawled else date.max
        if seen[2] != state.policy_id and since is None:
            compliance_from = None  # a policy came or went and nobody said from when: all of it
    if compliance_from != date.max:
        start = day_start(compliance_from, zone) if compliance_from is not None else None
        if judged is not None and (judged[3] is None or (start is not None and judged[3] <= start)):
            obs, ok, fine, _read_from = judged
            keep = (obs["observed_at"] >= start).to_numpy() if start is not None else slice(None)
            rows = _sum_rows(obs[keep], ok[keep], fine[keep], zone) if len(obs) else []
        else:
            rows = _judged_rows(session, start, None, zone)
        session.execute(delete(ComplianceDay) if compliance_from is None
                        else delete(ComplianceDay).where(ComplianceDay.day >= compliance_from))
        if rows:
            session.execute(insert(ComplianceDay), [
                {"day": d, "partner_id": p, "region": r, "judged": j, "compliant": c} for d, p, r, j, c in rows])
    if crawl_from != date.max:
        crawl_start = day_start(crawl_from, zone) if crawl_from is not None else None
        covered = pages is not None and (pages["from"] is None or (crawl_start is not None
                                                                   and pages["from"] <= crawl_start))
        crawl = crawl_day_rows(session, crawl_start, None, zone, read_pages=pages if covered else None)
        session.execute(delete(CrawlDay) if crawl_from is None
                        else delete(CrawlDay).where(CrawlDay.day >= crawl_from))
        if crawl:
            session.execute(insert(CrawlDay), crawl)
    session.execute(delete(RollupState))
    session.execute(insert(RollupState).values(id=1, timezone=zone.key, stale=False, built_at=utcnow(),
                                               observation_id=seen[0], failure_id=seen[1], policy_id=seen[2]))
    from store.access import read_cache

    read_cache(session).clear()


def sums_by(rows: list[Row], key: int) -> dict[Any, list[int]]:
    """``rows`` summed by one of their fields (0 day, 1 partner id, 2 region): ``{value: [judged, compliant]}``."""
    sums: dict[Any, list[int]] = defaultdict(lambda: [0, 0])
    for row in rows:
        entry = sums[row[key]]
        entry[0] += row[3]
        entry[1] += row[4]
    return dict(sums)


__all__ = ["Days", "compliance_rows", "day_start", "days_to", "refresh", "sums_by"]
