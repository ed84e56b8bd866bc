"""Crawling: one generic storefront spider, a crawl process per shard, failures, evidence, discovery.

Public API::

    run_crawl(targets, shards=, at=, browser=)   crawl in processes; store observations, failures, evidence
    active_listings(session, site) / read_listing_file(path) / resolve_ids(session, targets)   what to crawl
    site_health(session, since)                   per-site failure rates and warnings
    capture_screenshots(urls_or_observation_ids)  full-page screenshots as evidence -> {id: sha256}
    discover(urls, min_confidence=)               find listings of the brand's products on search pages

Heavy libraries (Scrapy, Playwright) are imported inside the functions that need them.
"""

from crawlers.discovery import Found, discover
from crawlers.failures import FailureKind
from crawlers.health import SiteHealth, site_health
from crawlers.run import CrawlResult, run_crawl
from crawlers.screenshots import capture_screenshots
from crawlers.targets import Target, active_listings, read_listing_file, resolve_ids

__all__ = [
    "CrawlResult",
    "FailureKind",
    "Found",
    "SiteHealth",
    "Target",
    "active_listings",
    "capture_screenshots",
    "discover",
    "read_listing_file",
    "resolve_ids",
    "run_crawl",
    "site_health",
]
