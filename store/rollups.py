"""Whether the per-day rollups (``compliance_days``, ``crawl_days``) may answer, and what makes them stale.

They are built by :mod:`detection.rollups` (each detection run, ``pricewarden db rollups``) and answer only
while the store holds nothing they were not built from: no observation, crawl failure or policy version
past the ids they saw, and no change to the catalog or to an observation since (a flush of such a change
marks them stale). Their days are calendar days in one time zone, the one they were built in. A reader
that finds them stale works the same rows out live (slower, never different).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from store.models import CrawlFailure, Listing, Observation, Partner, PolicyVersion, Product, RollupState

# What a change to, besides new rows (the ids tell those), changes what the rollups would hold.
_WATCHED = (Observation, CrawlFailure, Partner, Listing, Product, PolicyVersion)


def marks(session: Session) -> tuple[int, int, int]:
    """The newest observation, crawl failure and policy version ids in the store (0 for none)."""
    return (session.scalar(select(func.max(Observation.id))) or 0,
            session.scalar(select(func.max(CrawlFailure.id))) or 0,
            session.scalar(select(func.max(PolicyVersion.id))) or 0)


def rollups_fresh(session: Session, zone: str) -> bool:
    """Whether the rollups hold the whole store, by calendar days in ``zone`` (an IANA name)."""
    from store.access import read_cache

    cache = read_cache(session)
    key = ("rollups_fresh", zone)
    if key not in cache:
        state = session.execute(select(RollupState.stale, RollupState.timezone, RollupState.observation_id,
                                       RollupState.failure_id, RollupState.policy_id)
                                .where(RollupState.id == 1)).first()
        cache[key] = (state is not None and not state.stale and state.timezone == zone
                      and tuple(state[2:]) == marks(session))
    return bool(cache[key])


@sa_event.listens_for(Session, "after_flush")
def _mark_stale(session: Session, _context: Any) -> None:
    # New observations and failures are told by their ids; a changed or deleted one, or any change to the
    # catalog or the policies, is not.
    changed = (*session.dirty, *session.deleted,
               *(o for o in session.new if not isinstance(o, (Observation, CrawlFailure))))
    if any(isinstance(o, _WATCHED) for o in changed):
        session.connection().execute(update(RollupState).where(RollupState.stale.is_(False)).values(stale=True))


__all__ = ["marks", "rollups_fresh"]
