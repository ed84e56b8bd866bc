"""Discovery: find the brand's products on marketplace search and category pages, including unknown sellers.

A crawl process fetches each search/category page, follows its links to pages on the same site
(at most ``max_pages`` per start page), and reads each with the extraction cascade. The caller
then matches every product page found to the catalog — GTIN exact, then MPN exact, then title
similarity (token Jaccard and difflib ratio; different model numbers halve the score) — and records
a page it did not know as ``Listing(discovered=True, match_method, match_confidence)``, active so
that the next crawl watches it and detection can judge its sellers.
"""

from __future__ import annotations

import difflib
import json
import multiprocessing
import re
import tempfile
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit

from pricewarden.errors import CrawlError

_TOKEN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_MODEL = re.compile(r"^(?=.*\d)[a-z0-9-]{2,}$")
_SKIP_LINK = re.compile(r"cart|basket|login|signin|sign-in|account|checkout|help|privacy|terms|javascript:|mailto:",
                        re.IGNORECASE)


@dataclass
class Found:
    """A product page found by discovery and how it matched the catalog."""

    url: str
    sku: str | None
    method: str | None  # gtin | mpn | title
    confidence: float
    title: str | None = None
    sellers: list[dict[str, Any]] = field(default_factory=list)
    listing_id: int | None = None
    new: bool = False

    @property
    def seller(self) -> str:
        """The sellers on the page, for display."""
        return ", ".join(s.get("seller_name") or s.get("seller_id") or "?" for s in self.sellers)

    def as_dict(self) -> dict[str, Any]:
        """Plain data."""
        return {"url": self.url, "sku": self.sku, "method": self.method, "confidence": round(self.confidence, 3),
                "title": self.title, "sellers": self.sellers, "seller": self.seller,
                "listing_id": self.listing_id, "new": self.new}


# Matching ----------------------------------------------------------------------------------------

def tokens(text: str) -> set[str]:
    """Lower-case word tokens (model numbers like ``ac-100`` kept whole)."""
    return set(_TOKEN.findall(text.lower()))


def title_similarity(a: str, b: str) -> float:
    """0..1: the better of token Jaccard and difflib ratio, halved when the model numbers differ."""
    ta, tb = tokens(a), tokens(b)
    if not ta or not tb:
        return 0.0
    jaccard = len(ta & tb) / len(ta | tb)
    ratio = difflib.SequenceMatcher(None, " ".join(sorted(ta)), " ".join(sorted(tb))).ratio()
    score = max(jaccard, ratio)
    models_a = {t for t in ta if _MODEL.match(t)}
    models_b = {t for t in tb if _MODEL.match(t)}
    if models_a and models_b and not models_a & models_b:
        score /= 2  # "AC-100" and "AC-200" are different products however alike the rest reads
    return score


@dataclass(frozen=True)
class CatalogEntry:
    """What matching needs of a product."""

    id: int
    sku: str
    gtin: str | None
    mpn: str | None
    title: str


def _norm_gtin(value: str | None) -> str | None:
    digits = re.sub(r"\D", "", value or "")
    return digits.lstrip("0") or None


def match_product(page: dict[str, Any], catalog: Iterable[CatalogEntry],
                  min_confidence: float) -> tuple[CatalogEntry, str, float] | None:
    """The catalog product a found page shows: (product, method, confidence), or ``None``."""
    catalog = list(catalog)
    gtin = _norm_gtin(page.get("gtin"))
    if gtin:
        for entry in catalog:
            if _norm_gtin(entry.gtin) == gtin:
                return entry, "gtin", 1.0
    mpn = (page.get("mpn") or "").strip().lower()
    if mpn:
        for entry in catalog:
            if entry.mpn and entry.mpn.strip().lower() == mpn:
                return entry, "mpn", 0.95
    title = page.get("title") or ""
    best: tuple[CatalogEntry, str, float] | None = None
    for entry in catalog:
        score = title_similarity(title, entry.title) if entry.title else 0.0
        if score >= min_confidence and (best is None or score > best[2]):
            best = (entry, "title", score)
    return best


