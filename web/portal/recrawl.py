"""Crawl one listing now (a partner's response, a complaint) and judge what it found.

The crawl runs in a process of its own through :func:`crawlers.run.run_crawl` (one target, one shard),
with the network policy and every bound of a scheduled crawl, and is killed past :func:`crawl_budget`;
then detection judges the new observation (``detect(since=...)``), so the violation's record shows the
outcome: a compliant price counts towards its resolution, a price still in breach is one more sighting.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, select

from pricewarden.errors import CrawlError, DetectionError
from store import CrawlFailure, CrawlRun, Listing, Observation, session_scope, utcnow


@dataclass(frozen=True)
class Recrawl:
    """What crawling one listing found: the observation stored, or the failure (kind and detail)."""

    observation_id: int | None
    failure: str | None = None

    @property
    def ok(self) -> bool:
        """True when a price (or hidden pricing) was stored."""
        return self.observation_id is not None


def crawl_budget(settings: Any = None) -> float:
    """Seconds a complaint's crawl process may take in all: each attempt's download timeout, the retries' waits,
    and a minute to start the process and record what it read."""
    if settings is None:
        from pricewarden.settings import get_settings

        settings = get_settings()
    crawl = settings.crawl
    attempts = crawl.retries + 1
    return float(attempts * crawl.download_timeout + attempts * crawl.max_retry_after + 60.0)


def crawl_listing(engine: Engine, listing_id: int) -> Recrawl:
    """Crawl listing ``listing_id`` in a crawl process of its own, store what it shows, and run detection."""
    from crawlers.run import run_crawl
    from crawlers.targets import Target

    with session_scope(engine) as session:
        listing = session.get(Listing, listing_id)
        if listing is None:
            return Recrawl(None, "the listing no longer exists")
        target = Target(
            url=listing.url, sku=listing.product.sku if listing.product else None,
            partner=listing.partner.code if listing.partner else None, seller_id=listing.seller_id,
            profile=listing.profile, region=listing.region, listing_id=listing.id,
            product_id=listing.product_id, partner_id=listing.partner_id)
    started = utcnow()
    try:
        result = run_crawl([target], shards=1, timeout=crawl_budget() + 60)  # and a minute to start a browser
    except CrawlError as exc:
        return Recrawl(None, str(exc))
    with session_scope(engine) as session:
        runs = list(session.scalars(select(CrawlRun.id).where(CrawlRun.run_key.in_(result.run_keys))))
        observation = session.scalars(select(Observation).where(
            Observation.listing_id == listing_id, Observation.crawl_run_id.in_(runs))
            .order_by(Observation.id.desc()).limit(1)).first()
        if observation is None:
            failure = session.scalars(select(CrawlFailure).where(
                CrawlFailure.listing_id == listing_id, CrawlFailure.crawl_run_id.in_(runs))
                .order_by(CrawlFailure.id.desc()).limit(1)).first()
            why = f"{failure.kind}: {failure.detail}"[:500] if failure is not None else "the page yielded no price"
            return Recrawl(None, why)
        observation_id = observation.id
        since = min(observation.observed_at, started) - timedelta(seconds=1)
        from detection.run import detect

        try:
            detect(session, since=since, anomalies=False)
        except DetectionError as exc:  # no policy published: the observation is kept, nothing judged
            return Recrawl(observation_id, str(exc))
    return Recrawl(observation_id)


__all__ = ["Recrawl", "crawl_budget", "crawl_listing"]
