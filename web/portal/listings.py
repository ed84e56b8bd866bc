"""What a partner account sees of its own data: listings with their latest prices, observations with their
evidence, violations (map and maximum scopes only) with the notices it received, report batches.

Every read goes through :mod:`store.access` (``partner_filter`` / ``sees_violation``): another partner's
anything, and anything of a ``recommended`` or ``observe`` scope (violations by their mode, listings and
observations by their region's scope in the version in force, :func:`told_regions`), is
:class:`NotFoundError` or absent.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from pricewarden.errors import NotFoundError
from store import AlertDelivery, Listing, Observation, PartnerResponse, ReportBatch, User, Violation
from store.access import partner_filter, sees_violation

MAX_ROWS = 500
TOLD_MODES = ("map", "maximum")  # the modes whose monitoring may be shown to a partner


def told_regions(session: Session) -> set[str]:
    """The regions whose scope, in the policy version in force now, is ``map`` or ``maximum``.

    A partner is shown its listings and observed prices only there: in a ``recommended`` or ``observe``
    scope even "we watch your price" is the brand's own analysis, never shown to a partner.
    """
    from policies import load_versions, version_in_force
    from store import utcnow

    chosen = version_in_force(load_versions(session), utcnow())
    if chosen is None:
        return set()
    return {region for scope in chosen.policy.scopes if scope.mode in TOLD_MODES for region in scope.regions}


def _shown(session: Session, user: User) -> ColumnElement[bool]:
    """Listings of ``user``'s partner in a region it may be told about."""
    return and_(partner_filter(session, user, Listing.partner_id), Listing.region.in_(sorted(told_regions(session))))


@dataclass(frozen=True)
class ListingView:
    """One of the partner's listings and its latest observation."""

    listing: Listing
    latest: Observation | None
    observations: int


def partner_listings(session: Session, user: User) -> list[ListingView]:
    """The listings of ``user``'s partner, each with its latest observation."""
    listings = list(session.scalars(select(Listing).where(_shown(session, user)).order_by(Listing.url)
                                    .limit(MAX_ROWS)))
    ids = [item.id for item in listings]
    latest: dict[int, Observation] = {}
    counts: dict[int, int] = {}
    if ids:
        newest = (select(Observation.listing_id, func.max(Observation.id).label("last"), func.count().label("n"))
                  .where(Observation.listing_id.in_(ids)).group_by(Observation.listing_id).subquery())
        for observation, n in session.execute(select(Observation, newest.c.n).join(
                newest, Observation.id == newest.c.last)):
            latest[observation.listing_id] = observation
            counts[observation.listing_id] = n
    return [ListingView(item, latest.get(item.id), counts.get(item.id, 0)) for item in listings]


def get_listing_for_user(session: Session, user: User, listing_id: int) -> Listing:
    """Listing ``listing_id`` if it is one of ``user``'s partner's; otherwise :class:`NotFoundError`."""
    listing = session.scalars(select(Listing).where(Listing.id == listing_id, _shown(session, user))).first()
    if listing is None:
        raise NotFoundError(f"listing {listing_id} does not exist")
    return listing


def listing_observations(session: Session, listing: Listing, limit: int = 100) -> list[Observation]:
    """The listing's observations, newest first."""
    return list(session.scalars(select(Observation).where(Observation.listing_id == listing.id)
                                .order_by(Observation.observed_at.desc(), Observation.id.desc()).limit(limit)))


def get_observation_for_user(session: Session, user: User, observation_id: int) -> Observation:
    """Observation ``observation_id`` if it is of ``user``'s partner; otherwise :class:`NotFoundError`."""
    observation = session.scalars(select(Observation).join(Listing, Listing.id == Observation.listing_id).where(
        Observation.id == observation_id, partner_filter(session, user, Observation.partner_id),
        _shown(session, user))).first()
    if observation is None:
        raise NotFoundError(f"observation {observation_id} does not exist")
    return observation


def partner_violations(session: Session, user: User) -> list[Violation]:
    """The violations ``user`` may see (its partner's, kind violation, map or maximum scope), newest first."""
    query = (select(Violation).where(partner_filter(session, user, Violation.partner_id),
                                     Violation.kind == "violation", Violation.mode.in_(("map", "maximum")))
             .order_by(Violation.last_seen_at.desc(), Violation.id.desc()).limit(MAX_ROWS))
    return [v for v in session.scalars(query) if sees_violation(session, user, v)]


def notices_of(session: Session, v: Violation) -> list[AlertDelivery]:
    """The notices the partner received (or was to receive) about ``v``: never the managers' alerts."""
    return list(session.scalars(select(AlertDelivery).where(
        AlertDelivery.violation_id == v.id, AlertDelivery.kind == "notice",
        AlertDelivery.recipient_partner_id == v.partner_id, AlertDelivery.status != "refused")
        .order_by(AlertDelivery.id)))


def responses_of(session: Session, v: Violation) -> list[PartnerResponse]:
    """The partner's responses to ``v``, newest first."""
    return list(session.scalars(select(PartnerResponse).where(PartnerResponse.violation_id == v.id)
                                .order_by(PartnerResponse.id.desc())))


def violation_observations(session: Session, v: Violation, limit: int = 50) -> list[Observation]:
    """The observations of the violation's listing (the partner's own page), newest first."""
    if v.listing_id is None:
        return []
    return list(session.scalars(select(Observation).where(Observation.listing_id == v.listing_id)
                                .order_by(Observation.observed_at.desc(), Observation.id.desc()).limit(limit)))


def partner_batches(session: Session, user: User, limit: int = 100) -> list[ReportBatch]:
    """The report batches of ``user``'s partner, newest first."""
    return list(session.scalars(select(ReportBatch).where(partner_filter(session, user, ReportBatch.partner_id))
                                .order_by(ReportBatch.received_at.desc(), ReportBatch.id.desc()).limit(limit)))


def get_batch_for_user(session: Session, user: User, batch_id: int) -> ReportBatch:
    """Batch ``batch_id`` if it is ``user``'s partner's; otherwise :class:`NotFoundError`."""
    batch = session.scalars(select(ReportBatch).where(ReportBatch.id == batch_id,
                                                      partner_filter(session, user, ReportBatch.partner_id))).first()
    if batch is None:
        raise NotFoundError(f"report batch {batch_id} does not exist")
    return batch


__all__ = [
    "TOLD_MODES",
    "ListingView",
    "get_batch_for_user",
    "get_listing_for_user",
    "get_observation_for_user",
    "listing_observations",
    "notices_of",
    "partner_batches",
    "partner_listings",
    "partner_violations",
    "responses_of",
    "told_regions",
    "violation_observations",
]