# Crawling ----------------------------------------------------------------------------------------

def _spider_class() -> type:
    import scrapy

    class DiscoverySpider(scrapy.Spider):
        """Follow the links of search/category pages and read each page found."""

        name = "discovery"

        def __init__(self, urls: list[str], max_pages: int, profile: str | None = None, follow: bool = True,
                     **kwargs: Any) -> None:
            from crawlers.profiles import load_profiles

            super().__init__(**kwargs)
            self.urls = urls
            self.follow = follow
            self.max_pages = max_pages
            self.profiles = load_profiles()
            self.profile = profile

        async def start(self) -> AsyncIterator[Any]:
            for url in self.urls:
                yield scrapy.Request(url, callback=self.on_listing_page if self.follow else self.on_page,
                                     dont_filter=True)

        def _cut_off(self, response: Any) -> bool:
            from crawlers.spider import cut_off

            why = cut_off(response)
            if why is not None:
                self.logger.warning("%s arrived cut off (%s); not read", response.url, why)
            return why is not None

        def on_listing_page(self, response: Any) -> Iterable[Any]:
            if self._cut_off(response):
                return
            host = urlsplit(response.url).netloc
            seen: set[str] = {urldefrag(response.url)[0]}
            for href in response.css("a::attr(href)").getall():
                url = urldefrag(urljoin(response.url, href))[0]
                if url in seen or urlsplit(url).netloc != host or _SKIP_LINK.search(url):
                    continue
                seen.add(url)
                yield scrapy.Request(url, callback=self.on_page, meta={"found_on": response.url})
                if len(seen) > self.max_pages:
                    break

        def on_page(self, response: Any) -> Iterable[dict[str, Any]]:
            from crawlers.extract import extract
            from crawlers.profiles import find_profile

            if self._cut_off(response):
                _count(failed=True)
                return
            profile = find_profile(self.profiles, response.url, name=self.profile)
            ex = extract(response.body, response.url, profile=profile, encoding=getattr(response, "encoding", None))
            _count(failed=bool(ex.failure))
            if not ex.looks_like_product or ex.failure:
                return
            yield {
                "url": response.url, "found_on": response.meta.get("found_on"), "title": ex.title,
                "gtin": ex.gtin, "mpn": ex.mpn, "sku": ex.sku,
                "price": None if ex.price is None else str(ex.price), "currency": ex.currency,
                "sellers": [{"seller_name": o.seller_name, "seller_id": o.seller_id,
                             "price": None if o.price is None else str(o.price)} for o in ex.sellers],
            }

    return DiscoverySpider


# Shared counters (pages read, pages failed) of the discovery process for the caller's progress bar.
PROGRESS: tuple[Any, Any] | None = None


def _count(*, failed: bool) -> None:
    if PROGRESS is None:
        return
    with PROGRESS[0].get_lock():
        PROGRESS[0].value += 1
    if failed:
        with PROGRESS[1].get_lock():
            PROGRESS[1].value += 1


def _crawl_process(urls: list[str], max_pages: int, out: str, profile: str | None,
                   counters: tuple[Any, Any] | None = None, follow: bool = True) -> None:
    global PROGRESS
    PROGRESS = counters
    from scrapy.crawler import CrawlerProcess

    from crawlers.politeness import prepare_crawl_process
    from crawlers.settings import scrapy_settings
    from pricewarden.settings import get_settings

    get_settings.cache_clear()
    prepare_crawl_process()
    settings = scrapy_settings(browser=False)
    settings["ITEM_PIPELINES"] = {}
    settings["FEEDS"] = {Path(out).as_uri(): {"format": "jsonlines", "encoding": "utf-8"}}
    process = CrawlerProcess(settings=settings)
    process.crawl(_spider_class(), urls=urls, max_pages=max_pages, profile=profile, follow=follow)
    process.start()


