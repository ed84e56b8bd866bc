"""Stale listings: a listing with no valid observation for ``detection.stale_after_days``.

A stale listing is an operator's review item (``kind=anomaly``, ``rule=stale_listing``, mode
``observe`` so no partner is ever notified for it): the crawler stopped yielding a price for it,
or the listing was never observed. It opens at the instant the listing became stale (last valid
observation, or first seen, plus the threshold), so re-running at a later time changes nothing, and
resolves with the next valid observation.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import pandas as pd
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from detection.lifecycle import ACTIVE, Event, advance, episode_of, violation_key
from detection.rules import stale_listings
from store import Listing, Observation, Partner, Product, Source, Violation

if TYPE_CHECKING:
    from detection.run import DetectSummary

RULE = "stale_listing"


def detect_stale(session: Session, *, now: datetime, summary: DetectSummary, resolve_after: int,
                 stale_after_days: int) -> None:
    """Open a review item for each stale active listing; resolve those observed again."""
    from detection.episodes import insert_episode, update_episode

    del resolve_after  # one valid observation ends staleness
    valid = or_(Observation.price.is_not(None), Observation.visibility != "visible")
    # Each listing's latest valid crawl: its newest observations walked back through the index on
    # (listing, instant), not a scan of every observation of the store.
    last = (
        select(Observation.observed_at)
        .where(Observation.listing_id == Listing.id, valid, Observation.source == Source.CRAWL)
        .order_by(Observation.observed_at.desc()).limit(1).correlate(Listing).scalar_subquery()
    )
    rows = session.execute(
        select(Listing.id, Listing.first_seen_at, Listing.url, Listing.region, Listing.partner_id,
               Product.sku, Product.id, Partner.code, last.label("last_valid_at"))
        .join(Product, Listing.product_id == Product.id)
        .outerjoin(Partner, Listing.partner_id == Partner.id)
        .where(Listing.active.is_(True))
    ).all()
    if not rows:
        return
    frame = pd.DataFrame(rows, columns=["listing_id", "first_seen_at", "url", "region", "partner_id", "sku",
                                        "product_id", "partner", "last_valid_at"])
    frame["since"] = frame["last_valid_at"].where(frame["last_valid_at"].notna(), frame["first_seen_at"])
    frame["last_valid_at"] = pd.to_datetime(frame["since"], utc=True)
    stale = stale_listings(frame, pd.Timestamp(now), stale_after_days)
    stale_ids = set(stale["listing_id"].astype(int))
    threshold = timedelta(days=stale_after_days)
    latest: dict[str, Violation] = {}
    for existing in session.scalars(select(Violation).where(Violation.rule == RULE).order_by(Violation.id)):
        latest[existing.key] = existing
    for item in frame.to_dict("records"):
        party = str(item["partner"]) if isinstance(item["partner"], str) else "listing"
        partner_id = None if pd.isna(item["partner_id"]) else int(item["partner_id"])
        key = violation_key(RULE, item["sku"], party, item["listing_id"])
        row = latest.get(key)
        events: list[Event] = []
        if int(item["listing_id"]) in stale_ids:
            at = item["last_valid_at"].to_pydatetime() + threshold
            record = {
                "rule": RULE, "kind": "anomaly", "mode": "observe", "sku": item["sku"], "party": party,
                "subject": f"{item['sku']}|{party}|{int(item['listing_id'])}", "tier": None,
                "partner_id": partner_id, "product_id": int(item["product_id"]),
                "listing_id": int(item["listing_id"]), "seller_id": None, "seller_name": None,
                "region": item["region"] if isinstance(item["region"], str) else None,
                "observed_price": None, "allowed_price": None, "currency": None,
                "gap": None, "gap_pct": None, "version": None, "rule_ref": None, "scope": None,
                "url": item["url"], "raw_text": None, "html_sha256": None, "screenshot_sha256": None,
                "explanation": f"no valid observation for {stale_after_days} days "
                               f"(last {item['since'].isoformat() if item['since'] is not None else 'never'})",
            }
            events.append(Event(0, at, record))
        elif row is not None and row.status in ACTIVE:
            later = session.execute(
                select(Observation.id, Observation.observed_at)
                .where(Observation.listing_id == int(item["listing_id"]), valid,
                       Observation.observed_at > row.first_seen_at)
                .order_by(Observation.observed_at).limit(1)).first()
            if later is not None:
                events.append(Event(later[0], later[1], None))
        if not events:
            continue
        for episode in advance(episode_of(row) if row is not None else None, events, 1):
            if episode.row_id is None:
                insert_episode(session, episode, episode.finding, None, summary, stale_after_days)
            elif row is not None and episode.watermark != episode_of(row).watermark:
                update_episode(session, row, episode, summary)