def crawl_pages(urls: list[str], *, max_pages: int = 50, profile: str | None = None,
                on_progress: Callable[[int, int], None] | None = None, follow: bool = True,
                timeout: float | None = None) -> list[dict[str, Any]]:
    """Product pages reachable from ``urls`` (one link deep), read in a crawl process of their own.

    ``profile`` names the site profile of the product pages (marketplace offer selectors); by
    default a profile is matched by domain. ``on_progress`` is called with (pages read, pages
    failed) about four times a second. ``follow=False`` reads ``urls`` themselves as product pages
    (a page a partner complains about) instead of following their links. ``timeout``: seconds the crawl
    process may take in all; past them it is killed and :class:`CrawlError` raised (a queue of partners'
    complaints must not wait forever on one process that hangs).
    """
    import time
    context = multiprocessing.get_context("spawn")
    counters = (context.Value("q", 0), context.Value("q", 0)) if on_progress is not None else None
    with tempfile.TemporaryDirectory() as folder:
        out = str(Path(folder) / "found.jsonl")
        proc = context.Process(target=_crawl_process, args=(urls, max_pages, out, profile, counters, follow))
        proc.start()
        deadline = None if timeout is None else time.monotonic() + timeout
        if on_progress is not None and counters is not None:
            while proc.is_alive() and (deadline is None or time.monotonic() < deadline):
                proc.join(timeout=0.25)
                on_progress(counters[0].value, counters[1].value)
        proc.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        if proc.is_alive():
            proc.kill()
            proc.join()
            raise CrawlError(f"the crawl took longer than {timeout:g} s and was stopped")
        if proc.exitcode != 0:
            raise CrawlError(f"discovery crawl failed (exit code {proc.exitcode})")
        path = Path(out)
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


# Recording ---------------------------------------------------------------------------------------

def record(session: Any, pages: list[dict[str, Any]], *, min_confidence: float = 0.6) -> list[Found]:
    """Match found pages to the catalog and add the unknown ones as discovered listings."""
    from sqlalchemy import select

    from store.models import Listing, Partner, Product

    catalog = [CatalogEntry(p.id, p.sku, p.gtin, p.mpn, p.title)
               for p in session.scalars(select(Product).where(Product.active.is_(True)))]
    partners = session.scalars(select(Partner)).all()
    by_seller = {str(s): p.id for p in partners for s in (p.seller_ids or ())}
    by_domain = {str(d).lower(): p.id for p in partners for d in (p.domains or ())}
    found: list[Found] = []
    for page in pages:
        match = match_product(page, catalog, min_confidence)
        if match is None:
            continue
        entry, method, confidence = match
        item = Found(page["url"], entry.sku, method, confidence, page.get("title"), page.get("sellers") or [])
        existing = session.scalar(select(Listing).where(Listing.url == page["url"]))
        if existing is None:
            site = urlsplit(page["url"]).netloc.lower()
            single = item.sellers[0] if len(item.sellers) == 1 else None
            seller_id = single.get("seller_id") if single else None
            listing = Listing(
                url=page["url"], site=site, product_id=entry.id,
                partner_id=by_seller.get(seller_id or "") or by_domain.get(site),
                seller_id=seller_id, discovered=True, match_method=method, match_confidence=confidence,
                active=True,
            )
            session.add(listing)
            session.flush()
            item.listing_id, item.new = listing.id, True
        else:
            item.listing_id = existing.id
        found.append(item)
    return found


def discover(urls: list[str], *, min_confidence: float = 0.6, max_pages: int = 50,
             profile: str | None = None, on_progress: Callable[[int, int], None] | None = None) -> list[Found]:
    """Crawl search/category ``urls``, match what they list to the catalog, record new listings."""
    from store.db import session_scope

    pages = crawl_pages(urls, max_pages=max_pages, profile=profile, on_progress=on_progress)
    with session_scope() as session:
        return record(session, pages, min_confidence=min_confidence)
